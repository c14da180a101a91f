// Tests of the gearman and gearadmin tools: every flag, output and exit codes, against our
// server and Debian's gearmand 1.1.20; gearadmin's output is compared byte for byte with
// Debian's gearadmin where the reply is deterministic.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "helpers.h"

namespace gearbox::testing {
namespace {

WorkResult Reverse(Job& job) {
  return std::string(job.payload().rbegin(), job.payload().rend());
}
WorkResult Upper(Job& job) {
  std::string s = job.payload();
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::set<std::string> Lines(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);)
    out.insert(line);
  return out;
}

const char* kDebianGearadmin = "/usr/bin/gearadmin";

class ToolsIT : public ::testing::TestWithParam<Impl> {
 protected:
  void SetUp() override {
    if (BinaryFor(GetParam()).empty()) GTEST_SKIP() << "gearmand 1.1.20 is not installed";
    server_ = StartServer(GetParam());
    ASSERT_NE(server_, nullptr);
    addr_ = Address(*server_);
    port_ = std::to_string(server_->port());
  }

  // Runs our gearman with -h/-p pointing at the server, without GEARMAN_SERVER(S).
  ProcessResult Gearman(std::vector<std::string> args, ProcessOptions o = {}) {
    std::vector<std::string> argv = {BinaryPath("gearman"), "-h", "127.0.0.1", "-p", port_};
    argv.insert(argv.end(), args.begin(), args.end());
    o.env.emplace("GEARMAN_SERVER", "");
    o.env.emplace("GEARMAN_SERVERS", "");
    return RunProcess(argv, o);
  }
  std::vector<std::string> GearmanArgv(std::vector<std::string> args) {
    std::vector<std::string> argv = {BinaryPath("gearman"), "-h", "127.0.0.1", "-p", port_};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  ProcessResult Gearadmin(std::vector<std::string> args, const char* binary = nullptr) {
    std::vector<std::string> argv = {binary ? binary : BinaryPath("gearadmin"), "-h", "127.0.0.1",
                                     "-p", port_};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }
  Client NewClient() {
    auto c = Client::Create(TestClientOptions(addr_));
    EXPECT_TRUE(c.ok());
    return std::move(*c);
  }

  std::unique_ptr<ServerProcess> server_;
  std::string addr_;
  std::string port_;
};

// ---- gearman, client mode ----------------------------------------------------------------------

TEST_P(ToolsIT, ClientSendsStdinAndPrintsTheResult) {
  auto w = StartWorker(addr_, {{"reverse", Reverse}});
  auto r = Gearman({"-f", "reverse"}, {.stdin_data = std::string("ab\0c", 4)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, std::string("c\0ba", 4));
  EXPECT_EQ(r.err, "");
}

TEST_P(ToolsIT, ClientArgumentsAreOneJobEach) {
  auto w = StartWorker(addr_, {{"reverse", Reverse}});
  auto r = Gearman({"-f", "reverse", "ab", "cd"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "badc");
}

TEST_P(ToolsIT, ClientOneJobPerLineKeepsOrStripsTheNewline) {
  auto w = StartWorker(addr_, {{"upper", Upper}});
  auto n = Gearman({"-f", "upper", "-n"}, {.stdin_data = "ab\ncd\nlast"});
  EXPECT_EQ(n.exit_code, 0) << n.err;
  EXPECT_EQ(n.out, "AB\nCD\nLAST");
  auto big_n = Gearman({"-N", "-f", "upper"}, {.stdin_data = "ab\ncd\n"});
  EXPECT_EQ(big_n.exit_code, 0) << big_n.err;
  EXPECT_EQ(big_n.out, "ABCD");
}

TEST_P(ToolsIT, ClientPrefixesOutputWithFunctionNames) {
  auto w = StartWorker(addr_, {{"upper", Upper}, {"reverse", Reverse}});
  auto r = Gearman({"-P", "-f", "upper", "-f", "reverse", "-N"}, {.stdin_data = "ab\n"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // One job per function; they may finish in either order.
  EXPECT_TRUE(r.out == "upper: ABreverse: ba" || r.out == "reverse: baupper: AB") << r.out;
}

TEST_P(ToolsIT, ClientBackgroundVerbosePrintsTheHandle) {
  auto r = Gearman({"-b", "-v", "-f", "later", "payload"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Task created: H:", 0), 0u) << r.out;
  EXPECT_EQ(r.out.back(), '\n');
  EXPECT_EQ(QueuedJobs(server_->port(), "later"), 1);
  auto quiet = Gearman({"-b", "-f", "later", "payload2"});
  EXPECT_EQ(quiet.exit_code, 0);
  EXPECT_EQ(quiet.out, "");
}

TEST_P(ToolsIT, ClientPriorityFlags) {
  ASSERT_EQ(Gearman({"-b", "-I", "-f", "prio", "h"}).exit_code, 0);
  ASSERT_EQ(Gearman({"-b", "-L", "-f", "prio", "l"}).exit_code, 0);
  ASSERT_EQ(Gearman({"-b", "-L", "-f", "prio", "l2"}).exit_code, 0);
  ASSERT_EQ(Gearman({"-b", "-f", "prio", "n"}).exit_code, 0);
  EXPECT_NE(Admin(server_->port(), "prioritystatus").find("prio\t1\t1\t2\t0\n"), std::string::npos)
      << Admin(server_->port(), "prioritystatus");
  // Foreground high priority runs.
  auto w = StartWorker(addr_, {{"reverse", Reverse}});
  auto r = Gearman({"-I", "-f", "reverse", "xy"});
  EXPECT_EQ(r.out, "yx") << r.err;
  auto low = Gearman({"-L", "-f", "reverse", "xy"});
  EXPECT_EQ(low.out, "yx") << low.err;
}

TEST_P(ToolsIT, ClientUniqueFlagIsSent) {
  ASSERT_EQ(Gearman({"-b", "-u", "my-unique-1", "-f", "uq", "a"}).exit_code, 0);
  // The same unique coalesces: still one job.
  ASSERT_EQ(Gearman({"-b", "-u", "my-unique-1", "-f", "uq", "a"}).exit_code, 0);
  EXPECT_NE(Admin(server_->port(), "show unique jobs").find("my-unique-1\n"), std::string::npos);
  EXPECT_EQ(QueuedJobs(server_->port(), "uq"), 1);
}

TEST_P(ToolsIT, ClientSuppressInputSendsAnEmptyJob) {
  auto w = StartWorker(
      addr_, {{"len", [](Job& j) { return "len=" + std::to_string(j.payload().size()); }}});
  auto r = Gearman({"-s", "-f", "len"}, {.stdin_data = "ignored"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "len=0");
}

TEST_P(ToolsIT, ClientShowsStatusDataAndWarnings) {
  auto w = StartWorker(addr_, {{"chatty", [](Job& j) -> WorkResult {
                                  j.SendStatus(1, 2);
                                  j.SendWarning("careful\n");
                                  j.SendData("partial ");
                                  return "final\n";
                                }}});
  auto r = Gearman({"-f", "chatty", "x"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "50% Complete\npartial final\n");
  EXPECT_EQ(r.err, "careful\n");
  auto p = Gearman({"-P", "-f", "chatty", "x"});
  EXPECT_EQ(p.out, "chatty: 50% Complete\nchatty: partial chatty: final\n");
  EXPECT_EQ(p.err, "chatty: careful\n");
}

TEST_P(ToolsIT, ClientExitsNonZeroWhenAJobFails) {
  auto w = StartWorker(addr_, {{"fails", [](Job&) { return WorkResult::Fail(); }},
                               {"raises", [](Job&) { return WorkResult::Exception("boom"); }}});
  auto f = Gearman({"-f", "fails", "x"});
  EXPECT_EQ(f.exit_code, 1);
  EXPECT_EQ(f.err, "Job failed\n");
  auto e = Gearman({"-f", "raises", "x"});
  EXPECT_EQ(e.exit_code, 1);
  EXPECT_EQ(e.err, "boom\nJob failed\n");
}

TEST_P(ToolsIT, ClientTimeoutFlag) {
  auto r = Gearman({"-t", "300", "-f", "nobody", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("300 ms"), std::string::npos) << r.err;
}

TEST_P(ToolsIT, GearmanServerEnvironmentOverridesHostAndPort) {
  auto w = StartWorker(addr_, {{"reverse", Reverse}});
  auto r = RunProcess({BinaryPath("gearman"), "-p", "1", "-f", "reverse", "abc"},
                      {.env = {{"GEARMAN_SERVER", addr_}, {"GEARMAN_SERVERS", ""}}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "cba");
}

// ---- gearman, worker mode ----------------------------------------------------------------------

TEST_P(ToolsIT, WorkerRunsACommandPerJob) {
  auto w = Background::Start(GearmanArgv({"-w", "-f", "wc", "-c", "2", "--", "wc", "-l"}));
  ASSERT_TRUE(Eventually([&] { return WorkersFor(server_->port(), "wc") == 1; })) << w->Output();
  Client c = NewClient();
  auto r = c.Do("wc", "a\nb\nc\n");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "3\n");
  // Our client tool against our worker tool, as in the seed's examples.
  auto tool = Gearman({"-f", "wc"}, {.stdin_data = "x\ny\n"});
  EXPECT_EQ(tool.exit_code, 0) << tool.err;
  EXPECT_EQ(tool.out, "2\n");
  EXPECT_EQ(w->Wait(20s), std::optional<int>(0)) << w->Output();  // -c 2: done
}

TEST_P(ToolsIT, WorkerPerLineModeSendsDataPackets) {
  auto w = Background::Start(GearmanArgv({"-w", "-f", "lines", "-n", "--", "cat"}));
  auto w2 = Background::Start(GearmanArgv({"-w", "-f", "lines_stripped", "-N", "--", "cat"}));
  ASSERT_TRUE(Eventually([&] {
    return WorkersFor(server_->port(), "lines") == 1 &&
           WorkersFor(server_->port(), "lines_stripped") == 1;
  }));
  Client c = NewClient();
  std::vector<std::string> chunks;
  auto r =
      c.Do("lines", "a\nb\n", {.on_data = [&](std::string_view d) { chunks.emplace_back(d); }});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "");
  EXPECT_EQ(chunks, (std::vector<std::string>{"a\n", "b\n"}));
  chunks.clear();
  auto s = c.Do("lines_stripped", "a\nb\n",
                {.on_data = [&](std::string_view d) { chunks.emplace_back(d); }});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(chunks, (std::vector<std::string>{"a", "b"}));
}

TEST_P(ToolsIT, WorkerWithoutCommandEchoesPayloadToStdout) {
  auto w = Background::Start(GearmanArgv({"-w", "-f", "show", "-c", "1"}));
  ASSERT_TRUE(Eventually([&] { return WorkersFor(server_->port(), "show") == 1; }));
  Client c = NewClient();
  auto r = c.Do("show", "printed by the worker");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "");
  EXPECT_EQ(w->Wait(20s), std::optional<int>(0));
  EXPECT_EQ(w->Output(), "printed by the worker");
}

TEST_P(ToolsIT, WorkerCommandFailureFailsTheJobAndTheExitCode) {
  auto w = Background::Start(
      GearmanArgv({"-w", "-f", "broken", "-c", "1", "--", "sh", "-c", "echo partial; exit 3"}));
  ASSERT_TRUE(Eventually([&] { return WorkersFor(server_->port(), "broken") == 1; }));
  auto r = Gearman({"-f", "broken", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "partial\n");  // the output so far arrives as data
  EXPECT_EQ(r.err, "Job failed\n");
  EXPECT_EQ(w->Wait(20s), std::optional<int>(1));
}

TEST_P(ToolsIT, WorkerIdleTimeoutAndPidFile) {
  std::string pidfile = "/tmp/gearbox-tools-pid-" + std::to_string(::getpid()) + "-" + port_;
  auto w = Background::Start(GearmanArgv({"-w", "-f", "idle", "-t", "300", "-i", pidfile}));
  EXPECT_EQ(w->Wait(20s), std::optional<int>(1));
  EXPECT_NE(w->Output().find("no job arrived"), std::string::npos) << w->Output();
  EXPECT_NE(::access(pidfile.c_str(), F_OK), 0) << "pid file left behind";
  auto w2 = Background::Start(GearmanArgv({"-w", "-f", "pidded", "-i", pidfile}));
  ASSERT_TRUE(Eventually([&] { return WorkersFor(server_->port(), "pidded") == 1; }));
  std::ifstream in(pidfile);
  int pid = 0;
  in >> pid;
  EXPECT_EQ(pid, w2->pid());
}

TEST_P(ToolsIT, WorkerDaemonizes) {
  std::string pidfile = "/tmp/gearbox-tools-daemon-" + std::to_string(::getpid()) + "-" + port_;
  auto r = Gearman({"-d", "-w", "-f", "daemon", "-c", "1", "-i", pidfile});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(Eventually([&] { return WorkersFor(server_->port(), "daemon") == 1; }));
  std::ifstream in(pidfile);
  int pid = 0;
  in >> pid;
  EXPECT_GT(pid, 0);
  Client c = NewClient();
  EXPECT_TRUE(c.Do("daemon", "x").ok());
  // -c 1: the daemon exits after its job and removes its pid file.
  EXPECT_TRUE(Eventually([&] { return ::kill(pid, 0) != 0; }));
  EXPECT_TRUE(Eventually([&] { return ::access(pidfile.c_str(), F_OK) != 0; }));
}

// ---- gearadmin ---------------------------------------------------------------------------------

TEST_P(ToolsIT, GearadminQueriesMatchDebiansGearadmin) {
  Client c = NewClient();
  ASSERT_TRUE(c.DoBackground("fa", "1", {.unique = "ua-1"}).ok());
  ASSERT_TRUE(c.DoBackground("fa", "2", {.priority = Priority::kHigh, .unique = "ua-2"}).ok());
  ASSERT_TRUE(c.DoBackground("fb", "3", {.priority = Priority::kLow, .unique = "ub-1"}).ok());
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--status"},
        {"--priority-status"},
        {"--show-jobs"},
        {"--show-unique-jobs"},
        {"--getpid"},
        {"--server-version"},
        {"--server-verbose"},
        {"--status", "--getpid", "--server-version", "--priority-status"}}) {
    auto ours = Gearadmin(args);
    EXPECT_EQ(ours.exit_code, 0) << args[0] << ": " << ours.err;
    EXPECT_EQ(ours.err, "");
    if (::access(kDebianGearadmin, X_OK) == 0) {
      auto theirs = Gearadmin(args, kDebianGearadmin);
      EXPECT_EQ(ours.out, theirs.out) << args[0];
    }
  }
  auto pid = Gearadmin({"--getpid"});
  EXPECT_EQ(pid.out, std::to_string(server_->pid()) + "\n");
  auto status = Gearadmin({"--status"});
  EXPECT_EQ(Lines(status.out), (std::set<std::string>{"fa\t2\t0\t0", "fb\t1\t0\t0", "."}));
  auto uniq = Gearadmin({"--show-unique-jobs"});
  EXPECT_EQ(Lines(uniq.out), (std::set<std::string>{"ua-1", "ua-2", "ub-1", "."}));
}

TEST_P(ToolsIT, GearadminWorkersListsRegisteredWorkers) {
  WorkerOptions wo;
  wo.client_id = "tool-test-worker";
  auto w = StartWorker(addr_, {{"wf", Reverse}}, wo);
  auto r = Gearadmin({"--workers"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(" 127.0.0.1 tool-test-worker : wf\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(r.out.size() - 2), ".\n");
}

TEST_P(ToolsIT, GearadminCancelCreateAndDrop) {
  Client c = NewClient();
  auto h = c.DoBackground("cancelme", "x");
  ASSERT_TRUE(h.ok());
  auto ok = Gearadmin({"--cancel-job", h->handle});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "OK\n");
  auto bad = Gearadmin({"--cancel-job", "H:none:999"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.out, "");
  EXPECT_EQ(bad.err.rfind("Error: ", 0), 0u) << bad.err;
  auto created = Gearadmin({"--create-function", "made"});
  EXPECT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out, "OK\n");
  EXPECT_EQ(QueuedJobs(server_->port(), "made"), 0);
  auto dropped = Gearadmin({"--drop-function", "made"});
  EXPECT_EQ(dropped.exit_code, 0) << dropped.err;
  EXPECT_EQ(dropped.out, "OK\n");
  EXPECT_EQ(QueuedJobs(server_->port(), "made"), -1);
  auto missing = Gearadmin({"--drop-function", "never-existed"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "Error: function not found\r\n");
  if (::access(kDebianGearadmin, X_OK) == 0) {
    auto theirs = Gearadmin({"--drop-function", "never-existed"}, kDebianGearadmin);
    EXPECT_EQ(missing.err, theirs.err);
    auto theirs_cancel = Gearadmin({"--cancel-job", "H:none:999"}, kDebianGearadmin);
    EXPECT_EQ(bad.err, theirs_cancel.err);
  }
}

TEST_P(ToolsIT, GearadminShutdown) {
  auto r = Gearadmin({"--shutdown"});
  if (GetParam() == Impl::kOurs) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "OK\n");
    EXPECT_TRUE(server_->WaitExit(20s).has_value());
  } else {
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "Error: UNKNOWN_COMMAND Unknown+server+commandshutdown\r\n");
    EXPECT_TRUE(server_->Running());
  }
}

TEST_P(ToolsIT, GearadminLongFormsOfHostAndPort) {
  auto r = RunProcess({BinaryPath("gearadmin"), "--host=127.0.0.1", "--port=" + port_, "--getpid"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, std::to_string(server_->pid()) + "\n");
  auto s =
      RunProcess({BinaryPath("gearadmin"), "--host", "127.0.0.1", "--port", port_, "--status"});
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(s.out.substr(s.out.size() - 2), ".\n");
}

std::string Name(const ::testing::TestParamInfo<Impl>& info) {
  return ImplName(info.param);
}
INSTANTIATE_TEST_SUITE_P(Servers, ToolsIT, ::testing::Values(Impl::kOurs, Impl::kReference), Name);

// ---- Without a server ------------------------------------------------------------------------

TEST(ToolsNoServer, GearmanUsage) {
  auto help = RunProcess({BinaryPath("gearman"), "-H"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Client mode: "), std::string::npos);
  EXPECT_NE(help.out.find("\t-w            - Run in worker mode(false)\n"), std::string::npos);
  auto none = RunProcess({BinaryPath("gearman")});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("\tError in usage(No Functions were provided).\n"), std::string::npos);
  auto bad = RunProcess({BinaryPath("gearman"), "-f", "x", "-X"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("Error in usage(-X)"), std::string::npos) << bad.err;
  auto ssl = RunProcess({BinaryPath("gearman"), "-S", "-f", "x", "y"});
  EXPECT_EQ(ssl.exit_code, 1);
}

TEST(ToolsNoServer, GearmanConnectionFailuresExitNonZero) {
  std::string port = std::to_string(FreePort());
  auto client = RunProcess({BinaryPath("gearman"), "-h", "127.0.0.1", "-p", port, "-f", "x", "y"},
                           {.env = {{"GEARMAN_SERVER", ""}, {"GEARMAN_SERVERS", ""}}});
  EXPECT_EQ(client.exit_code, 1);
  EXPECT_NE(client.err.find("127.0.0.1:" + port), std::string::npos) << client.err;
  auto worker = RunProcess({BinaryPath("gearman"), "-w", "-h", "127.0.0.1", "-p", port, "-f", "x"},
                           {.env = {{"GEARMAN_SERVER", ""}, {"GEARMAN_SERVERS", ""}}});
  EXPECT_EQ(worker.exit_code, 1);
  EXPECT_NE(worker.err.find("127.0.0.1:" + port), std::string::npos) << worker.err;
}

TEST(ToolsNoServer, GearadminUsageAndConnectionFailure) {
  auto none = RunProcess({BinaryPath("gearadmin")});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(none.out.rfind("No option execution operation given.\n\nOptions:\n", 0), 0u);
  auto help = RunProcess({BinaryPath("gearadmin"), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("  --shutdown "), std::string::npos);
  auto bad = RunProcess({BinaryPath("gearadmin"), "--nope"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.out.rfind("gearadmin : unrecognised option '--nope'", 0) == 0 ||
                bad.out.find(": unrecognised option '--nope'") != std::string::npos,
            true)
      << bad.out;
  auto missing = RunProcess({BinaryPath("gearadmin"), "--cancel-job"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("the required argument for option '--cancel-job' is missing"),
            std::string::npos)
      << missing.out;
  std::string port = std::to_string(FreePort());
  auto down = RunProcess({BinaryPath("gearadmin"), "-h", "127.0.0.1", "-p", port, "--status"});
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_EQ(down.err.rfind("Error: ", 0), 0u) << down.err;
  EXPECT_NE(down.err.find(port), std::string::npos) << down.err;
}

}  // namespace
}  // namespace gearbox::testing

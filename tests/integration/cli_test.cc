// gearmand's command line (docs/protocol.md §7): flags, config files, environment, pid file,
// daemonizing, logging, signals. Run against our binary, and against Debian's gearmand 1.1.20
// where the flag exists there (CliTest is parameterised over both).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "integ_support.h"

namespace gearbox::testing::integ {
namespace {

using Clock = std::chrono::steady_clock;

// "<binary> -L 127.0.0.1 -p <port> -l <log> <extra>", not waiting for anything.
struct Spawned {
  std::unique_ptr<Child> child;
  int port = 0;
};

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// Waits until nothing accepts on 127.0.0.1:port.
bool EventuallyRefused(int port, std::chrono::milliseconds timeout = 10s) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int fd = ConnectTo("127.0.0.1", port);
    if (fd < 0) return true;
    ::close(fd);
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

bool ProcessGone(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

bool IPv6LoopbackUsable() {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

class CliTest : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override {
    if (GetParam().impl == Impl::kReference && ReferenceGearmand().empty()) {
      GTEST_SKIP() << "Debian's gearmand is not installed";
    }
  }
  bool ours() const { return GetParam().impl == Impl::kOurs; }
  std::string Binary() const { return BinaryFor(GetParam().impl); }
  RunResult Run(std::vector<std::string> args, std::vector<std::string> env = {}) {
    ProcessSpec spec;
    spec.argv = {Binary()};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env = std::move(env);
    return RunProcess(spec, 30s);
  }
  // Starts a server through ServerProcess (waits for `version`).
  std::unique_ptr<ServerProcess> Start(const std::vector<std::string>& extra) {
    std::string err;
    auto s = ServerProcess::Start(Binary(), extra, &err);
    EXPECT_NE(s, nullptr) << err;
    return s;
  }
  std::string Admin(int port, const std::string& line) {
    auto c = RawClient::Connect(port);
    if (!c) return "<refused>";
    c->Send(line + "\n");
    return c->ReadUntil("\n", 10s);
  }
  // Submits a background job and returns the JOB_CREATED handle.
  std::string SubmitHandle(int port) {
    auto c = RawClient::Connect(port);
    if (!c) return "<refused>";
    c->Send(Q(Command::kSubmitJobBg, {"f", "", "x"}));
    auto d = ReadDecoded(*c);
    return d && d->command == Command::kJobCreated ? d->parts.at(0) : "<no JOB_CREATED>";
  }
};

TEST_P(CliTest, CheckArgsValidatesTheCommandLineAndExitsWithoutServing) {
  int port = FreePort();
  auto r = Run({"--check-args", "-L", "127.0.0.1", "-p", std::to_string(port), "-l", "none"});
  EXPECT_TRUE(r.exited_ok()) << "status " << r.status << " " << r.err;
  EXPECT_LT(ConnectTo("127.0.0.1", port), 0);
  auto bad = Run({"--check-args", "--threads", "many"});
  EXPECT_FALSE(bad.exited_ok());
}

TEST_P(CliTest, VersionFlagPrintsTheVersionAndExits) {
  auto r = Run({"-V"});
  EXPECT_TRUE(r.exited_ok()) << r.err;
  if (ours()) {
    EXPECT_EQ(r.out.rfind("gearmand ", 0), 0u) << r.out;
  } else {
    EXPECT_EQ(r.out, "\ngearmand 1.1.20+ds - https://github.com/gearman/gearmand/issues\n");
  }
}

TEST_P(CliTest, HelpFlagListsEveryGearmandOption) {
  auto r = Run({"-h"});
  EXPECT_TRUE(r.exited_ok()) << r.err;
  for (const char* flag : {"--backlog",
                           "--daemon",
                           "--exceptions",
                           "--file-descriptors",
                           "--job-retries",
                           "--job-handle-prefix",
                           "--hashtable-buckets",
                           "--keepalive",
                           "--keepalive-idle",
                           "--keepalive-interval",
                           "--keepalive-count",
                           "--log-file",
                           "--listen",
                           "--pid-file",
                           "--protocol",
                           "--round-robin",
                           "--queue-type",
                           "--config-file",
                           "--syslog",
                           "--coredump",
                           "--threads",
                           "--user",
                           "--verbose",
                           "--version",
                           "--worker-wakeup",
                           "--port",
                           "--ssl",
                           "--http-port",
                           "--libsqlite3-db"}) {
    EXPECT_TRUE(Contains(r.out, flag)) << flag << " is missing from --help";
  }
}

TEST_P(CliTest, UnknownFlagIsAnErrorNamingIt) {
  auto r = Run({"--frobnicate", "-L", "127.0.0.1", "-p", std::to_string(FreePort())});
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.exit_code(), 0);
  EXPECT_TRUE(Contains(r.out + r.err, "frobnicate")) << r.out << r.err;
}

TEST_P(CliTest, ConfigFileOptionsApplyAndTheCommandLineWins) {
  TempFile cfg("--job-handle-prefix H:cfg\n--worker-wakeup 1\n");
  {
    auto s = Start({"--config-file", cfg.path()});
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(SubmitHandle(s->port()), "H:cfg:1");
  }
  {
    auto s = Start({"--config-file", cfg.path(), "--job-handle-prefix", "H:cmd"});
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(SubmitHandle(s->port()), "H:cmd:1");
  }
}

TEST_P(CliTest, MissingExplicitConfigFileIsAnError) {
  auto r = Run({"--config-file", "/nonexistent/gearbox.conf", "-L", "127.0.0.1", "-p",
                std::to_string(FreePort()), "-l", "none"});
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.exit_code(), 0);
  if (ours()) {
    EXPECT_TRUE(Contains(r.err, "/nonexistent/gearbox.conf")) << r.err;
  }
}

TEST_P(CliTest, GearmandPortEnvironmentVariableSetsThePortAndPortFlagWins) {
  int env_port = FreePort();
  {
    ProcessSpec spec;
    spec.argv = {Binary(), "-L", "127.0.0.1", "-l", "none"};
    spec.env = {"GEARMAND_PORT=" + std::to_string(env_port)};
    auto child = Child::Start(spec);
    ASSERT_NE(child, nullptr);
    EXPECT_NE(WaitForVersion(env_port), "") << child->Err();
    child->Kill();
    child->Wait(10s);
  }
  int flag_port = FreePort();
  ProcessSpec spec;
  spec.argv = {Binary(), "-L", "127.0.0.1", "-l", "none", "-p", std::to_string(flag_port)};
  spec.env = {"GEARMAND_PORT=" + std::to_string(env_port)};
  auto child = Child::Start(spec);
  ASSERT_NE(child, nullptr);
  EXPECT_NE(WaitForVersion(flag_port), "") << child->Err();
  EXPECT_LT(ConnectTo("127.0.0.1", env_port), 0);
}

TEST_P(CliTest, ListenOnIPv6Loopback) {
  if (!IPv6LoopbackUsable()) GTEST_SKIP() << "no IPv6 loopback here";
  int port = FreePort();
  {
    ProcessSpec spec;
    spec.argv = {Binary(), "-L", "::1", "-p", std::to_string(port), "-l", "none"};
    auto child = Child::Start(spec);
    ASSERT_NE(child, nullptr);
    EXPECT_NE(WaitForVersion(port, 10s, "::1"), "") << child->Err();
    EXPECT_LT(ConnectTo("127.0.0.1", port), 0) << "only ::1 was asked for";
    child->Kill();
    child->Wait(10s);
  }
}

// gearmand 1.1.20 refuses a second -L ("option '--listen' cannot be specified more than once");
// docs/protocol.md §7 does not mention that ours accepts it.
TEST_P(CliTest, RepeatedListenFlagsListenOnEveryAddressInOurs) {
  if (!IPv6LoopbackUsable()) GTEST_SKIP() << "no IPv6 loopback here";
  int port = FreePort();
  ProcessSpec spec;
  spec.argv = {Binary(), "-L", "127.0.0.1", "-L", "::1", "-p", std::to_string(port), "-l", "none"};
  auto child = Child::Start(spec);
  ASSERT_NE(child, nullptr);
  if (ours()) {
    EXPECT_NE(WaitForVersion(port, 10s, "127.0.0.1"), "") << child->Err();
    EXPECT_NE(WaitForVersion(port, 10s, "::1"), "") << child->Err();
  } else {
    auto st = child->Wait(10s);
    ASSERT_TRUE(st.has_value()) << "gearmand 1.1.20 should refuse a repeated -L";
    EXPECT_NE(WEXITSTATUS(*st), 0);
    EXPECT_TRUE(Contains(child->Err(), "--listen")) << child->Err();
  }
}

TEST_P(CliTest, PidFileIsWrittenAndRemovedAtExit) {
  TempDir dir;
  std::string pid_path = dir.path() + "/gearmand.pid";
  auto s = Start({"-P", pid_path});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(ReadFile(pid_path), std::to_string(s->pid()) + "\n");
  s->Signal(SIGTERM);
  ASSERT_TRUE(s->WaitExit(10s).has_value());
  EXPECT_FALSE(FileExists(pid_path));
}

TEST_P(CliTest, DaemonFlagDetachesAndKeepsServing) {
  TempDir dir;
  std::string pid_path = dir.path() + "/gearmand.pid";
  int port = FreePort();
  auto r = Run({"-d", "-P", pid_path, "-L", "127.0.0.1", "-p", std::to_string(port), "-l",
                dir.path() + "/log"});
  ASSERT_TRUE(r.exited_ok()) << "the foreground process must exit 0: " << r.status << r.err;
  ASSERT_NE(WaitForVersion(port), "");
  std::string pid_text = ReadFile(pid_path);
  pid_t pid = static_cast<pid_t>(std::atoi(pid_text.c_str()));
  ASSERT_GT(pid, 1) << "pid file: " << pid_text;
  EXPECT_EQ(Admin(port, "getpid"), "OK " + std::to_string(pid) + "\n");
  ::kill(pid, SIGTERM);
  EXPECT_TRUE(ProcessGone(pid, 10s));
  EXPECT_TRUE(EventuallyRefused(port));
}

TEST_P(CliTest, SighupReopensTheLogFile) {
  auto s = Start({"--verbose", "INFO"});
  ASSERT_NE(s, nullptr);
  std::string rotated = s->log_path() + ".1";
  ASSERT_EQ(std::rename(s->log_path().c_str(), rotated.c_str()), 0);
  s->Signal(SIGHUP);
  auto deadline = Clock::now() + 10s;
  while (!FileExists(s->log_path()) && Clock::now() < deadline) {
    WaitForVersion(s->port(), 2s);  // some traffic to log
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(FileExists(s->log_path())) << "no new log file after SIGHUP";
  EXPECT_FALSE(ReadFile(rotated).empty());
  WaitForVersion(s->port(), 2s);
  s->Signal(SIGTERM);
  s->WaitExit(10s);
  EXPECT_FALSE(ReadFile(s->log_path()).empty());
  ::unlink(rotated.c_str());
}

TEST_P(CliTest, VerboseSetsTheLevelReportedByTheVerboseCommand) {
  for (const char* level : {"DEBUG", "INFO", "NOTICE", "WARNING", "ERROR"}) {
    auto s = Start({"--verbose", level});
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(Admin(s->port(), "verbose"), std::string("OK ") + level + "\n");
  }
}

TEST_P(CliTest, SigtermExitsWithStatusZero) {
  auto s = Start({});
  ASSERT_NE(s, nullptr);
  s->Signal(SIGTERM);
  auto st = s->WaitExit(10s);
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << "status " << *st;
}

// docs/protocol.md §7: SIGUSR1 stops listening, lets running jobs finish, then exits; gearmand
// 1.1.20 never exits by itself.
TEST_P(CliTest, SigusrOneClosesTheListenerFinishesRunningJobsAndExits) {
  auto s = Start({"--job-handle-prefix", "H:gb"});
  ASSERT_NE(s, nullptr);
  auto client = RawClient::Connect(s->port());
  auto worker = RawClient::Connect(s->port());
  ASSERT_TRUE(client && worker);
  worker->Send(Q(Command::kCanDo, {"f"}));
  client->Send(Q(Command::kSubmitJob, {"f", "", "first"}));
  ASSERT_PACKET(client, R(Command::kJobCreated, {"H:gb:1"}));
  worker->Send(Q(Command::kGrabJob));
  ASSERT_PACKET(worker, R(Command::kJobAssign, {"H:gb:1", "f", "first"}));
  client->Send(Q(Command::kSubmitJob, {"f", "", "second"}));
  ASSERT_PACKET(client, R(Command::kJobCreated, {"H:gb:2"}));

  s->Signal(SIGUSR1);
  EXPECT_TRUE(EventuallyRefused(s->port())) << "the listener must close";
  EXPECT_TRUE(s->Running());
  if (ours()) {
    // No new assignments while draining.
    worker->Send(Q(Command::kGrabJob));
    EXPECT_PACKET(worker, R(Command::kNoJob));
  }
  worker->Send(Q(Command::kWorkComplete, {"H:gb:1", "result"}));
  EXPECT_PACKET(client, R(Command::kWorkComplete, {"H:gb:1", "result"}));
  if (ours()) {
    auto st = s->WaitExit(10s);
    ASSERT_TRUE(st.has_value()) << "the server did not exit after its running job finished";
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << "status " << *st;
  } else {
    std::this_thread::sleep_for(2s);
    EXPECT_TRUE(s->Running()) << "gearmand 1.1.20 is documented never to exit";
  }
}

TEST_P(CliTest, CompatibilityFlagsAreAccepted) {
  auto s = Start({"-j",
                  "3",
                  "-w",
                  "2",
                  "--exceptions",
                  "--job-handle-prefix",
                  "H:flags",
                  "-b",
                  "64",
                  "--keepalive",
                  "--keepalive-idle",
                  "30",
                  "--keepalive-interval",
                  "10",
                  "--keepalive-count",
                  "3",
                  "-R",
                  "--hashtable-buckets",
                  "101",
                  "-f",
                  "1024",
                  "-q",
                  "builtin"});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(SubmitHandle(s->port()), "H:flags:1");
}

INSTANTIATE_TEST_SUITE_P(Servers, CliTest,
                         ::testing::Values(Shape{Impl::kOurs, 0}, Shape{Impl::kReference, 0}),
                         [](const ::testing::TestParamInfo<Shape>& i) {
                           return i.param.impl == Impl::kOurs ? std::string("Ours")
                                                              : std::string("Gearmand1_1_20");
                         });

// ---------------------------------------------------------------------------------------------
// Ours only.

RunResult RunOurs(std::vector<std::string> args) {
  ProcessSpec spec;
  spec.argv = {OurGearmand()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  return RunProcess(spec, 30s);
}

TEST(OurCliTest, AtFileReadsAConfigFileAndTheCommandLineWins) {
  TempFile cfg("--job-handle-prefix H:at\n");
  std::string err;
  auto s = ServerProcess::Start(OurGearmand(), {"@" + cfg.path()}, &err);
  ASSERT_NE(s, nullptr) << err;
  auto c = RawClient::Connect(s->port());
  c->Send(Q(Command::kSubmitJobBg, {"f", "", "x"}));
  EXPECT_PACKET(c, R(Command::kJobCreated, {"H:at:1"}));
  auto s2 =
      ServerProcess::Start(OurGearmand(), {"@" + cfg.path(), "--job-handle-prefix", "H:w"}, &err);
  ASSERT_NE(s2, nullptr) << err;
  auto c2 = RawClient::Connect(s2->port());
  c2->Send(Q(Command::kSubmitJobBg, {"f", "", "x"}));
  EXPECT_PACKET(c2, R(Command::kJobCreated, {"H:w:1"}));
}

TEST(OurCliTest, UnbuiltModulesAreRefusedWithAMessageNamingThem) {
  struct Case {
    std::vector<std::string> args;
    std::string names;
  };
  for (const Case& k : std::vector<Case>{{{"-q", "libsqlite3"}, "libsqlite3"},
                                         {{"--queue-type", "redis"}, "redis"},
                                         {{"-r", "http"}, "http"},
                                         {{"--ssl"}, "--ssl"}}) {
    std::vector<std::string> args = k.args;
    args.insert(args.end(), {"-L", "127.0.0.1", "-p", std::to_string(FreePort()), "-l", "none"});
    auto r = RunOurs(args);
    EXPECT_FALSE(r.timed_out) << k.names << ": the server started anyway";
    EXPECT_NE(r.exit_code(), 0) << k.names;
    EXPECT_TRUE(Contains(r.err, k.names)) << "message should name " << k.names << ": " << r.err;
  }
}

TEST(OurCliTest, RepeatedVFlagsRaiseTheLevelStepByStep) {
  for (auto [flag, level] :
       std::vector<std::pair<std::string, std::string>>{{"-v", "WARNING"},
                                                        {"-vv", "NOTICE"},
                                                        {"-vvv", "INFO"},
                                                        {"-vvvv", "DEBUG"},
                                                        {"-vvvvvv", "DEBUG"}}) {
    std::string err;
    auto s = ServerProcess::Start(OurGearmand(), {flag}, &err);
    ASSERT_NE(s, nullptr) << flag << ": " << err;
    auto c = RawClient::Connect(s->port());
    c->Send("verbose\n");
    EXPECT_EQ(c->ReadUntil("\n"), "OK " + level + "\n") << flag;
  }
}

TEST(OurCliTest, DebugVerbosityWritesDebugLinesAndDefaultOnlyErrors) {
  std::string err;
  auto quiet = ServerProcess::Start(OurGearmand(), {}, &err);
  ASSERT_NE(quiet, nullptr) << err;
  auto noisy = ServerProcess::Start(OurGearmand(), {"--verbose", "DEBUG"}, &err);
  ASSERT_NE(noisy, nullptr) << err;
  for (auto* s : {&quiet, &noisy}) {
    WaitForVersion((*s)->port());
    (*s)->Signal(SIGTERM);
    (*s)->WaitExit(10s);
  }
  std::string quiet_log = quiet->ReadLog();
  std::string noisy_log = noisy->ReadLog();
  EXPECT_FALSE(Contains(quiet_log, "NOTICE")) << quiet_log;
  EXPECT_FALSE(Contains(quiet_log, "INFO")) << quiet_log;
  EXPECT_TRUE(Contains(noisy_log, "DEBUG")) << noisy_log;
  EXPECT_TRUE(Contains(noisy_log, "NOTICE")) << noisy_log;
}

TEST(OurCliTest, EveryThreadCountServes) {
  for (const char* t : {"0", "1", "2", "8"}) {
    std::string err;
    auto s = ServerProcess::Start(OurGearmand(),
                                  {"-t", t, "--threads-exact", "--job-handle-prefix", "H:t"}, &err);
    ASSERT_NE(s, nullptr) << "-t " << t << ": " << err;
    auto w = RawClient::Connect(s->port());
    auto c = RawClient::Connect(s->port());
    w->Send(Q(Command::kCanDo, {"f"}));
    Sync(*w);
    c->Send(Q(Command::kSubmitJob, {"f", "", "x"}));
    EXPECT_PACKET(c, R(Command::kJobCreated, {"H:t:1"})) << "-t " << t;
    w->Send(Q(Command::kGrabJob));
    EXPECT_PACKET(w, R(Command::kJobAssign, {"H:t:1", "f", "x"})) << "-t " << t;
    w->Send(Q(Command::kWorkComplete, {"H:t:1", "y"}));
    EXPECT_PACKET(c, R(Command::kWorkComplete, {"H:t:1", "y"})) << "-t " << t;
  }
}

TEST(OurCliTest, JobHandlePrefixThatCannotFitIsRefused) {
  auto r = RunOurs({"--check-args", "--job-handle-prefix", std::string(60, 'p')});
  EXPECT_NE(r.exit_code(), 0);
  EXPECT_TRUE(Contains(r.err, "--job-handle-prefix")) << r.err;
}

}  // namespace
}  // namespace gearbox::testing::integ

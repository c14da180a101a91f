// The text admin protocol (docs/protocol.md §4): every command's exact reply bytes, against our
// server in both threading shapes and against Debian's gearmand 1.1.20.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <thread>

#include "integ_support.h"

namespace gearbox::testing::integ {
namespace {

class AdminTest : public ServerTest {
 protected:
  std::unique_ptr<RawClient> Worker(std::initializer_list<std::string_view> functions) {
    auto w = Connect();
    for (auto f : functions)
      w->Send(Q(Command::kCanDo, {f}));
    Sync(*w);
    return w;
  }
  void SubmitOk(RawClient& c, Command cmd, std::string_view fn, std::string_view unique,
                std::string_view data, uint64_t handle) {
    c.Send(Q(cmd, {fn, unique, data}));
    EXPECT_PACKET(&c, R(Command::kJobCreated, {H(handle)}));
  }
  std::string ListInOrder(std::string_view cmd) {
    std::string got = AdminList(cmd);
    return ours() ? got : SortLines(got);
  }
};

// Features only our server has (docs/protocol.md lists them as ours).
class OurAdminTest : public AdminTest {};

TEST_P(AdminTest, StatusListsEachFunctionWithTotalRunningAndAvailableWorkers) {
  EXPECT_EQ(AdminList("status"), ".\n");
  auto c = Connect();
  SubmitOk(*c, Command::kSubmitJobBg, "beta", "", "1", 1);
  SubmitOk(*c, Command::kSubmitJob, "beta", "", "2", 2);
  SubmitOk(*c, Command::kSubmitJobLowBg, "beta", "", "3", 3);
  SubmitOk(*c, Command::kSubmitJobBg, "alpha", "", "4", 4);
  auto w = Worker({"beta"});
  auto w2 = Worker({"beta", "gamma"});
  ASSERT_TRUE(Grab(*w).has_value());
  EXPECT_EQ(ListInOrder("status"),
            "alpha\t1\t0\t0\n"
            "beta\t3\t1\t2\n"
            "gamma\t0\t0\t1\n"
            ".\n");
}

TEST_P(AdminTest, CommandsAreCaseInsensitiveAndAcceptCrLf) {
  auto c = Connect();
  SubmitOk(*c, Command::kSubmitJobBg, "f", "", "x", 1);
  EXPECT_EQ(AdminList("STATUS"), "f\t1\t0\t0\n.\n");
  EXPECT_EQ(AdminList("Status\r"), "f\t1\t0\t0\n.\n");
}

TEST_P(AdminTest, ArgumentsAreSplitOnSpacesAndRunsOfSpacesCollapse) {
  auto c = Connect();
  SubmitOk(*c, Command::kSubmitJobBg, "f", "", "x", 1);
  EXPECT_EQ(AdminList("show   jobs"), H(1) + "\t0\t0\t1\n.\n");
  EXPECT_EQ(AdminLine("cancel  job  " + H(1)), "OK\r\n");
  // gearmand keeps a cancelled job, marked ignored, until a grab reaps it (docs/protocol.md §4).
  EXPECT_EQ(AdminList("show jobs"), ours() ? ".\n" : H(1) + "\t0\t1\t0\n.\n");
}

TEST_P(AdminTest, LeadingSpaceMakesTheCommandNameEmpty) {
  EXPECT_EQ(AdminLine(" status"), "ERR UNKNOWN_COMMAND Unknown+server+command\r\n");
}

TEST_P(AdminTest, PriorityStatusCountsQueuedJobsPerPriority) {
  auto c = Connect();
  SubmitOk(*c, Command::kSubmitJobHighBg, "f", "", "h", 1);
  SubmitOk(*c, Command::kSubmitJobBg, "f", "", "n1", 2);
  SubmitOk(*c, Command::kSubmitJob, "f", "", "n2", 3);
  SubmitOk(*c, Command::kSubmitJobLowBg, "f", "", "l1", 4);
  SubmitOk(*c, Command::kSubmitJobLow, "f", "", "l2", 5);
  SubmitOk(*c, Command::kSubmitJobLowBg, "f", "", "l3", 6);
  SubmitOk(*c, Command::kSubmitJobHighBg, "g", "", "h", 7);
  auto w = Worker({"f"});
  ASSERT_TRUE(Grab(*w).has_value());  // the HIGH one runs: no longer counted
  EXPECT_EQ(ListInOrder("prioritystatus"),
            "f\t0\t2\t3\t1\n"
            "g\t1\t0\t0\t0\n"
            ".\n");
}

TEST_P(AdminTest, WorkersListsEveryConnectionWithItsFunctionsMostRecentFirst) {
  auto w = Connect();
  w->Send(Q(Command::kSetClientId, {"wid"}) + Q(Command::kCanDo, {"f1"}) +
          Q(Command::kCanDo, {"f2"}) + Q(Command::kCanDo, {"f3"}));
  Sync(*w);
  auto idle = Connect();
  Sync(*idle);
  std::string list = AdminList("workers");
  ASSERT_GE(list.size(), 2u);
  ASSERT_EQ(list.substr(list.size() - 2), ".\n");
  std::regex line_re(R"((\d+) (\d+\.\d+\.\d+\.\d+) (\S+) :((?: \S+)*))");
  std::vector<std::string> lines;
  std::set<std::string> fds;
  size_t pos = 0;
  while (pos < list.size() - 2) {
    size_t nl = list.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    lines.push_back(list.substr(pos, nl - pos));
    pos = nl + 1;
  }
  int matched_worker = 0, anonymous = 0;
  for (const auto& l : lines) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(l, m, line_re)) << "unparseable line: " << Escape(l);
    EXPECT_EQ(m[2], "127.0.0.1");
    fds.insert(m[1]);
    if (m[3] == "wid") {
      EXPECT_EQ(m[4], " f3 f2 f1");
      ++matched_worker;
    } else {
      EXPECT_EQ(m[3], "-");
      EXPECT_EQ(m[4], "");
      ++anonymous;
    }
  }
  EXPECT_EQ(matched_worker, 1);
  EXPECT_EQ(anonymous, 2);  // the idle connection and this admin connection
  EXPECT_EQ(fds.size(), lines.size()) << "file descriptors must differ";
}

TEST_P(AdminTest, ShowJobsListsHandleRetriesAndBackgroundFlag) {
  EXPECT_EQ(AdminList("show jobs"), ".\n");
  auto c = Connect();
  SubmitOk(*c, Command::kSubmitJobBg, "f", "", "a", 1);
  SubmitOk(*c, Command::kSubmitJob, "f", "", "b", 2);
  EXPECT_EQ(ListInOrder("show jobs"), H(1) + "\t0\t0\t1\n" + H(2) + "\t0\t0\t0\n.\n");
}

TEST_P(AdminTest, ShowUniqueJobsListsOneUniquePerLine) {
  auto c = Connect();
  SubmitOk(*c, Command::kSubmitJobBg, "f", "u1", "a", 1);
  SubmitOk(*c, Command::kSubmitJobBg, "f", "", "b", 2);
  SubmitOk(*c, Command::kSubmitJobBg, "f", "-", "c", 3);
  SubmitOk(*c, Command::kSubmitJobBg, "g", "r1", "d", 4);
  std::string got = AdminList("show unique jobs");
  if (ours()) {
    EXPECT_EQ(got, "u1\n\n-\nr1\n.\n");  // in handle order
  } else {
    EXPECT_EQ(SortLines(got), "\n-\nr1\nu1\n.\n");
  }
}

TEST_P(AdminTest, ShowWithoutOrWithAnUnknownArgumentIsAnError) {
  EXPECT_EQ(AdminLine("show"), "ERR UNKNOWN_COMMAND Unknown+server+commandshow\r\n");
  EXPECT_EQ(AdminLine("show foo"), "ERR UNKNOWN_SHOW_ARGUMENTS\r\n");
}

TEST_P(AdminTest, UnknownAndEmptyCommandsGetUnknownCommand) {
  EXPECT_EQ(AdminLine("frobnicate now"),
            "ERR UNKNOWN_COMMAND Unknown+server+commandfrobnicate\r\n");
  EXPECT_EQ(AdminLine(""), "ERR UNKNOWN_COMMAND Unknown+server+command\r\n");
}

TEST_P(AdminTest, CancelJobRemovesAQueuedJob) {
  auto c = Connect();
  SubmitOk(*c, Command::kSubmitJobBg, "f", "", "a", 1);
  SubmitOk(*c, Command::kSubmitJobBg, "f", "", "b", 2);
  EXPECT_EQ(AdminLine("cancel job " + H(1)), "OK\r\n");
  EXPECT_EQ(AdminLine("cancel job " + H(99)), "ERR UNKNOWN_JOB\r\n");
  auto w = Worker({"f"});
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(2), "f", "b"})));
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kNoJob)));
  EXPECT_EQ(AdminList("show jobs"), H(2) + "\t0\t0\t1\n.\n");
}

TEST_P(AdminTest, CancelJobOfAQueuedForegroundJobFailsItsClient) {
  auto c = Connect();
  SubmitOk(*c, Command::kSubmitJob, "f", "", "a", 1);
  EXPECT_EQ(AdminLine("cancel job " + H(1)), "OK\r\n");
  EXPECT_PACKET(c, R(Command::kWorkFail, {H(1)}));
  auto w = Worker({"f"});
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kNoJob)));
}

TEST_P(AdminTest, CancelJobOfARunningJobFailsItsClientsAndDiscardsTheResultInOurs) {
  auto c = Connect();
  SubmitOk(*c, Command::kSubmitJob, "f", "", "a", 1);
  auto w = Worker({"f"});
  ASSERT_TRUE(Grab(*w).has_value());
  EXPECT_EQ(AdminLine("cancel job " + H(1)), "OK\r\n");
  EXPECT_PACKET(c, R(Command::kWorkFail, {H(1)}));
  w->Send(Q(Command::kWorkComplete, {H(1), "late"}));
  if (ours()) {
    EXPECT_SILENT(c);  // detached: the late result is not forwarded
  }
  Sync(*w);
  EXPECT_TRUE(ServerAnswers());
}

// docs/protocol.md §4 (Difference): `cancel` with the wrong arguments gets
// `ERR INVALID_ARGUMENTS ...+cancel`. gearmand 1.1.20 answers UNKNOWN_COMMAND (not UNKNOWN_ERROR
// as docs/protocol.md says).
TEST_P(AdminTest, CancelWithMissingArgumentsIsRefused) {
  for (const char* line : {"cancel", "cancel job"}) {
    std::string got = AdminLine(line);
    if (ours()) {
      EXPECT_EQ(got.rfind("ERR INVALID_ARGUMENTS ", 0), 0u) << Escape(got);
      EXPECT_TRUE(got.size() > 9 && got.substr(got.size() - 9) == "+cancel\r\n") << Escape(got);
    } else {
      EXPECT_EQ(got, "ERR UNKNOWN_COMMAND Unknown+server+commandcancel\r\n");
    }
  }
}

TEST_P(AdminTest, CreateFunctionCreatesAnEmptyFunction) {
  auto c = Connect();
  c->Send("create function made\r\n");
  EXPECT_EQ(c->ReadUntil("\n"), "OK\r\n");
  EXPECT_EQ(AdminList("status"), "made\t0\t0\t0\n.\n");
}

// Difference: gearmand drops the last character of the name when the line ends in a bare "\n".
TEST_P(AdminTest, CreateFunctionWithABareNewlineKeepsTheWholeNameInOurs) {
  EXPECT_EQ(AdminLine("create function foo"), "OK\r\n");
  EXPECT_EQ(AdminList("status"), ours() ? "foo\t0\t0\t0\n.\n" : "fo\t0\t0\t0\n.\n");
}

TEST_P(AdminTest, CreateWithoutAFunctionIsRefused) {
  EXPECT_EQ(AdminLine("create"),
            "ERR INVALID_ARGUMENTS "
            "An+incomplete+set+of+arguments+was+sent+to+this+command+create\r\n");
}

TEST_P(AdminTest, DropFunctionRemovesAnIdleFunction) {
  EXPECT_EQ(AdminLine("create function gone\r"), "OK\r\n");
  EXPECT_EQ(AdminLine("drop function gone"), "OK\r\n");
  EXPECT_EQ(AdminList("status"), ".\n");
  EXPECT_EQ(AdminLine("drop function gone"), "ERR function not found\r\n");
}

// gearmand compares the name case-insensitively (gearmand-behaviour.md §2); docs/protocol.md
// says nothing, so ours must do the same.
TEST_P(AdminTest, DropFunctionMatchesTheNameCaseInsensitively) {
  EXPECT_EQ(AdminLine("create function MixedCase\r"), "OK\r\n");
  EXPECT_EQ(AdminLine("drop function mixedcase"), "OK\r\n");
  EXPECT_EQ(AdminList("status"), ".\n");
}

TEST_P(AdminTest, DropFunctionRefusesWhileWorkersAreConnected) {
  auto w = Worker({"busy"});
  EXPECT_EQ(AdminLine("drop function busy"),
            "ERR there are still connected workers or executing clients\r\n");
  EXPECT_EQ(AdminList("status"), "busy\t0\t0\t1\n.\n");
}

// Difference: gearmand drops the function and orphans its queued jobs.
TEST_P(AdminTest, DropFunctionRefusesWhileJobsAreQueuedInOurs) {
  auto c = Connect();
  SubmitOk(*c, Command::kSubmitJobBg, "queued", "", "x", 1);
  if (ours()) {
    EXPECT_EQ(AdminLine("drop function queued"), "ERR there are still queued jobs\r\n");
    EXPECT_EQ(AdminList("status"), "queued\t1\t0\t0\n.\n");
  } else {
    EXPECT_EQ(AdminLine("drop function queued"), "OK\r\n");
    EXPECT_EQ(AdminList("status"), ".\n");
  }
}

TEST_P(AdminTest, MaxqueueLimitsTheFunctionsTotalJobs) {
  EXPECT_EQ(AdminLine("create function f\r"), "OK\r\n");
  EXPECT_EQ(AdminLine("maxqueue f 2"), "OK\r\n");
  auto c = Connect();
  SubmitOk(*c, Command::kSubmitJobBg, "f", "k", "1", 1);
  SubmitOk(*c, Command::kSubmitJob, "f", "", "2", 2);
  c->Send(Q(Command::kSubmitJobHighBg, {"f", "", "3"}));
  EXPECT_PACKET(c, Error("QUEUE_ERROR", "Job queue is full"));
  // A running job still counts.
  auto w = Worker({"f"});
  ASSERT_TRUE(Grab(*w).has_value());
  c->Send(Q(Command::kSubmitJobLowBg, {"f", "", "4"}));
  EXPECT_PACKET(c, Error("QUEUE_ERROR", "Job queue is full"));
  // A coalescing submit joins the existing job instead.
  SubmitOk(*c, Command::kSubmitJobBg, "f", "k", "5", 1);
  // No size: the limits are reset.
  EXPECT_EQ(AdminLine("maxqueue f"), "OK\r\n");
  SubmitOk(*c, Command::kSubmitJobBg, "f", "", "6", 3);
}

TEST_P(AdminTest, MaxqueueWithThreeSizesLimitsHighNormalAndLow) {
  EXPECT_EQ(AdminLine("create function f\r"), "OK\r\n");
  EXPECT_EQ(AdminLine("maxqueue f 1 2 3"), "OK\r\n");
  auto c = Connect();
  SubmitOk(*c, Command::kSubmitJobHighBg, "f", "", "h1", 1);
  c->Send(Q(Command::kSubmitJobHighBg, {"f", "", "h2"}));
  EXPECT_PACKET(c, Error("QUEUE_ERROR", "Job queue is full"));
  SubmitOk(*c, Command::kSubmitJobBg, "f", "", "n1", 2);
  c->Send(Q(Command::kSubmitJobBg, {"f", "", "n2"}));
  EXPECT_PACKET(c, Error("QUEUE_ERROR", "Job queue is full"));
  SubmitOk(*c, Command::kSubmitJobLowBg, "f", "", "l1", 3);
  c->Send(Q(Command::kSubmitJobLow, {"f", "", "l2"}));
  EXPECT_PACKET(c, Error("QUEUE_ERROR", "Job queue is full"));
}

TEST_P(AdminTest, MaxqueueCountsJobsThatAreNotDueYet) {
  EXPECT_EQ(AdminLine("create function f\r"), "OK\r\n");
  EXPECT_EQ(AdminLine("maxqueue f 1"), "OK\r\n");
  auto c = Connect();
  c->Send(Q(Command::kSubmitJobEpoch, {"f", "", std::to_string(::time(nullptr) + 3600), "later"}));
  EXPECT_PACKET(c, R(Command::kJobCreated, {H(1)}));
  c->Send(Q(Command::kSubmitJobBg, {"f", "", "now"}));
  EXPECT_PACKET(c, Error("QUEUE_ERROR", "Job queue is full"));
}

TEST_P(AdminTest, MaxqueueWithANegativeSizeMeansUnlimited) {
  EXPECT_EQ(AdminLine("create function f\r"), "OK\r\n");
  EXPECT_EQ(AdminLine("maxqueue f 1"), "OK\r\n");
  EXPECT_EQ(AdminLine("maxqueue f -5"), "OK\r\n");
  auto c = Connect();
  SubmitOk(*c, Command::kSubmitJobBg, "f", "", "1", 1);
  SubmitOk(*c, Command::kSubmitJobBg, "f", "", "2", 2);
}

TEST_P(AdminTest, MaxqueueOfAMissingFunctionSaysOkAndCreatesNothing) {
  EXPECT_EQ(AdminLine("maxqueue nosuch 5"), "OK\r\n");
  EXPECT_EQ(AdminList("status"), ".\n");
}

TEST_P(AdminTest, MaxqueueWithoutAFunctionIsRefused) {
  std::string got = AdminLine("maxqueue");
  EXPECT_EQ(got.rfind("ERR INVALID_ARGUMENTS ", 0), 0u) << Escape(got);
  EXPECT_TRUE(got.size() > 10 && got.substr(got.size() - 10) == "maxqueue\r\n") << Escape(got);
}

// Difference: gearmand sends no reply to four sizes.
TEST_P(AdminTest, MaxqueueWithFourSizesUsesTheFirstThreeInOurs) {
  EXPECT_EQ(AdminLine("create function f\r"), "OK\r\n");
  auto c = Connect();
  c->Send("maxqueue f 1 1 1 9\n");
  if (ours()) {
    EXPECT_EQ(c->ReadUntil("\n"), "OK\r\n");
    auto s = Connect();
    SubmitOk(*s, Command::kSubmitJobBg, "f", "", "1", 1);
    s->Send(Q(Command::kSubmitJobLowBg, {"f", "", "2"}));
    EXPECT_PACKET(s, Error("QUEUE_ERROR", "Job queue is full"));
  } else {
    EXPECT_SILENT(c);
  }
}

TEST_P(AdminTest, GetpidAnswersTheServersProcessId) {
  EXPECT_EQ(AdminLine("getpid"), "OK " + std::to_string(server_->pid()) + "\n");
}

TEST_P(AdminTest, VersionAnswersOkAndTheVersion) {
  std::string got = AdminLine("version");
  if (ours()) {
    EXPECT_TRUE(std::regex_match(got, std::regex(R"(OK \S+\n)"))) << Escape(got);
  } else {
    EXPECT_EQ(got, "OK 1.1.20+ds\n");
  }
}

TEST_P(AdminTest, VerboseAnswersTheCurrentLevelName) {
  EXPECT_EQ(AdminLine("verbose"), "OK ERROR\n");
  StartServer({"--verbose", "DEBUG"});
  EXPECT_EQ(AdminLine("verbose"), "OK DEBUG\n");
}

// Difference: gearmand removed `shutdown` in 2016.
TEST_P(AdminTest, ShutdownFromLoopbackStopsTheServerInOurs) {
  std::string got = AdminLine("shutdown");
  if (ours()) {
    EXPECT_EQ(got, "OK\r\n");
    auto st = server_->WaitExit(10s);
    ASSERT_TRUE(st.has_value()) << "the server did not exit";
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << "status " << *st;
  } else {
    EXPECT_EQ(got, "ERR UNKNOWN_COMMAND Unknown+server+commandshutdown\r\n");
    EXPECT_TRUE(ServerAnswers());
  }
}

TEST_P(AdminTest, ShutdownGracefulFromLoopbackWaitsForRunningJobsInOurs) {
  auto c = Connect();
  SubmitOk(*c, Command::kSubmitJob, "f", "", "x", 1);
  auto w = Worker({"f"});
  ASSERT_TRUE(Grab(*w).has_value());
  std::string got = AdminLine("shutdown graceful");
  if (!ours()) {
    EXPECT_EQ(got, "ERR UNKNOWN_COMMAND Unknown+server+commandshutdown\r\n");
    return;
  }
  EXPECT_EQ(got, "OK\r\n");
  EXPECT_TRUE(server_->Running());
  w->Send(Q(Command::kWorkComplete, {H(1), "r"}));
  EXPECT_PACKET(c, R(Command::kWorkComplete, {H(1), "r"}));
  auto st = server_->WaitExit(10s);
  ASSERT_TRUE(st.has_value()) << "the server did not exit after its last job";
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << "status " << *st;
}

// A local address that is not loopback, or "".
std::string NonLoopbackIPv4() {
  ifaddrs* ifs = nullptr;
  if (::getifaddrs(&ifs) != 0) return "";
  std::string out;
  for (ifaddrs* i = ifs; i != nullptr && out.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    auto* a = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if ((ntohl(a->sin_addr.s_addr) >> 24) == 127) continue;
    char buf[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    out = buf;
  }
  ::freeifaddrs(ifs);
  return out;
}

TEST_P(OurAdminTest, ShutdownFromANonLoopbackAddressIsDeniedInOurs) {
  std::string ip = NonLoopbackIPv4();
  if (ip.empty()) GTEST_SKIP() << "no non-loopback IPv4 address on this machine";
  StartServer({"-L", ip});
  int fd = ConnectTo(ip, server_->port());
  ASSERT_GE(fd, 0) << "cannot connect to " << ip;
  std::string req = "shutdown\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::string got;
  char buf[256];
  while (got.find('\n') == std::string::npos) {
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  EXPECT_EQ(got, "ERR PERMISSION_DENIED Shutdown+is+only+accepted+from+loopback\r\n");
  EXPECT_TRUE(ServerAnswers());
}

TEST_P(AdminTest, TextAndBinaryMixOnOneConnectionAndAreAnsweredInOrder) {
  auto c = Connect();
  c->Send("version\n" + Q(Command::kEchoReq, {"ping"}) + "status\n");
  std::string line = c->ReadUntil("\n");
  EXPECT_EQ(line.rfind("OK ", 0), 0u) << Escape(line);
  EXPECT_PACKET(c, R(Command::kEchoRes, {"ping"}));
  EXPECT_EQ(ReadList(*c), ".\n");
}

// docs/protocol.md §1: `echo status | nc host 4730` gets its reply. gearmand 1.1.20 closes a
// half-closed connection without answering (it may answer when it reads the line before the
// FIN), which docs/protocol.md does not list as a Difference.
TEST_P(AdminTest, HalfClosedConnectionGetsItsRepliesBeforeTheClose) {
  auto seed = Connect();
  SubmitOk(*seed, Command::kSubmitJobBg, "f", "", "x", 1);
  auto c = Connect();  // echo status | nc host port
  c->Send("status\n");
  c->ShutdownWrite();
  if (ours()) {
    EXPECT_TRUE(ClosedAfter(*c, "f\t1\t0\t0\n.\n"));
  } else {
    EXPECT_TRUE(c->WaitClosed(10s));
    std::string got = c->ReadAll(1ms);
    EXPECT_TRUE(got.empty() || got == "f\t1\t0\t0\n.\n") << Describe(got);
  }
}

// docs/protocol.md §1: a final line without "\n" counts as a line when the peer half-closes.
TEST_P(AdminTest, HalfCloseAnswersAFinalLineWithoutNewline) {
  auto c = Connect();
  c->Send("getpid\nverbose");
  c->ShutdownWrite();
  std::string pid_line = "OK " + std::to_string(server_->pid()) + "\n";
  if (ours()) {
    EXPECT_TRUE(ClosedAfter(*c, pid_line + "OK ERROR\n"));
  } else {
    EXPECT_TRUE(c->WaitClosed(10s));
    std::string got = c->ReadAll(1ms);
    EXPECT_TRUE(got.empty() || got == pid_line) << Describe(got);
  }
}

TEST_P(OurAdminTest, TextLineLongerThanSixtyFourKibIsRefusedAndClosedInOurs) {
  auto c = Connect();
  c->Send(std::string(70 * 1024, 'a'));
  EXPECT_TRUE(ClosedAfter(*c, "ERR LINE_TOO_LONG Text+command+line+too+long\r\n"));
  EXPECT_TRUE(ServerAnswers());
}

INSTANTIATE_TEST_SUITE_P(Servers, AdminTest, ::testing::ValuesIn(AllShapes()), ShapeName);
INSTANTIATE_TEST_SUITE_P(Servers, OurAdminTest, ::testing::ValuesIn(OurShapes()), ShapeName);

}  // namespace
}  // namespace gearbox::testing::integ

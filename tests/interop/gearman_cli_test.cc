// libgearman's command-line tools (`gearman`, `gearadmin` from gearman-tools) against our server
// and Debian's gearmand 1.1.20: the same observable result on both.
#include <regex>

#include "interop_support.h"

namespace gearbox::testing::interop {
namespace {

class GearmanCliTest : public InteropTest {
 protected:
  void SetUp() override {
    if (!HaveGearmanCli()) GTEST_SKIP() << "gearman-tools is not installed";
  }
};

TEST_F(GearmanCliTest, ReverseWorkerAndClientTurnHelloWorldAround) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        auto worker =
            Background(GearmanCmd(s.port(), {"-w", "-f", "reverse", "-c", "1", "--", "rev"}));
        auto r = RunTool(GearmanCmd(s.port(), {"-f", "reverse", "Hello World!"}));
        EXPECT_TRUE(r.exited_ok()) << r.err;
        auto st = worker->Wait(10s);
        EXPECT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << "worker: " << worker->Err();
        return r.out;
      },
      "!dlroW olleH");
}

TEST_F(GearmanCliTest, BackgroundJobIsQueuedThenRunByAWorker) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        auto r = RunTool(GearmanCmd(s.port(), {"-b", "-f", "bgf", "payload"}));
        EXPECT_TRUE(r.exited_ok()) << r.err;
        std::string observed = "client: \"" + r.out + "\"\n";
        observed += "status: " + AdminRawList(s.port(), "status");
        TempFile out;
        auto worker = Background(GearmanCmd(
            s.port(), {"-w", "-f", "bgf", "-c", "1", "--", "sh", "-c", "cat > " + out.path()}));
        auto st = worker->Wait(20s);
        EXPECT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << "worker: " << worker->Err();
        observed += "worker got: " + out.Read() + "\n";
        observed += "status after: " + AdminRawList(s.port(), "status");
        return observed;
      },
      "client: \"\"\n"
      "status: bgf\t1\t0\t0\n.\n"
      "worker got: payload\n"
      "status after: bgf\t0\t0\t0\n.\n");
}

TEST_F(GearmanCliTest, HighAndLowPriorityFlagsOrderTheQueue) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        for (auto args :
             std::vector<std::vector<std::string>>{{"-b", "-L", "-f", "prio", "low"},
                                                   {"-b", "-f", "prio", "normal"},
                                                   {"-b", "-I", "-f", "prio", "high"}}) {
          auto r = RunTool(GearmanCmd(s.port(), args));
          EXPECT_TRUE(r.exited_ok()) << r.err;
        }
        std::string observed = AdminRawList(s.port(), "prioritystatus");
        TempFile out;
        auto worker =
            Background(GearmanCmd(s.port(), {"-w", "-f", "prio", "-c", "3", "--", "sh", "-c",
                                             "cat >> " + out.path() + "; echo >> " + out.path()}));
        auto st = worker->Wait(20s);
        EXPECT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << "worker: " << worker->Err();
        return observed + out.Read();
      },
      "prio\t1\t1\t1\t0\n.\n"
      "high\nnormal\nlow\n");
}

TEST_F(GearmanCliTest, LineModesRunOneJobPerLine) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        auto worker =
            Background(GearmanCmd(s.port(), {"-w", "-f", "reverse", "-c", "4", "--", "rev"}));
        auto n = RunTool(GearmanCmd(s.port(), {"-n", "-f", "reverse"}), "abc\ndef\n");
        EXPECT_TRUE(n.exited_ok()) << n.err;
        auto big_n = RunTool(GearmanCmd(s.port(), {"-N", "-f", "reverse"}), "abc\ndef\n");
        EXPECT_TRUE(big_n.exited_ok()) << big_n.err;
        auto st = worker->Wait(10s);
        EXPECT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << "worker: " << worker->Err();
        return "-n: " + n.out + "-N: " + big_n.out + "\n";
      },
      "-n: cba\nfed\n-N: cbafed\n");
}

TEST_F(GearmanCliTest, UniqueFlagCoalescesBackgroundJobs) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        for (int i = 0; i < 2; ++i) {
          auto r = RunTool(GearmanCmd(s.port(), {"-b", "-u", "same-key", "-f", "uq", "data"}));
          EXPECT_TRUE(r.exited_ok()) << r.err;
        }
        return AdminRawList(s.port(), "status") + AdminRawList(s.port(), "show unique jobs");
      },
      "uq\t1\t0\t0\n.\nsame-key\n.\n");
}

TEST_F(GearmanCliTest, GearadminReportsStatusWorkersAndJobs) {
  OnEachServer([](const Target& t, ServerProcess& s) {
    int port = s.port();
    EXPECT_EQ(SubmitRaw(port, Command::kSubmitJobBg, "adm", "u1", "a"), H(1));
    EXPECT_EQ(SubmitRaw(port, Command::kSubmitJobHighBg, "adm", "u2", "b"), H(2));
    auto w = RawClient::Connect(port);
    ASSERT_NE(w, nullptr);
    w->Send(Q(Command::kSetClientId, {"cli-worker"}) + Q(Command::kCanDo, {"adm"}));
    Sync(*w);

    auto status = RunTool(GearadminCmd(port, {"--status"}));
    EXPECT_TRUE(status.exited_ok()) << status.err;
    EXPECT_EQ(status.out, "adm\t2\t0\t1\n.\n");

    auto prio = RunTool(GearadminCmd(port, {"--priority-status"}));
    EXPECT_EQ(prio.out, "adm\t1\t1\t0\t1\n.\n");

    auto jobs = RunTool(GearadminCmd(port, {"--show-jobs"}));
    EXPECT_EQ(SortLines(jobs.out), H(1) + "\t0\t0\t1\n" + H(2) + "\t0\t0\t1\n.\n");

    auto uniques = RunTool(GearadminCmd(port, {"--show-unique-jobs"}));
    EXPECT_EQ(SortLines(uniques.out), "u1\nu2\n.\n");

    auto workers = RunTool(GearadminCmd(port, {"--workers"}));
    EXPECT_TRUE(
        std::regex_search(workers.out, std::regex(R"((^|\n)\d+ 127\.0\.0\.1 cli-worker : adm\n)")))
        << workers.out;

    auto pid = RunTool(GearadminCmd(port, {"--getpid"}));
    EXPECT_EQ(pid.out, std::to_string(s.pid()) + "\n");

    auto verbose = RunTool(GearadminCmd(port, {"--server-verbose"}));
    EXPECT_EQ(verbose.out, "ERROR\n");

    auto version = RunTool(GearadminCmd(port, {"--server-version"}));
    EXPECT_TRUE(version.exited_ok());
    if (t.impl == Impl::kReference) {
      EXPECT_EQ(version.out, "1.1.20+ds\n");
    } else {
      EXPECT_TRUE(std::regex_match(version.out, std::regex(R"(\S+\n)"))) << version.out;
    }
  });
}

TEST_F(GearmanCliTest, GearadminCreatesDropsAndCancels) {
  OnEachServer([](const Target& t, ServerProcess& s) {
    int port = s.port();
    auto create = RunTool(GearadminCmd(port, {"--create-function", "made"}));
    EXPECT_EQ(create.out + create.err, "OK\n");
    EXPECT_EQ(AdminRawList(port, "status"), "made\t0\t0\t0\n.\n");
    auto drop = RunTool(GearadminCmd(port, {"--drop-function", "made"}));
    EXPECT_EQ(drop.out + drop.err, "OK\n");
    EXPECT_EQ(AdminRawList(port, "status"), ".\n");
    EXPECT_EQ(SubmitRaw(port, Command::kSubmitJobBg, "cf", "", "x"), H(1));
    auto cancel = RunTool(GearadminCmd(port, {"--cancel-job", H(1)}));
    EXPECT_EQ(cancel.out + cancel.err, "OK\n");
    // Difference (docs/protocol.md §4): gearmand keeps the cancelled job, marked ignored,
    // until a grab reaps it; ours removes it at once.
    EXPECT_EQ(AdminRawList(port, "show jobs"),
              t.impl == Impl::kOurs ? ".\n" : H(1) + "\t0\t1\t0\n.\n");
    auto unknown = RunTool(GearadminCmd(port, {"--cancel-job", H(99)}));
    EXPECT_EQ(unknown.out + unknown.err, "Error: UNKNOWN_JOB\r\n");
  });
}

}  // namespace
}  // namespace gearbox::testing::interop

// Perl's Gearman::Client / Gearman::Worker (pure-Perl protocol: GRAB_JOB, CAN_DO_TIMEOUT in
// seconds, uniq "-") against our server and Debian's gearmand 1.1.20.
#include "interop_support.h"

namespace gearbox::testing::interop {
namespace {

class PerlTest : public InteropTest {
 protected:
  void SetUp() override {
    if (!HavePerlGearman()) GTEST_SKIP() << "libgearman-client-perl is not installed";
  }
};

std::vector<std::string> PerlClient(int port, const std::string& scenario) {
  return {"perl", Script("client.pl"), "127.0.0.1", std::to_string(port), scenario};
}
std::unique_ptr<Child> PerlWorker(int port, int jobs) {
  return Background(
      {"perl", Script("worker.pl"), "127.0.0.1", std::to_string(port), std::to_string(jobs)});
}
std::string WorkerLog(Child& worker) {
  auto st = worker.Wait(30s);
  EXPECT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << "worker: " << worker.Err();
  return worker.Out();
}

TEST_F(PerlTest, DoTaskWithPrioritiesTimeoutFunctionStatusAndFailure) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        auto worker = PerlWorker(s.port(), 6);
        auto r = RunTool(PerlClient(s.port(), "do"));
        EXPECT_TRUE(r.exited_ok()) << r.err;
        return r.out + "--\n" + WorkerLog(*worker);
      },
      "do_task !dlroW olleH\n"
      "do_task high HIGH\n"
      "do_task low LOW\n"
      "do_task timed timed:t\n"
      "do_task progress done status 1/2\n"
      "do_task fail undef on_fail 1\n"
      "--\n"
      "reverse Hello World!\n"
      "upper high\n"
      "upper low\n"
      "timed t\n"
      "progress p\n"
      "fail f\n");
}

TEST_F(PerlTest, DispatchBackgroundCoalescesOnUniqAndDashAndGetStatusReports) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        auto r = RunTool(PerlClient(s.port(), "background"));
        EXPECT_TRUE(r.exited_ok()) << r.err;
        std::string observed = r.out + AdminRawList(s.port(), "status");
        auto worker = PerlWorker(s.port(), 3);
        return observed + "--\n" + WorkerLog(*worker);
      },
      "handle ok\n"
      "same uniq same\n"
      "uniq - same payload same\n"
      "uniq - other payload new\n"
      "get_status queued 1 0 0/0\n"
      "get_status unknown 0 0 0/0\n"
      "upper\t3\t0\t0\n.\n"
      "--\n"
      "upper bg1\n"
      "upper payload\n"
      "upper other payload\n");
}

TEST_F(PerlTest, DoTaskTimeoutFailsWhenNobodyCanDoTheJob) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        auto r = RunTool(PerlClient(s.port(), "timeout"));
        EXPECT_TRUE(r.exited_ok()) << r.err;
        return r.out;
      },
      "do_task timeout undef on_fail 1\n");
}

}  // namespace
}  // namespace gearbox::testing::interop

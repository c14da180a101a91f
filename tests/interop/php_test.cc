// PHP's pecl-gearman (libgearman underneath) client and worker against our server and Debian's
// gearmand 1.1.20: the same observable result on both.
#include "interop_support.h"

namespace gearbox::testing::interop {
namespace {

class PhpTest : public InteropTest {
 protected:
  void SetUp() override {
    if (!HavePhpGearman()) GTEST_SKIP() << "php with the gearman extension is not installed";
  }
};

std::vector<std::string> PhpClient(int port, const std::string& scenario) {
  return {"php", Script("client.php"), "127.0.0.1", std::to_string(port), scenario};
}
std::unique_ptr<Child> PhpWorker(int port, int jobs) {
  return Background(
      {"php", Script("worker.php"), "127.0.0.1", std::to_string(port), std::to_string(jobs)});
}

// The worker's log, once it has run all its jobs and exited.
std::string WorkerLog(Child& worker) {
  auto st = worker.Wait(20s);
  EXPECT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << "worker: " << worker.Err();
  return worker.Out();
}

TEST_F(PhpTest, ClientDoNormalHighLowAndAFunctionRegisteredWithATimeout) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        auto worker = PhpWorker(s.port(), 4);
        auto r = RunTool(PhpClient(s.port(), "do"));
        EXPECT_TRUE(r.exited_ok()) << r.err;
        return r.out + "--\n" + WorkerLog(*worker);
      },
      "doNormal !dlroW olleH SUCCESS\n"
      "doHigh HIGH SUCCESS\n"
      "doLow LOW SUCCESS\n"
      "timed timed:t SUCCESS\n"
      "--\n"
      "reverse Hello World!\n"
      "upper high\n"
      "upper low\n"
      "timed t\n");
}

TEST_F(PhpTest, WorkerStatusAndDataReachTheClient) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        auto worker = PhpWorker(s.port(), 1);
        auto r = RunTool(PhpClient(s.port(), "progress"));
        EXPECT_TRUE(r.exited_ok()) << r.err;
        return r.out + "--\n" + WorkerLog(*worker);
      },
      "SUCCESS chunkdone\n--\nprogress p\n");
}

TEST_F(PhpTest, BackgroundJobsAreQueuedWithStatusByHandleAndByUniqueThenRunInPriorityOrder) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        auto r = RunTool(PhpClient(s.port(), "background"));
        EXPECT_TRUE(r.exited_ok()) << r.err;
        std::string observed = r.out + AdminRawList(s.port(), "prioritystatus");
        auto worker = PhpWorker(s.port(), 3);
        return observed + "--\n" + WorkerLog(*worker);
      },
      "coalesced same\n"
      "handle ok SUCCESS\n"
      "handle ok SUCCESS\n"
      "handle ok SUCCESS\n"
      "jobStatus true false 0 0\n"
      "jobStatusByUniqueKey true false 0 0\n"
      "jobStatusByUniqueKey missing false false 0 0\n"
      "jobStatus missing false false 0 0\n"
      "upper\t1\t1\t1\t0\n.\n"
      "--\n"
      "upper bg-high\n"
      "upper bg-normal\n"
      "upper bg-low\n");
}

TEST_F(PhpTest, WorkerExceptionAndFailReachTheClient) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        auto worker = PhpWorker(s.port(), 3);
        auto r = RunTool(PhpClient(s.port(), "exceptions"));
        EXPECT_TRUE(r.exited_ok()) << r.err;
        return r.out + "--\n" + WorkerLog(*worker);
      },
      "with option: '' WORK_EXCEPTION\n"
      "without option: '' WORK_EXCEPTION\n"
      "fail: '' WORK_FAIL\n"
      "--\n"
      "explode x\n"
      "explode y\n"
      "fail z\n");
}

// pecl-gearman asks for the exceptions option on every connection: a client that does not set
// GEARMAN_CLIENT_EXCEPTIONS still gets WORK_EXCEPTION (above). With --exceptions nothing changes.
TEST_F(PhpTest, ExceptionsServerFlagGivesTheSameResult) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        auto worker = PhpWorker(s.port(), 3);
        auto r = RunTool(PhpClient(s.port(), "exceptions"));
        EXPECT_TRUE(r.exited_ok()) << r.err;
        WorkerLog(*worker);
        return r.out;
      },
      "with option: '' WORK_EXCEPTION\n"
      "without option: '' WORK_EXCEPTION\n"
      "fail: '' WORK_FAIL\n",
      {"--exceptions"});
}

TEST_F(PhpTest, PingIsAnsweredByEcho) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        auto r = RunTool(PhpClient(s.port(), "ping"));
        EXPECT_TRUE(r.exited_ok()) << r.err;
        return r.out;
      },
      "ping true\n");
}

}  // namespace
}  // namespace gearbox::testing::interop

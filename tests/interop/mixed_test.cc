// Mixed languages: a PHP (libgearman) client with a Perl worker and a Perl client with a PHP
// worker, against our server and Debian's gearmand 1.1.20.
#include "interop_support.h"

namespace gearbox::testing::interop {
namespace {

class MixedTest : public InteropTest {
 protected:
  void SetUp() override {
    if (!HavePhpGearman() || !HavePerlGearman()) {
      GTEST_SKIP() << "needs php-gearman and libgearman-client-perl";
    }
  }
};

std::string Port(ServerProcess& s) {
  return std::to_string(s.port());
}

std::string WorkerLog(Child& worker) {
  auto st = worker.Wait(30s);
  EXPECT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << "worker: " << worker.Err();
  return worker.Out();
}

TEST_F(MixedTest, PhpClientWithAPerlWorker) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        auto worker = Background({"perl", Script("worker.pl"), "127.0.0.1", Port(s), "4"});
        auto r = RunTool({"php", Script("client.php"), "127.0.0.1", Port(s), "do"});
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

TEST_F(MixedTest, PerlClientWithAPhpWorker) {
  ExpectSameOnEachServer(
      [](ServerProcess& s) {
        auto worker = Background({"php", Script("worker.php"), "127.0.0.1", Port(s), "6"});
        auto r = RunTool({"perl", Script("client.pl"), "127.0.0.1", Port(s), "do"});
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

// WORK_EXCEPTION reaches a Perl client that asked for exceptions; one that did not gets WORK_FAIL.
// Difference (docs/protocol.md §2): gearmand's WORK_FAIL carries a stray trailing NUL, which
// Gearman::Client reads as part of the handle, so it dies instead of calling on_fail.
TEST_F(MixedTest, PerlClientGetsAPhpWorkersExceptionAsExceptionOrAsFailure) {
  OnEachServer([](const Target& t, ServerProcess& s) {
    auto worker = Background({"php", Script("worker.php"), "127.0.0.1", Port(s), "2"});
    auto r = RunTool({"perl", Script("client.pl"), "127.0.0.1", Port(s), "exceptions"});
    EXPECT_TRUE(r.exited_ok()) << r.err;
    std::string without =
        t.impl == Impl::kOurs
            ? "without exceptions: undef on_fail 1 exception none ok\n"
            : "without exceptions: undef on_fail 0 exception none died: Job server failure: Got "
              "work_fail for unknown handle: H:gb:1\\0\n";
    EXPECT_EQ(r.out, without + "with exceptions: undef on_fail 0 exception kaboom\n");
    EXPECT_EQ(WorkerLog(*worker), "explode x\nexplode y\n");
  });
}

}  // namespace
}  // namespace gearbox::testing::interop

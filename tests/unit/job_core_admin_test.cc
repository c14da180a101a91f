// JobCore specification, part 4: the text admin protocol as answered by the core
// (docs/protocol.md §4; gearmand-behaviour.md §2 for the exact bytes).
#include <string>

#include "base/log.h"
#include "core_harness.h"

namespace gearbox::unit {
namespace {

using namespace std::string_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

using AdminText = CoreTest;

// ---------------------------------------------------------------------------------------------
// Listings

TEST_F(AdminText, StatusOfAnEmptyServerIsJustTheTerminator) {
  EXPECT_EQ(Admin("status"), ".\n");
}

TEST_F(AdminText, StatusListsFunctionsSortedWithTotalRunningAndWorkers) {
  Submit(1, "b");
  Submit(1, "b");
  Submit(1, "a");
  Submit(1, "a", "", "", Command::kSubmitJobLowBg);
  Worker(2, {"a"});
  Worker(3, {"a", "c"});
  Grab(2);
  EXPECT_EQ(Admin("status"), "a\t2\t1\t2\nb\t2\t0\t0\nc\t0\t0\t1\n.\n");
  EXPECT_EQ(Admin("STATUS"), "a\t2\t1\t2\nb\t2\t0\t0\nc\t0\t0\t1\n.\n");
}

TEST_F(AdminText, StatusKeepsAFunctionAfterItsJobsAndWorkersAreGone) {
  Submit(1, "f");
  Worker(2, {"f"});
  Grab(2);
  Send(2, Command::kWorkComplete, {"H:t:1", ""});
  Disconnect(2);
  EXPECT_EQ(Admin("status"), "f\t0\t0\t0\n.\n");
}

TEST_F(AdminText, PriorityStatusCountsQueuedJobsNotRunningOnes) {
  Submit(1, "f", "", "", Command::kSubmitJobHigh);
  Submit(1, "f", "", "", Command::kSubmitJobHigh);
  Submit(1, "f", "", "", Command::kSubmitJob);
  Submit(1, "f", "", "", Command::kSubmitJobLowBg);
  Submit(1, "g", "", "", Command::kSubmitJob);
  Worker(2, {"f"});
  Grab(2);  // one HIGH job starts running
  EXPECT_EQ(Admin("prioritystatus"), "f\t1\t1\t1\t1\ng\t0\t1\t0\t0\n.\n");
}

TEST_F(AdminText, WorkersListsEveryConnectionWithAddressIdAndFunctions) {
  Worker(1, {"f", "g"});
  Send(1, Command::kSetClientId, {"w1"});
  Connect(2, /*loopback=*/false);
  EXPECT_EQ(Admin("workers"), "101 127.0.0.1 w1 : g f\n102 192.0.2.7 - :\n190 127.0.0.1 - :\n.\n");
  Disconnect(1);
  EXPECT_EQ(Admin("workers"), "102 192.0.2.7 - :\n190 127.0.0.1 - :\n.\n");
}

TEST_F(AdminText, ShowJobsListsHandleRetriesZeroAndBackgroundByHandleNumber) {
  for (int i = 0; i < 11; ++i) {
    Submit(1, "f", "", "", i % 2 == 0 ? Command::kSubmitJob : Command::kSubmitJobBg);
  }
  Worker(2, {"f"});
  Grab(2);
  Disconnect(2);  // H:t:1 retried once
  std::string expected;
  for (int i = 1; i <= 11; ++i) {
    expected += "H:t:" + std::to_string(i) + "\t" + (i == 1 ? "1" : "0") + "\t0\t" +
                (i % 2 == 0 ? "1" : "0") + "\n";
  }
  EXPECT_EQ(Admin("show jobs"), expected + ".\n");
}

TEST_F(AdminText, ShowUniqueJobsPrintsOneUniquePerLineAndEmptyLinesForEmptyUniques) {
  Submit(1, "f", "u1");
  Submit(1, "f", "");
  Submit(1, "f", "-", "payload");
  Submit(1, "g", "r1");
  EXPECT_EQ(Admin("show unique jobs"), "u1\n\n-\nr1\n.\n");
  EXPECT_EQ(Admin("SHOW UNIQUE JOBS"), "u1\n\n-\nr1\n.\n");
}

// ---------------------------------------------------------------------------------------------
// cancel job

TEST_F(AdminText, CancelOfAQueuedJobRemovesItAndFailsItsClients) {
  Submit(1, "f", "u");
  Submit(2, "f", "u");
  Submit(3, "f", "u", "", Command::kSubmitJobBg);
  EXPECT_EQ(Admin("cancel job H:t:1"), "OK\r\n");
  EXPECT_THAT(Take(1), ElementsAre("WORK_FAIL|H:t:1"));
  EXPECT_THAT(Take(2), ElementsAre("WORK_FAIL|H:t:1"));
  EXPECT_THAT(Take(3), IsEmpty());
  EXPECT_EQ(core().job_count(), 0u);
  EXPECT_THAT(store.dones, ElementsAre("f/u"));
  Worker(4, {"f"});
  EXPECT_EQ(Grab(4), "NO_JOB");
}

TEST_F(AdminText, CancelOfARunningJobFailsItsClientsAndDiscardsTheWorkersResult) {
  Submit(1, "f", "u");
  Submit(2, "f", "u", "", Command::kSubmitJobBg);
  Worker(3, {"f"});
  Grab(3);
  EXPECT_EQ(Admin("cancel job H:t:1"), "OK\r\n");
  EXPECT_THAT(Take(1), ElementsAre("WORK_FAIL|H:t:1"));
  EXPECT_THAT(store.dones, ElementsAre("f/u"));
  Send(3, Command::kWorkData, {"H:t:1", "d"});
  Send(3, Command::kWorkComplete, {"H:t:1", "r"});
  EXPECT_THAT(Take(3), IsEmpty());
  EXPECT_THAT(Take(1), IsEmpty());
  EXPECT_THAT(store.dones, ElementsAre("f/u"));  // not twice
  EXPECT_EQ(core().job_count(), 0u);
}

TEST_F(AdminText, CancelledRunningJobIsNotJoinedByALaterSubmit) {
  // Its result is discarded, so a new submit with the same unique must not wait for it.
  Submit(1, "f", "u");
  Worker(2, {"f"});
  Grab(2);
  EXPECT_EQ(Admin("cancel job H:t:1"), "OK\r\n");
  EXPECT_NE(Submit(3, "f", "u"), "H:t:1");
  Send(2, Command::kWorkComplete, {"H:t:1", "stale"});
  EXPECT_THAT(Take(3), IsEmpty());
}

TEST_F(AdminText, CancelledRunningJobIsNotRetriedWhenItsWorkerDies) {
  Submit(1, "f", "", "", Command::kSubmitJobBg);
  Worker(2, {"f"});
  Grab(2);
  EXPECT_EQ(Admin("cancel job H:t:1"), "OK\r\n");
  Disconnect(2);
  EXPECT_EQ(core().job_count(), 0u);
  EXPECT_EQ(Admin("status"), "f\t0\t0\t0\n.\n");
}

TEST_F(AdminText, CancelOfAnUnknownJobIsUnknownJob) {
  Submit(1, "f");
  EXPECT_EQ(Admin("cancel job H:t:2"), "ERR UNKNOWN_JOB\r\n");
  EXPECT_EQ(Admin("cancel job H:t:01"), "ERR UNKNOWN_JOB\r\n");
  EXPECT_EQ(Admin("cancel job nonsense"), "ERR UNKNOWN_JOB\r\n");
  EXPECT_EQ(core().job_count(), 1u);
}

TEST_F(AdminText, CancelWithWrongArgumentsIsInvalidArguments) {
  EXPECT_EQ(Admin("cancel jobs H:t:1"),
            "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+"
            "cancel\r\n");
  EXPECT_EQ(Admin("cancel"),
            "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+"
            "cancel\r\n");
}

// ---------------------------------------------------------------------------------------------
// create / drop function

TEST_F(AdminText, CreateFunctionMakesItAppearInStatus) {
  EXPECT_EQ(Admin("create function foo"), "OK\r\n");
  EXPECT_EQ(Admin("create function foo"), "OK\r\n");
  EXPECT_EQ(Admin("status"), "foo\t0\t0\t0\n.\n");
}

TEST_F(AdminText, CreateWithoutANameIsInvalidArguments) {
  EXPECT_EQ(Admin("create"),
            "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+"
            "create\r\n");
  EXPECT_EQ(Admin("status"), ".\n");
}

TEST_F(AdminText, DropFunctionRemovesAnIdleFunctionIgnoringCase) {
  Admin("create function Foo");
  Admin("create function bar");
  EXPECT_EQ(Admin("drop function FOO"), "OK\r\n");
  EXPECT_EQ(Admin("status"), "bar\t0\t0\t0\n.\n");
  EXPECT_EQ(Admin("drop function Foo"), "ERR function not found\r\n");
}

TEST_F(AdminText, DropFunctionRefusesWhileWorkersAreConnected) {
  Worker(2, {"f"});
  EXPECT_EQ(Admin("drop function f"),
            "ERR there are still connected workers or executing clients\r\n");
  Disconnect(2);
  EXPECT_EQ(Admin("drop function f"), "OK\r\n");
}

TEST_F(AdminText, DropFunctionRefusesWhileJobsAreQueued) {
  Submit(1, "f");
  EXPECT_EQ(Admin("drop function f"), "ERR there are still queued jobs\r\n");
  Worker(2, {"f"});
  Grab(2);
  Send(2, Command::kCantDo, {"f"});  // requeued: no worker, one queued job
  EXPECT_EQ(Admin("drop function f"), "ERR there are still queued jobs\r\n");
  Disconnect(1);
  EXPECT_EQ(Admin("drop function f"), "OK\r\n");
  // Registering the function again starts from scratch.
  Worker(3, {"f"});
  EXPECT_EQ(Grab(3), "NO_JOB");
}

TEST_F(AdminText, DropFunctionRefusesWhileANotYetDueJobWaits) {
  Connect(1);
  Send(1, Command::kSubmitJobEpoch, {"f", "", std::to_string(clock.WallSeconds() + 3600), "later"});
  EXPECT_EQ(Admin("drop function f"), "ERR there are still queued jobs\r\n");
}

// ---------------------------------------------------------------------------------------------
// maxqueue

TEST_F(AdminText, MaxQueueLimitsTheFunctionsTotalIncludingRunningJobs) {
  Submit(1, "f");
  Worker(2, {"f"});
  Grab(2);
  EXPECT_EQ(Admin("maxqueue f 2"), "OK\r\n");
  Submit(1, "f");
  Connect(3);
  Send(3, Command::kSubmitJob, {"f", "", "x"});
  Send(3, Command::kSubmitJobBg, {"f", "", "x"});
  EXPECT_THAT(Take(3), ElementsAre("ERROR|QUEUE_ERROR|Job queue is full",
                                   "ERROR|QUEUE_ERROR|Job queue is full"));
  EXPECT_THAT(store.adds, IsEmpty());
  Send(2, Command::kWorkComplete, {"H:t:1", ""});
  EXPECT_EQ(Submit(3, "f"), "H:t:3");
}

TEST_F(AdminText, MaxQueueWithThreeSizesLimitsEachPriority) {
  EXPECT_EQ(Admin("create function f"), "OK\r\n");
  EXPECT_EQ(Admin("maxqueue f 1 2 3"), "OK\r\n");
  Connect(1);
  auto submit = [&](Command c) {
    Send(1, c, {"f", "", "x"});
    std::vector<std::string> got = Take(1);
    return got.size() == 1 && got[0].rfind("JOB_CREATED|", 0) == 0;
  };
  EXPECT_TRUE(submit(Command::kSubmitJobHigh));   // total 0 < 1
  EXPECT_FALSE(submit(Command::kSubmitJobHigh));  // total 1
  EXPECT_TRUE(submit(Command::kSubmitJob));       // total 1 < 2
  EXPECT_FALSE(submit(Command::kSubmitJob));      // total 2
  EXPECT_TRUE(submit(Command::kSubmitJobLowBg));  // total 2 < 3
  EXPECT_FALSE(submit(Command::kSubmitJobLow));   // total 3
}

TEST_F(AdminText, MaxQueueWithFourSizesUsesTheFirstThree) {
  Admin("create function f");
  EXPECT_EQ(Admin("maxqueue f 1 1 1 9"), "OK\r\n");
  Submit(1, "f");
  Send(1, Command::kSubmitJobLow, {"f", "", "x"});
  EXPECT_THAT(Take(1), ElementsAre("ERROR|QUEUE_ERROR|Job queue is full"));
}

TEST_F(AdminText, MaxQueueWithoutSizesZeroOrNegativeMeansUnlimited) {
  Admin("create function f");
  for (const char* line : {"maxqueue f", "maxqueue f 0", "maxqueue f -3"}) {
    Admin("maxqueue f 1");
    Admin(line);
    Submit(1, "f");
    Submit(1, "f");
  }
  EXPECT_EQ(core().job_count(), 6u);
}

TEST_F(AdminText, MaxQueueOfAMissingFunctionIsOkAndDoesNothing) {
  EXPECT_EQ(Admin("maxqueue nosuch 1"), "OK\r\n");
  EXPECT_EQ(Admin("status"), ".\n");
  Submit(1, "nosuch");
  Submit(1, "nosuch");
  EXPECT_EQ(core().job_count(), 2u);
}

TEST_F(AdminText, MaxQueueWithoutAFunctionIsInvalidArguments) {
  EXPECT_EQ(Admin("maxqueue"),
            "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+"
            "maxqueue\r\n");
}

// ---------------------------------------------------------------------------------------------
// getpid, version, verbose, shutdown, unknown

TEST_F(AdminText, GetPidVersionAndVerboseEndWithABareNewline) {
  EXPECT_EQ(Admin("getpid"), "OK 4242\n");
  EXPECT_EQ(Admin("version"), "OK 9.9.9-test\n");
  log::Level old = log::CurrentLevel();
  log::SetLevel(log::Level::kNotice);
  EXPECT_EQ(Admin("verbose"), "OK NOTICE\n");
  log::SetLevel(log::Level::kDebug);
  EXPECT_EQ(Admin("VERBOSE"), "OK DEBUG\n");
  log::SetLevel(old);
}

TEST_F(AdminText, ShutdownFromLoopbackIsAcceptedAndAskedOfTheProcess) {
  EXPECT_EQ(Admin("shutdown"), "OK\r\n");
  EXPECT_EQ(Admin("shutdown graceful"), "OK\r\n");
  EXPECT_THAT(hooks.shutdowns, ElementsAre(false, true));
}

TEST_F(AdminText, ShutdownFromElsewhereIsRefused) {
  Connect(5, /*loopback=*/false);
  core().HandleText(5, "shutdown");
  core().HandleText(5, "shutdown graceful");
  EXPECT_THAT(Take(5),
              ElementsAre("ERR PERMISSION_DENIED Shutdown+is+only+accepted+from+loopback\r\n",
                          "ERR PERMISSION_DENIED Shutdown+is+only+accepted+from+loopback\r\n"));
  EXPECT_THAT(hooks.shutdowns, IsEmpty());
}

TEST_F(AdminText, UnknownAndEmptyCommandsAreUnknownCommand) {
  EXPECT_EQ(Admin(""), "ERR UNKNOWN_COMMAND Unknown+server+command\r\n");
  EXPECT_EQ(Admin(" status"), "ERR UNKNOWN_COMMAND Unknown+server+command\r\n");
  EXPECT_EQ(Admin("frob nicate"), "ERR UNKNOWN_COMMAND Unknown+server+commandfrob\r\n");
  EXPECT_EQ(Admin("show foo"), "ERR UNKNOWN_SHOW_ARGUMENTS\r\n");
}

TEST_F(AdminText, TextAndBinaryMixOnOneConnection) {
  Connect(1);
  SendRaw(1, "version\r\n" + protocol::Request(Command::kEchoReq, {"e"}) + "getpid\n");
  EXPECT_THAT(Take(1), ElementsAre("OK 9.9.9-test\n", "ECHO_RES|e", "OK 4242\n"));
}

}  // namespace
}  // namespace gearbox::unit

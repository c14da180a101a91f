// JobCore specification, part 2: dispatch order, grab replies, PRE_SLEEP/NOOP, results from
// workers and their routing to clients (docs/protocol.md §2 Workers, §3 Dispatch).
#include <string>

#include "core_harness.h"

namespace gearbox::unit {
namespace {

using namespace std::string_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------------------------
// Dispatch order

using Dispatch = CoreTest;

TEST_F(Dispatch, JobsOfOnePriorityAreServedFifo) {
  for (int i = 0; i < 5; ++i)
    Submit(1, "f", "", "job" + std::to_string(i));
  Worker(2, {"f"});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:" + std::to_string(i + 1) + "|f|job" + std::to_string(i));
  }
  EXPECT_EQ(Grab(2), "NO_JOB");
}

TEST_F(Dispatch, HigherPriorityComesFirstWithinAFunction) {
  Submit(1, "f", "", "low", Command::kSubmitJobLowBg);
  Submit(1, "f", "", "normal", Command::kSubmitJobBg);
  Submit(1, "f", "", "high", Command::kSubmitJobHighBg);
  Submit(1, "f", "", "low2", Command::kSubmitJobLow);
  Submit(1, "f", "", "high2", Command::kSubmitJobHigh);
  Worker(2, {"f"});
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:3|f|high");
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:5|f|high2");
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:2|f|normal");
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:1|f|low");
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:4|f|low2");
}

TEST_F(Dispatch, HighPriorityOfAnyFunctionComesFirst) {
  // gearmand 1.1 would serve the first function with any work (pa-normal before pb-high).
  Submit(1, "pa", "", "a-normal");
  Submit(1, "pa", "", "a-low", Command::kSubmitJobLow);
  Submit(1, "pb", "", "b-high", Command::kSubmitJobHigh);
  Worker(2, {"pa", "pb"});
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:3|pb|b-high");
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:1|pa|a-normal");
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:2|pa|a-low");
}

TEST_F(Dispatch, PriorityIsOnlyAcrossTheGrabbingWorkersFunctions) {
  Submit(1, "other", "", "high", Command::kSubmitJobHigh);
  Submit(1, "mine", "", "low", Command::kSubmitJobLow);
  Worker(2, {"mine"});
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:2|mine|low");
}

TEST_F(Dispatch, FunctionsTakeTurnsWithinAPriority) {
  Submit(1, "a", "", "a1");
  Submit(1, "a", "", "a2");
  Submit(1, "a", "", "a3");
  Submit(1, "b", "", "b1");
  Submit(1, "b", "", "b2");
  Submit(1, "c", "", "c1");
  Worker(2, {"a", "b", "c"});
  std::vector<std::string> order;
  for (int i = 0; i < 6; ++i)
    order.push_back(Grab(2).substr(sizeof("JOB_ASSIGN|H:t:x|") - 1));
  EXPECT_THAT(order, ElementsAre("a|a1", "b|b1", "c|c1", "a|a2", "b|b2", "a|a3"));
}

TEST_F(Dispatch, RoundRobinDoesNotLetOneBusyFunctionStarveAnother) {
  for (int i = 0; i < 10; ++i)
    Submit(1, "busy", "", "x");
  Submit(1, "rare", "", "y");
  Worker(2, {"busy", "rare"});
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:1|busy|x");
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:11|rare|y");
}

TEST_F(Dispatch, WorkersOnlyGetFunctionsTheyCanDo) {
  Submit(1, "f", "", "x");
  Worker(2, {"g"});
  EXPECT_EQ(Grab(2), "NO_JOB");
  Connect(3);
  EXPECT_EQ(Grab(3), "NO_JOB");  // no abilities at all
  Worker(4, {"f"});
  EXPECT_EQ(Grab(4), "JOB_ASSIGN|H:t:1|f|x");
}

TEST_F(Dispatch, EveryGrabIsAnsweredInOrderWithAtMostOneJob) {
  Submit(1, "f", "", "x");
  Submit(1, "f", "", "y");
  Worker(2, {"f"});
  Send(2, Command::kGrabJob);
  Send(2, Command::kGrabJobUniq);
  Send(2, Command::kGrabJob);
  EXPECT_THAT(Take(2), ElementsAre("JOB_ASSIGN|H:t:1|f|x", "JOB_ASSIGN_UNIQ|H:t:2|f||y", "NO_JOB"));
  EXPECT_EQ(core().running_jobs(), 2u);
  EXPECT_EQ(Admin("status"), "f\t2\t2\t1\n.\n");
}

// ---------------------------------------------------------------------------------------------
// Grab reply shapes

using Grabs = CoreTest;

TEST_F(Grabs, GrabJobAnswersHandleFunctionAndData) {
  Submit(1, "f", "uniq", "data");
  Worker(2, {"f"});
  EXPECT_EQ(Grab(2, Command::kGrabJob), "JOB_ASSIGN|H:t:1|f|data");
}

TEST_F(Grabs, GrabJobUniqAddsTheUnique) {
  Submit(1, "f", "uniq", "data");
  Submit(1, "f", "-", "payload");
  Worker(2, {"f"});
  EXPECT_EQ(Grab(2, Command::kGrabJobUniq), "JOB_ASSIGN_UNIQ|H:t:1|f|uniq|data");
  EXPECT_EQ(Grab(2, Command::kGrabJobUniq), "JOB_ASSIGN_UNIQ|H:t:2|f|-|payload");
}

TEST_F(Grabs, GrabJobAllAnswersJobAssignAllOnlyForJobsWithAReducer) {
  Connect(1);
  Send(1, Command::kSubmitReduceJob, {"f", "u1", "reducer", "", "data1"});
  Send(1, Command::kSubmitReduceJobBackground, {"f", "u2", "red2", "", "data2"});
  Take(1);
  Submit(1, "f", "u3", "data3");
  Worker(2, {"f"});
  EXPECT_EQ(Grab(2, Command::kGrabJobAll), "JOB_ASSIGN_ALL|H:t:1|f|u1|reducer|data1");
  EXPECT_EQ(Grab(2, Command::kGrabJobAll), "JOB_ASSIGN_ALL|H:t:2|f|u2|red2|data2");
  EXPECT_EQ(Grab(2, Command::kGrabJobAll), "JOB_ASSIGN_UNIQ|H:t:3|f|u3|data3");
}

TEST_F(Grabs, ReduceJobsAreNormalPriorityAndOnlyTheBackgroundOneIsStored) {
  Connect(1);
  Send(1, Command::kSubmitReduceJob, {"f", "u1", "r", "", "d"});
  Send(1, Command::kSubmitReduceJobBackground, {"f", "u2", "r", "", "d"});
  EXPECT_THAT(Take(1), ElementsAre("JOB_CREATED|H:t:1", "JOB_CREATED|H:t:2"));
  EXPECT_EQ(Admin("prioritystatus"), "f\t0\t2\t0\t0\n.\n");
  ASSERT_EQ(store.adds.size(), 1u);
  EXPECT_EQ(store.adds[0].unique, "u2");
  EXPECT_EQ(Admin("show jobs"), "H:t:1\t0\t0\t0\nH:t:2\t0\t0\t1\n.\n");
}

TEST_F(Grabs, ReduceJobChecksTheUniqueNotTheReducerAgainst64Bytes) {
  Connect(1);
  Send(1, Command::kSubmitReduceJob, {"f", "u", std::string(100, 'r'), "", "d"});
  EXPECT_THAT(Take(1), ElementsAre("JOB_CREATED|H:t:1"));
  Send(1, Command::kSubmitReduceJob, {"f", std::string(65, 'u'), "r", "", "d"});
  EXPECT_THAT(Take(1), ElementsAre("ERROR|ARGUMENT_TOO_LARGE|Unique value too large"));
}

TEST_F(Grabs, GrabJobOnAReduceJobAnswersPlainJobAssign) {
  Connect(1);
  Send(1, Command::kSubmitReduceJob, {"f", "u1", "reducer", "", "data1"});
  Take(1);
  Worker(2, {"f"});
  EXPECT_EQ(Grab(2, Command::kGrabJob), "JOB_ASSIGN|H:t:1|f|data1");
}

// ---------------------------------------------------------------------------------------------
// PRE_SLEEP and NOOP

using Sleep = CoreTest;

TEST_F(Sleep, PreSleepWithWorkAlreadyQueuedGetsAnImmediateNoop) {
  Submit(1, "f");
  Worker(2, {"f"});
  Send(2, Command::kPreSleep);
  EXPECT_THAT(Take(2), ElementsAre("NOOP"));
}

TEST_F(Sleep, PreSleepWithNothingQueuedIsSilent) {
  Submit(1, "other");
  Worker(2, {"f"});
  Send(2, Command::kPreSleep);
  EXPECT_THAT(Take(2), IsEmpty());
}

TEST_F(Sleep, SleepingWorkerGetsExactlyOneNoopWhenWorkArrives) {
  Worker(2, {"f"});
  Send(2, Command::kPreSleep);
  Submit(1, "f");
  EXPECT_THAT(Take(2), ElementsAre("NOOP"));
  Submit(1, "f");
  Submit(1, "f");
  Send(2, Command::kPreSleep);  // a second PRE_SLEEP without a grab changes nothing
  Submit(1, "f");
  EXPECT_THAT(Take(2), IsEmpty());
}

TEST_F(Sleep, WorkerIsWokenAgainAfterItGrabbed) {
  Worker(2, {"f"});
  Send(2, Command::kPreSleep);
  Submit(1, "f");
  EXPECT_THAT(Take(2), ElementsAre("NOOP"));
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:1|f|payload");
  EXPECT_EQ(Grab(2), "NO_JOB");
  Send(2, Command::kPreSleep);
  EXPECT_THAT(Take(2), IsEmpty());
  Submit(1, "f");
  EXPECT_THAT(Take(2), ElementsAre("NOOP"));
}

TEST_F(Sleep, OnlyWorkersOfTheFunctionAreWoken) {
  Worker(2, {"f"});
  Worker(3, {"g"});
  Worker(4, {"g", "f"});
  for (SessionId w : {2, 3, 4})
    Send(w, Command::kPreSleep);
  Submit(1, "f");
  EXPECT_THAT(Take(2), ElementsAre("NOOP"));
  EXPECT_THAT(Take(3), IsEmpty());
  EXPECT_THAT(Take(4), ElementsAre("NOOP"));
}

TEST_F(Sleep, WorkerSleepingOnSeveralFunctionsGetsOneNoop) {
  Worker(2, {"f", "g"});
  Send(2, Command::kPreSleep);
  Submit(1, "f");
  Submit(1, "g");
  EXPECT_THAT(Take(2), ElementsAre("NOOP"));
}

TEST_F(Sleep, WorkerWakeupZeroWakesEverySleepingWorker) {
  for (SessionId w : {2, 3, 4}) {
    Worker(w, {"f"});
    Send(w, Command::kPreSleep);
  }
  Submit(1, "f");
  for (SessionId w : {2, 3, 4})
    EXPECT_THAT(Take(w), ElementsAre("NOOP")) << w;
}

TEST_F(Sleep, WorkerWakeupLimitsNoopsPerNewlyRunnableJob) {
  options.worker_wakeup = 1;
  for (SessionId w : {2, 3, 4}) {
    Worker(w, {"f"});
    Send(w, Command::kPreSleep);
  }
  Submit(1, "f");
  int woken = 0;
  for (SessionId w : {2, 3, 4})
    woken += static_cast<int>(Take(w).size());
  EXPECT_EQ(woken, 1);
  Submit(1, "f");  // the next job wakes a different worker
  Submit(1, "f");
  for (SessionId w : {2, 3, 4})
    woken += static_cast<int>(Take(w).size());
  EXPECT_EQ(woken, 3);
  Submit(1, "f");  // everyone already has its NOOP
  for (SessionId w : {2, 3, 4})
    EXPECT_THAT(Take(w), IsEmpty());
}

TEST_F(Sleep, SecondPreSleepAnsweredAtOnceIsNotWokenAgainLater) {
  // Found by core_fuzz: with --worker-wakeup 1 a sleeper that was not picked stays listed; its
  // next PRE_SLEEP is answered with a NOOP at once, and it must leave the sleeper list then, or
  // the next wake-up sends it a second NOOP for the same sleep.
  options.worker_wakeup = 1;
  Worker(2, {"f"});
  Worker(3, {"f"});
  Send(2, Command::kPreSleep);
  Send(3, Command::kPreSleep);
  Submit(1, "f");
  SessionId woken = Take(2).empty() ? 3 : 2;
  SessionId other = woken == 2 ? 3 : 2;
  EXPECT_THAT(Take(other), IsEmpty());
  Send(other, Command::kPreSleep);
  EXPECT_THAT(Take(other), ElementsAre("NOOP"));
  Submit(1, "f");
  Submit(1, "f");
  EXPECT_THAT(Take(other), IsEmpty()) << "two NOOPs for one sleep";
}

TEST_F(Sleep, WorkerWakeupTwoWakesTwo) {
  options.worker_wakeup = 2;
  for (SessionId w : {2, 3, 4, 5}) {
    Worker(w, {"f"});
    Send(w, Command::kPreSleep);
  }
  Submit(1, "f");
  int woken = 0;
  for (SessionId w : {2, 3, 4, 5})
    woken += static_cast<int>(Take(w).size());
  EXPECT_EQ(woken, 2);
}

TEST_F(Sleep, CanDoWhileAsleepWakesAtOnceWhenThatFunctionHasWork) {
  Submit(1, "f");
  Worker(2, {"g"});
  Send(2, Command::kPreSleep);
  EXPECT_THAT(Take(2), IsEmpty());
  Send(2, Command::kCanDo, {"f"});
  EXPECT_THAT(Take(2), ElementsAre("NOOP"));
}

TEST_F(Sleep, CanDoWhileAsleepMakesTheWorkerWakeableForThatFunction) {
  Worker(2, {"g"});
  Send(2, Command::kPreSleep);
  Send(2, Command::kCanDo, {"f"});
  Submit(1, "f");
  EXPECT_THAT(Take(2), ElementsAre("NOOP"));
}

TEST_F(Sleep, CantDoStopsWakeUpsForThatFunction) {
  Worker(2, {"f", "g"});
  Send(2, Command::kPreSleep);
  Send(2, Command::kCantDo, {"f"});
  Submit(1, "f");
  EXPECT_THAT(Take(2), IsEmpty());
  Submit(1, "g");
  EXPECT_THAT(Take(2), ElementsAre("NOOP"));
}

TEST_F(Sleep, DisconnectedSleeperIsNeverWoken) {
  options.worker_wakeup = 1;
  Worker(2, {"f"});
  Worker(3, {"f"});
  Send(2, Command::kPreSleep);
  Send(3, Command::kPreSleep);
  Disconnect(2);
  Submit(1, "f");
  EXPECT_THAT(Take(2), IsEmpty());
  EXPECT_THAT(Take(3), ElementsAre("NOOP"));
}

TEST_F(Sleep, JobRequeuedByADisconnectWakesAnotherSleepingWorker) {
  options.worker_wakeup = 1;
  Submit(1, "f");
  Worker(2, {"f"});
  Worker(3, {"f"});
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:1|f|payload");
  Send(2, Command::kPreSleep);  // worker 2 holds the job and sleeps for more work
  Send(3, Command::kPreSleep);
  Disconnect(2);
  EXPECT_THAT(Take(3), ElementsAre("NOOP"));
  EXPECT_THAT(Take(2), IsEmpty()) << "a NOOP went to the closing connection";
}

TEST_F(Sleep, JobRequeuedByResetAbilitiesWakesAnotherSleepingWorker) {
  options.worker_wakeup = 1;
  Submit(1, "f");
  Worker(2, {"f"});
  Worker(3, {"f"});
  Grab(2);
  Send(2, Command::kPreSleep);
  Send(3, Command::kPreSleep);
  Send(2, Command::kResetAbilities);
  EXPECT_THAT(Take(3), ElementsAre("NOOP"));
  EXPECT_THAT(Take(2), IsEmpty()) << "a NOOP went to the worker that just gave the job up";
}

// ---------------------------------------------------------------------------------------------
// Results from workers

using Work = CoreTest;

struct NotHeldCase {
  Command command;
  std::string text;
};

class WorkFromWrongConnection : public CoreTest,
                                public ::testing::WithParamInterface<NotHeldCase> {};

TEST_P(WorkFromWrongConnection, IsAnsweredWithJobNotFound) {
  const NotHeldCase& c = GetParam();
  Submit(1, "f");
  Submit(1, "f");
  Worker(2, {"f"});
  Worker(3, {"f"});
  Grab(2);  // worker 2 holds H:t:1; H:t:2 is queued
  std::string expect = "ERROR|JOB_NOT_FOUND|" + c.text;
  auto send = [&](SessionId from, std::string_view handle) {
    if (c.command == Command::kWorkStatus) {
      Send(from, c.command, {handle, "1", "2"});
    } else if (c.command == Command::kWorkFail) {
      Send(from, c.command, {handle});
    } else {
      Send(from, c.command, {handle, "data"});
    }
  };
  send(3, "H:t:1");   // another worker's job
  send(3, "H:t:2");   // a queued job
  send(1, "H:t:1");   // a client
  send(2, "H:t:99");  // an unknown handle
  send(2, "H:t:01");  // not an exact match
  EXPECT_THAT(Take(3), ElementsAre(expect, expect));
  EXPECT_THAT(Take(1), ElementsAre(expect));
  EXPECT_THAT(Take(2), ElementsAre(expect, expect));
  EXPECT_THAT(out.Pending(), IsEmpty());
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|0|0");  // still running on worker 2
}

INSTANTIATE_TEST_SUITE_P(
    JobCore, WorkFromWrongConnection,
    ::testing::Values(NotHeldCase{Command::kWorkData, "Job does not exist on server"},
                      NotHeldCase{Command::kWorkWarning, "Job does not exist on server"},
                      NotHeldCase{Command::kWorkStatus, "Job given in work result not found"},
                      NotHeldCase{Command::kWorkComplete, "Job given in work result not found"},
                      NotHeldCase{Command::kWorkFail, "Job given in work result not found"},
                      NotHeldCase{Command::kWorkException,
                                  "An exception was received for a job that does not exist"}),
    [](const ::testing::TestParamInfo<NotHeldCase>& i) {
      return std::string(protocol::Name(i.param.command));
    });

TEST_F(Work, DataAndWarningAreForwardedVerbatimAndTheJobKeepsRunning) {
  Submit(1, "f");
  Worker(2, {"f"});
  Grab(2);
  Send(2, Command::kWorkData, {"H:t:1", "chunk\0with\0nuls"s});
  Send(2, Command::kWorkWarning, {"H:t:1", ""});
  EXPECT_THAT(Take(1), ElementsAre("WORK_DATA|H:t:1|chunk\0with\0nuls"s, "WORK_WARNING|H:t:1|"));
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|0|0");
}

TEST_F(Work, CompleteEndsTheJob) {
  Submit(1, "f");
  Worker(2, {"f"});
  Grab(2);
  Send(2, Command::kWorkComplete, {"H:t:1", "result\0x"s});
  EXPECT_THAT(Take(1), ElementsAre("WORK_COMPLETE|H:t:1|result\0x"s));
  EXPECT_EQ(core().job_count(), 0u);
  EXPECT_EQ(core().running_jobs(), 0u);
  EXPECT_EQ(core().counters().completed, 1u);
  Send(2, Command::kWorkComplete, {"H:t:1", "again"});
  EXPECT_THAT(Take(2), ElementsAre("ERROR|JOB_NOT_FOUND|Job given in work result not found"));
  EXPECT_EQ(Admin("status"), "f\t0\t0\t1\n.\n");
}

TEST_F(Work, FailForwardsTheHandleOnly) {
  Submit(1, "f");
  Worker(2, {"f"});
  Grab(2);
  Send(2, Command::kWorkFail, {"H:t:1"});
  EXPECT_THAT(Take(1), ElementsAre("WORK_FAIL|H:t:1"));
  EXPECT_EQ(core().job_count(), 0u);
  EXPECT_EQ(core().counters().failed, 1u);
}

TEST_F(Work, ExceptionGoesAsExceptionToClientsWithTheOptionAndAsFailToOthers) {
  Connect(1);
  Send(1, Command::kOptionReq, {"exceptions"});
  Take(1);
  Submit(1, "f", "u");
  Submit(2, "f", "u");
  Worker(3, {"f"});
  Grab(3);
  Send(3, Command::kWorkException, {"H:t:1", "stack\0trace"s});
  EXPECT_THAT(Take(1), ElementsAre("WORK_EXCEPTION|H:t:1|stack\0trace"s));
  EXPECT_THAT(Take(2), ElementsAre("WORK_FAIL|H:t:1"));  // no stray trailing NUL
  EXPECT_EQ(core().job_count(), 0u);
  Send(3, Command::kWorkComplete, {"H:t:1", ""});
  EXPECT_THAT(Take(3), ElementsAre("ERROR|JOB_NOT_FOUND|Job given in work result not found"));
}

TEST_F(Work, ExceptionsOptionOfTheServerAppliesToEveryNewConnection) {
  options.exceptions = true;
  Submit(1, "f");
  Worker(2, {"f"});
  Grab(2);
  Send(2, Command::kWorkException, {"H:t:1", "boom"});
  EXPECT_THAT(Take(1), ElementsAre("WORK_EXCEPTION|H:t:1|boom"));
}

TEST_F(Work, ExceptionOptionIsPerConnection) {
  Connect(5);
  Send(5, Command::kOptionReq, {"exceptions"});  // another connection's option
  Submit(1, "f");
  Worker(2, {"f"});
  Grab(2);
  Send(2, Command::kWorkException, {"H:t:1", "boom"});
  EXPECT_THAT(Take(1), ElementsAre("WORK_FAIL|H:t:1"));
}

TEST_F(Work, ResultsAfterCompletionOfARequeuedJobGoToTheNewHolderOnly) {
  Submit(1, "f");
  Worker(2, {"f"});
  Worker(3, {"f"});
  Grab(2);
  Send(2, Command::kCantDo, {"f"});  // requeued
  EXPECT_EQ(Grab(3), "JOB_ASSIGN|H:t:1|f|payload");
  Send(2, Command::kWorkComplete, {"H:t:1", "stale"});
  EXPECT_THAT(Take(2), ElementsAre("ERROR|JOB_NOT_FOUND|Job given in work result not found"));
  Send(3, Command::kWorkComplete, {"H:t:1", "fresh"});
  EXPECT_THAT(Take(1), ElementsAre("WORK_COMPLETE|H:t:1|fresh"));
}

// ---------------------------------------------------------------------------------------------
// One connection as client and worker

TEST_F(Work, OneConnectionCanBeClientAndWorkerAtOnce) {
  Worker(1, {"f"});
  EXPECT_EQ(Submit(1, "f", "", "self"), "H:t:1");
  EXPECT_EQ(Grab(1), "JOB_ASSIGN|H:t:1|f|self");
  Send(1, Command::kWorkStatus, {"H:t:1", "1", "1"});
  Send(1, Command::kWorkComplete, {"H:t:1", "done"});
  EXPECT_THAT(Take(1), ElementsAre("WORK_STATUS|H:t:1|1|1", "WORK_COMPLETE|H:t:1|done"));
  EXPECT_EQ(core().job_count(), 0u);
}

TEST_F(Work, ClientAndWorkerConnectionLeavingDropsItsOwnRunningJob) {
  Worker(1, {"f"});
  Submit(1, "f", "", "self");
  Grab(1);
  Disconnect(1);
  EXPECT_EQ(core().job_count(), 0u);
  EXPECT_EQ(core().running_jobs(), 0u);
  EXPECT_EQ(Admin("status"), "f\t0\t0\t0\n.\n");
}

}  // namespace
}  // namespace gearbox::unit

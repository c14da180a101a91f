// JobCore specification, part 3: requeue and retries, CAN_DO_TIMEOUT, SUBMIT_JOB_EPOCH,
// SUBMIT_JOB_SCHED and graceful drain, driven by a FakeClock (docs/protocol.md §2, §3, §5).
#include <ctime>
#include <string>

#include "core_harness.h"
#include "tz_guard.h"

namespace gearbox::unit {
namespace {

using namespace std::string_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------------------------
// Requeue

using Requeue = CoreTest;

TEST_F(Requeue, WorkerDisconnectRequeuesAtTheTailWithRetriesIncremented) {
  Submit(1, "f", "", "first");
  Submit(1, "f", "", "second");
  Worker(2, {"f"});
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:1|f|first");
  Disconnect(2);
  EXPECT_EQ(Admin("show jobs"), "H:t:1\t1\t0\t0\nH:t:2\t0\t0\t0\n.\n");
  EXPECT_EQ(core().running_jobs(), 0u);
  Worker(3, {"f"});
  EXPECT_EQ(Grab(3), "JOB_ASSIGN|H:t:2|f|second");
  EXPECT_EQ(Grab(3), "JOB_ASSIGN|H:t:1|f|first");
  EXPECT_EQ(core().counters().requeued, 1u);
}

TEST_F(Requeue, ClientsAreNotToldAboutARequeue) {
  Submit(1, "f");
  Worker(2, {"f"});
  Grab(2);
  Disconnect(2);
  EXPECT_THAT(Take(1), IsEmpty());
  Worker(3, {"f"});
  Grab(3);
  Send(3, Command::kWorkComplete, {"H:t:1", "ok"});
  EXPECT_THAT(Take(1), ElementsAre("WORK_COMPLETE|H:t:1|ok"));
}

TEST_F(Requeue, ResetsTheStatusNumbers) {
  Submit(1, "f");
  Worker(2, {"f"});
  Grab(2);
  Send(2, Command::kWorkStatus, {"H:t:1", "3", "10"});
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|3|10");
  Disconnect(2);
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|0|0|0");
}

TEST_F(Requeue, KeepsThePriority) {
  Submit(1, "f", "", "normal");
  Submit(1, "f", "", "high", Command::kSubmitJobHigh);
  Worker(2, {"f"});
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:2|f|high");
  Disconnect(2);
  Worker(3, {"f"});
  EXPECT_EQ(Grab(3), "JOB_ASSIGN|H:t:2|f|high");
}

TEST_F(Requeue, CantDoRequeuesOnlyJobsOfThatFunction) {
  Submit(1, "f", "", "fjob");
  Submit(1, "g", "", "gjob");
  Worker(2, {"f", "g"});
  Grab(2);
  Grab(2);
  Send(2, Command::kCantDo, {"f"});
  EXPECT_THAT(Take(2), IsEmpty());
  EXPECT_EQ(Admin("show jobs"), "H:t:1\t1\t0\t0\nH:t:2\t0\t0\t0\n.\n");
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|0|0|0");
  Send(2, Command::kWorkComplete, {"H:t:1", "late"});
  EXPECT_THAT(Take(2), ElementsAre("ERROR|JOB_NOT_FOUND|Job given in work result not found"));
  Send(2, Command::kWorkComplete, {"H:t:2", "ok"});
  EXPECT_THAT(Take(2), IsEmpty());
  EXPECT_EQ(Grab(2), "NO_JOB");  // it can no longer do f
  EXPECT_EQ(Admin("status"), "f\t1\t0\t0\ng\t0\t0\t1\n.\n");
}

TEST_F(Requeue, CantDoOfAnUnregisteredFunctionChangesNothing) {
  Submit(1, "f");
  Worker(2, {"f"});
  Grab(2);
  Send(2, Command::kCantDo, {"g"});
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|0|0");
  EXPECT_EQ(Admin("status"), "f\t1\t1\t1\n.\n");
}

TEST_F(Requeue, ResetAbilitiesRequeuesEveryJobAndUnregistersEverything) {
  Submit(1, "f");
  Submit(1, "g");
  Worker(2, {"f", "g"});
  Grab(2);
  Grab(2);
  Send(2, Command::kResetAbilities);
  EXPECT_EQ(core().running_jobs(), 0u);
  EXPECT_EQ(Admin("show jobs"), "H:t:1\t1\t0\t0\nH:t:2\t1\t0\t0\n.\n");
  EXPECT_EQ(Grab(2), "NO_JOB");
  EXPECT_EQ(Admin("status"), "f\t1\t0\t0\ng\t1\t0\t0\n.\n");
  Send(2, Command::kCanDo, {"g"});
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:2|g|payload");
}

TEST_F(Requeue, RegisteringAFunctionTwiceKeepsOneRegistration) {
  Worker(2, {"f", "f"});
  Send(2, Command::kCanDoTimeout, {"f", "5000"});
  EXPECT_EQ(Admin("status"), "f\t0\t0\t1\n.\n");
  EXPECT_EQ(Admin("workers"), "102 127.0.0.1 - : f\n190 127.0.0.1 - :\n.\n");
}

TEST_F(Requeue, WorkersListsFunctionsMostRecentFirst) {
  Worker(2, {"a", "b", "c"});
  Send(2, Command::kCantDo, {"b"});
  EXPECT_EQ(Admin("workers"), "102 127.0.0.1 - : c a\n190 127.0.0.1 - :\n.\n");
}

// ---------------------------------------------------------------------------------------------
// --job-retries

struct RetryCase {
  int option;
  int attempts;  // attempts before the job is dropped; 0 = never dropped (checked up to 20)
};

class JobRetries : public CoreTest, public ::testing::WithParamInterface<RetryCase> {};

TEST_P(JobRetries, LimitsTheAttemptsThenFailsTheWaitersAndForgetsTheJob) {
  options.job_retries = GetParam().option;
  Submit(1, "f", "u", "fg");
  Submit(2, "f", "u", "", Command::kSubmitJobBg);  // also stored
  int limit = GetParam().attempts == 0 ? 20 : GetParam().attempts;
  for (int attempt = 1; attempt <= limit; ++attempt) {
    SessionId w = static_cast<SessionId>(10 + attempt);
    Worker(w, {"f"});
    ASSERT_EQ(Grab(w), "JOB_ASSIGN|H:t:1|f|fg") << "attempt " << attempt;
    Disconnect(w);
    if (attempt < limit || GetParam().attempts == 0) {
      EXPECT_THAT(Take(1), IsEmpty()) << "attempt " << attempt;
      EXPECT_EQ(Admin("show jobs"), "H:t:1\t" + std::to_string(attempt) + "\t0\t1\n.\n");
    }
  }
  if (GetParam().attempts == 0) {
    EXPECT_EQ(core().job_count(), 1u);
    EXPECT_THAT(store.dones, IsEmpty());
    return;
  }
  EXPECT_THAT(Take(1), ElementsAre("WORK_FAIL|H:t:1"));
  EXPECT_THAT(Take(2), IsEmpty());
  EXPECT_EQ(core().job_count(), 0u);
  EXPECT_THAT(store.dones, ElementsAre("f/u"));
  EXPECT_EQ(core().counters().dropped, 1u);
  EXPECT_EQ(Admin("status"), "f\t0\t0\t0\n.\n");
}

INSTANTIATE_TEST_SUITE_P(JobCore, JobRetries,
                         ::testing::Values(RetryCase{-1, 0}, RetryCase{0, 1}, RetryCase{1, 1},
                                           RetryCase{3, 3}),
                         [](const ::testing::TestParamInfo<RetryCase>& i) {
                           return i.param.option < 0 ? std::string("Unlimited")
                                                     : "Retries" + std::to_string(i.param.option);
                         });

TEST_F(Requeue, RetryLimitAlsoAppliesToCantDo) {
  options.job_retries = 1;
  Submit(1, "f");
  Worker(2, {"f"});
  Grab(2);
  Send(2, Command::kCantDo, {"f"});
  EXPECT_THAT(Take(1), ElementsAre("WORK_FAIL|H:t:1"));
  EXPECT_EQ(core().job_count(), 0u);
}

// ---------------------------------------------------------------------------------------------
// CAN_DO_TIMEOUT

using Timeout = CoreTest;

TEST_F(Timeout, ExpiryRequeuesTheJobSilently) {
  Submit(1, "f");
  Worker(2, {});
  Send(2, Command::kCanDoTimeout, {"f", "5000"});
  Grab(2);
  Advance(4999);
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|0|0");
  Advance(1);
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|0|0|0");
  EXPECT_EQ(Admin("show jobs"), "H:t:1\t1\t0\t0\n.\n");
  EXPECT_EQ(core().counters().timeouts, 1u);
  EXPECT_EQ(core().running_jobs(), 0u);
  EXPECT_THAT(Take(1), IsEmpty());
  Worker(3, {"f"});
  EXPECT_EQ(Grab(3), "JOB_ASSIGN|H:t:1|f|payload");
}

TEST_F(Timeout, LateResultsAfterExpiryGetJobNotFound) {
  Submit(1, "f");
  Worker(2, {});
  Send(2, Command::kCanDoTimeout, {"f", "1000"});
  Grab(2);
  Advance(1000);
  Send(2, Command::kWorkData, {"H:t:1", "d"});
  Send(2, Command::kWorkComplete, {"H:t:1", "r"});
  EXPECT_THAT(Take(2), ElementsAre("ERROR|JOB_NOT_FOUND|Job does not exist on server",
                                   "ERROR|JOB_NOT_FOUND|Job given in work result not found"));
  EXPECT_THAT(Take(1), IsEmpty());
}

TEST_F(Timeout, ValuesBelowOneSecondAreRaisedToOneSecond) {
  Submit(1, "f");
  Worker(2, {});
  Send(2, Command::kCanDoTimeout, {"f", "5"});
  Grab(2);
  Advance(999);
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|0|0");
  Advance(1);
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|0|0|0");
}

TEST_F(Timeout, ZeroMeansNoTimeout) {
  Submit(1, "f");
  Worker(2, {});
  Send(2, Command::kCanDoTimeout, {"f", "0"});
  Grab(2);
  EXPECT_EQ(core().MillisUntilNextTimer(), -1);
  Advance(3'600'000);
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|0|0");
}

TEST_F(Timeout, MalformedTimeoutIsInvalidArgument) {
  Connect(2);
  for (std::string ms : {"abc"s, ""s, "-1"s, "1.5"s, " 10"s, "123456789012345678901"s}) {
    Send(2, Command::kCanDoTimeout, {"f", ms});
    std::vector<std::string> got = Take(2);
    ASSERT_EQ(got.size(), 1u) << ms;
    EXPECT_EQ(got[0].rfind("ERROR|INVALID_ARGUMENT|", 0), 0u) << ms << " -> " << got[0];
  }
  EXPECT_EQ(Admin("status"), ".\n");
}

TEST_F(Timeout, EmptyOrTooLongFunctionNameIsRefused) {
  Connect(2);
  Send(2, Command::kCanDo, {""});
  Send(2, Command::kCanDoTimeout, {"", "1000"});
  Send(2, Command::kCanDo, {std::string(513, 'f')});
  EXPECT_THAT(Take(2), ElementsAre("ERROR|INVALID_FUNCTION_NAME|Function name is empty",
                                   "ERROR|INVALID_FUNCTION_NAME|Function name is empty",
                                   "ERROR|ARGUMENT_TOO_LARGE|Function name too large"));
}

TEST_F(Timeout, TimerOfACompletedJobDoesNothing) {
  Submit(1, "f", "", "one");
  Worker(2, {});
  Send(2, Command::kCanDoTimeout, {"f", "1000"});
  Grab(2);
  Advance(500);
  Send(2, Command::kWorkComplete, {"H:t:1", ""});
  Submit(3, "f", "", "two");
  Advance(100);
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:2|f|two");  // its own timer is due at 1600
  Advance(400);                                  // the first job's timer (1000) fires
  EXPECT_EQ(StatusOf("H:t:2"), "STATUS_RES|H:t:2|1|1|0|0");
  EXPECT_EQ(core().counters().timeouts, 0u);
  Advance(600);
  EXPECT_EQ(StatusOf("H:t:2"), "STATUS_RES|H:t:2|1|0|0|0");
  EXPECT_EQ(core().counters().timeouts, 1u);
}

TEST_F(Timeout, TimerOfAnEarlierAttemptDoesNotExpireTheNextOne) {
  Submit(1, "f");
  Worker(2, {});
  Send(2, Command::kCanDoTimeout, {"f", "1000"});
  Worker(3, {});
  Send(3, Command::kCanDoTimeout, {"f", "1000"});
  Grab(2);
  Advance(500);
  Disconnect(2);  // requeued
  EXPECT_EQ(Grab(3), "JOB_ASSIGN|H:t:1|f|payload");
  Advance(500);  // attempt 1's timer
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|0|0");
  Advance(500);  // attempt 2's timer
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|0|0|0");
  EXPECT_EQ(Admin("show jobs"), "H:t:1\t2\t0\t0\n.\n");
}

TEST_F(Timeout, PreSleepDoesNotCancelTheTimer) {
  Submit(1, "f");
  Worker(2, {});
  Send(2, Command::kCanDoTimeout, {"f", "1000"});
  Grab(2);
  Send(2, Command::kPreSleep);
  Advance(1000);
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|0|0|0");
}

TEST_F(Timeout, RegisteringAgainWithoutATimeoutRemovesIt) {
  Submit(1, "f");
  Worker(2, {});
  Send(2, Command::kCanDoTimeout, {"f", "1000"});
  Send(2, Command::kCanDo, {"f"});
  Grab(2);
  Advance(10'000);
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|0|0");
}

TEST_F(Timeout, AppliesOnlyToTheFunctionRegisteredWithIt) {
  Submit(1, "g");
  Worker(2, {"g"});
  Send(2, Command::kCanDoTimeout, {"f", "1000"});
  Grab(2);
  Advance(10'000);
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|0|0");
}

TEST_F(Timeout, ExpiryCountsAgainstJobRetries) {
  options.job_retries = 1;
  Submit(1, "f");
  Worker(2, {});
  Send(2, Command::kCanDoTimeout, {"f", "1000"});
  Grab(2);
  Advance(1000);
  EXPECT_THAT(Take(1), ElementsAre("WORK_FAIL|H:t:1"));
  EXPECT_EQ(core().job_count(), 0u);
}

TEST_F(Timeout, MillisUntilNextTimerTracksTheEarliestTimer) {
  EXPECT_EQ(core().MillisUntilNextTimer(), -1);
  Submit(1, "f");
  Worker(2, {});
  Send(2, Command::kCanDoTimeout, {"f", "2000"});
  Grab(2);
  EXPECT_EQ(core().MillisUntilNextTimer(), 2000);
  Advance(500);
  EXPECT_EQ(core().MillisUntilNextTimer(), 1500);
  Advance(1500);
  EXPECT_EQ(core().MillisUntilNextTimer(), -1);
}

// ---------------------------------------------------------------------------------------------
// SUBMIT_JOB_EPOCH

class Epoch : public CoreTest {
 protected:
  std::string When(int64_t seconds_from_now) {
    return std::to_string(clock.WallSeconds() + seconds_from_now);
  }
};

TEST_F(Epoch, JobIsNotRunnableBeforeItIsDue) {
  std::string when = When(60);
  Connect(1);
  Send(1, Command::kSubmitJobEpoch, {"f", "u", when, "later"});
  EXPECT_THAT(Take(1), ElementsAre("JOB_CREATED|H:t:1"));
  EXPECT_EQ(Admin("status"), "f\t1\t0\t0\n.\n");
  EXPECT_EQ(Admin("prioritystatus"), "f\t0\t0\t0\t0\n.\n");
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|0|0|0");
  Worker(2, {"f"});
  EXPECT_EQ(Grab(2), "NO_JOB");
  EXPECT_EQ(core().MillisUntilNextTimer(), 60'000);
  Advance(59'999);
  EXPECT_EQ(Grab(2), "NO_JOB");
  Advance(1);
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:1|f|later");
}

TEST_F(Epoch, SleepingWorkerGetsANoopExactlyWhenTheJobFallsDue) {
  Worker(2, {"f"});
  Send(2, Command::kPreSleep);
  Connect(1);
  Send(1, Command::kSubmitJobEpoch, {"f", "", When(30), "d"});
  EXPECT_THAT(Take(2), IsEmpty());
  Advance(29'999);
  EXPECT_THAT(Take(2), IsEmpty());
  Advance(1);
  EXPECT_THAT(Take(2), ElementsAre("NOOP"));
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:1|f|d");
}

TEST_F(Epoch, JobFallsDueAtItsWallClockSecondWhenSubmittedMidSecond) {
  Advance(300);  // wall clock is now 0.3 s into a second
  Worker(2, {"f"});
  Send(2, Command::kPreSleep);
  Connect(1);
  Send(1, Command::kSubmitJobEpoch, {"f", "", When(10), "d"});  // due in 9.7 s
  Advance(9'699);
  EXPECT_THAT(Take(2), IsEmpty());
  Advance(1);
  EXPECT_THAT(Take(2), ElementsAre("NOOP"));
}

TEST_F(Epoch, TimeInThePastOrZeroMeansNow) {
  Connect(1);
  Send(1, Command::kSubmitJobEpoch, {"f", "", "0", "zero"});
  Send(1, Command::kSubmitJobEpoch, {"f", "", When(-100), "past"});
  Send(1, Command::kSubmitJobEpoch, {"f", "", When(0), "now"});
  Take(1);
  Worker(2, {"f"});
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:1|f|zero");
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:2|f|past");
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:3|f|now");
}

TEST_F(Epoch, FarFutureTimeNeverMakesTheJobRunnableEarly) {
  // 2^62 seconds: the largest time the parser takes. Milliseconds until then do not fit in
  // 64 bits; the job must neither run now nor be refused with anything but INVALID_ARGUMENT.
  Worker(2, {"f"});
  Connect(1);
  Send(1, Command::kSubmitJobEpoch, {"f", "", "4611686018427387904", "far"});
  std::vector<std::string> got = Take(1);
  ASSERT_EQ(got.size(), 1u);
  if (got[0].rfind("ERROR|", 0) == 0) {
    EXPECT_EQ(got[0].rfind("ERROR|INVALID_ARGUMENT|", 0), 0u) << got[0];
    return;
  }
  EXPECT_EQ(got[0], "JOB_CREATED|H:t:1");
  EXPECT_NE(core().MillisUntilNextTimer(), 0);
  Advance(1000);
  EXPECT_EQ(Grab(2), "NO_JOB");
}

TEST_F(Epoch, JobIsBackgroundAndStoredWithItsTime) {
  Connect(1);
  std::string when = When(100);
  Send(1, Command::kSubmitJobEpoch, {"f", "u", when, "d"});
  ASSERT_EQ(store.adds.size(), 1u);
  EXPECT_EQ(std::to_string(store.adds[0].when), when);
  EXPECT_EQ(store.adds[0].priority, core::Priority::kNormal);
  EXPECT_EQ(Admin("show jobs"), "H:t:1\t0\t0\t1\n.\n");
  Disconnect(1);
  EXPECT_EQ(core().job_count(), 1u);
}

TEST_F(Epoch, NotYetDueJobCountsTowardsMaxQueue) {
  Connect(1);
  Send(1, Command::kSubmitJobEpoch, {"f", "", When(100), "d"});
  EXPECT_EQ(Admin("maxqueue f 1"), "OK\r\n");
  Send(1, Command::kSubmitJob, {"f", "", "d"});
  EXPECT_THAT(Take(1), ElementsAre("JOB_CREATED|H:t:1", "ERROR|QUEUE_ERROR|Job queue is full"));
}

TEST_F(Epoch, NotYetDueJobCoalescesAndCanBeCancelled) {
  Connect(1);
  Send(1, Command::kSubmitJobEpoch, {"f", "u", When(100), "d"});
  EXPECT_EQ(Submit(2, "f", "u"), "H:t:1");
  EXPECT_EQ(Admin("cancel job H:t:1"), "OK\r\n");
  EXPECT_THAT(Take(2), ElementsAre("WORK_FAIL|H:t:1"));
  EXPECT_EQ(Admin("status"), "f\t0\t0\t0\n.\n");
  Worker(3, {"f"});
  Advance(200'000);
  EXPECT_EQ(Grab(3), "NO_JOB");
  EXPECT_THAT(store.dones, ElementsAre("f/u"));
}

// ---------------------------------------------------------------------------------------------
// SUBMIT_JOB_SCHED (TZ=UTC)

int64_t Utc(int y, int mon, int d, int h, int mi, int s) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm));
}

class Sched : public CoreTest {
 protected:
  Sched() { clock = FakeClock(Utc(2024, 1, 1, 0, 0, 30)); }
  // Sends SUBMIT_JOB_SCHED and returns the single reply.
  std::string Schedule(std::string_view fn, std::string_view unique, std::string_view minute,
                       std::string_view hour = "*", std::string_view mday = "*",
                       std::string_view month = "*", std::string_view wday = "*",
                       std::string_view data = "tick") {
    Connect(1);
    Send(1, Command::kSubmitJobSched, {fn, unique, minute, hour, mday, month, wday, data});
    std::vector<std::string> got = Take(1);
    EXPECT_EQ(got.size(), 1u);
    return got.empty() ? "" : got[0];
  }
  TzGuard tz_{"UTC"};
};

TEST_F(Sched, RepliesJobCreatedWithAScheduleHandleThatStatusKnows) {
  EXPECT_EQ(Schedule("f", "", "*/5"), "JOB_CREATED|H:t:1");
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|0|0|0");
  EXPECT_EQ(Admin("status"), "f\t0\t0\t0\n.\n");
  EXPECT_EQ(Submit(2, "g"), "H:t:2");                 // one handle space
  EXPECT_EQ(core().MillisUntilNextTimer(), 270'000);  // 00:05:00
}

TEST_F(Sched, FiresABackgroundNormalJobAtEveryMatchingMinute) {
  Schedule("f", "", "*/5");
  Worker(2, {"f"});
  Send(2, Command::kPreSleep);
  Advance(269'999);
  EXPECT_EQ(core().job_count(), 0u);
  EXPECT_THAT(Take(2), IsEmpty());
  Advance(1);  // 00:05:00
  EXPECT_THAT(Take(2), ElementsAre("NOOP"));
  EXPECT_EQ(Admin("show jobs"), "H:t:2\t0\t0\t1\n.\n");
  EXPECT_EQ(Admin("prioritystatus"), "f\t0\t1\t0\t1\n.\n");
  ASSERT_EQ(store.adds.size(), 1u);
  EXPECT_EQ(store.adds[0].function, "f");
  EXPECT_EQ(store.adds[0].data, "tick");
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:2|f|tick");
  Advance(300'000);  // 00:10:00: an empty unique never skips
  EXPECT_EQ(core().job_count(), 2u);
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:3|f|tick");
}

TEST_F(Sched, FiringIsSkippedWhileAJobWithItsUniqueIsPending) {
  Schedule("f", "u", "*/5");
  Advance(270'000);  // 00:05 fires H:t:2
  Advance(300'000);  // 00:10: H:t:2 still queued, skipped
  EXPECT_EQ(Admin("show jobs"), "H:t:2\t0\t0\t1\n.\n");
  Worker(2, {"f"});
  Grab(2);
  Advance(300'000);  // 00:15: H:t:2 running, skipped
  EXPECT_EQ(core().job_count(), 1u);
  Send(2, Command::kWorkComplete, {"H:t:2", ""});
  Advance(300'000);  // 00:20 fires again
  EXPECT_EQ(Admin("show jobs"), "H:t:3\t0\t0\t1\n.\n");
}

TEST_F(Sched, FiresOnlyAtTheScheduledHour) {
  Schedule("f", "", "30", "2");
  Advance(Utc(2024, 1, 1, 2, 29, 59) * 1000 - Utc(2024, 1, 1, 0, 0, 30) * 1000);
  EXPECT_EQ(core().job_count(), 0u);
  Advance(1000);
  EXPECT_EQ(core().job_count(), 1u);
  EXPECT_EQ(core().MillisUntilNextTimer(), 24 * 3'600'000);
}

TEST_F(Sched, CancelRemovesTheSchedule) {
  Schedule("f", "", "*");
  EXPECT_EQ(Admin("cancel job H:t:1"), "OK\r\n");
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|0|0|0|0");
  Advance(600'000);
  EXPECT_EQ(core().job_count(), 0u);
  EXPECT_EQ(Admin("cancel job H:t:1"), "ERR UNKNOWN_JOB\r\n");
}

TEST_F(Sched, ScheduleHandleMustMatchExactly) {
  Schedule("f", "", "*");
  EXPECT_EQ(StatusOf("H:t:01"), "STATUS_RES|H:t:01|0|0|0|0");
  EXPECT_EQ(Admin("cancel job H:t:01"), "ERR UNKNOWN_JOB\r\n");
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|0|0|0");
}

TEST_F(Sched, MalformedFieldIsInvalidArgument) {
  EXPECT_EQ(Schedule("f", "", "61"), "ERROR|INVALID_ARGUMENT|Bad schedule: bad minute field");
  EXPECT_EQ(Schedule("f", "", "*", "*", "*", "*", "9"),
            "ERROR|INVALID_ARGUMENT|Bad schedule: bad day-of-week field");
  EXPECT_EQ(core().MillisUntilNextTimer(), -1);
}

TEST_F(Sched, ScheduleThatNeverFiresIsRefused) {
  EXPECT_EQ(Schedule("f", "", "0", "0", "30", "2"),
            "ERROR|INVALID_ARGUMENT|Bad schedule: it never fires");
}

TEST_F(Sched, FunctionAndUniqueAreCheckedLikeSubmits) {
  EXPECT_EQ(Schedule("", "", "*"), "ERROR|INVALID_FUNCTION_NAME|Function name is empty");
  EXPECT_EQ(Schedule("f", std::string(65, 'u'), "*"),
            "ERROR|ARGUMENT_TOO_LARGE|Unique value too large");
}

TEST_F(Sched, TooFewArgumentsIsAnInvalidPacket) {
  Connect(1);
  SendRaw(1, protocol::Request(Command::kSubmitJobSched, {"f\0u\0*\0*\0*\0*"s}));
  EXPECT_THAT(Take(1), ElementsAre("ERROR|INVALID_PACKET|Too few arguments for SUBMIT_JOB_SCHED"));
}

// ---------------------------------------------------------------------------------------------
// Graceful drain

using Drain = CoreTest;

TEST_F(Drain, GrabsAnswerNoJobWhileDraining) {
  Submit(1, "f");
  Worker(2, {"f"});
  core().BeginDrain();
  EXPECT_EQ(Grab(2), "NO_JOB");
  EXPECT_EQ(Grab(2, Command::kGrabJobUniq), "NO_JOB");
  EXPECT_EQ(Grab(2, Command::kGrabJobAll), "NO_JOB");
}

TEST_F(Drain, RunningJobsFinishAndTheCountReachesZero) {
  Submit(1, "f");
  Submit(1, "f");
  Worker(2, {"f"});
  Grab(2);
  Grab(2);
  core().BeginDrain();
  EXPECT_EQ(core().running_jobs(), 2u);
  Send(2, Command::kWorkComplete, {"H:t:1", "a"});
  EXPECT_EQ(core().running_jobs(), 1u);
  Send(2, Command::kWorkFail, {"H:t:2"});
  EXPECT_EQ(core().running_jobs(), 0u);
  EXPECT_THAT(Take(1), ElementsAre("WORK_COMPLETE|H:t:1|a", "WORK_FAIL|H:t:2"));
}

TEST_F(Drain, NoNoopsWhileDraining) {
  Worker(2, {"f"});
  Send(2, Command::kPreSleep);
  core().BeginDrain();
  Submit(1, "f");
  EXPECT_THAT(Take(2), IsEmpty());
  Worker(3, {"f"});
  Send(3, Command::kPreSleep);
  EXPECT_THAT(Take(3), IsEmpty());
}

TEST_F(Drain, RequeuedJobIsNotHandedOutAgain) {
  Submit(1, "f");
  Worker(2, {"f"});
  Worker(3, {"f"});
  Grab(2);
  core().BeginDrain();
  Disconnect(2);
  EXPECT_EQ(core().running_jobs(), 0u);
  EXPECT_EQ(Grab(3), "NO_JOB");
}

}  // namespace
}  // namespace gearbox::unit

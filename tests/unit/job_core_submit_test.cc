// JobCore specification, part 1: submitting, coalescing, the store seam, status queries,
// ECHO, OPTION_REQ, SET_CLIENT_ID and malformed requests (docs/protocol.md §1–3).
#include <string>

#include "core_harness.h"

namespace gearbox::unit {
namespace {

using namespace std::string_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

using Submits = CoreTest;

TEST_F(Submits, JobCreatedCarriesHandlesCountingFromOne) {
  EXPECT_EQ(Submit(1, "f"), "H:t:1");
  EXPECT_EQ(Submit(1, "f"), "H:t:2");
  EXPECT_EQ(Submit(2, "g", "", "x", Command::kSubmitJobBg), "H:t:3");
}

TEST_F(Submits, JobCreatedRepliesFollowTheOrderOfSubmitsOnAConnection) {
  Connect(1);
  Send(1, Command::kSubmitJob, {"f", "a", "1"});
  Send(1, Command::kSubmitJobHighBg, {"g", "", "2"});
  Send(1, Command::kSubmitJobLow, {"f", "a", "3"});  // coalesces with the first
  Send(1, Command::kSubmitJobEpoch, {"f", "", "0", "4"});
  Send(1, Command::kSubmitReduceJob, {"f", "r", "red", "", "5"});
  EXPECT_THAT(Take(1), ElementsAre("JOB_CREATED|H:t:1", "JOB_CREATED|H:t:2", "JOB_CREATED|H:t:1",
                                   "JOB_CREATED|H:t:3", "JOB_CREATED|H:t:4"));
}

TEST_F(Submits, EveryPriorityAndBackgroundVariantCreatesAJob) {
  for (Command c : {Command::kSubmitJob, Command::kSubmitJobHigh, Command::kSubmitJobLow,
                    Command::kSubmitJobBg, Command::kSubmitJobHighBg, Command::kSubmitJobLowBg}) {
    EXPECT_NE(Submit(1, "f", "", "d", c), "") << protocol::Name(c);
  }
  EXPECT_EQ(Admin("prioritystatus"), "f\t2\t2\t2\t0\n.\n");
  EXPECT_EQ(Admin("status"), "f\t6\t0\t0\n.\n");
  EXPECT_EQ(core().job_count(), 6u);
}

TEST_F(Submits, EmptyFunctionNameIsRefused) {
  Connect(1);
  Send(1, Command::kSubmitJob, {"", "u", "d"});
  Send(1, Command::kSubmitJobBg, {"", "", "d"});
  EXPECT_THAT(Take(1), ElementsAre("ERROR|INVALID_FUNCTION_NAME|Function name is empty",
                                   "ERROR|INVALID_FUNCTION_NAME|Function name is empty"));
  EXPECT_EQ(core().job_count(), 0u);
}

TEST_F(Submits, FunctionNameOf512BytesIsAcceptedAndLongerIsRefused) {
  EXPECT_NE(Submit(1, std::string(512, 'f')), "");
  Send(1, Command::kSubmitJob, {std::string(513, 'f'), "", "d"});
  EXPECT_THAT(Take(1), ElementsAre("ERROR|ARGUMENT_TOO_LARGE|Function name too large"));
  EXPECT_EQ(core().job_count(), 1u);
}

TEST_F(Submits, UniqueLongerThan64BytesIsRefused) {
  Connect(1);
  Send(1, Command::kSubmitJob, {"f", std::string(65, 'u'), "d"});
  Send(1, Command::kSubmitJobBg, {"f", std::string(65, 'u'), "d"});
  EXPECT_THAT(Take(1), ElementsAre("ERROR|ARGUMENT_TOO_LARGE|Unique value too large",
                                   "ERROR|ARGUMENT_TOO_LARGE|Unique value too large"));
  EXPECT_EQ(core().job_count(), 0u);
  EXPECT_THAT(store.adds, IsEmpty());
}

TEST_F(Submits, DataWithNulsReachesTheWorkerUnchanged) {
  std::string data = "a\0b\0\0c\0"s;
  Submit(1, "f", "", data);
  Worker(2, {"f"});
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:1|f|" + data);
}

TEST_F(Submits, EmptyPayloadIsAValidJob) {
  Submit(1, "f", "", "");
  Worker(2, {"f"});
  EXPECT_EQ(Grab(2), "JOB_ASSIGN|H:t:1|f|");
}

// ---------------------------------------------------------------------------------------------
// The store seam

TEST_F(Submits, BackgroundJobIsStoredBeforeJobCreatedLeaves) {
  size_t before = out.emitted();
  Submit(1, "f", "u1", "data", Command::kSubmitJobHighBg);
  ASSERT_EQ(store.adds.size(), 1u);
  EXPECT_EQ(store.adds[0].replies_before, before);
  EXPECT_EQ(store.adds[0].function, "f");
  EXPECT_EQ(store.adds[0].unique, "u1");
  EXPECT_EQ(store.adds[0].data, "data");
  EXPECT_EQ(store.adds[0].priority, core::Priority::kHigh);
  EXPECT_EQ(store.adds[0].when, 0);
}

TEST_F(Submits, ForegroundJobIsNotStored) {
  Submit(1, "f", "u1", "data", Command::kSubmitJob);
  Submit(1, "f", "u2", "data", Command::kSubmitJobHigh);
  Submit(1, "f", "u3", "data", Command::kSubmitJobLow);
  Send(1, Command::kSubmitReduceJob, {"f", "u4", "reducer", "", "data"});
  EXPECT_THAT(Take(1), ElementsAre("JOB_CREATED|H:t:4"));
  EXPECT_THAT(store.adds, IsEmpty());
}

TEST_F(Submits, StoreFailureRefusesTheBackgroundSubmitWithQueueError) {
  store.fail_adds = true;
  Connect(1);
  Send(1, Command::kSubmitJobBg, {"f", "u", "d"});
  std::vector<std::string> got = Take(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].rfind("ERROR|QUEUE_ERROR|", 0), 0u) << got[0];
  EXPECT_EQ(core().job_count(), 0u);
  EXPECT_EQ(Admin("status"), "f\t0\t0\t0\n.\n");
  // The foreground path does not need the store.
  EXPECT_EQ(Submit(1, "f", "u", "d"), "H:t:1");
}

TEST_F(Submits, CompletedBackgroundJobLeavesTheStore) {
  Submit(1, "f", "u1", "d", Command::kSubmitJobBg);
  Worker(2, {"f"});
  Grab(2);
  EXPECT_THAT(store.dones, IsEmpty());
  Send(2, Command::kWorkComplete, {"H:t:1", "ok"});
  EXPECT_THAT(store.dones, ElementsAre("f/u1"));
}

TEST_F(Submits, FailedBackgroundJobLeavesTheStore) {
  Submit(1, "f", "u1", "d", Command::kSubmitJobBg);
  Submit(1, "f", "u2", "d", Command::kSubmitJobBg);
  Worker(2, {"f"});
  Grab(2);
  Grab(2);
  Send(2, Command::kWorkFail, {"H:t:1"});
  Send(2, Command::kWorkException, {"H:t:2", "boom"});
  EXPECT_THAT(store.dones, ElementsAre("f/u1", "f/u2"));
}

TEST_F(Submits, ForegroundJobNeverTouchesTheStore) {
  Submit(1, "f", "u1", "d");
  Worker(2, {"f"});
  Grab(2);
  Send(2, Command::kWorkComplete, {"H:t:1", "ok"});
  EXPECT_THAT(store.adds, IsEmpty());
  EXPECT_THAT(store.dones, IsEmpty());
}

TEST_F(Submits, RestoredJobIsQueuedWithoutWritingTheStoreAgain) {
  core::StoredJob sj{"f", "u1", "restored", core::Priority::kLow, 0};
  core().Restore(sj);
  EXPECT_THAT(store.adds, IsEmpty());
  EXPECT_EQ(Admin("prioritystatus"), "f\t0\t0\t1\t0\n.\n");
  EXPECT_EQ(Admin("show jobs"), "H:t:1\t0\t0\t1\n.\n");
  Worker(2, {"f"});
  EXPECT_EQ(Grab(2, Command::kGrabJobUniq), "JOB_ASSIGN_UNIQ|H:t:1|f|u1|restored");
  Send(2, Command::kWorkComplete, {"H:t:1", ""});
  EXPECT_THAT(store.dones, ElementsAre("f/u1"));
}

// ---------------------------------------------------------------------------------------------
// Coalescing

using Coalescing = CoreTest;

TEST_F(Coalescing, SameUniqueOfTheSameFunctionJoinsTheQueuedJob) {
  EXPECT_EQ(Submit(1, "f", "u", "d1"), "H:t:1");
  EXPECT_EQ(Submit(2, "f", "u", "d2"), "H:t:1");
  EXPECT_EQ(Submit(3, "f", "u", "d3", Command::kSubmitJobBg), "H:t:1");
  EXPECT_EQ(core().job_count(), 1u);
  EXPECT_EQ(Admin("status"), "f\t1\t0\t0\n.\n");
}

TEST_F(Coalescing, IsPerFunction) {
  EXPECT_EQ(Submit(1, "f", "u"), "H:t:1");
  EXPECT_EQ(Submit(1, "g", "u"), "H:t:2");
  EXPECT_EQ(core().job_count(), 2u);
}

TEST_F(Coalescing, EmptyUniqueNeverCoalesces) {
  EXPECT_EQ(Submit(1, "f", "", "same"), "H:t:1");
  EXPECT_EQ(Submit(1, "f", "", "same"), "H:t:2");
  EXPECT_EQ(Submit(2, "f", "", "same", Command::kSubmitJobBg), "H:t:3");
}

TEST_F(Coalescing, DashUniqueUsesThePayloadAsTheKey) {
  EXPECT_EQ(Submit(1, "f", "-", "payload"), "H:t:1");
  EXPECT_EQ(Submit(2, "f", "-", "payload"), "H:t:1");
  EXPECT_EQ(Submit(2, "f", "-", "other"), "H:t:2");
  EXPECT_EQ(Submit(2, "g", "-", "payload"), "H:t:3");
  // The stored unique stays "-".
  EXPECT_EQ(Admin("show unique jobs"), "-\n-\n-\n.\n");
}

TEST_F(Coalescing, DashUniqueWithEmptyPayloadDoesNotCoalesce) {
  EXPECT_EQ(Submit(1, "f", "-", ""), "H:t:1");
  EXPECT_EQ(Submit(1, "f", "-", ""), "H:t:2");
}

TEST_F(Coalescing, DashUniqueComparesWholePayloadsWithNuls) {
  EXPECT_EQ(Submit(1, "f", "-", "a\0b"s), "H:t:1");
  EXPECT_EQ(Submit(1, "f", "-", "a\0c"s), "H:t:2");
  EXPECT_EQ(Submit(1, "f", "-", "a"), "H:t:3");
  EXPECT_EQ(Submit(1, "f", "-", "a\0b"s), "H:t:1");
}

TEST_F(Coalescing, PlainUniqueDoesNotJoinADashJobWhosePayloadEqualsIt) {
  // (function, unique) must match: "abc" is not "-". gearmand compares unique strings here.
  EXPECT_EQ(Submit(1, "f", "-", "abc"), "H:t:1");
  EXPECT_EQ(Submit(1, "f", "abc", "zzz"), "H:t:2");
}

TEST_F(Coalescing, DashSubmitDoesNotJoinAPlainJobWhoseUniqueEqualsThePayload) {
  // gearmand compares the payload of "-" submits with the payload of queued jobs.
  EXPECT_EQ(Submit(1, "f", "abc", "zzz"), "H:t:1");
  EXPECT_EQ(Submit(1, "f", "-", "abc"), "H:t:2");
}

TEST_F(Coalescing, UniqueOf64BytesIsKeptWholeAndCoalesces) {
  std::string u64(64, 'u');
  std::string u64b = std::string(63, 'u') + "v";
  EXPECT_EQ(Submit(1, "f", u64), "H:t:1");
  EXPECT_EQ(Submit(1, "f", u64), "H:t:1");
  EXPECT_EQ(Submit(1, "f", u64b), "H:t:2");  // differs only in the 64th byte
  EXPECT_EQ(Admin("show unique jobs"), u64 + "\n" + u64b + "\n.\n");
  Worker(2, {"f"});
  EXPECT_EQ(Grab(2, Command::kGrabJobUniq), "JOB_ASSIGN_UNIQ|H:t:1|f|" + u64 + "|payload");
}

TEST_F(Coalescing, CoversRunningJobs) {
  Submit(1, "f", "u");
  Worker(2, {"f"});
  Grab(2);
  EXPECT_EQ(Submit(3, "f", "u"), "H:t:1");
  EXPECT_EQ(core().job_count(), 1u);
}

TEST_F(Coalescing, JoinedJobKeepsItsOriginalPriorityAndData) {
  Submit(1, "f", "u", "original", Command::kSubmitJobLow);
  Submit(1, "f", "n", "normal");
  Submit(2, "f", "u", "joiner", Command::kSubmitJobHigh);
  Worker(3, {"f"});
  EXPECT_EQ(Grab(3), "JOB_ASSIGN|H:t:2|f|normal");
  EXPECT_EQ(Grab(3), "JOB_ASSIGN|H:t:1|f|original");
}

TEST_F(Coalescing, FinishedJobNoLongerCoalesces) {
  Submit(1, "f", "u");
  Worker(2, {"f"});
  Grab(2);
  Send(2, Command::kWorkComplete, {"H:t:1", "r"});
  Take(1);
  EXPECT_EQ(Submit(1, "f", "u"), "H:t:2");
}

TEST_F(Coalescing, ForegroundJoinerReceivesEveryLaterWorkPacket) {
  Submit(1, "f", "u");
  Worker(9, {"f"});
  Grab(9);
  Send(9, Command::kWorkData, {"H:t:1", "early"});
  EXPECT_THAT(Take(1), ElementsAre("WORK_DATA|H:t:1|early"));
  Submit(2, "f", "u");  // joins the running job
  Submit(3, "f", "u", "", Command::kSubmitJobBg);
  Send(9, Command::kWorkData, {"H:t:1", "d"});
  Send(9, Command::kWorkWarning, {"H:t:1", "w"});
  Send(9, Command::kWorkStatus, {"H:t:1", "1", "2"});
  Send(9, Command::kWorkComplete, {"H:t:1", "done"});
  std::vector<std::string> later = {"WORK_DATA|H:t:1|d", "WORK_WARNING|H:t:1|w",
                                    "WORK_STATUS|H:t:1|1|2", "WORK_COMPLETE|H:t:1|done"};
  EXPECT_EQ(Take(1), later);
  EXPECT_EQ(Take(2), later);
  EXPECT_THAT(Take(3), IsEmpty());  // background submitters hear nothing
  EXPECT_THAT(Take(9), IsEmpty());
}

TEST_F(Coalescing, BackgroundJobSurvivesWhenAForegroundJoinerLeaves) {
  Submit(1, "f", "u", "d", Command::kSubmitJobBg);
  Submit(2, "f", "u");
  Disconnect(2);
  EXPECT_EQ(core().job_count(), 1u);
  EXPECT_EQ(Admin("status"), "f\t1\t0\t0\n.\n");
  Worker(3, {"f"});
  EXPECT_EQ(Grab(3), "JOB_ASSIGN|H:t:1|f|d");
}

TEST_F(Coalescing, BackgroundSubmitJoiningAForegroundJobMakesItSurviveItsClients) {
  Submit(1, "f", "u", "d");
  EXPECT_THAT(store.adds, IsEmpty());
  EXPECT_EQ(Submit(2, "f", "u", "ignored", Command::kSubmitJobBg), "H:t:1");
  ASSERT_EQ(store.adds.size(), 1u);
  EXPECT_EQ(store.adds[0].unique, "u");
  EXPECT_EQ(store.adds[0].data, "d");
  Disconnect(1);
  EXPECT_EQ(Admin("show jobs"), "H:t:1\t0\t0\t1\n.\n");
  Worker(3, {"f"});
  EXPECT_EQ(Grab(3), "JOB_ASSIGN|H:t:1|f|d");
  Send(3, Command::kWorkComplete, {"H:t:1", ""});
  EXPECT_THAT(store.dones, ElementsAre("f/u"));
}

TEST_F(Coalescing, SecondBackgroundJoinerDoesNotStoreTheJobTwice) {
  Submit(1, "f", "u", "d", Command::kSubmitJobBg);
  Submit(2, "f", "u", "d", Command::kSubmitJobBg);
  EXPECT_EQ(store.adds.size(), 1u);
}

TEST_F(Coalescing, StoreFailureOnBackgroundJoinLeavesTheJobForeground) {
  Submit(1, "f", "u", "d");
  store.fail_adds = true;
  Connect(2);
  Send(2, Command::kSubmitJobBg, {"f", "u", "d"});
  std::vector<std::string> got = Take(2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].rfind("ERROR|QUEUE_ERROR|", 0), 0u) << got[0];
  Disconnect(1);
  EXPECT_EQ(core().job_count(), 0u);
}

TEST_F(Coalescing, JoiningIsNotRefusedByAFullQueue) {
  Submit(1, "f", "u");
  EXPECT_EQ(Admin("maxqueue f 1"), "OK\r\n");
  EXPECT_EQ(Submit(2, "f", "u"), "H:t:1");
  Connect(3);
  Send(3, Command::kSubmitJob, {"f", "other", "d"});
  EXPECT_THAT(Take(3), ElementsAre("ERROR|QUEUE_ERROR|Job queue is full"));
}

// ---------------------------------------------------------------------------------------------
// Client disconnects

using ClientLeaves = CoreTest;

TEST_F(ClientLeaves, QueuedForegroundJobWhoseLastClientLeftIsRemoved) {
  Submit(1, "f", "u");
  Submit(2, "f", "u");
  Submit(1, "f", "solo");
  Disconnect(1);
  EXPECT_EQ(Admin("status"), "f\t1\t0\t0\n.\n");  // the joined job stays for client 2
  Disconnect(2);
  EXPECT_EQ(Admin("status"), "f\t0\t0\t0\n.\n");
  EXPECT_EQ(core().job_count(), 0u);
  Worker(3, {"f"});
  EXPECT_EQ(Grab(3), "NO_JOB");
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|0|0|0|0");
}

TEST_F(ClientLeaves, RunningJobFinishesAndItsResultsAreDiscarded) {
  Submit(1, "f", "u");
  Worker(2, {"f"});
  Grab(2);
  Disconnect(1);
  EXPECT_EQ(Admin("status"), "f\t1\t1\t1\n.\n");
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|0|0");
  Send(2, Command::kWorkData, {"H:t:1", "d"});
  Send(2, Command::kWorkComplete, {"H:t:1", "r"});
  EXPECT_THAT(Take(2), IsEmpty());  // accepted, not an error
  EXPECT_THAT(out.Pending(), IsEmpty());
  EXPECT_EQ(core().job_count(), 0u);
  EXPECT_EQ(core().running_jobs(), 0u);
}

TEST_F(ClientLeaves, RunningJobWithoutClientsIsNotRetriedWhenItsWorkerDies) {
  Submit(1, "f", "u");
  Worker(2, {"f"});
  Grab(2);
  Disconnect(1);
  Disconnect(2);
  EXPECT_EQ(core().job_count(), 0u);
  EXPECT_EQ(Admin("status"), "f\t0\t0\t0\n.\n");
}

TEST_F(ClientLeaves, OtherClientsOfTheSameJobKeepGettingResults) {
  Submit(1, "f", "u");
  Submit(2, "f", "u");
  Worker(3, {"f"});
  Grab(3);
  Disconnect(1);
  Send(3, Command::kWorkComplete, {"H:t:1", "r"});
  EXPECT_THAT(Take(2), ElementsAre("WORK_COMPLETE|H:t:1|r"));
}

// ---------------------------------------------------------------------------------------------
// Status, echo, options, client ids

using Queries = CoreTest;

TEST_F(Queries, GetStatusReportsQueuedRunningAndUnknownJobs) {
  Submit(1, "f");
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|0|0|0");
  Worker(2, {"f"});
  Grab(2);
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|0|0");
  Send(2, Command::kWorkStatus, {"H:t:1", "3", "10"});
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|3|10");
  Send(2, Command::kWorkComplete, {"H:t:1", ""});
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|0|0|0|0");
  EXPECT_EQ(StatusOf("H:t:99"), "STATUS_RES|H:t:99|0|0|0|0");
  EXPECT_EQ(StatusOf("bogus"), "STATUS_RES|bogus|0|0|0|0");
}

TEST_F(Queries, HandlesMustMatchExactly) {
  Submit(1, "f");
  for (std::string h : {"H:t:01"s, "H:t:1 "s, "H:t:+1"s, "H:t:"s, "h:t:1"s, "H:x:1"s, "H:t:1\0"s}) {
    EXPECT_EQ(StatusOf(h), "STATUS_RES|" + h + "|0|0|0|0") << h;
  }
}

TEST_F(Queries, WorkStatusNumbersAreReadLikeAtoi) {
  Submit(1, "f");
  Worker(2, {"f"});
  Grab(2);
  Send(2, Command::kWorkStatus, {"H:t:1", "5abc", " 7"});
  EXPECT_THAT(Take(1), ElementsAre("WORK_STATUS|H:t:1|5abc| 7"));  // forwarded verbatim
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|5|7");
  Send(2, Command::kWorkStatus, {"H:t:1", "x", ""});
  EXPECT_EQ(StatusOf("H:t:1"), "STATUS_RES|H:t:1|1|1|0|0");
}

TEST_F(Queries, GetStatusUniqueReportsTheNumberOfWaitingClients) {
  Submit(1, "f", "u");
  Submit(2, "f", "u");
  Submit(3, "f", "u", "", Command::kSubmitJobBg);
  EXPECT_EQ(StatusOfUnique("u"), "STATUS_RES_UNIQUE|u|1|0|0|0|2");
  Worker(4, {"f"});
  Grab(4);
  Send(4, Command::kWorkStatus, {"H:t:1", "1", "4"});
  EXPECT_EQ(StatusOfUnique("u"), "STATUS_RES_UNIQUE|u|1|1|1|4|2");
  Disconnect(2);
  EXPECT_EQ(StatusOfUnique("u"), "STATUS_RES_UNIQUE|u|1|1|1|4|1");
}

TEST_F(Queries, GetStatusUniqueOfUnknownOrEmptyUniqueIsAllZero) {
  Submit(1, "f", "");
  EXPECT_EQ(StatusOfUnique("nope"), "STATUS_RES_UNIQUE|nope|0|0|0|0|0");
  EXPECT_EQ(StatusOfUnique(""), "STATUS_RES_UNIQUE||0|0|0|0|0");
}

TEST_F(Queries, GetStatusUniqueSearchesEveryFunction) {
  Submit(1, "a", "x");
  Submit(1, "zz", "u", "", Command::kSubmitJobBg);
  EXPECT_EQ(StatusOfUnique("u"), "STATUS_RES_UNIQUE|u|1|0|0|0|0");
}

TEST_F(Queries, GetStatusUniqueWorksWithA64ByteUnique) {
  std::string u(64, 'q');
  Submit(1, "f", u);
  EXPECT_EQ(StatusOfUnique(u), "STATUS_RES_UNIQUE|" + u + "|1|0|0|0|1");
}

TEST_F(Queries, EchoReturnsTheSameBytesIncludingNuls) {
  Connect(1);
  Send(1, Command::kEchoReq, {"he\0llo\0"s});
  Send(1, Command::kEchoReq, {""});
  EXPECT_THAT(Take(1), ElementsAre("ECHO_RES|he\0llo\0"s, "ECHO_RES|"));
}

TEST_F(Queries, OptionExceptionsIsAcceptedInAnyCaseAndEchoedAsSent) {
  Connect(1);
  Send(1, Command::kOptionReq, {"exceptions"});
  Send(1, Command::kOptionReq, {"EXCEPTIONS"});
  Send(1, Command::kOptionReq, {"ExCePtIoNs"});
  EXPECT_THAT(Take(1), ElementsAre("OPTION_RES|exceptions", "OPTION_RES|EXCEPTIONS",
                                   "OPTION_RES|ExCePtIoNs"));
}

TEST_F(Queries, UnknownOptionIsRefused) {
  Connect(1);
  Send(1, Command::kOptionReq, {"frobnicate"});
  Send(1, Command::kOptionReq, {""});
  Send(1, Command::kOptionReq, {"exceptions2"});
  EXPECT_THAT(Take(1), ElementsAre("ERROR|UNKNOWN_OPTION|Server does not recognize given option",
                                   "ERROR|UNKNOWN_OPTION|Server does not recognize given option",
                                   "ERROR|UNKNOWN_OPTION|Server does not recognize given option"));
}

TEST_F(Queries, SetClientIdIsShownInWorkersWithBlanksReplaced) {
  Connect(1);
  Send(1, Command::kSetClientId, {"my worker\tid\x01!"});
  EXPECT_THAT(Take(1), IsEmpty());  // no reply
  Connect(2);
  EXPECT_EQ(Admin("workers"),
            "101 127.0.0.1 my_worker_id_! :\n102 127.0.0.1 - :\n190 127.0.0.1 - :\n.\n");
}

TEST_F(Queries, SetClientIdIsCutTo255Bytes) {
  Connect(1);
  Send(1, Command::kSetClientId, {std::string(300, 'c')});
  EXPECT_EQ(Admin("workers"),
            "101 127.0.0.1 " + std::string(255, 'c') + " :\n190 127.0.0.1 - :\n.\n");
}

TEST_F(Queries, EmptyClientIdShowsAsDash) {
  Connect(1);
  Send(1, Command::kSetClientId, {"x"});
  Send(1, Command::kSetClientId, {""});
  EXPECT_EQ(Admin("workers"), "101 127.0.0.1 - :\n190 127.0.0.1 - :\n.\n");
}

// ---------------------------------------------------------------------------------------------
// Malformed requests (docs/protocol.md §1 "Malformed input")

using Malformed = CoreTest;

TEST_F(Malformed, ResponseMagicIsAnsweredWithInvalidMagicAndTheSessionStays) {
  Connect(1);
  SendRaw(1, protocol::Response(Command::kEchoReq, {"x"}));
  Send(1, Command::kEchoReq, {"y"});
  EXPECT_THAT(Take(1), ElementsAre("ERROR|INVALID_MAGIC|Request magic expected", "ECHO_RES|y"));
}

TEST_F(Malformed, ResponseOnlyAndUnusedTypesAreNotExpected) {
  Connect(1);
  for (Command c : {Command::kNoop, Command::kJobCreated, Command::kNoJob, Command::kJobAssign,
                    Command::kEchoRes, Command::kError, Command::kStatusRes, Command::kOptionRes,
                    Command::kJobAssignUniq, Command::kJobAssignAll, Command::kStatusResUnique,
                    Command::kUnused5}) {
    std::string body;
    for (size_t i = 0; i < protocol::Info(c).parts(); ++i)
      body += (i ? "\0p"s : "p"s);
    std::string pkt = protocol::Request(c, {body});
    SendRaw(1, pkt);
    EXPECT_THAT(Take(1), ElementsAre("ERROR|INVALID_COMMAND|Command not expected"))
        << protocol::Name(c);
  }
}

TEST_F(Malformed, UnknownTypeIsSkippedWithInvalidCommand) {
  Connect(1);
  std::string unknown = protocol::Request(Command::kEchoReq, {"abc"});
  unknown[7] = 43;  // type 43
  SendRaw(1, unknown + protocol::Request(Command::kEchoReq, {"next"}));
  EXPECT_THAT(Take(1), ElementsAre("ERROR|INVALID_COMMAND|Command not expected", "ECHO_RES|next"));
}

TEST_F(Malformed, TooFewArgumentsNamesTheCommand) {
  Connect(1);
  SendRaw(1, protocol::Request(Command::kSubmitJob, {"f\0u"s}));
  SendRaw(1, protocol::Request(Command::kSubmitReduceJob, {"f\0u\0r\0agg"s}));
  EXPECT_THAT(Take(1), ElementsAre("ERROR|INVALID_PACKET|Too few arguments for SUBMIT_JOB",
                                   "ERROR|INVALID_PACKET|Too few arguments for SUBMIT_REDUCE_JOB"));
  EXPECT_EQ(core().job_count(), 0u);
}

TEST_F(Malformed, FatalDecodeErrorsAreAnsweredBeforeTheClose) {
  Connect(1);
  core().HandleFatal(1, protocol::DecodeError::kBadMagic);
  core().HandleFatal(1, protocol::DecodeError::kTooLarge);
  core().HandleFatal(1, protocol::DecodeError::kLineTooLong);
  std::vector<std::string> got = Take(1);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "ERROR|INVALID_MAGIC|Bad packet magic: closing the connection");
  EXPECT_EQ(got[1].rfind("ERROR|DATA_TOO_LARGE|", 0), 0u) << got[1];
  EXPECT_EQ(got[2], "ERR LINE_TOO_LONG Text+command+line+too+long\r\n");
}

TEST_F(Malformed, EpochTimeMustBeDecimalDigits) {
  Connect(1);
  for (std::string when : {"", "abc", "-5", "12x", " 12", "+3"}) {
    Send(1, Command::kSubmitJobEpoch, {"f", "", when, "d"});
    std::vector<std::string> got = Take(1);
    ASSERT_EQ(got.size(), 1u) << when;
    EXPECT_EQ(got[0].rfind("ERROR|INVALID_ARGUMENT|", 0), 0u) << when << " -> " << got[0];
  }
  EXPECT_EQ(core().job_count(), 0u);
}

TEST_F(Malformed, AllYoursIsAcceptedSilently) {
  Connect(1);
  Send(1, Command::kAllYours);
  EXPECT_THAT(Take(1), IsEmpty());
}

TEST_F(Malformed, PacketsForUnknownSessionsAreIgnored) {
  Send(7, Command::kEchoReq, {"x"});  // Send opens nothing: session 7 was never connected
  core().HandleText(8, "status");
  core().Close(9);
  EXPECT_THAT(out.Pending(), IsEmpty());
}

}  // namespace
}  // namespace gearbox::unit

// Every client and worker packet type, raw bytes in and exact bytes out (docs/protocol.md §2, §3),
// against our server in both threading shapes and against Debian's gearmand 1.1.20. Where
// docs/protocol.md lists a Difference, each side's documented behaviour is asserted.
#include <atomic>
#include <set>
#include <thread>

#include "integ_support.h"

namespace gearbox::testing::integ {
namespace {

using namespace std::string_view_literals;

class PacketTest : public ServerTest {
 protected:
  // A worker connection that can do `functions`, already registered when this returns.
  std::unique_ptr<RawClient> Worker(std::initializer_list<std::string_view> functions) {
    auto w = Connect();
    for (auto f : functions)
      w->Send(Q(Command::kCanDo, {f}));
    Sync(*w);
    return w;
  }
  // Submits and returns the handle from JOB_CREATED ("" on failure).
  std::string Submit(RawClient& c, Command cmd, std::string_view fn, std::string_view unique,
                     std::string_view data) {
    c.Send(Q(cmd, {fn, unique, data}));
    auto d = ReadDecoded(c);
    if (!d || d->command != Command::kJobCreated || d->parts.size() != 1) {
      ADD_FAILURE() << "no JOB_CREATED for " << Escape(fn) << "/" << Escape(unique);
      return "";
    }
    return d->parts[0];
  }
  // Grabs until a job arrives (the server may need a moment to requeue); nullopt on timeout.
  std::optional<Decoded> GrabEventually(RawClient& w, Command grab = Command::kGrabJob) {
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto d = Grab(w, grab);
      if (!d) return std::nullopt;
      if (d->command != Command::kNoJob) return d;
      std::this_thread::sleep_for(50ms);
    }
    return std::nullopt;
  }
  // A connection that announces `id` (SET_CLIENT_ID), for WaitGone().
  std::unique_ptr<RawClient> Named(std::string_view id) {
    auto c = Connect();
    c->Send(Q(Command::kSetClientId, {id}));
    return c;
  }
  // Waits until the server has processed the close of the connection named `id`: it no longer
  // appears in `workers`.
  void WaitGone(std::string_view id) {
    std::string needle = " " + std::string(id) + " :";
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (AdminList("workers").find(needle) != std::string::npos) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << id << " never went away";
      std::this_thread::sleep_for(20ms);
    }
  }
  // gearmand drops a foreground job once its last client has left, but with threads its
  // processing thread may do so after `workers` stopped listing the connection (WaitGone), and
  // nothing it reports shows the drop (`status` still counts the job). With -t 0 it handles a
  // close in one step, so a test that shows the drop runs it that way.
  void SingleThreadedGearmand() {
    if (!ours()) StartServer({"-t", "0"});
  }
  // The list reply, sorted for gearmand (hash-bucket order) and exact for ours (sorted).
  std::string ListInOrder(std::string_view cmd) {
    std::string got = AdminList(cmd);
    return ours() ? got : SortLines(got);
  }
};

// Features only our server has (docs/protocol.md lists them as ours).
class OurPacketTest : public PacketTest {};

// ---------------------------------------------------------------------------------------------
// Submitting

TEST_P(PacketTest, EverySubmitTypeIsAnsweredWithJobCreatedAndTheNextHandle) {
  auto c = Connect();
  const Command kSubmits[] = {Command::kSubmitJob,       Command::kSubmitJobHigh,
                              Command::kSubmitJobLow,    Command::kSubmitJobBg,
                              Command::kSubmitJobHighBg, Command::kSubmitJobLowBg};
  int n = 0;
  for (Command cmd : kSubmits) {
    c->Send(Q(cmd, {"f", "", "data"}));
    EXPECT_PACKET(c, R(Command::kJobCreated, {H(++n)})) << protocol::Name(cmd);
  }
  EXPECT_EQ(AdminList("status"), "f\t6\t0\t0\n.\n");
  EXPECT_EQ(AdminList("prioritystatus"), "f\t2\t2\t2\t0\n.\n");
}

TEST_P(PacketTest, JobsAreHandedOutHighThenNormalThenLowAndFifoWithinAPriority) {
  auto c = Connect();
  Submit(*c, Command::kSubmitJobLowBg, "f", "", "low1");
  Submit(*c, Command::kSubmitJobBg, "f", "", "normal1");
  Submit(*c, Command::kSubmitJobHighBg, "f", "", "high1");
  Submit(*c, Command::kSubmitJobLowBg, "f", "", "low2");
  Submit(*c, Command::kSubmitJobBg, "f", "", "normal2");
  Submit(*c, Command::kSubmitJobHighBg, "f", "", "high2");
  auto w = Worker({"f"});
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(3), "f", "high1"})));
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(6), "f", "high2"})));
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(2), "f", "normal1"})));
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(5), "f", "normal2"})));
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "low1"})));
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(4), "f", "low2"})));
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kNoJob)));
}

// docs/protocol.md §3: priority is global across the grabbing worker's functions (gearmand 2.0).
// gearmand 1.1.20 takes the first function (most recently registered) that has any job.
TEST_P(PacketTest, PriorityAcrossTheWorkersFunctions) {
  auto c = Connect();
  Submit(*c, Command::kSubmitJobHighBg, "pb", "", "pb-high");  // H1
  Submit(*c, Command::kSubmitJobBg, "pa", "", "pa-normal");    // H2
  Submit(*c, Command::kSubmitJobLowBg, "pa", "", "pa-low");    // H3
  auto w = Worker({"pb", "pa"});                               // gearmand's list: pa, pb
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i) {
    auto d = Grab(*w);
    ASSERT_TRUE(d && d->command == Command::kJobAssign);
    order.push_back(d->parts[2]);
  }
  if (ours()) {
    EXPECT_EQ(order, (std::vector<std::string>{"pb-high", "pa-normal", "pa-low"}));
  } else {
    EXPECT_EQ(order, (std::vector<std::string>{"pa-normal", "pa-low", "pb-high"}));
  }
}

TEST_P(PacketTest, PipelinedSubmitsGetJobCreatedInSubmitOrderAndBeforeTheirResults) {
  constexpr int kJobs = 400;
  auto w = Worker({"f"});
  std::atomic<bool> stop{false};
  std::atomic<int> completed{0};
  // A worker that completes jobs as fast as it can while the client is still submitting.
  std::thread worker([&] {
    while (!stop && completed < kJobs) {
      auto d = Grab(*w);
      if (!d) break;
      if (d->command == Command::kJobAssign) {
        w->Send(Q(Command::kWorkComplete, {d->parts[0], "r" + d->parts[2]}));
        ++completed;
      } else {
        std::this_thread::sleep_for(1ms);
      }
    }
  });
  auto c = Connect();
  std::string batch;
  for (int i = 0; i < kJobs; ++i) {
    batch += Q(Command::kSubmitJob, {"f", "u" + std::to_string(i), "d" + std::to_string(i)});
  }
  c->Send(batch);
  std::vector<std::string> created;
  std::set<std::string> created_set;
  int results = 0;
  bool ordered = true;
  for (int i = 0; i < 2 * kJobs; ++i) {
    auto d = ReadDecoded(*c, 20s);
    if (!d) {
      ADD_FAILURE() << "only " << created.size() << " JOB_CREATED and " << results
                    << " results arrived";
      break;
    }
    if (d->command == Command::kJobCreated) {
      created.push_back(d->parts[0]);
      created_set.insert(d->parts[0]);
    } else if (d->command == Command::kWorkComplete) {
      ++results;
      if (created_set.count(d->parts[0]) == 0) {
        ordered = false;
        ADD_FAILURE() << "WORK_COMPLETE for " << d->parts[0] << " before its JOB_CREATED";
      }
    } else {
      ADD_FAILURE() << "unexpected " << protocol::Name(d->command);
    }
  }
  stop = true;
  worker.join();
  EXPECT_TRUE(ordered);
  ASSERT_EQ(created.size(), size_t{kJobs});
  for (int i = 0; i < kJobs; ++i)
    EXPECT_EQ(created[i], H(i + 1)) << "submit #" << i;
  EXPECT_EQ(results, kJobs);
}

// ---------------------------------------------------------------------------------------------
// Coalescing (docs/protocol.md §3)

TEST_P(PacketTest, SubmitsWithTheSameFunctionAndUniqueShareOneJobAndEmptyUniquesNever) {
  auto a = Connect();
  auto b = Connect();
  EXPECT_EQ(Submit(*a, Command::kSubmitJobBg, "f", "u1", "a"), H(1));
  EXPECT_EQ(Submit(*b, Command::kSubmitJob, "f", "u1", "b"), H(1));
  EXPECT_EQ(Submit(*b, Command::kSubmitJobHighBg, "f", "u1", "c"), H(1));
  EXPECT_EQ(Submit(*a, Command::kSubmitJobBg, "g", "u1", "a"), H(2));  // per function
  EXPECT_EQ(Submit(*a, Command::kSubmitJobBg, "f", "", "a"), H(3));
  EXPECT_EQ(Submit(*a, Command::kSubmitJobBg, "f", "", "a"), H(4));
  EXPECT_EQ(ListInOrder("status"), "f\t3\t0\t0\ng\t1\t0\t0\n.\n");
  // The joined job keeps its first data and priority.
  auto w = Worker({"f"});
  EXPECT_PACKET(
      w, (w->Send(Q(Command::kGrabJobUniq)), R(Command::kJobAssignUniq, {H(1), "f", "u1", "a"})));
}

TEST_P(PacketTest, UniqueDashMeansThePayloadIsTheKey) {
  auto c = Connect();
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", "-", "payload"), H(1));
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", "-", "payload"), H(1));
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", "-", "other"), H(2));
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", "-", ""), H(3));
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", "-", ""), H(4));
  // The stored unique stays "-".
  EXPECT_EQ(AdminList("show unique jobs"), "-\n-\n-\n-\n.\n");
}

TEST_P(PacketTest, SixtyFourByteUniqueCoalescesOnlyInOurs) {
  auto c = Connect();
  std::string u64(64, 'u');
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", u64, "a"), H(1));
  // Difference: gearmand stores 63 bytes, so 64-byte uniques never coalesce there.
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", u64, "b"), ours() ? H(1) : H(2));
}

TEST_P(PacketTest, UniqueLongerThanSixtyFourBytesIsRefused) {
  auto c = Connect();
  c->Send(Q(Command::kSubmitJob, {"f", std::string(65, 'u'), "x"}));
  EXPECT_PACKET(c, Error("ARGUMENT_TOO_LARGE", "Unique value too large"));
  c->Send(Q(Command::kSubmitJobBg, {"f", std::string(65, 'u'), "x"}));
  EXPECT_PACKET(c, Error("ARGUMENT_TOO_LARGE", "Unique value too large"));
  Sync(*c);  // the connection stays usable
  EXPECT_EQ(AdminList("show jobs"), ".\n");
}

TEST_P(PacketTest, ForegroundClientThatJoinsARunningJobGetsEveryLaterWorkPacket) {
  auto w = Worker({"f"});
  auto a = Connect();
  auto b = Connect();
  EXPECT_EQ(Submit(*a, Command::kSubmitJob, "f", "u", "x"), H(1));
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "x"})));
  EXPECT_EQ(Submit(*b, Command::kSubmitJobHigh, "f", "u", "y"), H(1));
  std::string updates =
      Q(Command::kWorkData, {H(1), "d\0ta"sv}) + Q(Command::kWorkWarning, {H(1), "warn"}) +
      Q(Command::kWorkStatus, {H(1), "1", "2"}) + Q(Command::kWorkComplete, {H(1), "done\0!"sv});
  w->Send(updates);
  for (auto* c : {&a, &b}) {
    EXPECT_PACKET(*c, R(Command::kWorkData, {H(1), "d\0ta"sv}));
    EXPECT_PACKET(*c, R(Command::kWorkWarning, {H(1), "warn"}));
    EXPECT_PACKET(*c, R(Command::kWorkStatus, {H(1), "1", "2"}));
    EXPECT_PACKET(*c, R(Command::kWorkComplete, {H(1), "done\0!"sv}));
  }
  Sync(*w);  // no error for the worker
}

// ---------------------------------------------------------------------------------------------
// Status

TEST_P(PacketTest, GetStatusReportsUnknownQueuedRunningAndFinishedJobs) {
  auto c = Connect();
  c->Send(Q(Command::kGetStatus, {H(99)}));
  EXPECT_PACKET(c, R(Command::kStatusRes, {H(99), "0", "0", "0", "0"}));
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", "", "x"), H(1));
  c->Send(Q(Command::kGetStatus, {H(1)}));
  EXPECT_PACKET(c, R(Command::kStatusRes, {H(1), "1", "0", "0", "0"}));
  auto w = Worker({"f"});
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "x"})));
  c->Send(Q(Command::kGetStatus, {H(1)}));
  EXPECT_PACKET(c, R(Command::kStatusRes, {H(1), "1", "1", "0", "0"}));
  w->Send(Q(Command::kWorkStatus, {H(1), "3", "10"}));
  Sync(*w);
  c->Send(Q(Command::kGetStatus, {H(1)}));
  EXPECT_PACKET(c, R(Command::kStatusRes, {H(1), "1", "1", "3", "10"}));
  w->Send(Q(Command::kWorkComplete, {H(1), ""}));
  Sync(*w);
  c->Send(Q(Command::kGetStatus, {H(1)}));
  EXPECT_PACKET(c, R(Command::kStatusRes, {H(1), "0", "0", "0", "0"}));
}

// docs/protocol.md §2 says gearmand always sends 0 clients; 1.1.20 counts them too.
TEST_P(PacketTest, GetStatusUniqueEchoesTheUniqueAndCountsWaitingClients) {
  auto a = Connect();
  auto b = Connect();
  EXPECT_EQ(Submit(*a, Command::kSubmitJob, "f", "u1", "x"), H(1));
  EXPECT_EQ(Submit(*b, Command::kSubmitJob, "f", "u1", "x"), H(1));
  auto c = Connect();
  std::string clients = "2";
  c->Send(Q(Command::kGetStatusUnique, {"u1"}));
  EXPECT_PACKET(c, R(Command::kStatusResUnique, {"u1", "1", "0", "0", "0", clients}));
  auto w = Worker({"f"});
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "x"})));
  w->Send(Q(Command::kWorkStatus, {H(1), "1", "4"}));
  Sync(*w);
  c->Send(Q(Command::kGetStatusUnique, {"u1"}));
  EXPECT_PACKET(c, R(Command::kStatusResUnique, {"u1", "1", "1", "1", "4", clients}));
  c->Send(Q(Command::kGetStatusUnique, {"nope"}));
  EXPECT_PACKET(c, R(Command::kStatusResUnique, {"nope", "0", "0", "0", "0", "0"}));
  b.reset();  // one waiting client leaves
  std::string one = R(Command::kStatusResUnique, {"u1", "1", "1", "1", "4", "1"});
  EXPECT_EQ(Describe(Eventually(
                [&] {
                  c->Send(Q(Command::kGetStatusUnique, {"u1"}));
                  return c->ReadPacket().value_or("");
                },
                one)),
            Describe(one));
}

TEST_P(PacketTest, GetStatusUniqueOfASixtyFourByteUniqueAnswersOnlyInOurs) {
  auto c = Connect();
  std::string u64(64, 'k');
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", u64, "x"), H(1));
  c->Send(Q(Command::kGetStatusUnique, {u64}));
  if (ours()) {
    EXPECT_PACKET(c, R(Command::kStatusResUnique, {u64, "1", "0", "0", "0", "0"}));
  } else {
    EXPECT_SILENT(c);  // Difference: gearmand sends no reply
  }
}

// ---------------------------------------------------------------------------------------------
// ECHO, OPTION, SET_CLIENT_ID

TEST_P(PacketTest, EchoReturnsTheSameBytesIncludingNuls) {
  auto c = Connect();
  std::string data("a\0b\0\0c\0", 7);
  c->Send(Q(Command::kEchoReq, {data}));
  EXPECT_PACKET(c, R(Command::kEchoRes, {data}));
  c->Send(Q(Command::kEchoReq, {""}));
  EXPECT_PACKET(c, R(Command::kEchoRes, {""}));
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); i += 7)
    big[i] = static_cast<char>('a' + i % 26);
  c->Send(Q(Command::kEchoReq, {big}));
  EXPECT_PACKET(c, R(Command::kEchoRes, {big}));
}

TEST_P(PacketTest, OptionExceptionsIsEchoedAsSentAndOtherOptionsAreUnknown) {
  auto c = Connect();
  c->Send(Q(Command::kOptionReq, {"exceptions"}));
  EXPECT_PACKET(c, R(Command::kOptionRes, {"exceptions"}));
  c->Send(Q(Command::kOptionReq, {"EXCEPTIONS"}));
  EXPECT_PACKET(c, R(Command::kOptionRes, {"EXCEPTIONS"}));
  c->Send(Q(Command::kOptionReq, {"bogus"}));
  EXPECT_PACKET(c, Error("UNKNOWN_OPTION", "Server does not recognize given option"));
  Sync(*c);
}

// docs/protocol.md §2 stores up to 255 bytes; gearmand 1.1.20 keeps 127 (not listed as a
// Difference).
TEST_P(PacketTest, SetClientIdKeepsUpTo255BytesInOursAnd127InGearmand) {
  auto w = Connect();
  w->Send(Q(Command::kSetClientId, {std::string(300, 'i')}));
  Sync(*w);
  std::string workers = AdminList("workers");
  size_t kept = ours() ? 255 : 127;
  EXPECT_NE(workers.find(" " + std::string(kept, 'i') + " :\n"), std::string::npos)
      << Escape(workers);
}

TEST_P(PacketTest, SetClientIdIsShownByWorkersWithoutAReply) {
  auto w = Connect();
  w->Send(Q(Command::kSetClientId, {"my-worker"}));
  w->Send(Q(Command::kCanDo, {"f"}));
  Sync(*w);  // nothing but the echo came back
  std::string workers = AdminList("workers");
  EXPECT_NE(workers.find(" 127.0.0.1 my-worker : f\n"), std::string::npos) << Escape(workers);
}

TEST_P(PacketTest, ClientIdWithSpacesIsMadeParseableInOurs) {
  auto w = Connect();
  w->Send(Q(Command::kSetClientId, {"my worker id"}));
  Sync(*w);
  std::string workers = AdminList("workers");
  // Difference: we replace blanks with '_'; gearmand prints them.
  std::string want = ours() ? " 127.0.0.1 my_worker_id :\n" : " 127.0.0.1 my worker id :\n";
  EXPECT_NE(workers.find(want), std::string::npos) << Escape(workers);
}

// ---------------------------------------------------------------------------------------------
// Abilities

TEST_P(PacketTest, CanDoCantDoAndResetAbilitiesChangeTheWorkerCounts) {
  auto w = Connect();
  w->Send(Q(Command::kSetClientId, {"w1"}));
  w->Send(Q(Command::kCanDo, {"f1"}) + Q(Command::kCanDoTimeout, {"f2", "5000"}));
  Sync(*w);
  EXPECT_EQ(ListInOrder("status"), "f1\t0\t0\t1\nf2\t0\t0\t1\n.\n");
  std::string workers = AdminList("workers");
  EXPECT_NE(workers.find(" 127.0.0.1 w1 : f2 f1\n"), std::string::npos) << Escape(workers);
  w->Send(Q(Command::kCantDo, {"f1"}));
  Sync(*w);
  EXPECT_EQ(ListInOrder("status"), "f1\t0\t0\t0\nf2\t0\t0\t1\n.\n");
  w->Send(Q(Command::kResetAbilities));
  Sync(*w);
  EXPECT_EQ(ListInOrder("status"), "f1\t0\t0\t0\nf2\t0\t0\t0\n.\n");
  workers = AdminList("workers");
  EXPECT_NE(workers.find(" 127.0.0.1 w1 :\n"), std::string::npos) << Escape(workers);
}

TEST_P(PacketTest, RegisteringAFunctionTwiceCountsOneWorkerInOurs) {
  auto w = Connect();
  w->Send(Q(Command::kSetClientId, {"dupw"}));
  w->Send(Q(Command::kCanDo, {"dup"}) + Q(Command::kCanDo, {"dup"}));
  Sync(*w);
  std::string workers = AdminList("workers");
  // Difference: gearmand keeps two entries.
  if (ours()) {
    EXPECT_EQ(AdminList("status"), "dup\t0\t0\t1\n.\n");
    EXPECT_NE(workers.find(" dupw : dup\n"), std::string::npos) << Escape(workers);
  } else {
    EXPECT_EQ(AdminList("status"), "dup\t0\t0\t2\n.\n");
    EXPECT_NE(workers.find(" dupw : dup dup\n"), std::string::npos) << Escape(workers);
  }
}

TEST_P(PacketTest, CantDoRequeuesTheJobsTheConnectionRunsForThatFunction) {
  auto c = Connect();
  EXPECT_EQ(Submit(*c, Command::kSubmitJob, "f", "", "x"), H(1));
  auto w1 = Worker({"f"});
  EXPECT_PACKET(w1, (w1->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "x"})));
  w1->Send(Q(Command::kCantDo, {"f"}));
  Sync(*w1);
  auto w2 = Worker({"f"});
  EXPECT_PACKET(w2, (w2->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "x"})));
  w1->Send(Q(Command::kWorkComplete, {H(1), "late"}));
  EXPECT_PACKET(w1, Error("JOB_NOT_FOUND", "Job given in work result not found"));
  EXPECT_TRUE(Silent(*c));  // the client is not told about the retry
  w2->Send(Q(Command::kWorkComplete, {H(1), "ok"}));
  EXPECT_PACKET(c, R(Command::kWorkComplete, {H(1), "ok"}));
}

TEST_P(PacketTest, ResetAbilitiesRequeuesEveryJobTheConnectionRuns) {
  auto c = Connect();
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", "", "x"), H(1));
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "g", "", "y"), H(2));
  auto w1 = Worker({"f", "g"});
  ASSERT_TRUE(Grab(*w1).has_value());
  ASSERT_TRUE(Grab(*w1).has_value());
  EXPECT_EQ(ListInOrder("status"), "f\t1\t1\t1\ng\t1\t1\t1\n.\n");
  w1->Send(Q(Command::kResetAbilities));
  Sync(*w1);
  EXPECT_EQ(ListInOrder("status"), "f\t1\t0\t0\ng\t1\t0\t0\n.\n");
  EXPECT_EQ(ListInOrder("show jobs"), H(1) + "\t1\t0\t1\n" + H(2) + "\t1\t0\t1\n.\n");
}

// ---------------------------------------------------------------------------------------------
// Grabbing

TEST_P(PacketTest, GrabVariantsAnswerWithTheirAssignPacketOrNoJob) {
  auto c = Connect();
  Submit(*c, Command::kSubmitJobBg, "f", "u1", "d1");
  Submit(*c, Command::kSubmitJobBg, "f", "u2", "d2");
  Submit(*c, Command::kSubmitJobBg, "f", "u3", "d3");
  auto w = Worker({"f"});
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "d1"})));
  EXPECT_PACKET(
      w, (w->Send(Q(Command::kGrabJobUniq)), R(Command::kJobAssignUniq, {H(2), "f", "u2", "d2"})));
  // GRAB_JOB_ALL without a reducer answers JOB_ASSIGN_UNIQ.
  EXPECT_PACKET(
      w, (w->Send(Q(Command::kGrabJobAll)), R(Command::kJobAssignUniq, {H(3), "f", "u3", "d3"})));
  for (Command g : {Command::kGrabJob, Command::kGrabJobUniq, Command::kGrabJobAll}) {
    EXPECT_PACKET(w, (w->Send(Q(g)), R(Command::kNoJob)));
  }
  auto idle = Connect();  // a connection without abilities gets NO_JOB too
  EXPECT_PACKET(idle, (idle->Send(Q(Command::kGrabJob)), R(Command::kNoJob)));
}

TEST_P(PacketTest, SeveralOutstandingGrabsOnOneConnectionAreEachAnsweredOnce) {
  auto c = Connect();
  Submit(*c, Command::kSubmitJobBg, "f", "", "d1");
  Submit(*c, Command::kSubmitJobHighBg, "f", "", "d2");
  auto w = Worker({"f"});
  w->Send(Q(Command::kGrabJob) + Q(Command::kGrabJobUniq) + Q(Command::kGrabJob) +
          Q(Command::kGrabJobAll));
  EXPECT_PACKET(w, R(Command::kJobAssign, {H(2), "f", "d2"}));
  EXPECT_PACKET(w, R(Command::kJobAssignUniq, {H(1), "f", "", "d1"}));
  EXPECT_PACKET(w, R(Command::kNoJob));
  EXPECT_PACKET(w, R(Command::kNoJob));
  EXPECT_SILENT(w);
}

TEST_P(PacketTest, ReduceJobsAreAssignedWithTheirReducerByGrabJobAll) {
  auto c = Connect();
  c->Send(Q(Command::kSubmitReduceJob, {"f", "u1", "red", "", "data1"}));
  EXPECT_PACKET(c, R(Command::kJobCreated, {H(1)}));
  c->Send(Q(Command::kSubmitReduceJobBackground, {"f", "u2", "red", "", "data2"}));
  EXPECT_PACKET(c, R(Command::kJobCreated, {H(2)}));
  c->Send(Q(Command::kSubmitReduceJob, {"f", "u3", "red", "", "data3"}));
  EXPECT_PACKET(c, R(Command::kJobCreated, {H(3)}));
  auto w = Worker({"f"});
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJobAll)),
                    R(Command::kJobAssignAll, {H(1), "f", "u1", "red", "data1"})));
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJobUniq)),
                    R(Command::kJobAssignUniq, {H(2), "f", "u2", "data2"})));
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(3), "f", "data3"})));
  w->Send(Q(Command::kWorkComplete, {H(1), "reduced"}));
  EXPECT_PACKET(c, R(Command::kWorkComplete, {H(1), "reduced"}));
  EXPECT_EQ(AdminList("status"), "f\t2\t2\t1\n.\n");
}

TEST_P(PacketTest, ReduceJobLimitIsCheckedOnTheUniqueInOursAndOnTheReducerInGearmand) {
  auto c = Connect();
  std::string long65(65, 'x');
  c->Send(Q(Command::kSubmitReduceJob, {"f", long65, "red", "", "d"}));
  if (ours()) {
    EXPECT_PACKET(c, Error("ARGUMENT_TOO_LARGE", "Unique value too large"));
  } else {
    EXPECT_PACKET(c, R(Command::kJobCreated, {H(1)}));
  }
  c->Send(Q(Command::kSubmitReduceJob, {"f", "u", long65, "", "d"}));
  if (ours()) {
    EXPECT_PACKET(c, R(Command::kJobCreated, {H(1)}));
  } else {
    EXPECT_PACKET(c, Error("ARGUMENT_TOO_LARGE", "Unique value too large"));
  }
}

// ---------------------------------------------------------------------------------------------
// PRE_SLEEP and NOOP

TEST_P(PacketTest, PreSleepWithWorkAlreadyQueuedGetsANoopAtOnce) {
  auto c = Connect();
  Submit(*c, Command::kSubmitJobBg, "f", "", "x");
  auto w = Worker({"f"});
  w->Send(Q(Command::kPreSleep));
  EXPECT_PACKET(w, R(Command::kNoop));
}

TEST_P(PacketTest, SleepingWorkerGetsExactlyOneNoopUntilItGrabsAgain) {
  auto w = Worker({"f"});
  w->Send(Q(Command::kPreSleep));
  Sync(*w);
  EXPECT_SILENT(w);
  auto c = Connect();
  Submit(*c, Command::kSubmitJobBg, "f", "", "one");
  EXPECT_PACKET(w, R(Command::kNoop));
  Submit(*c, Command::kSubmitJobBg, "f", "", "two");
  EXPECT_SILENT(w);  // one NOOP per sleep
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "one"})));
  w->Send(Q(Command::kPreSleep));
  EXPECT_PACKET(w, R(Command::kNoop));  // "two" is already queued
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(2), "f", "two"})));
  w->Send(Q(Command::kPreSleep));
  Sync(*w);
  EXPECT_SILENT(w);
  Submit(*c, Command::kSubmitJob, "f", "", "three");
  EXPECT_PACKET(w, R(Command::kNoop));
}

TEST_P(PacketTest, NoopGoesOnlyToSleepingWorkersOfTheSubmittedFunction) {
  auto wf = Worker({"f"});
  auto wg = Worker({"g"});
  auto awake = Worker({"f"});  // registered but never sent PRE_SLEEP
  for (auto* w : {&wf, &wg}) {
    (*w)->Send(Q(Command::kPreSleep));
    Sync(**w);
  }
  auto c = Connect();
  Submit(*c, Command::kSubmitJobBg, "f", "", "x");
  EXPECT_PACKET(wf, R(Command::kNoop));
  EXPECT_SILENT(wg);
  EXPECT_SILENT(awake);
}

TEST_P(PacketTest, WithoutWorkerWakeupEverySleepingWorkerIsWoken) {
  std::vector<std::unique_ptr<RawClient>> ws;
  for (int i = 0; i < 3; ++i) {
    ws.push_back(Worker({"f"}));
    ws.back()->Send(Q(Command::kPreSleep));
    Sync(*ws.back());
  }
  auto c = Connect();
  Submit(*c, Command::kSubmitJobBg, "f", "", "x");
  for (auto& w : ws)
    EXPECT_PACKET(w, R(Command::kNoop));
}

TEST_P(PacketTest, WorkerWakeupOneSendsOneNoopPerNewJob) {
  StartServer({"--worker-wakeup", "1"});
  std::vector<std::unique_ptr<RawClient>> ws;
  for (int i = 0; i < 3; ++i) {
    ws.push_back(Worker({"f"}));
    ws.back()->Send(Q(Command::kPreSleep));
    Sync(*ws.back());
  }
  auto c = Connect();
  // Waits (bounded) for the first NOOP, then gives the others a moment to show up too.
  auto count_noops = [&] {
    int n = 0;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    bool settled = false;
    while (!settled) {
      settled = n > 0 || std::chrono::steady_clock::now() > deadline;
      for (auto& w : ws) {
        std::string got = w->ReadAll(settled ? 300ms : 20ms);
        if (got == R(Command::kNoop)) {
          ++n;
        } else {
          EXPECT_EQ(got, "") << Describe(got);
        }
      }
    }
    return n;
  };
  Submit(*c, Command::kSubmitJobBg, "f", "", "x");
  EXPECT_EQ(count_noops(), 1);
  Submit(*c, Command::kSubmitJobBg, "f", "", "y");
  EXPECT_EQ(count_noops(), 1);  // a different worker: the first one was already woken
}

// ---------------------------------------------------------------------------------------------
// Work results

TEST_P(PacketTest, WorkPacketsForJobsTheConnectionDoesNotHoldAreRefused) {
  auto c = Connect();
  EXPECT_EQ(Submit(*c, Command::kSubmitJob, "f", "", "x"), H(1));
  auto holder = Worker({"f"});
  ASSERT_TRUE(Grab(*holder).has_value());
  auto w = Worker({"f"});
  for (const std::string& h : {H(77), H(1)}) {  // unknown, and held by another worker
    w->Send(Q(Command::kWorkData, {h, "x"}));
    EXPECT_PACKET(w, Error("JOB_NOT_FOUND", "Job does not exist on server"));
    w->Send(Q(Command::kWorkWarning, {h, "x"}));
    EXPECT_PACKET(w, Error("JOB_NOT_FOUND", "Job does not exist on server"));
    w->Send(Q(Command::kWorkStatus, {h, "1", "2"}));
    EXPECT_PACKET(w, Error("JOB_NOT_FOUND", "Job given in work result not found"));
    w->Send(Q(Command::kWorkComplete, {h, "x"}));
    EXPECT_PACKET(w, Error("JOB_NOT_FOUND", "Job given in work result not found"));
    w->Send(Q(Command::kWorkFail, {h}));
    EXPECT_PACKET(w, Error("JOB_NOT_FOUND", "Job given in work result not found"));
    w->Send(Q(Command::kWorkException, {h, "x"}));
    EXPECT_PACKET(
        w, Error("JOB_NOT_FOUND", "An exception was received for a job that does not exist"));
  }
  EXPECT_SILENT(c);
}

TEST_P(PacketTest, WorkFailIsForwardedAndEndsTheJob) {
  auto a = Connect();
  auto b = Connect();
  EXPECT_EQ(Submit(*a, Command::kSubmitJob, "f", "u", "x"), H(1));
  EXPECT_EQ(Submit(*b, Command::kSubmitJob, "f", "u", "x"), H(1));
  auto w = Worker({"f"});
  ASSERT_TRUE(Grab(*w).has_value());
  w->Send(Q(Command::kWorkFail, {H(1)}));
  EXPECT_PACKET(a, R(Command::kWorkFail, {H(1)}));
  EXPECT_PACKET(b, R(Command::kWorkFail, {H(1)}));
  a->Send(Q(Command::kGetStatus, {H(1)}));
  EXPECT_PACKET(a, R(Command::kStatusRes, {H(1), "0", "0", "0", "0"}));
  EXPECT_EQ(AdminList("status"), "f\t0\t0\t1\n.\n");
}

TEST_P(PacketTest, WorkExceptionGoesToExceptionClientsAndAsWorkFailToOthers) {
  auto a = Connect();
  auto b = Connect();
  a->Send(Q(Command::kOptionReq, {"exceptions"}));
  EXPECT_PACKET(a, R(Command::kOptionRes, {"exceptions"}));
  EXPECT_EQ(Submit(*a, Command::kSubmitJob, "f", "u", "x"), H(1));
  EXPECT_EQ(Submit(*b, Command::kSubmitJob, "f", "u", "x"), H(1));
  auto w = Worker({"f"});
  ASSERT_TRUE(Grab(*w).has_value());
  w->Send(Q(Command::kWorkException, {H(1), "boom\0!"sv}));
  EXPECT_PACKET(a, R(Command::kWorkException, {H(1), "boom\0!"sv}));
  // Difference: gearmand's WORK_FAIL carries a stray trailing NUL.
  EXPECT_PACKET(b, ours() ? R(Command::kWorkFail, {H(1)}) : R(Command::kWorkFail, {H(1), ""}));
  // The job is over: a later result is refused.
  w->Send(Q(Command::kWorkComplete, {H(1), "late"}));
  EXPECT_PACKET(w, Error("JOB_NOT_FOUND", "Job given in work result not found"));
  EXPECT_SILENT(a);
}

TEST_P(PacketTest, ExceptionsFlagTurnsTheOptionOnForEveryConnection) {
  StartServer({"--exceptions"});
  auto c = Connect();
  EXPECT_EQ(Submit(*c, Command::kSubmitJob, "f", "", "x"), H(1));
  auto w = Worker({"f"});
  ASSERT_TRUE(Grab(*w).has_value());
  w->Send(Q(Command::kWorkException, {H(1), "boom"}));
  EXPECT_PACKET(c, R(Command::kWorkException, {H(1), "boom"}));
}

TEST_P(PacketTest, OneConnectionCanBeClientAndWorkerAtOnce) {
  auto c = Connect();
  c->Send(Q(Command::kCanDo, {"self"}));
  EXPECT_EQ(Submit(*c, Command::kSubmitJob, "self", "", "x"), H(1));
  EXPECT_PACKET(c, (c->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "self", "x"})));
  c->Send(Q(Command::kWorkData, {H(1), "part"}) + Q(Command::kWorkComplete, {H(1), "done"}));
  EXPECT_PACKET(c, R(Command::kWorkData, {H(1), "part"}));
  EXPECT_PACKET(c, R(Command::kWorkComplete, {H(1), "done"}));
}

TEST_P(PacketTest, AllYoursIsAcceptedSilentlyInOurs) {
  auto w = Worker({"f"});
  w->Send(Q(Command::kAllYours));
  if (reference()) {
    EXPECT_PACKET(w, Error("INVALID_COMMAND", "Command not expected"));
  }
  Sync(*w);  // Difference: ours sends nothing
}

TEST_P(PacketTest, HandlesMustMatchExactly) {
  auto c = Connect();
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", "", "x"), H(1));
  for (std::string h : {std::string(kPrefix) + ":01", std::string(kPrefix) + ":1 ",
                        std::string(kPrefix) + ":+1", std::string("H:other:1")}) {
    c->Send(Q(Command::kGetStatus, {h}));
    EXPECT_PACKET(c, R(Command::kStatusRes, {h, "0", "0", "0", "0"}));
  }
  EXPECT_EQ(AdminLine("cancel job " + std::string(kPrefix) + ":01"), "ERR UNKNOWN_JOB\r\n");
}

TEST_P(PacketTest, WorkStatusIsForwardedVerbatimAndItsNumbersReadLikeAtoi) {
  auto c = Connect();
  EXPECT_EQ(Submit(*c, Command::kSubmitJob, "f", "", "x"), H(1));
  auto w = Worker({"f"});
  ASSERT_TRUE(Grab(*w).has_value());
  w->Send(Q(Command::kWorkStatus, {H(1), "5abc", "x9"}));
  EXPECT_PACKET(c, R(Command::kWorkStatus, {H(1), "5abc", "x9"}));
  c->Send(Q(Command::kGetStatus, {H(1)}));
  EXPECT_PACKET(c, R(Command::kStatusRes, {H(1), "1", "1", "5", "0"}));
}

// docs/protocol.md §3: within a priority the worker's functions take turns (round-robin, always
// on). gearmand 1.1.20 without -R drains the first function of the worker's list (the most
// recently registered) before the next.
TEST_P(PacketTest, WorkersFunctionsTakeTurnsWithinAPriority) {
  auto c = Connect();
  for (const char* d : {"a1", "a2", "a3"})
    Submit(*c, Command::kSubmitJobBg, "a", "", d);
  for (const char* d : {"b1", "b2", "b3"})
    Submit(*c, Command::kSubmitJobBg, "b", "", d);
  auto w = Worker({"a", "b"});
  std::string order;
  for (int i = 0; i < 6; ++i) {
    auto d = Grab(*w);
    ASSERT_TRUE(d && d->command == Command::kJobAssign);
    order += d->parts[2] + " ";
  }
  if (ours()) {
    EXPECT_TRUE(order == "a1 b1 a2 b2 a3 b3 " || order == "b1 a1 b2 a2 b3 a3 ") << order;
  } else {
    EXPECT_EQ(order, "b1 b2 b3 a1 a2 a3 ");
  }
}

TEST_P(PacketTest, RoundRobinFlagIsAcceptedAndFunctionsTakeTurns) {
  StartServer({"-R"});
  auto c = Connect();
  for (const char* d : {"a1", "a2"})
    Submit(*c, Command::kSubmitJobBg, "a", "", d);
  for (const char* d : {"b1", "b2"})
    Submit(*c, Command::kSubmitJobBg, "b", "", d);
  auto w = Worker({"a", "b"});
  std::vector<std::string> fns;
  for (int i = 0; i < 4; ++i) {
    auto d = Grab(*w);
    ASSERT_TRUE(d && d->command == Command::kJobAssign);
    fns.push_back(d->parts[1]);
  }
  EXPECT_NE(fns[0], fns[1]);
  EXPECT_NE(fns[1], fns[2]);
  EXPECT_NE(fns[2], fns[3]);
}

// ---------------------------------------------------------------------------------------------
// Requeue and retries

TEST_P(PacketTest, WorkerDisconnectRequeuesTheJobWithoutTellingTheClient) {
  auto c = Connect();
  EXPECT_EQ(Submit(*c, Command::kSubmitJob, "f", "", "x"), H(1));
  {
    auto w1 = Worker({"f"});
    EXPECT_PACKET(w1, (w1->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "x"})));
    w1->Send(Q(Command::kWorkStatus, {H(1), "1", "2"}));
    EXPECT_PACKET(c, R(Command::kWorkStatus, {H(1), "1", "2"}));
  }  // w1 vanishes
  auto w2 = Worker({"f"});
  auto d = GrabEventually(*w2);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->command, Command::kJobAssign);
  EXPECT_EQ(d->parts, (std::vector<std::string>{H(1), "f", "x"}));
  EXPECT_SILENT(c);  // the client is not told about the retry
  EXPECT_EQ(AdminList("show jobs").substr(0, H(1).size() + 5), H(1) + "\t1\t0\t");
  // Status numbers were reset by the requeue.
  c->Send(Q(Command::kGetStatus, {H(1)}));
  EXPECT_PACKET(c, R(Command::kStatusRes, {H(1), "1", "1", "0", "0"}));
  w2->Send(Q(Command::kWorkComplete, {H(1), "r"}));
  EXPECT_PACKET(c, R(Command::kWorkComplete, {H(1), "r"}));
}

TEST_P(PacketTest, RequeuedJobGoesToTheTailOfItsPriority) {
  auto c = Connect();
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", "", "first"), H(1));
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", "", "second"), H(2));
  EXPECT_EQ(Submit(*c, Command::kSubmitJobHighBg, "f", "", "high"), H(3));
  {
    auto w1 = Worker({"f"});
    EXPECT_PACKET(w1,
                  (w1->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(3), "f", "high"})));
    EXPECT_PACKET(w1,
                  (w1->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "first"})));
  }
  // Both are requeued: "high" still comes first, "first" now queues behind "second".
  EXPECT_EQ(Eventually([&] { return AdminList("prioritystatus"); }, "f\t1\t2\t0\t0\n.\n"),
            "f\t1\t2\t0\t0\n.\n");
  auto w2 = Worker({"f"});
  EXPECT_PACKET(w2, (w2->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(3), "f", "high"})));
  EXPECT_PACKET(w2,
                (w2->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(2), "f", "second"})));
  EXPECT_PACKET(w2, (w2->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "first"})));
}

TEST_P(OurPacketTest, JobDroppedAtTheRetryLimitIsLoggedAsNoticeInOurs) {
  StartServer({"--job-retries", "1", "--verbose", "NOTICE"});
  auto c = Connect();
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", "uq", "x"), H(1));
  {
    auto w = Worker({"f"});
    ASSERT_TRUE(Grab(*w).has_value());
  }
  EXPECT_EQ(Eventually([&] { return AdminList("show jobs"); }, ".\n"), ".\n");
  std::string log = server_->ReadLog();
  EXPECT_NE(log.find("Dropped job due to max retry count: " + H(1) + " uq"), std::string::npos)
      << log;
}

TEST_P(PacketTest, JobRetriesTwoDropsTheJobAfterTwoAttemptsAndFailsItsClient) {
  StartServer({"--job-retries", "2"});
  auto c = Connect();
  EXPECT_EQ(Submit(*c, Command::kSubmitJob, "f", "", "x"), H(1));
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto w = Worker({"f"});
    auto d = GrabEventually(*w);
    ASSERT_TRUE(d && d->command == Command::kJobAssign) << "attempt " << attempt;
    EXPECT_EQ(d->parts[0], H(1));
    if (attempt == 1) {
      EXPECT_SILENT(c);
    }
  }
  EXPECT_PACKET(c, R(Command::kWorkFail, {H(1)}));
  EXPECT_EQ(AdminList("show jobs"), ".\n");
  auto w = Worker({"f"});
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kNoJob)));
}

// -j 0: ours (gearmand 2.0's meaning) allows one attempt; gearmand 1.1.20 reads 0 as unlimited.
TEST_P(PacketTest, JobRetriesZeroMeansOneAttemptInOursAndUnlimitedInGearmand) {
  StartServer({"--job-retries", "0"});
  auto c = Connect();
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", "", "x"), H(1));
  {
    auto w = Worker({"f"});
    ASSERT_TRUE(GrabEventually(*w).has_value());
  }
  if (ours()) {
    EXPECT_EQ(Eventually([&] { return AdminList("show jobs"); }, ".\n"), ".\n");
  } else {
    auto w = Worker({"f"});
    auto d = GrabEventually(*w);
    ASSERT_TRUE(d && d->command == Command::kJobAssign);
    EXPECT_EQ(d->parts[0], H(1));
  }
}

TEST_P(PacketTest, CanDoTimeoutRequeuesAJobWhoseWorkerDoesNotAnswer) {
  auto c = Connect();
  auto w1 = Connect();
  w1->Send(Q(Command::kCanDoTimeout, {"f", "1000"}));
  Sync(*w1);
  EXPECT_EQ(Submit(*c, Command::kSubmitJob, "f", "", "x"), H(1));
  EXPECT_PACKET(w1, (w1->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "x"})));
  auto w2 = Worker({"f"});
  auto d = GrabEventually(*w2);  // after the timeout the job is runnable again
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->command, Command::kJobAssign);
  EXPECT_EQ(d->parts[0], H(1));
  EXPECT_SILENT(c);  // requeued silently, not failed
  w1->Send(Q(Command::kWorkComplete, {H(1), "late"}));
  EXPECT_PACKET(w1, Error("JOB_NOT_FOUND", "Job given in work result not found"));
  w2->Send(Q(Command::kWorkComplete, {H(1), "ok"}));
  EXPECT_PACKET(c, R(Command::kWorkComplete, {H(1), "ok"}));
}

// Difference: our timer is per job and PRE_SLEEP does not cancel it; gearmand deletes the
// connection's timer on PRE_SLEEP, so the job stays with the silent worker.
TEST_P(PacketTest, CanDoTimeoutSurvivesPreSleepOnlyInOurs) {
  auto c = Connect();
  auto w1 = Connect();
  w1->Send(Q(Command::kCanDoTimeout, {"f", "1000"}));
  Sync(*w1);
  EXPECT_EQ(Submit(*c, Command::kSubmitJobBg, "f", "", "x"), H(1));
  EXPECT_PACKET(w1, (w1->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "x"})));
  w1->Send(Q(Command::kPreSleep));
  Sync(*w1);
  if (ours()) {
    auto w2 = Worker({"f"});
    auto d = GrabEventually(*w2);
    ASSERT_TRUE(d && d->command == Command::kJobAssign);
    EXPECT_EQ(d->parts[0], H(1));
  } else {
    std::this_thread::sleep_for(2500ms);
    auto w2 = Worker({"f"});
    EXPECT_PACKET(w2, (w2->Send(Q(Command::kGrabJob)), R(Command::kNoJob)));
  }
}

TEST_P(PacketTest, CanDoTimeoutThatIsNotANumberIsRefusedInOurs) {
  for (std::string timeout : {std::string("soon"), std::string("-5"), std::string(21, '1')}) {
    auto w = Connect();
    w->Send(Q(Command::kCanDoTimeout, {"f", timeout}));
    if (ours()) {
      auto d = ReadDecoded(*w);
      ASSERT_TRUE(d.has_value()) << timeout;
      EXPECT_EQ(d->command, Command::kError) << timeout;
      EXPECT_EQ(d->parts.at(0), "INVALID_ARGUMENT") << timeout;
      Sync(*w);
    }
    EXPECT_TRUE(ServerAnswers());
  }
}

// ---------------------------------------------------------------------------------------------
// Client departure

TEST_P(PacketTest, QueuedForegroundJobWhoseClientLeftIsNeverAssigned) {
  SingleThreadedGearmand();
  {
    auto c = Named("leaver");
    EXPECT_EQ(Submit(*c, Command::kSubmitJob, "f", "", "x"), H(1));
  }
  WaitGone("leaver");
  if (ours()) {
    // Removed at once (gearmand keeps it, ignored, until the next grab).
    EXPECT_EQ(Eventually([&] { return AdminList("show jobs"); }, ".\n"), ".\n");
  }
  auto w = Worker({"f"});
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kNoJob)));
  EXPECT_EQ(AdminList("show jobs"), ".\n");
}

TEST_P(PacketTest, RunningJobWhoseClientLeftFinishesAndItsResultIsDiscarded) {
  auto c = Named("leaver");
  EXPECT_EQ(Submit(*c, Command::kSubmitJob, "f", "", "x"), H(1));
  auto w = Worker({"f"});
  ASSERT_TRUE(Grab(*w).has_value());
  c.reset();
  WaitGone("leaver");
  w->Send(Q(Command::kWorkData, {H(1), "d"}) + Q(Command::kWorkComplete, {H(1), "r"}));
  Sync(*w);  // no error before the echo
  EXPECT_EQ(AdminList("status"), "f\t0\t0\t1\n.\n");
}

// Difference: gearmand drops a background job when a foreground client that joined it leaves.
TEST_P(PacketTest, BackgroundJobSurvivesAJoinedForegroundClientLeavingInOurs) {
  SingleThreadedGearmand();
  auto a = Connect();
  EXPECT_EQ(Submit(*a, Command::kSubmitJobBg, "f", "u", "x"), H(1));
  {
    auto b = Named("leaver");
    EXPECT_EQ(Submit(*b, Command::kSubmitJob, "f", "u", "x"), H(1));
  }
  WaitGone("leaver");
  auto w = Worker({"f"});
  if (ours()) {
    EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "x"})));
  } else {
    EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kNoJob)));
  }
}

// Difference: a background submit joining a foreground job makes it background in ours.
TEST_P(PacketTest, ForegroundJobJoinedByABackgroundSubmitSurvivesItsClientInOurs) {
  SingleThreadedGearmand();
  auto a = Named("leaver");
  EXPECT_EQ(Submit(*a, Command::kSubmitJob, "f", "u", "x"), H(1));
  auto b = Connect();
  EXPECT_EQ(Submit(*b, Command::kSubmitJobBg, "f", "u", "x"), H(1));
  a.reset();
  WaitGone("leaver");
  auto w = Worker({"f"});
  if (ours()) {
    EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "x"})));
  } else {
    EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kNoJob)));
  }
}

// ---------------------------------------------------------------------------------------------
// Epoch jobs

std::string EpochIn(int seconds) {
  return std::to_string(::time(nullptr) + seconds);
}

TEST_P(PacketTest, EpochJobInThePastOrZeroIsRunnableAtOnce) {
  auto c = Connect();
  c->Send(Q(Command::kSubmitJobEpoch, {"f", "", "0", "zero"}));
  EXPECT_PACKET(c, R(Command::kJobCreated, {H(1)}));
  c->Send(Q(Command::kSubmitJobEpoch, {"f", "", EpochIn(-100), "past"}));
  EXPECT_PACKET(c, R(Command::kJobCreated, {H(2)}));
  auto w = Worker({"f"});
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "zero"})));
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(2), "f", "past"})));
}

// Ours wakes the sleeping worker when the job falls due (and not before); gearmand 1.1.20 sends
// its NOOP at submit time, none when the job falls due (#101), and hands the job to a grab
// after it is due.
TEST_P(PacketTest, EpochJobWakesASleepingWorkerWhenDueInOurs) {
  auto w = Worker({"f"});
  w->Send(Q(Command::kPreSleep));
  Sync(*w);
  auto c = Connect();
  c->Send(Q(Command::kSubmitJobEpoch, {"f", "ue", EpochIn(3), "later"}));
  EXPECT_PACKET(c, R(Command::kJobCreated, {H(1)}));
  if (ours()) {
    EXPECT_SILENT(w);  // nothing is runnable yet
  } else {
    EXPECT_PACKET(w, R(Command::kNoop));  // gearmand wakes sleepers at submit
  }
  // Not due yet: nothing to grab.
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kNoJob)));
  EXPECT_EQ(AdminList("status"), "f\t1\t0\t1\n.\n");
  w->Send(Q(Command::kPreSleep));
  Sync(*w);
  if (ours()) {
    EXPECT_TRUE(NextPacketIs(*w, R(Command::kNoop), 15s));
  } else {
    EXPECT_TRUE(Silent(*w, 6s));
  }
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJobUniq)),
                    R(Command::kJobAssignUniq, {H(1), "f", "ue", "later"})));
}

TEST_P(PacketTest, EpochThatIsNotDecimalDigitsIsRefusedInOurs) {
  auto c = Connect();
  c->Send(Q(Command::kSubmitJobEpoch, {"f", "", "soon", "x"}));
  if (ours()) {
    auto d = ReadDecoded(*c);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->command, Command::kError);
    EXPECT_EQ(d->parts.at(0), "INVALID_ARGUMENT");
  } else {
    EXPECT_PACKET(c, R(Command::kJobCreated, {H(1)}));  // read as 0: runnable now
  }
}

INSTANTIATE_TEST_SUITE_P(Servers, PacketTest, ::testing::ValuesIn(AllShapes()), ShapeName);
INSTANTIATE_TEST_SUITE_P(Servers, OurPacketTest, ::testing::ValuesIn(OurShapes()), ShapeName);

}  // namespace
}  // namespace gearbox::testing::integ

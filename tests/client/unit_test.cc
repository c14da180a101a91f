// Unit tests of the client library's pure parts: server lists, unique keys, hashing, and the
// per-connection protocol state machines (ClientSession, WorkerSession) driven packet by packet.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>

#include "client/client_session.h"
#include "client/digest.h"
#include "client/hash_ring.h"
#include "client/worker_session.h"
#include "gearbox/gearbox.h"

namespace gearbox {
namespace {

using client::ClientSession;
using client::HashRing;
using client::WorkerSession;
using internal::TaskImpl;
using protocol::Command;

// ---- Server lists ----------------------------------------------------------------------------

TEST(ServerList, ParsesHostsPortsAndIpv6Brackets) {
  auto l = ParseServerList("h1:4731, h2 ,[::1]:4732,[fe80::1],::1,:4733,,");
  ASSERT_TRUE(l.ok()) << l.error().message();
  ASSERT_EQ(l->size(), 6u);
  EXPECT_EQ((*l)[0], (ServerAddress{"h1", 4731}));
  EXPECT_EQ((*l)[1], (ServerAddress{"h2", 4730}));
  EXPECT_EQ((*l)[2], (ServerAddress{"::1", 4732}));
  EXPECT_EQ((*l)[3], (ServerAddress{"fe80::1", 4730}));
  EXPECT_EQ((*l)[4], (ServerAddress{"::1", 4730}));
  EXPECT_EQ((*l)[5], (ServerAddress{"localhost", 4733}));
  EXPECT_EQ((*l)[2].ToString(), "[::1]:4732");
  EXPECT_EQ((*l)[0].ToString(), "h1:4731");
}

TEST(ServerList, PortZeroMeansDefault) {
  auto l = ParseServerList("h:0");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)[0].port, 4730);
}

TEST(ServerList, RejectsBadPortsAndBrackets) {
  for (const char* bad : {"h:x", "h:70000", "h:-1", "[::1", "[::1]x", "h:12a"}) {
    auto l = ParseServerList(bad);
    ASSERT_FALSE(l.ok()) << bad;
    EXPECT_EQ(l.error().code(), Errc::kInvalidArgument);
    EXPECT_NE(l.error().message().find(bad[0] == '[' ? "[" : "h"), std::string::npos);
  }
}

TEST(ServerList, EnvironmentComesFirstAndDuplicatesGo) {
  ::setenv("GEARMAN_SERVERS", "a:1,b:2", 1);
  auto l = ResolveServerList("b:2,c:3", true);
  auto no_env = ResolveServerList("b:2,c:3", false);
  ::unsetenv("GEARMAN_SERVERS");
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 3u);
  EXPECT_EQ((*l)[0].host, "a");
  EXPECT_EQ((*l)[1].host, "b");
  EXPECT_EQ((*l)[2].host, "c");
  ASSERT_TRUE(no_env.ok());
  EXPECT_EQ(no_env->size(), 2u);
}

TEST(ServerList, EmptyMeansLocalhost) {
  ::unsetenv("GEARMAN_SERVERS");
  auto l = ResolveServerList("", true);
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0], (ServerAddress{"localhost", 4730}));
}

TEST(ServerList, InvalidEnvironmentIsReported) {
  ::setenv("GEARMAN_SERVERS", "a:nope", 1);
  auto l = ResolveServerList("", true);
  ::unsetenv("GEARMAN_SERVERS");
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message().find("GEARMAN_SERVERS"), std::string::npos);
}

// ---- Unique keys and digests -----------------------------------------------------------------

std::string Hex(const std::array<uint8_t, 32>& d) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) {
    s.push_back(k[b >> 4]);
    s.push_back(k[b & 15]);
  }
  return s;
}

TEST(Digest, Sha256KnownVectors) {
  EXPECT_EQ(Hex(client::Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(client::Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(client::Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Hex(client::Sha256(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Digest, Sha256PaddingBoundaries) {
  // Lengths around the 55/56/64-byte padding boundaries must all differ and be stable.
  std::set<std::string> seen;
  for (size_t n : {54, 55, 56, 57, 63, 64, 65, 119, 120}) {
    auto a = Hex(client::Sha256(std::string(n, 'x')));
    EXPECT_EQ(a, Hex(client::Sha256(std::string(n, 'x'))));
    EXPECT_TRUE(seen.insert(a).second) << n;
  }
  EXPECT_EQ(Hex(client::Sha256(std::string(64, 'a'))),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(Unique, UuidsAreVersion4AndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = NewUuid();
    ASSERT_EQ(u.size(), 36u);
    EXPECT_EQ(u[8], '-');
    EXPECT_EQ(u[13], '-');
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b') << u;
    EXPECT_TRUE(seen.insert(u).second);
  }
}

TEST(Unique, ResolveFollowsTheKind) {
  EXPECT_EQ(Unique().Resolve("p", false), "");
  EXPECT_EQ(Unique().Resolve("p", true).size(), 36u);
  EXPECT_EQ(Unique::None().Resolve("p", true), "");
  EXPECT_EQ(Unique("k1").Resolve("p", true), "k1");
  EXPECT_EQ(Unique::Generated().Resolve("p", false).size(), 36u);
  EXPECT_EQ(Unique::FromPayload().Resolve("p", false), PayloadKey("p"));
  EXPECT_EQ(PayloadKey("abc"), "ba7816bf8f01cfea414140de5dae2223");
  EXPECT_NE(PayloadKey(std::string("a\0b", 3)), PayloadKey(std::string("a\0c", 3)));
  EXPECT_LE(PayloadKey("x").size(), kMaxUniqueSize);
}

// ---- Consistent hashing ----------------------------------------------------------------------

TEST(HashRing, OrderVisitsEveryServerOnceOwnerFirst) {
  HashRing ring({"a:1", "b:2", "c:3", "d:4"});
  for (int i = 0; i < 200; ++i) {
    std::string key = "key-" + std::to_string(i);
    auto order = ring.Order(key);
    ASSERT_EQ(order.size(), 4u);
    EXPECT_EQ(std::set<size_t>(order.begin(), order.end()).size(), 4u);
    EXPECT_EQ(order[0], ring.Owner(key));
  }
}

TEST(HashRing, SpreadsKeysOverServers) {
  HashRing ring({"10.0.0.1:4730", "10.0.0.2:4730", "10.0.0.3:4730"});
  std::map<size_t, int> count;
  for (int i = 0; i < 30000; ++i)
    ++count[ring.Owner("job-" + std::to_string(i))];
  ASSERT_EQ(count.size(), 3u);
  for (auto& [s, n] : count) {
    EXPECT_GT(n, 7000) << "server " << s;
    EXPECT_LT(n, 13000) << "server " << s;
  }
}

TEST(HashRing, ListOrderDoesNotChangePlacement) {
  std::vector<std::string> a = {"x:1", "y:2", "z:3"};
  std::vector<std::string> b = {"z:3", "x:1", "y:2"};
  HashRing ra(a), rb(b);
  for (int i = 0; i < 500; ++i) {
    std::string key = std::to_string(i * 7919);
    EXPECT_EQ(a[ra.Owner(key)], b[rb.Owner(key)]);
  }
}

TEST(HashRing, RemovingAServerMovesOnlyItsKeys) {
  std::vector<std::string> four = {"s1:1", "s2:1", "s3:1", "s4:1"};
  std::vector<std::string> three = {"s1:1", "s2:1", "s3:1"};
  HashRing r4(four), r3(three);
  int moved = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string key = "u" + std::to_string(i);
    std::string before = four[r4.Owner(key)];
    std::string after = three[r3.Owner(key)];
    if (before != "s4:1") {
      EXPECT_EQ(before, after) << key;
    } else {
      ++moved;
      // The failover order on the full ring names where s4's keys go.
      EXPECT_EQ(four[r4.Order(key)[1]], after) << key;
    }
  }
  EXPECT_GT(moved, 0);
}

TEST(HashRing, RingHashIsTheDocumentedFunction) {
  // Values computed independently (docs/client-library.md has the definition); other clients
  // that implement the placement rule can check themselves against these.
  EXPECT_EQ(client::RingHash(""), 0xefd01f60ba992926ULL);
  EXPECT_EQ(client::RingHash("abc"), 0x33ebaf9927cbc5bdULL);
  EXPECT_EQ(client::RingHash("127.0.0.1:4730-0"), 0x79a0962bac1b351cULL);
}

// ---- ClientSession ---------------------------------------------------------------------------

struct Recorder {
  std::vector<std::string> events;
  TaskHandlers Handlers(const std::string& name) {
    TaskHandlers h;
    h.on_created = [this, name](const Task& t) {
      events.push_back(name + " created " + t.handle());
    };
    h.on_data = [this, name](const Task&, std::string_view d) {
      events.push_back(name + " data " + std::string(d));
    };
    h.on_warning = [this, name](const Task&, std::string_view d) {
      events.push_back(name + " warning " + std::string(d));
    };
    h.on_status = [this, name](const Task&, uint32_t n, uint32_t d) {
      events.push_back(name + " status " + std::to_string(n) + "/" + std::to_string(d));
    };
    h.on_complete = [this, name](const Task&, std::string_view d) {
      events.push_back(name + " complete " + std::string(d));
    };
    h.on_exception = [this, name](const Task&, std::string_view d) {
      events.push_back(name + " exception " + std::string(d));
    };
    h.on_fail = [this, name](const Task&, const Error& e) {
      events.push_back(name + " fail " + std::string(ErrcName(e.code())));
    };
    return h;
  }
};

std::shared_ptr<TaskImpl> MakeJob(const std::string& fn, Recorder* rec, bool background = false) {
  auto t = std::make_shared<TaskImpl>();
  t->kind = TaskImpl::Kind::kJob;
  t->function = fn;
  t->payload = "data-" + fn;
  t->background = background;
  t->command = background ? Command::kSubmitJobBg : Command::kSubmitJob;
  if (rec != nullptr) t->handlers = rec->Handlers(fn);
  return t;
}

// Decodes a response packet built with the codec and feeds it to the session.
Expected<void> Feed(ClientSession& s, Command c, std::initializer_list<std::string_view> parts) {
  std::string bytes = protocol::EncodePacket(protocol::Magic::kResponse, c, parts);
  protocol::Item item;
  auto r = protocol::Decode(bytes, protocol::Limits{}, &item);
  EXPECT_EQ(r.status, protocol::DecodeResult::Status::kItem);
  return s.OnPacket(item.frame);
}

TEST(ClientSession, EncodesSubmitPacketsExactly) {
  ClientSession s("srv:1");
  ByteQueue out;
  auto t = MakeJob("reverse", nullptr);
  t->unique = "";
  t->payload = "test";
  s.Send(t, out);
  EXPECT_EQ(out.ToString(), std::string("\0REQ\0\0\0\x07\0\0\0\x0dreverse\0\0test", 25));
  ByteQueue out2;
  auto r = MakeJob("map", nullptr);
  r->command = Command::kSubmitReduceJob;
  r->unique = "u";
  r->reducer = "red";
  r->payload = "D";
  s.Send(r, out2);
  // FUNC\0UNIQ\0REDUCER\0AGGREGATOR(empty)\0DATA
  EXPECT_EQ(out2.ToString().substr(12), std::string("map\0u\0red\0\0D", 12));
  ByteQueue out3;
  auto e = MakeJob("later", nullptr, true);
  e->command = Command::kSubmitJobEpoch;
  e->unique = "k";
  e->epoch = "1700000000";
  e->payload = "P";
  s.Send(e, out3);
  EXPECT_EQ(out3.ToString().substr(12), std::string("later\0k\0"
                                                    "1700000000\0P",
                                                    20));
}

TEST(ClientSession, JobCreatedIsMatchedBySendOrder) {
  Recorder rec;
  ClientSession s("srv:1");
  ByteQueue out;
  auto a = MakeJob("a", &rec), b = MakeJob("b", &rec), c = MakeJob("c", &rec, true);
  s.Send(a, out);
  s.Send(b, out);
  s.Send(c, out);
  ASSERT_TRUE(Feed(s, Command::kJobCreated, {"H:1"}).ok());
  ASSERT_TRUE(Feed(s, Command::kJobCreated, {"H:2"}).ok());
  ASSERT_TRUE(Feed(s, Command::kJobCreated, {"H:3"}).ok());
  EXPECT_EQ(a->handle, "H:1");
  EXPECT_EQ(b->handle, "H:2");
  EXPECT_EQ(c->handle, "H:3");
  EXPECT_EQ(c->state, TaskState::kDone);  // background: done at JOB_CREATED
  EXPECT_EQ(a->state, TaskState::kQueued);
  // Results arrive in any order, matched by handle.
  ASSERT_TRUE(Feed(s, Command::kWorkComplete, {"H:2", "rb"}).ok());
  ASSERT_TRUE(Feed(s, Command::kWorkComplete, {"H:1", "ra"}).ok());
  EXPECT_EQ(a->result, "ra");
  EXPECT_EQ(b->result, "rb");
  EXPECT_TRUE(s.idle());
  EXPECT_EQ(rec.events, (std::vector<std::string>{"a created H:1", "b created H:2", "c created H:3",
                                                  "b complete rb", "a complete ra"}));
}

TEST(ClientSession, EventsOfOneJobKeepTheirOrder) {
  Recorder rec;
  ClientSession s("srv:1");
  ByteQueue out;
  auto a = MakeJob("a", &rec);
  s.Send(a, out);
  ASSERT_TRUE(Feed(s, Command::kJobCreated, {"H:9"}).ok());
  ASSERT_TRUE(Feed(s, Command::kWorkData, {"H:9", std::string_view("d\0x", 3)}).ok());
  ASSERT_TRUE(Feed(s, Command::kWorkWarning, {"H:9", "w"}).ok());
  ASSERT_TRUE(Feed(s, Command::kWorkStatus, {"H:9", "3", "4"}).ok());
  ASSERT_TRUE(Feed(s, Command::kWorkComplete, {"H:9", ""}).ok());
  EXPECT_EQ(rec.events, (std::vector<std::string>{"a created H:9", std::string("a data d\0x", 10),
                                                  "a warning w", "a status 3/4", "a complete "}));
  EXPECT_EQ(a->numerator, 3u);
  EXPECT_EQ(a->denominator, 4u);
}

TEST(ClientSession, ErrorAnswersTheOldestRequest) {
  Recorder rec;
  ClientSession s("srv:1");
  ByteQueue out;
  auto a = MakeJob("a", &rec, true), b = MakeJob("b", &rec, true);
  s.Send(a, out);
  s.Send(b, out);
  ASSERT_TRUE(Feed(s, Command::kError, {"QUEUE_ERROR", "Job queue is full"}).ok());
  ASSERT_TRUE(Feed(s, Command::kJobCreated, {"H:2"}).ok());
  ASSERT_EQ(a->state, TaskState::kFailed);
  EXPECT_EQ(a->error->code(), Errc::kServerError);
  EXPECT_EQ(a->error->detail(), "QUEUE_ERROR");
  EXPECT_NE(a->error->message().find("Job queue is full"), std::string::npos);
  EXPECT_NE(a->error->message().find("srv:1"), std::string::npos);
  EXPECT_EQ(b->handle, "H:2");
}

TEST(ClientSession, ReplyOfTheWrongKindIsAProtocolError) {
  ClientSession s("srv:1");
  ByteQueue out;
  auto a = MakeJob("a", nullptr);
  s.Send(a, out);
  auto r = Feed(s, Command::kEchoRes, {"x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kProtocolError);
  EXPECT_NE(r.error().message().find("ECHO_RES"), std::string::npos);
  EXPECT_NE(r.error().message().find("function 'a'"), std::string::npos);
  // JOB_CREATED with nothing outstanding, too.
  ClientSession s2("srv:1");
  EXPECT_FALSE(Feed(s2, Command::kJobCreated, {"H:1"}).ok());
}

TEST(ClientSession, WorkFailWithStrayNulStillFindsTheJob) {
  Recorder rec;
  ClientSession s("srv:1");
  ByteQueue out;
  auto a = MakeJob("a", &rec);
  s.Send(a, out);
  ASSERT_TRUE(Feed(s, Command::kJobCreated, {"H:5"}).ok());
  // gearmand's downgraded exception: WORK_FAIL "H:5\0".
  ASSERT_TRUE(Feed(s, Command::kWorkFail, {std::string_view("H:5\0", 4)}).ok());
  ASSERT_EQ(a->state, TaskState::kFailed);
  EXPECT_EQ(a->error->code(), Errc::kJobFailed);
}

TEST(ClientSession, ExceptionGoesToOnExceptionElseToOnFail) {
  Recorder rec;
  ClientSession s("srv:1");
  ByteQueue out;
  auto a = MakeJob("a", &rec);
  auto b = MakeJob("b", &rec);
  b->handlers.on_exception = nullptr;
  s.Send(a, out);
  s.Send(b, out);
  ASSERT_TRUE(Feed(s, Command::kJobCreated, {"H:1"}).ok());
  ASSERT_TRUE(Feed(s, Command::kJobCreated, {"H:2"}).ok());
  ASSERT_TRUE(Feed(s, Command::kWorkException, {"H:1", "boom"}).ok());
  ASSERT_TRUE(Feed(s, Command::kWorkException, {"H:2", "bang"}).ok());
  EXPECT_EQ(rec.events[2], "a exception boom");
  EXPECT_EQ(rec.events[3], "b fail job_exception");
  EXPECT_EQ(b->error->detail(), "bang");
}

TEST(ClientSession, CoalescedSubmitsShareOneResult) {
  Recorder rec;
  ClientSession s("srv:1");
  ByteQueue out;
  auto a = MakeJob("a", &rec), b = MakeJob("b", &rec);
  s.Send(a, out);
  s.Send(b, out);
  ASSERT_TRUE(Feed(s, Command::kJobCreated, {"H:7"}).ok());
  ASSERT_TRUE(Feed(s, Command::kJobCreated, {"H:7"}).ok());
  ASSERT_TRUE(Feed(s, Command::kWorkComplete, {"H:7", "r"}).ok());
  // gearmand sends one WORK_COMPLETE per attached submit; the second must be harmless.
  ASSERT_TRUE(Feed(s, Command::kWorkComplete, {"H:7", "r"}).ok());
  EXPECT_EQ(a->result, "r");
  EXPECT_EQ(b->result, "r");
}

TEST(ClientSession, StatusRepliesAreParsed) {
  ClientSession s("srv:1");
  ByteQueue out;
  auto q = std::make_shared<TaskImpl>();
  q->kind = TaskImpl::Kind::kStatus;
  q->payload = "H:1";
  auto u = std::make_shared<TaskImpl>();
  u->kind = TaskImpl::Kind::kStatusUnique;
  u->payload = "uq";
  auto e = std::make_shared<TaskImpl>();
  e->kind = TaskImpl::Kind::kEcho;
  e->payload = std::string("a\0b", 3);
  s.Send(q, out);
  s.Send(u, out);
  s.Send(e, out);
  ASSERT_TRUE(Feed(s, Command::kStatusRes, {"H:1", "1", "1", "7", "10"}).ok());
  ASSERT_TRUE(Feed(s, Command::kStatusResUnique, {"uq", "1", "0", "0", "0", "2"}).ok());
  ASSERT_TRUE(Feed(s, Command::kEchoRes, {std::string_view("a\0b", 3)}).ok());
  EXPECT_TRUE(q->status.known);
  EXPECT_TRUE(q->status.running);
  EXPECT_EQ(q->status.numerator, 7u);
  EXPECT_EQ(q->status.denominator, 10u);
  EXPECT_TRUE(u->status.known);
  EXPECT_FALSE(u->status.running);
  EXPECT_EQ(u->status.waiting_clients, 2u);
  EXPECT_EQ(e->result, std::string("a\0b", 3));
}

TEST(ClientSession, OptionRefusalIsNotFatal) {
  ClientSession s("srv:1");
  ByteQueue out;
  auto o = std::make_shared<TaskImpl>();
  o->kind = TaskImpl::Kind::kOption;
  o->payload = "exceptions";
  auto a = MakeJob("a", nullptr);
  s.Send(o, out);
  s.Send(a, out);
  ASSERT_TRUE(Feed(s, Command::kError, {"UNKNOWN_OPTION", "no"}).ok());
  EXPECT_FALSE(s.exceptions());
  ASSERT_TRUE(Feed(s, Command::kJobCreated, {"H:1"}).ok());
  EXPECT_EQ(a->handle, "H:1");
  ClientSession s2("srv:1");
  auto o2 = std::make_shared<TaskImpl>(*o);
  s2.Send(o2, out);
  ASSERT_TRUE(Feed(s2, Command::kOptionRes, {"exceptions"}).ok());
  EXPECT_TRUE(s2.exceptions());
}

TEST(ClientSession, TakeAllReturnsEverythingStillOwed) {
  ClientSession s("srv:1");
  ByteQueue out;
  auto a = MakeJob("a", nullptr), b = MakeJob("b", nullptr), c = MakeJob("c", nullptr);
  s.Send(a, out);
  s.Send(b, out);
  s.Send(c, out);
  ASSERT_TRUE(Feed(s, Command::kJobCreated, {"H:1"}).ok());
  auto all = s.TakeAll();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0], b);  // unanswered requests first, in order
  EXPECT_EQ(all[1], c);
  EXPECT_EQ(all[2], a);  // then accepted jobs
  EXPECT_TRUE(s.idle());
}

TEST(ClientSession, AbandonedTaskStillConsumesItsReply) {
  Recorder rec;
  ClientSession s("srv:1");
  ByteQueue out;
  auto a = MakeJob("a", &rec), b = MakeJob("b", &rec);
  s.Send(a, out);
  s.Send(b, out);
  a->abandoned = true;
  a->Fail(Error(Errc::kTimeout, "gave up"));
  ASSERT_TRUE(Feed(s, Command::kJobCreated, {"H:1"}).ok());
  ASSERT_TRUE(Feed(s, Command::kJobCreated, {"H:2"}).ok());
  ASSERT_TRUE(Feed(s, Command::kWorkComplete, {"H:1", "late"}).ok());
  EXPECT_EQ(a->state, TaskState::kFailed);
  EXPECT_EQ(b->handle, "H:2");
  EXPECT_EQ(rec.events, (std::vector<std::string>{"b created H:2"}));
}

// ---- WorkerSession ---------------------------------------------------------------------------

protocol::Frame Frame(Command c, std::initializer_list<std::string_view> parts,
                      std::string* storage) {
  *storage = protocol::EncodePacket(protocol::Magic::kResponse, c, parts);
  protocol::Item item;
  auto r = protocol::Decode(*storage, protocol::Limits{}, &item);
  EXPECT_EQ(r.status, protocol::DecodeResult::Status::kItem);
  return item.frame;
}

TEST(WorkerSession, RegistrationPackets) {
  ByteQueue out;
  WorkerSession::SetClientId(out, "me");
  WorkerSession::CanDo(out, "f", std::nullopt);
  WorkerSession::CanDo(out, "g", std::chrono::milliseconds(1500));
  WorkerSession::CantDo(out, "f");
  std::string expect = protocol::Request(Command::kSetClientId, {"me"}) +
                       protocol::Request(Command::kCanDo, {"f"}) +
                       protocol::Request(Command::kCanDoTimeout, {"g", "1500"}) +
                       protocol::Request(Command::kCantDo, {"f"});
  EXPECT_EQ(out.ToString(), expect);
}

TEST(WorkerSession, NoJobLeadsToPreSleepAndNoopWakes) {
  WorkerSession s;
  ByteQueue out;
  s.Grab(out, Command::kGrabJobUniq);
  EXPECT_EQ(s.phase(), WorkerSession::Phase::kGrabbing);
  EXPECT_EQ(out.ToString(), protocol::Request(Command::kGrabJobUniq));
  out.Clear();
  std::string st;
  WorkerSession::Assignment a;
  std::string err;
  EXPECT_EQ(s.OnPacket(Frame(Command::kNoJob, {}, &st), out, &a, &err),
            WorkerSession::Event::kNone);
  EXPECT_EQ(out.ToString(), protocol::Request(Command::kPreSleep));
  EXPECT_EQ(s.phase(), WorkerSession::Phase::kSleeping);
  EXPECT_EQ(s.OnPacket(Frame(Command::kNoop, {}, &st), out, &a, &err),
            WorkerSession::Event::kWoken);
  EXPECT_EQ(s.phase(), WorkerSession::Phase::kIdle);
  // A second NOOP while idle changes nothing.
  EXPECT_EQ(s.OnPacket(Frame(Command::kNoop, {}, &st), out, &a, &err), WorkerSession::Event::kNone);
}

TEST(WorkerSession, ParsesAllThreeAssignmentForms) {
  WorkerSession s;
  ByteQueue out;
  std::string st, err;
  WorkerSession::Assignment a;
  s.Grab(out, Command::kGrabJob);
  ASSERT_EQ(s.OnPacket(Frame(Command::kJobAssign, {"H:1", "f", std::string_view("p\0q", 3)}, &st),
                       out, &a, &err),
            WorkerSession::Event::kAssigned);
  EXPECT_EQ(a.handle, "H:1");
  EXPECT_EQ(a.function, "f");
  EXPECT_EQ(a.unique, "");
  EXPECT_EQ(a.payload, std::string_view("p\0q", 3));
  EXPECT_EQ(s.phase(), WorkerSession::Phase::kIdle);
  ASSERT_EQ(s.OnPacket(Frame(Command::kJobAssignUniq, {"H:2", "f", "u", "P"}, &st), out, &a, &err),
            WorkerSession::Event::kAssigned);
  EXPECT_EQ(a.unique, "u");
  EXPECT_EQ(a.payload, "P");
  ASSERT_EQ(
      s.OnPacket(Frame(Command::kJobAssignAll, {"H:3", "f", "u", "red", "P"}, &st), out, &a, &err),
      WorkerSession::Event::kAssigned);
  EXPECT_EQ(a.reducer, "red");
  EXPECT_EQ(a.payload, "P");
  EXPECT_EQ(s.OnPacket(Frame(Command::kError, {"JOB_NOT_FOUND", "gone"}, &st), out, &a, &err),
            WorkerSession::Event::kError);
  EXPECT_EQ(err, "JOB_NOT_FOUND gone");
}

TEST(WorkerSession, WakeLeavesSleepSoNewFunctionsAreGrabbed) {
  WorkerSession s;
  ByteQueue out;
  std::string st, err;
  WorkerSession::Assignment a;
  s.Grab(out, Command::kGrabJobUniq);
  s.OnPacket(Frame(Command::kNoJob, {}, &st), out, &a, &err);
  ASSERT_EQ(s.phase(), WorkerSession::Phase::kSleeping);
  s.Wake();
  EXPECT_EQ(s.phase(), WorkerSession::Phase::kIdle);
}

// ---- Errors ----------------------------------------------------------------------------------

TEST(Expected, ValueThrowsTheErrorOnlyWhenAsked) {
  Expected<int> good = 5;
  Expected<int> bad = Error(Errc::kTimeout, "too slow");
  EXPECT_EQ(good.value(), 5);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.value_or(7), 7);
  try {
    (void)bad.value();
    FAIL() << "no exception";
  } catch (const Exception& e) {
    EXPECT_EQ(e.error().code(), Errc::kTimeout);
    EXPECT_STREQ(e.what(), "too slow");
  }
  Expected<void> v = Error(Errc::kStopped, "stop");
  EXPECT_THROW(v.value(), Exception);
  EXPECT_EQ(ErrcName(Errc::kJobException), "job_exception");
}

TEST(Options, InvalidOptionsAreRejected) {
  auto c = Client::Create({.servers = "h:notaport", .read_environment = false});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), Errc::kInvalidArgument);
  auto w = Worker::Create({.servers = "h", .read_environment = false, .concurrency = 0});
  ASSERT_FALSE(w.ok());
  auto ok = Client::Create({.servers = "h", .read_environment = false});
  ASSERT_TRUE(ok.ok());
  auto bad_fn = ok->AddTask({.function = ""});
  ASSERT_FALSE(bad_fn.ok());
  EXPECT_NE(bad_fn.error().message().find("function name"), std::string::npos);
  auto long_unique = ok->Do("f", "p", {.unique = std::string(64, 'u')});
  ASSERT_FALSE(long_unique.ok());
  EXPECT_EQ(long_unique.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(long_unique.error().message().find("63"), std::string::npos);
  auto wk = Worker::Create({.servers = "h", .read_environment = false});
  ASSERT_TRUE(wk.ok());
  EXPECT_FALSE(wk->Run().ok());  // nothing registered
  EXPECT_FALSE(wk->Register("", [](Job&) { return WorkResult(); }).ok());
  EXPECT_FALSE(wk->Register("f", nullptr).ok());
}

}  // namespace
}  // namespace gearbox

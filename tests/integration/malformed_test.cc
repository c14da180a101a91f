// Malformed and hostile input (docs/protocol.md §1 "Malformed input"): after each case the server
// answers as specified and survives (a fresh connection still gets `version`). Runs against our
// server in both threading shapes and against Debian's gearmand 1.1.20.
#include <sys/socket.h>

#include <thread>

#include "integ_support.h"

namespace gearbox::testing::integ {
namespace {

using namespace std::string_view_literals;

std::string Be32(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

// A raw header with any magic, type and size, followed by `body`.
std::string RawPacket(std::string_view magic, uint32_t type, uint32_t size,
                      std::string_view body = {}) {
  return std::string(magic) + Be32(type) + Be32(size) + std::string(body);
}

class MalformedTest : public ServerTest {
 protected:
  std::optional<Decoded> GrabEventually(RawClient& w) {
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto d = Grab(w);
      if (!d || d->command != Command::kNoJob) return d;
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }
  void TearDown() override {
    if (server_) {
      EXPECT_TRUE(ServerAnswers()) << "the server must survive every case";
    }
    ServerTest::TearDown();
  }
};

// Features only our server has (docs/protocol.md lists them as ours).
class OurMalformedTest : public MalformedTest {};

TEST_P(MalformedTest, ResponseMagicOnARequestGetsInvalidMagicAndTheConnectionStays) {
  auto c = Connect();
  c->Send(R(Command::kEchoReq, {"x"}));
  EXPECT_PACKET(c, Error("INVALID_MAGIC", "Request magic expected"));
  Sync(*c);
}

TEST_P(MalformedTest, ResponseOnlyTypesAndTypeFiveAreCommandsNotExpected) {
  auto c = Connect();
  struct Case {
    Command cmd;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {Command::kUnused5, {}},
      {Command::kNoop, {}},
      {Command::kJobCreated, {"h"}},
      {Command::kNoJob, {}},
      {Command::kJobAssign, {"h", "f", "d"}},
      {Command::kEchoRes, {"d"}},
      {Command::kError, {"c", "t"}},
      {Command::kStatusRes, {"h", "1", "0", "0", "0"}},
      {Command::kOptionRes, {"exceptions"}},
      {Command::kJobAssignUniq, {"h", "f", "u", "d"}},
      {Command::kJobAssignAll, {"h", "f", "u", "r", "d"}},
      {Command::kStatusResUnique, {"u", "1", "0", "0", "0", "0"}},
  };
  for (const auto& k : cases) {
    std::string body;
    for (size_t i = 0; i < k.parts.size(); ++i) {
      if (i) body.push_back('\0');
      body += k.parts[i];
    }
    c->Send(RawPacket("\0REQ"sv, static_cast<uint32_t>(k.cmd), static_cast<uint32_t>(body.size()),
                      body));
    EXPECT_PACKET(c, Error("INVALID_COMMAND", "Command not expected")) << protocol::Name(k.cmd);
  }
  Sync(*c);
}

// Difference: gearmand closes the connection on an unknown type.
TEST_P(MalformedTest, UnknownTypeIsSkippedByItsSizeInOursAndClosesTheConnectionInGearmand) {
  // gearmand 1.1.20 crashes (SIGSEGV) on type 0xFFFFFFFF, so that one is ours only.
  std::vector<uint32_t> types = {0u, 43u, 99u};
  if (ours()) types.push_back(0xFFFFFFFFu);
  for (uint32_t type : types) {
    auto c = Connect();
    c->Send(RawPacket("\0REQ"sv, type, 3, "a\0b"sv) + Q(Command::kEchoReq, {"after"}));
    if (ours()) {
      EXPECT_PACKET(c, Error("INVALID_COMMAND", "Command not expected")) << "type " << type;
      EXPECT_PACKET(c, R(Command::kEchoRes, {"after"})) << "type " << type;
    } else {
      EXPECT_TRUE(ClosedAfter(*c, "")) << "type " << type;
    }
  }
}

// Difference: gearmand closes without a reply.
TEST_P(MalformedTest, BadMagicIsAnsweredAndClosedInOursAndClosedSilentlyInGearmand) {
  auto c = Connect();
  c->Send(RawPacket("\0XYZ"sv, 16, 1, "x") + Q(Command::kEchoReq, {"after"}));
  if (ours()) {
    EXPECT_TRUE(
        ClosedAfter(*c, Error("INVALID_MAGIC", "Bad packet magic: closing the connection")));
  } else {
    EXPECT_TRUE(ClosedAfter(*c, ""));
  }
}

// Difference: parsing is bounded by the declared size in ours; gearmand desynchronises.
TEST_P(MalformedTest, TooFewArgumentsAreReportedAndThePacketSkippedInOurs) {
  struct Case {
    Command cmd;
    std::string body;
  };
  const std::vector<Case> cases = {
      {Command::kSubmitJob, "f"},
      {Command::kSubmitJobBg, ""},
      {Command::kCanDoTimeout, "f"},
      {Command::kWorkStatus, std::string("h\0"
                                         "1",
                                         3)},
      {Command::kSubmitReduceJob, std::string("f\0u\0r\0"
                                              "d",
                                              7)},
      {Command::kSubmitJobEpoch, std::string("f\0u", 3)},
  };
  for (const auto& k : cases) {
    auto c = Connect();
    c->Send(RawPacket("\0REQ"sv, static_cast<uint32_t>(k.cmd), static_cast<uint32_t>(k.body.size()),
                      k.body) +
            Q(Command::kEchoReq, {"after"}));
    if (ours()) {
      EXPECT_PACKET(c, Error("INVALID_PACKET",
                             "Too few arguments for " + std::string(protocol::Name(k.cmd))));
      EXPECT_PACKET(c, R(Command::kEchoRes, {"after"})) << protocol::Name(k.cmd);
    }
  }
  EXPECT_EQ(AdminList("show jobs"), ".\n");
}

// Difference: gearmand accepts long function names up to its receive buffer.
TEST_P(MalformedTest, FunctionNameLongerThan512BytesIsRefusedInOurs) {
  auto c = Connect();
  std::string f512(512, 'f');
  c->Send(Q(Command::kSubmitJobBg, {f512, "", "x"}));
  EXPECT_PACKET(c, R(Command::kJobCreated, {H(1)}));
  std::string f513(513, 'f');
  c->Send(Q(Command::kSubmitJobBg, {f513, "", "x"}));
  if (ours()) {
    EXPECT_PACKET(c, Error("ARGUMENT_TOO_LARGE", "Function name too large"));
    c->Send(Q(Command::kCanDo, {f513}));
    EXPECT_PACKET(c, Error("ARGUMENT_TOO_LARGE", "Function name too large"));
  } else {
    EXPECT_PACKET(c, R(Command::kJobCreated, {H(2)}));
  }
  Sync(*c);
}

TEST_P(MalformedTest, HugeFunctionNameIsRefusedInOursAndClosesTheConnectionInGearmand) {
  auto c = Connect();
  c->Send(Q(Command::kSubmitJob, {std::string(9000, 'f'), "", "x"}));
  if (ours()) {
    EXPECT_PACKET(c, Error("ARGUMENT_TOO_LARGE", "Function name too large"));
    Sync(*c);
  } else {
    EXPECT_TRUE(ClosedAfter(*c, ""));
  }
}

// Difference: gearmand accepts an empty function name.
TEST_P(MalformedTest, EmptyFunctionNameIsRefusedInOurs) {
  auto c = Connect();
  c->Send(Q(Command::kSubmitJob, {"", "", "x"}));
  if (ours()) {
    EXPECT_PACKET(c, Error("INVALID_FUNCTION_NAME", "Function name is empty"));
    c->Send(Q(Command::kCanDo, {""}));
    EXPECT_PACKET(c, Error("INVALID_FUNCTION_NAME", "Function name is empty"));
  } else {
    EXPECT_PACKET(c, R(Command::kJobCreated, {H(1)}));
  }
  Sync(*c);
}

TEST_P(MalformedTest, SubmitJobSchedIsACommandNotExpectedInGearmand) {
  auto c = Connect();
  c->Send(Q(Command::kSubmitJobSched, {"f", "", "*", "*", "*", "*", "*", "x"}));
  if (ours()) {
    EXPECT_PACKET(c, R(Command::kJobCreated, {H(1)}));  // implemented: docs/protocol.md §5
  } else {
    EXPECT_PACKET(c, Error("INVALID_COMMAND", "Command not expected"));
  }
}

// A header claiming 4 GiB: ours refuses it (over --max-packet-size) and closes; gearmand keeps
// waiting for the body. Either way the server stays small and serves other connections.
TEST_P(MalformedTest, FourGibSizeClaimDoesNotHurtTheServer) {
  long rss_before = ProcStatusKb(server_->pid(), "VmRSS");
  auto c = Connect();
  c->Send(RawPacket("\0REQ"sv, static_cast<uint32_t>(Command::kEchoReq), 0xFFFFFFFFu, "abc"));
  if (ours()) {
    auto d = ReadDecoded(*c);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->command, Command::kError);
    EXPECT_EQ(d->parts.at(0), "DATA_TOO_LARGE");
    EXPECT_TRUE(c->WaitClosed());
  }
  auto other = Connect();
  Sync(*other);
  EXPECT_TRUE(ServerAnswers());
  long rss_after = ProcStatusKb(server_->pid(), "VmRSS");
  EXPECT_LT(rss_after - rss_before, 64 * 1024)
      << "RSS grew from " << rss_before << " kB to " << rss_after << " kB";
}

// docs/protocol.md §1: input memory is committed as bytes arrive. gearmand allocates the
// declared size up front.
TEST_P(MalformedTest, LargeSizeClaimCommitsMemoryOnlyAsBytesArrive) {
  // Touch every I/O thread first, so per-thread allocator arenas already exist.
  std::vector<std::unique_ptr<RawClient>> warm;
  for (int i = 0; i < 8; ++i) {
    warm.push_back(Connect());
    warm.back()->Send(Q(Command::kEchoReq, {std::string(64 * 1024, 'w')}));
  }
  for (auto& w : warm)
    ASSERT_TRUE(w->ReadPacket().has_value());
  pid_t pid = server_->pid();
  long vm_before = ProcStatusKb(pid, "VmSize");
  long rss_before = ProcStatusKb(pid, "VmRSS");
  constexpr uint32_t kClaim = 200u * 1024 * 1024;
  auto c = Connect();
  c->Send(RawPacket("\0REQ"sv, static_cast<uint32_t>(Command::kEchoReq), kClaim,
                    std::string(1 << 20, 'b')));
  // Wait (bounded) until the megabyte has visibly arrived, then look at the address space.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  long vm_after = vm_before;
  while (std::chrono::steady_clock::now() < deadline) {
    vm_after = ProcStatusKb(pid, "VmSize");
    if (ProcStatusKb(pid, "VmRSS") - rss_before > 512 || vm_after - vm_before > 100 * 1024) break;
    std::this_thread::sleep_for(20ms);
  }
  long grown_mib = (vm_after - vm_before) / 1024;
  if (ours()) {
    EXPECT_LT(grown_mib, 100) << "the address space grew by " << grown_mib << " MiB";
  } else {
    EXPECT_GE(grown_mib, 190) << "gearmand allocates the declared size at once";
  }
  EXPECT_TRUE(ServerAnswers());
}

TEST_P(OurMalformedTest, MaxPacketSizeRefusesLargerPacketsAndClosesInOurs) {
  StartServer({"--max-packet-size", "1K"});
  auto c = Connect();
  c->Send(Q(Command::kEchoReq, {std::string(1024, 'x')}));
  EXPECT_PACKET(c, R(Command::kEchoRes, {std::string(1024, 'x')}));
  c->Send(Q(Command::kEchoReq, {std::string(1025, 'x')}));
  auto d = ReadDecoded(*c);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->command, Command::kError);
  EXPECT_EQ(d->parts.at(0), "DATA_TOO_LARGE");
  EXPECT_TRUE(c->WaitClosed());
}

TEST_P(MalformedTest, PacketsAndLinesDribbledByteByByteAreAnsweredNormally) {
  auto c = Connect();
  std::string input = Q(Command::kSubmitJobBg, {"f", "u", "payload"}) + "status\n" +
                      Q(Command::kEchoReq, {"e\0cho"sv});
  for (char ch : input) {
    ASSERT_TRUE(c->Send(std::string_view(&ch, 1)));
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_PACKET(c, R(Command::kJobCreated, {H(1)}));
  EXPECT_EQ(ReadList(*c), "f\t1\t0\t0\n.\n");
  EXPECT_PACKET(c, R(Command::kEchoRes, {"e\0cho"sv}));
}

TEST_P(MalformedTest, ThousandConnectionsAtOnceAreAllServed) {
  constexpr int kConnections = 1000;
  // With the default backlog of 32 a burst of connects waits for SYN retransmits (both servers).
  StartServer({"-b", "1024"});
  ASSERT_TRUE(RaiseNoFile(kConnections + 256)) << "cannot raise RLIMIT_NOFILE";
  std::vector<std::unique_ptr<RawClient>> conns;
  conns.reserve(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    std::string err;
    auto c = RawClient::Connect(server_->port(), &err);
    ASSERT_NE(c, nullptr) << "connection #" << i << ": " << err;
    conns.push_back(std::move(c));
  }
  for (int i = 0; i < kConnections; ++i) {
    ASSERT_TRUE(conns[i]->Send(Q(Command::kEchoReq, {std::to_string(i)})));
  }
  int answered = 0;
  for (int i = 0; i < kConnections; ++i) {
    if (NextPacketIs(*conns[i], R(Command::kEchoRes, {std::to_string(i)}), 20s)) ++answered;
  }
  EXPECT_EQ(answered, kConnections);
  std::string workers = AdminList("workers");
  EXPECT_EQ(std::count(workers.begin(), workers.end(), '\n'), kConnections + 2);  // + admin + "."
}

// docs/protocol.md §1: replies are queued and a slow reader is not read from while far behind;
// nothing is lost and other connections are served meanwhile (gearmand buffers without limit).
TEST_P(MalformedTest, SlowReaderGetsEveryReplyInOrderAndOthersAreServedMeanwhile) {
  constexpr int kEchoes = 200;
  auto slow = Connect();
  std::string batch;
  for (int i = 0; i < kEchoes; ++i) {
    std::string body(64 * 1024, static_cast<char>('a' + i % 26));
    body.replace(0, std::to_string(i).size(), std::to_string(i));
    batch += Q(Command::kEchoReq, {body});
  }
  // Writing 12.8 MiB may block once the server stops reading: write from a thread.
  std::thread writer([&] { slow->Send(batch); });
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(ServerAnswers());
  auto other = Connect();
  Sync(*other);
  int in_order = 0;
  for (int i = 0; i < kEchoes; ++i) {
    std::string body(64 * 1024, static_cast<char>('a' + i % 26));
    body.replace(0, std::to_string(i).size(), std::to_string(i));
    if (NextPacketIs(*slow, R(Command::kEchoRes, {body}), 20s)) {
      ++in_order;
    } else {
      break;
    }
  }
  writer.join();
  EXPECT_EQ(in_order, kEchoes);
}

// docs/protocol.md §1: a connection more than 2 x max-packet-size + 64 MiB behind is closed.
TEST_P(OurMalformedTest, ClientThatNeverReadsIsClosedWhenFarBehindInOurs) {
  StartServer({"--max-packet-size", "64K"});
  auto client = Connect();
  client->Send(Q(Command::kSubmitJob, {"f", "", "x"}));  // and never reads again
  auto w = Connect();
  w->Send(Q(Command::kCanDo, {"f"}));
  auto d = GrabEventually(*w);
  ASSERT_TRUE(d && d->command == Command::kJobAssign);
  std::string chunk = Q(Command::kWorkData, {d->parts[0], std::string(60 * 1024, 'd')});
  std::string burst;
  for (int i = 0; i < 64; ++i)
    burst += chunk;  // ~3.75 MiB per send
  for (int i = 0; i < 24; ++i)
    ASSERT_TRUE(w->Send(burst)) << "burst " << i;  // ~90 MiB
  Sync(*w);                                        // the worker is still served
  // The client's queue passed the limit: the server closed it (after what fit in the socket).
  EXPECT_TRUE(client->WaitClosed(20s));
  w->Send(Q(Command::kWorkComplete, {d->parts[0], "r"}));
  Sync(*w);
  EXPECT_NE(server_->ReadLog().find("bytes of replies unread"), std::string::npos) << server_->ReadLog();
}

TEST_P(MalformedTest, ClientVanishingMidPacketLeavesNoTrace) {
  {
    auto c = Connect();
    std::string submit = Q(Command::kSubmitJobBg, {"f", "u", "payload"});
    c->Send(submit.substr(0, submit.size() - 3));
  }
  {
    auto c = Connect();
    c->Send(std::string("\0RE", 3));
  }
  {
    auto c = Connect();
    c->Send("stat");
  }
  EXPECT_EQ(AdminList("show jobs"), ".\n");
}

TEST_P(MalformedTest, WorkerVanishingMidResultPacketGetsItsJobRequeued) {
  auto client = Connect();
  client->Send(Q(Command::kSubmitJob, {"f", "", "x"}));
  EXPECT_PACKET(client, R(Command::kJobCreated, {H(1)}));
  {
    auto w = Connect();
    w->Send(Q(Command::kCanDo, {"f"}));
    EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(1), "f", "x"})));
    std::string done = Q(Command::kWorkComplete, {H(1), "result"});
    w->Send(done.substr(0, done.size() - 4));
  }
  auto w2 = Connect();
  w2->Send(Q(Command::kCanDo, {"f"}));
  std::optional<Decoded> d;
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    d = Grab(*w2);
    if (!d || d->command != Command::kNoJob) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->command, Command::kJobAssign);
  EXPECT_EQ(d->parts, (std::vector<std::string>{H(1), "f", "x"}));
  EXPECT_SILENT(client);
}

INSTANTIATE_TEST_SUITE_P(Servers, MalformedTest, ::testing::ValuesIn(AllShapes()), ShapeName);
INSTANTIATE_TEST_SUITE_P(Servers, OurMalformedTest, ::testing::ValuesIn(OurShapes()), ShapeName);

}  // namespace
}  // namespace gearbox::testing::integ

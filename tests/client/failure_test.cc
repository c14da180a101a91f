// Failure paths of the client and worker against a scripted fake server (a loopback listener
// whose replies the test writes byte for byte): protocol violations, silent servers, dropped
// connections. Real servers never misbehave on demand, hence the fake; everything else in
// these suites runs against real servers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "helpers.h"

namespace gearbox::testing {
namespace {

using protocol::Command;

// One connection accepted by the fake server.
class Peer {
 public:
  explicit Peer(int fd) : fd_(fd) {}
  ~Peer() { ::close(fd_); }
  // The next request packet, or nullopt on EOF / timeout.
  std::optional<Decoded> Read(std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      protocol::Item item;
      auto r = protocol::Decode(buf_, protocol::Limits{}, &item);
      if (r.status == protocol::DecodeResult::Status::kItem) {
        Decoded d{item.frame.command, {}};
        for (size_t i = 0; i < item.frame.nparts; ++i)
          d.parts.emplace_back(item.frame.parts[i]);
        buf_.erase(0, r.consumed);
        return d;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) return std::nullopt;
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  // Reads until a packet of this type (skipping others); nullopt on EOF/timeout.
  std::optional<Decoded> ReadUntil(Command c, std::chrono::milliseconds timeout = 10s) {
    while (auto d = Read(timeout)) {
      if (d->command == c) return d;
    }
    return std::nullopt;
  }
  void Send(const std::string& bytes) { ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
  // True once the other side has closed.
  bool Closed(std::chrono::milliseconds timeout = 10s) {
    while (Read(timeout)) {
    }
    return true;
  }

 private:
  int fd_;
  std::string buf_;
};

// A listener on a free loopback port that hands each accepted connection to `script`, one at a
// time, on its own thread.
class FakeServer {
 public:
  explicit FakeServer(std::function<void(Peer&, int index)> script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(listen_fd_, 16);
    thread_ = std::thread([this] {
      for (int i = 0; !stop_; ++i) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) {
          --i;
          continue;
        }
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        Peer peer(fd);
        script_(peer, i);
        accepted_ = i + 1;
      }
    });
  }
  ~FakeServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int accepted() const { return accepted_; }

 private:
  std::function<void(Peer&, int)> script_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

ClientOptions Plain(const std::string& servers) {
  ClientOptions o = TestClientOptions(servers);
  o.exceptions = false;  // no OPTION_REQ handshake: the scripts start at the first request
  return o;
}

TEST(ClientFailure, ReplyOfTheWrongTypeIsAProtocolError) {
  FakeServer fake([](Peer& p, int) {
    if (p.ReadUntil(Command::kSubmitJob)) p.Send(Res(Command::kEchoRes, {"surprise"}));
    p.Closed();
  });
  auto c = Client::Create(Plain(fake.address()));
  auto r = c->Do("f", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kProtocolError);
  EXPECT_NE(r.error().message().find("ECHO_RES"), std::string::npos) << r.error().message();
}

TEST(ClientFailure, GarbageFromTheServerIsAProtocolError) {
  FakeServer fake([](Peer& p, int) {
    if (p.ReadUntil(Command::kEchoReq)) p.Send(std::string("\0XYZ\0\0\0\x11\0\0\0\0", 12));
    p.Closed();
  });
  auto c = Client::Create(Plain(fake.address()));
  auto r = c->Echo("x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kProtocolError);
  EXPECT_NE(r.error().message().find("bad magic"), std::string::npos) << r.error().message();
}

TEST(ClientFailure, SilentServerHitsTheReplyTimeout) {
  FakeServer fake([](Peer& p, int) { p.Closed(); });
  ClientOptions o = Plain(fake.address());
  o.io_timeout = 200ms;
  auto c = Client::Create(o);
  auto r = c->DoBackground("f", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kTimeout);
  EXPECT_NE(r.error().message().find("no reply within 200 ms"), std::string::npos)
      << r.error().message();
}

TEST(ClientFailure, ConnectionClosedAfterJobCreatedLosesTheJob) {
  FakeServer fake([](Peer& p, int) {
    if (p.ReadUntil(Command::kSubmitJob)) p.Send(Res(Command::kJobCreated, {"H:fake:1"}));
  });
  auto c = Client::Create(Plain(fake.address()));
  auto r = c->Do("f", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kConnectionLost);
  EXPECT_NE(r.error().message().find("had accepted it"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("H:fake:1"), std::string::npos) << r.error().message();
}

TEST(ClientFailure, ServerErrorRejectsOnlyTheRequestItAnswers) {
  FakeServer fake([](Peer& p, int) {
    p.ReadUntil(Command::kSubmitJobBg);
    p.ReadUntil(Command::kSubmitJobBg);
    p.Send(Res(Command::kError, {"QUEUE_ERROR", "Job queue is full"}) +
           Res(Command::kJobCreated, {"H:fake:2"}));
    p.Closed();
  });
  auto c = Client::Create(Plain(fake.address()));
  auto a = c->AddTask({.function = "f", .payload = "1", .background = true});
  auto b = c->AddTask({.function = "f", .payload = "2", .background = true});
  ASSERT_TRUE(c->RunTasks().ok());
  ASSERT_EQ(a->state(), TaskState::kFailed);
  EXPECT_EQ(a->error().detail(), "QUEUE_ERROR");
  EXPECT_TRUE(b->ok());
  EXPECT_EQ(b->handle(), "H:fake:2");
}

TEST(ClientFailure, HandshakeSendsClientIdAndExceptionsOption) {
  std::vector<Decoded> seen;
  std::mutex mu;
  FakeServer fake([&](Peer& p, int) {
    for (int i = 0; i < 3; ++i) {
      auto d = p.Read();
      if (!d) return;
      {
        std::lock_guard<std::mutex> l(mu);
        seen.push_back(*d);
      }
      if (d->command == Command::kOptionReq) p.Send(Res(Command::kOptionRes, {"exceptions"}));
      if (d->command == Command::kEchoReq) p.Send(Res(Command::kEchoRes, {d->parts[0]}));
    }
    p.Closed();
  });
  ClientOptions o = TestClientOptions(fake.address());
  o.client_id = "me-1";
  auto c = Client::Create(o);
  auto r = c->Echo("ping");
  ASSERT_TRUE(r.ok()) << r.error().message();
  std::lock_guard<std::mutex> l(mu);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].command, Command::kSetClientId);
  EXPECT_EQ(seen[0].parts[0], "me-1");
  EXPECT_EQ(seen[1].command, Command::kOptionReq);
  EXPECT_EQ(seen[1].parts[0], "exceptions");
  EXPECT_EQ(seen[2].command, Command::kEchoReq);
}

TEST(WorkerFailure, ReregistersAfterTheServerDropsTheConnection) {
  std::atomic<int> registrations{0};
  FakeServer fake([&](Peer& p, int index) {
    auto can_do = p.ReadUntil(Command::kCanDoTimeout);
    if (!can_do) return;
    EXPECT_EQ(can_do->parts[0], "f");
    EXPECT_EQ(can_do->parts[1], "2500");
    ++registrations;
    auto grab = p.ReadUntil(Command::kGrabJobUniq);
    if (index == 0) return;  // drop the first connection
    p.Closed();
  });
  WorkerOptions o = TestWorkerOptions(fake.address());
  auto w = Worker::Create(o);
  ASSERT_TRUE(w->Register("f", [](Job&) { return WorkResult(); }, {.timeout = 2500ms}).ok());
  WorkerThread t(std::move(*w));
  EXPECT_TRUE(Eventually([&] { return registrations >= 2; }));
}

TEST(WorkerFailure, HeartbeatDetectsASilentServer) {
  std::atomic<int> connections{0};
  FakeServer fake([&](Peer& p, int) {
    ++connections;
    p.ReadUntil(Command::kEchoReq);  // swallow everything, never answer
    p.Closed(2s);
  });
  WorkerOptions o = TestWorkerOptions(fake.address());
  o.heartbeat = 50ms;
  o.io_timeout = 150ms;
  auto w = Worker::Create(o);
  ASSERT_TRUE(w->Register("f", [](Job&) { return WorkResult(); }).ok());
  WorkerThread t(std::move(*w));
  EXPECT_TRUE(Eventually([&] { return connections >= 2; }));
}

TEST(WorkerFailure, AssignmentForAnUnknownFunctionIsFailed) {
  std::atomic<bool> failed{false};
  FakeServer fake([&](Peer& p, int) {
    p.ReadUntil(Command::kGrabJobUniq);
    p.Send(Res(Command::kJobAssignUniq, {"H:fake:3", "other", "", "payload"}));
    auto reply = p.ReadUntil(Command::kWorkFail);
    if (reply && reply->parts[0] == "H:fake:3") failed = true;
    p.Closed(2s);
  });
  auto w = Worker::Create(TestWorkerOptions(fake.address()));
  ASSERT_TRUE(w->Register("f", [](Job&) { return WorkResult(); }).ok());
  WorkerThread t(std::move(*w));
  EXPECT_TRUE(Eventually([&] { return failed.load(); }));
}

TEST(WorkerFailure, NoJobLeadsToPreSleepAndNoopToAnotherGrab) {
  std::atomic<int> grabs{0};
  std::atomic<bool> ran{false};
  FakeServer fake([&](Peer& p, int) {
    if (!p.ReadUntil(Command::kGrabJobUniq)) return;
    ++grabs;
    p.Send(Res(Command::kNoJob));
    if (!p.ReadUntil(Command::kPreSleep)) return;
    p.Send(Res(Command::kNoop));
    if (!p.ReadUntil(Command::kGrabJobUniq)) return;
    ++grabs;
    p.Send(Res(Command::kJobAssignUniq, {"H:fake:4", "f", "u", "data"}));
    auto done = p.ReadUntil(Command::kWorkComplete);
    if (done && done->parts[0] == "H:fake:4" && done->parts[1] == "atad") ran = true;
    p.Closed(2s);
  });
  auto w = Worker::Create(TestWorkerOptions(fake.address()));
  ASSERT_TRUE(w->Register("f", [](Job& j) {
                 return std::string(j.payload().rbegin(), j.payload().rend());
               }).ok());
  WorkerThread t(std::move(*w));
  EXPECT_TRUE(Eventually([&] { return ran.load(); }));
  EXPECT_EQ(grabs, 2);
}

}  // namespace
}  // namespace gearbox::testing

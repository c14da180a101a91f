#include "engine.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace gearbox::load {

using protocol::Command;
using protocol::DecodeResult;

namespace {
constexpr size_t kScratchSize = 256 * 1024;
constexpr size_t kMaxEvents = 512;
constexpr size_t kMaxErrors = 20;
constexpr int kTurnMs = 20;
}  // namespace

void Phase::Fail(const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  if (errors_.size() < kMaxErrors) errors_.push_back(message);
  failed.store(true, std::memory_order_release);
}

std::vector<std::string> Phase::Errors() {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

// ---------------------------------------------------------------------------------------------

Conn::Conn(int fd, Phase* phase) : phase_(phase), fd_(fd) {}

Conn::~Conn() {
  if (fd_ >= 0) ::close(fd_);
}

void Conn::Send(Command command, std::initializer_list<std::string_view> parts) {
  protocol::AppendPacket(out_, protocol::Magic::kRequest, command, parts);
  if (!dirty_ && loop_ != nullptr) loop_->MarkDirty(this);
}

void Conn::Fail(const std::string& message) {
  phase_->Fail(phase_->name + ": " + message);
}

bool Conn::HandleCommon(const protocol::Frame& frame) {
  switch (frame.command) {
    case Command::kEchoRes:
      phase_->echoes.fetch_add(1, std::memory_order_relaxed);
      if (echo_wait_ > 0) --echo_wait_;
      return true;
    case Command::kError:
      Fail("server sent ERROR " + std::string(frame.arg(0)) + " \"" + std::string(frame.arg(1)) +
           "\"");
      return true;
    default:
      return false;
  }
}

size_t Conn::Dispatch(const char* data, size_t size) {
  static const protocol::Limits kLimits{};
  size_t off = 0;
  while (off < size) {
    protocol::Item item;
    DecodeResult r = protocol::Decode(std::string_view(data + off, size - off), kLimits, &item);
    switch (r.status) {
      case DecodeResult::Status::kNeedMore:
        in_need_ = r.need;
        return off;
      case DecodeResult::Status::kFatal:
        Fail(std::string("undecodable reply from the server: ") +
             std::string(protocol::ErrorName(r.error)));
        closed_ = true;
        return size;
      case DecodeResult::Status::kSkip:
        Fail("unusable packet (type " + std::to_string(r.type) +
             "): " + std::string(protocol::ErrorName(r.error)));
        off += r.consumed;
        break;
      case DecodeResult::Status::kItem:
        off += r.consumed;
        if (item.kind != protocol::Item::Kind::kPacket) {
          Fail("unexpected text line from the server: " + std::string(item.text.substr(0, 80)));
        } else if (item.frame.magic != protocol::Magic::kResponse) {
          Fail("packet with request magic from the server");
        } else {
          OnPacket(item.frame);
        }
        break;
    }
  }
  in_need_ = 0;
  return off;
}

bool Conn::ReadAndDispatch(char* scratch, size_t scratch_size) {
  if (in_len_ == 0) {
    ssize_t n = ::recv(fd_, scratch, scratch_size, 0);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    size_t used = Dispatch(scratch, static_cast<size_t>(n));
    size_t rest = static_cast<size_t>(n) - used;
    if (rest > 0) {
      size_t cap = std::max({rest, in_need_, size_t{16 * 1024}});
      if (cap > in_cap_) {
        in_.reset(new char[cap]);
        in_cap_ = cap;
      }
      std::memcpy(in_.get(), scratch + used, rest);
      in_len_ = rest;
    }
    return !closed_;
  }
  // Part of a packet is buffered: read the rest behind it.
  size_t want = std::max(in_need_, in_len_ + 16 * 1024);
  if (want > in_cap_) {
    std::unique_ptr<char[]> bigger(new char[want]);
    std::memcpy(bigger.get(), in_.get(), in_len_);
    in_ = std::move(bigger);
    in_cap_ = want;
  }
  ssize_t n = ::recv(fd_, in_.get() + in_len_, in_cap_ - in_len_, 0);
  if (n == 0) return false;
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  in_len_ += static_cast<size_t>(n);
  size_t used = Dispatch(in_.get(), in_len_);
  if (used > 0) {
    std::memmove(in_.get(), in_.get() + used, in_len_ - used);
    in_len_ -= used;
  }
  if (in_len_ == 0 && in_cap_ > 1024 * 1024) {  // do not keep a large-payload buffer around
    in_.reset();
    in_cap_ = 0;
  }
  return !closed_;
}

bool Conn::Flush() {
  while (out_pos_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      return false;
    }
    out_pos_ += static_cast<size_t>(n);
  }
  out_.clear();
  out_pos_ = 0;
  if (out_.capacity() > 4 * 1024 * 1024) out_.shrink_to_fit();
  return true;
}

// ---------------------------------------------------------------------------------------------

Loop::Loop() : events_(kMaxEvents), scratch_(new char[kScratchSize]) {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
}

Loop::~Loop() {
  conns_.clear();
  if (epfd_ >= 0) ::close(epfd_);
}

void Loop::Add(std::unique_ptr<Conn> conn) {
  conn->loop_ = this;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = conn.get();
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, conn->fd(), &ev) != 0) {
    conn->Fail(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  conns_.push_back(std::move(conn));
}

void Loop::MarkDirty(Conn* c) {
  if (c->dirty_) return;
  c->dirty_ = true;
  dirty_.push_back(c);
}

void Loop::SetWriteInterest(Conn* c, bool on) {
  if (c->want_write_ == on) return;
  c->want_write_ = on;
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.ptr = c;
  ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd(), &ev);
}

void Loop::FlushDirty() {
  // Flushing never queues more output, so the list cannot grow while we walk it.
  for (Conn* c : dirty_) {
    c->dirty_ = false;
    if (c->closed_) continue;
    if (!c->Flush()) {
      c->Fail(std::string("write to the server failed: ") + std::strerror(errno));
      c->closed_ = true;
      ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd(), nullptr);
      continue;
    }
    SetWriteInterest(c, c->out_pos_ < c->out_.size());
  }
  dirty_.clear();
}

void Loop::Turn(int timeout_ms) {
  int n = ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
  for (int i = 0; i < n; ++i) {
    auto* c = static_cast<Conn*>(events_[i].data.ptr);
    if (c->closed_) continue;
    uint32_t ev = events_[i].events;
    if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
      if (!c->ReadAndDispatch(scratch_.get(), kScratchSize)) {
        if (!c->closed_) {
          c->Fail(c->settling_ || phase_->done.load()
                      ? "server closed the connection (after the phase)"
                      : "server closed the connection");
        }
        c->closed_ = true;
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd(), nullptr);
        continue;
      }
    }
    if ((ev & EPOLLOUT) != 0) MarkDirty(c);
  }
  FlushDirty();
}

void Loop::Run(Phase* phase, const std::function<void()>& tick) {
  phase_ = phase;
  for (auto& c : conns_) {
    c->phase_ = phase;
    c->OnStart();
  }
  FlushDirty();
  int64_t last_tick = NowNs();
  while (!phase->done.load(std::memory_order_acquire) &&
         !phase->failed.load(std::memory_order_relaxed)) {
    Turn(kTurnMs);
    if (tick && NowNs() - last_tick >= 200'000'000) {
      last_tick = NowNs();
      tick();
    }
  }
  FlushDirty();
}

bool Loop::Settle(Phase* phase, std::chrono::milliseconds timeout) {
  phase_ = phase;
  for (auto& c : conns_) {
    c->phase_ = phase;
    c->settling_ = true;
    if (c->closed_) continue;
    ++c->echo_wait_;
    c->Send(Command::kEchoReq, {"settle"});
  }
  FlushDirty();
  int64_t deadline =
      NowNs() + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  while (true) {
    bool all = true;
    for (auto& c : conns_) {
      if (!c->closed_ && !c->settled()) {
        all = false;
        break;
      }
    }
    if (all) return true;
    if (NowNs() >= deadline) {
      phase->Fail(phase->name + ": no ECHO_RES within " + std::to_string(timeout.count()) +
                  " ms while settling (the server stopped answering)");
      return false;
    }
    Turn(kTurnMs);
  }
}

void RunPhase(Phase* phase, std::vector<std::unique_ptr<Loop>>& loops,
              const std::function<void()>& tick) {
  phase->start_ns = NowNs();
  std::vector<std::thread> threads;
  for (size_t i = 1; i < loops.size(); ++i) {
    threads.emplace_back([&, i] { loops[i]->Run(phase, nullptr); });
  }
  loops[0]->Run(phase, tick);
  for (auto& t : threads)
    t.join();
}

}  // namespace gearbox::load

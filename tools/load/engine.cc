#include "engine.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

namespace gearbox::load {

using protocol::Command;
using protocol::DecodeResult;

namespace {
constexpr size_t kMaxErrors = 20;
constexpr int64_t kTurnNs = 20'000'000;  // the longest wait: done flags and ticks are checked
}  // namespace

// Defined in engine_epoll.cc and engine_uring.cc.
std::unique_ptr<Loop> NewEpollLoop(std::string* why_not);
std::unique_ptr<Loop> NewUringLoop(std::string* why_not, bool one_thread);

const char* EngineName(IoEngine engine) {
  return engine == IoEngine::kUring ? "io_uring" : "epoll";
}

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

void Conn::WakeAt(int64_t ns) {
  if (wake_ns_ < 0 && loop_ != nullptr) loop_->timers_.push_back(this);
  wake_ns_ = ns;
}

void Conn::Fail(const std::string& message) {
  phase_->Fail(phase_->name + ": " + message);
}

bool Conn::HandleCommon(const protocol::Frame& frame) {
  switch (frame.command) {
    case Command::kEchoRes:  // the settle step's probe (Loop::Settle)
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

void Conn::Ingest(const char* data, size_t size) {
  if (in_len_ == 0) {
    size_t used = Dispatch(data, size);
    size_t rest = size - used;
    if (rest > 0 && !closed_) {
      size_t cap = std::max({rest, in_need_, size_t{16 * 1024}});
      if (cap > in_cap_) {
        in_.reset(new char[cap]);
        in_cap_ = cap;
      }
      std::memcpy(in_.get(), data + used, rest);
      in_len_ = rest;
    }
    return;
  }
  // Part of a packet is buffered: append behind it, growing toward the declared packet size.
  size_t want = std::max(in_need_, in_len_ + size);
  if (want > in_cap_) {
    size_t cap = std::max(want, in_cap_ * 2);
    std::unique_ptr<char[]> bigger(new char[cap]);
    std::memcpy(bigger.get(), in_.get(), in_len_);
    in_ = std::move(bigger);
    in_cap_ = cap;
  }
  std::memcpy(in_.get() + in_len_, data, size);
  in_len_ += size;
  size_t used = Dispatch(in_.get(), in_len_);
  if (closed_) {
    in_len_ = 0;
    return;
  }
  if (used > 0) {
    std::memmove(in_.get(), in_.get() + used, in_len_ - used);
    in_len_ -= used;
  }
  if (in_len_ == 0 && in_cap_ > 1024 * 1024) {  // do not keep a large-payload buffer around
    in_.reset();
    in_cap_ = 0;
  }
}

// ---------------------------------------------------------------------------------------------

std::unique_ptr<Loop> Loop::Create(IoEngine engine, std::string* why_not, bool one_thread) {
  return engine == IoEngine::kUring ? NewUringLoop(why_not, one_thread) : NewEpollLoop(why_not);
}

Loop::~Loop() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
}

void Loop::RunAsync(Phase* phase) {
  std::unique_lock<std::mutex> lock(mu_);
  posted_ = phase;
  running_ = true;
  if (!thread_.joinable()) {
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> l(mu_);
      while (true) {
        cv_.wait(l, [this] { return quit_ || posted_ != nullptr; });
        if (posted_ == nullptr) return;  // quit
        Phase* ph = posted_;
        posted_ = nullptr;
        l.unlock();
        Run(ph, nullptr);
        l.lock();
        running_ = false;
        cv_.notify_all();
      }
    });
  }
  lock.unlock();
  cv_.notify_all();
}

void Loop::Join() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !running_; });
}

void Loop::Add(std::unique_ptr<Conn> conn) {
  conn->loop_ = this;
  Register(conn.get());
  conns_.push_back(std::move(conn));
}

void Loop::MarkDirty(Conn* c) {
  if (c->dirty_) return;
  c->dirty_ = true;
  dirty_.push_back(c);
}

void Loop::LostConnection(Conn* c, const std::string& why) {
  if (!c->closed_) {
    c->Fail(c->settling_ || phase_->done.load() ? why + " (after the phase)" : why);
  }
  Close(c);
}

void Loop::FireTimers() {
  if (timers_.empty()) return;
  int64_t now = NowNs();
  // OnTimer may ask for another time: collect the due ones first.
  std::vector<Conn*> due;
  for (size_t i = 0; i < timers_.size();) {
    Conn* c = timers_[i];
    if (c->wake_ns_ <= now) {
      c->wake_ns_ = -1;
      due.push_back(c);
      timers_[i] = timers_.back();
      timers_.pop_back();
    } else {
      ++i;
    }
  }
  for (Conn* c : due) {
    if (!c->closed_) c->OnTimer();
  }
}

void Loop::Turn(int64_t timeout_ns) {
  if (!timers_.empty()) {
    int64_t now = NowNs();
    for (const Conn* c : timers_)
      timeout_ns = std::min(timeout_ns, std::max<int64_t>(0, c->wake_ns_ - now));
  }
  Wait(timeout_ns);
  FireTimers();
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
    Turn(kTurnNs);
    if (tick && NowNs() - last_tick >= 200'000'000) {
      last_tick = NowNs();
      tick();
    }
  }
  FlushDirty();
  Push();
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
    Turn(kTurnNs);
  }
}

void RunPhase(Phase* phase, std::vector<std::unique_ptr<Loop>>& loops,
              const std::function<void()>& tick) {
  phase->start_ns = NowNs();
  for (size_t i = 1; i < loops.size(); ++i)
    loops[i]->RunAsync(phase);
  loops[0]->Run(phase, tick);
  for (size_t i = 1; i < loops.size(); ++i)
    loops[i]->Join();
}

}  // namespace gearbox::load

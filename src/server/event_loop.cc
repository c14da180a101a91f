#include "server/event_loop.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>

#include "server/uring.h"

namespace gearbox::server {

namespace {
constexpr uint64_t kTagWatch = 4;  // user_data tag of watch polls (connection ops use 1..3)
constexpr uint64_t kTagMask = 7;
}  // namespace

int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct EventLoop::Watch {
  int fd = -1;
  std::function<void()> cb;
  event* ev = nullptr;   // epoll engine
  bool armed = false;    // io_uring engine: a multishot poll is pending
  bool removed = false;  // Unwatch() called; freed when its poll completes
};

EventLoop::EventLoop(bool try_uring) {
  if (try_uring) {
    uring_ = CreateUring(&uring_why_not_);
  }
  if (!uring_) {
    event_config* cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
    base_ = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (base_ == nullptr) throw std::runtime_error("event_base_new failed");
  }
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
  wake_watch_ = WatchReadable(wake_fd_, [this] { OnWakeFd(); });
}

EventLoop::~EventLoop() {
  // Watches still registered (or removed but not yet completed) die with the loop.
  for (Watch* w : watches_) {
    if (w->ev != nullptr) event_free(w->ev);
    delete w;
  }
  watches_.clear();
  uring_.reset();
  if (base_ != nullptr) event_base_free(base_);
  ::close(wake_fd_);
}

void EventLoop::FreeWatch(Watch* w) {
  watches_.erase(std::remove(watches_.begin(), watches_.end(), w), watches_.end());
  if (w->ev != nullptr) event_free(w->ev);
  delete w;
}

EventLoop::Watch* EventLoop::WatchReadable(int fd, std::function<void()> cb) {
  auto* w = new Watch();
  watches_.push_back(w);
  w->fd = fd;
  w->cb = std::move(cb);
  if (uring_) {
    ArmWatch(w);
  } else {
    w->ev = event_new(
        base_, fd, EV_READ | EV_PERSIST,
        [](evutil_socket_t, short, void* arg) { static_cast<Watch*>(arg)->cb(); }, w);
    event_add(w->ev, nullptr);
  }
  return w;
}

void EventLoop::ArmWatch(Watch* w) {
  io_uring_sqe* sqe = uring_->Sqe();
  io_uring_prep_poll_multishot(sqe, w->fd, POLLIN);
  io_uring_sqe_set_data64(sqe, reinterpret_cast<uint64_t>(w) | kTagWatch);
  w->armed = true;
}

void EventLoop::Unwatch(Watch* w) {
  if (w == nullptr) return;
  if (!uring_) {
    FreeWatch(w);
    return;
  }
  w->removed = true;
  if (w->armed) {
    io_uring_sqe* sqe = uring_->Sqe();
    io_uring_prep_poll_remove(sqe, reinterpret_cast<uint64_t>(w) | kTagWatch);
    io_uring_sqe_set_data64(sqe, 0);
    uring_->Submit();
  } else {
    FreeWatch(w);
  }
}

void EventLoop::Run(const std::function<void()>& after_turn) {
  if (uring_) {
    RunUring(after_turn);
    return;
  }
  while (!stop_) {
    event_base_loop(base_, EVLOOP_ONCE);
    if (after_turn) after_turn();
  }
}

int64_t EventLoop::NextTimerMs() const {
  int64_t next = -1;
  for (const Timer* t : timers_) {
    if (t->deadline_ >= 0 && (next < 0 || t->deadline_ < next)) next = t->deadline_;
  }
  return next;
}

void EventLoop::FireTimers() {
  if (timers_.empty()) return;
  int64_t now = SteadyMillis();
  // A timer's callback may arm or destroy timers: collect first.
  std::vector<Timer*> due;
  for (Timer* t : timers_) {
    if (t->deadline_ >= 0 && t->deadline_ <= now) due.push_back(t);
  }
  for (Timer* t : due) {
    if (std::find(timers_.begin(), timers_.end(), t) == timers_.end()) continue;
    if (t->deadline_ < 0 || t->deadline_ > now) continue;
    t->deadline_ = -1;
    t->fn_();
  }
}

void EventLoop::Poll(int64_t timeout_ms) {
  if (uring_) uring_->Enable();
  if (!uring_) {
    timeval tv{static_cast<time_t>(timeout_ms / 1000),
               static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
    event_base_loopexit(base_, &tv);
    event_base_loop(base_, EVLOOP_ONCE);
    return;
  }
  uring_->SubmitAndWait(timeout_ms < 0 ? -1 : timeout_ms * 1'000'000);
  Dispatch();
}

void EventLoop::Dispatch() {
  uring_->Reap([this](io_uring_cqe* cqe) {
    uint64_t ud = io_uring_cqe_get_data64(cqe);
    if ((ud & kTagMask) == kTagWatch) {
      auto* w = reinterpret_cast<Watch*>(ud & ~kTagMask);
      bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;
      if (!more) w->armed = false;
      if (w->removed) {
        if (!more) FreeWatch(w);
        return;
      }
      if (cqe->res >= 0) w->cb();
      if (!w->armed && !w->removed) ArmWatch(w);
      return;
    }
    if (ud != 0 && completion_handler_) completion_handler_(cqe);
  });
}

void EventLoop::RunUring(const std::function<void()>& after_turn) {
  uring_->Enable();  // this thread is the ring's submitter from now on
  while (!stop_) {
    int64_t next = NextTimerMs();
    int64_t wait_ms = -1;
    if (next >= 0) wait_ms = std::max<int64_t>(0, next - SteadyMillis());
    uring_->SubmitAndWait(wait_ms < 0 ? -1 : wait_ms * 1'000'000);
    Dispatch();
    FireTimers();
    if (after_turn) after_turn();
  }
}

void EventLoop::Stop() {
  stop_ = true;
  if (base_ != nullptr) event_base_loopbreak(base_);
}

void EventLoop::Wake() {
  // Only the first waker since the last drain pays for the system call.
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  (void)n;
}

void EventLoop::OnWakeFd() {
  uint64_t v;
  ssize_t n = ::read(wake_fd_, &v, sizeof(v));
  (void)n;
  wake_pending_.store(false, std::memory_order_release);
  if (on_wake_) on_wake_();
}

Timer::Timer(EventLoop& loop, std::function<void()> fn) : loop_(loop), fn_(std::move(fn)) {
  if (loop_.uring_) {
    loop_.timers_.push_back(this);
  } else {
    ev_ = evtimer_new(loop_.base(), &Timer::OnFire, this);
  }
}

Timer::~Timer() {
  if (ev_ != nullptr) {
    event_free(ev_);
  } else {
    auto& v = loop_.timers_;
    v.erase(std::remove(v.begin(), v.end(), this), v.end());
  }
}

void Timer::Arm(int64_t ms) {
  if (ev_ == nullptr) {
    deadline_ = SteadyMillis() + ms;
    return;
  }
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  evtimer_add(ev_, &tv);
}

void Timer::Cancel() {
  if (ev_ == nullptr) {
    deadline_ = -1;
    return;
  }
  evtimer_del(ev_);
}

void Timer::OnFire(evutil_socket_t, short, void* arg) {
  static_cast<Timer*>(arg)->fn_();
}

}  // namespace gearbox::server

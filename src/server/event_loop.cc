#include "server/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>

namespace gearbox::server {

EventLoop::EventLoop() {
  event_config* cfg = event_config_new();
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  base_ = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (base_ == nullptr) throw std::runtime_error("event_base_new failed");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
  wake_ev_ = event_new(base_, wake_fd_, EV_READ | EV_PERSIST, &EventLoop::OnWakeFd, this);
  event_add(wake_ev_, nullptr);
}

EventLoop::~EventLoop() {
  event_free(wake_ev_);
  ::close(wake_fd_);
  event_base_free(base_);
}

void EventLoop::Run(const std::function<void()>& after_turn) {
  while (!stop_) {
    event_base_loop(base_, EVLOOP_ONCE);
    if (after_turn) after_turn();
  }
}

void EventLoop::Stop() {
  stop_ = true;
  event_base_loopbreak(base_);
}

void EventLoop::Wake() {
  // Only the first waker since the last drain pays for the system call.
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  (void)n;
}

void EventLoop::OnWakeFd(evutil_socket_t fd, short, void* arg) {
  auto* self = static_cast<EventLoop*>(arg);
  uint64_t v;
  ssize_t n = ::read(fd, &v, sizeof(v));
  (void)n;
  self->wake_pending_.store(false, std::memory_order_release);
  if (self->on_wake_) self->on_wake_();
}

Timer::Timer(EventLoop& loop, std::function<void()> fn) : fn_(std::move(fn)) {
  ev_ = evtimer_new(loop.base(), &Timer::OnFire, this);
}

Timer::~Timer() { event_free(ev_); }

void Timer::Arm(int64_t ms) {
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  evtimer_add(ev_, &tv);
}

void Timer::Cancel() { evtimer_del(ev_); }

void Timer::OnFire(evutil_socket_t, short, void* arg) { static_cast<Timer*>(arg)->fn_(); }

}  // namespace gearbox::server

// EventLoop: one libevent event_base driven by one thread, with an "after turn" hook and a
// thread-safe Wake() so other threads can get its attention (used with a mailbox).
// Everything except Wake() must be called from the loop's own thread.
#pragma once

#include <event2/event.h>

#include <atomic>
#include <functional>

namespace gearbox::server {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  event_base* base() const { return base_; }

  // Runs until Stop(). After every batch of ready events, `after_turn` runs: this is where
  // output is flushed (Redis's beforeSleep).
  void Run(const std::function<void()>& after_turn);
  void Stop();
  bool stopping() const { return stop_; }

  // Thread-safe: makes the loop return from its wait and call `on_wake` (set before Run()).
  void Wake();
  void SetOnWake(std::function<void()> on_wake) { on_wake_ = std::move(on_wake); }

 private:
  static void OnWakeFd(evutil_socket_t fd, short what, void* arg);

  event_base* base_ = nullptr;
  int wake_fd_ = -1;
  event* wake_ev_ = nullptr;
  std::atomic<bool> wake_pending_{false};
  std::function<void()> on_wake_;
  bool stop_ = false;
};

// A one-shot timer on a loop; Arm() re-arms it. Owned and used by the loop's thread.
class Timer {
 public:
  Timer(EventLoop& loop, std::function<void()> fn);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void Arm(int64_t ms);
  void Cancel();

 private:
  static void OnFire(evutil_socket_t, short, void* arg);
  event* ev_;
  std::function<void()> fn_;
};

}  // namespace gearbox::server

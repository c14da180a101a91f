// EventLoop: the reactor one thread runs. Two engines behind one interface:
//   io_uring — the loop waits in io_uring_enter; fd watches are multishot polls, timers are the
//              wait's timeout, and connection I/O (IoLoop) submits into the same ring, so a
//              busy turn costs one system call whatever the number of connections;
//   epoll    — libevent (fallback when the kernel refuses io_uring, or --io-engine epoll).
// It offers: readable-fd watches, one-shot timers, an "after turn" hook (where output is
// flushed: Redis's beforeSleep) and a thread-safe Wake() for mailboxes.
// Everything except Wake() must be called from the loop's own thread.
#pragma once

#include <event2/event.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct io_uring_cqe;

namespace gearbox::io {
class Ring;
}  // namespace gearbox::io

namespace gearbox::server {

class Timer;

class EventLoop {
 public:
  // Uses io_uring when `try_uring` is set and the kernel allows it; else libevent (epoll).
  explicit EventLoop(bool try_uring = false);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  bool uses_uring() const { return uring_ != nullptr; }
  io::Ring* uring() const { return uring_.get(); }
  // Why io_uring is not used (empty when it is, or was not asked for).
  const std::string& uring_unavailable() const { return uring_why_not_; }
  // The libevent base (epoll engine only).
  event_base* base() const { return base_; }

  // Calls `cb` when `fd` becomes readable, until Unwatch(). The callback must drain the fd
  // (read or accept until EAGAIN): with io_uring the watch fires on new readiness only.
  struct Watch;
  Watch* WatchReadable(int fd, std::function<void()> cb);
  void Unwatch(Watch* w);

  // io_uring engine: completions of operations other than watches go here (IoLoop's I/O).
  void SetCompletionHandler(std::function<void(io_uring_cqe*)> handler) {
    completion_handler_ = std::move(handler);
  }

  // Runs until Stop(); `after_turn` runs after every batch of ready events.
  void Run(const std::function<void()>& after_turn);
  void Stop();
  bool stopping() const { return stop_; }
  // One wait-and-dispatch step outside Run() (used to flush output before exiting).
  void Poll(int64_t timeout_ms);

  // Thread-safe: makes the loop call `on_wake` (set before Run()) soon.
  void Wake();
  void SetOnWake(std::function<void()> on_wake) { on_wake_ = std::move(on_wake); }

 private:
  friend class Timer;
  void RunUring(const std::function<void()>& after_turn);
  void Dispatch();  // io_uring engine: handles every completion ready now
  void ArmWatch(Watch* w);
  void FreeWatch(Watch* w);
  void OnWakeFd();
  int64_t NextTimerMs() const;
  void FireTimers();

  event_base* base_ = nullptr;
  std::unique_ptr<io::Ring> uring_;
  std::string uring_why_not_;
  std::function<void(io_uring_cqe*)> completion_handler_;
  std::vector<Timer*> timers_;   // io_uring engine: every Timer of this loop
  std::vector<Watch*> watches_;  // every Watch not yet freed
  int wake_fd_ = -1;
  Watch* wake_watch_ = nullptr;
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
  friend class EventLoop;
  static void OnFire(evutil_socket_t, short, void* arg);
  EventLoop& loop_;
  event* ev_ = nullptr;    // epoll engine
  int64_t deadline_ = -1;  // io_uring engine: steady milliseconds, -1 = not armed
  std::function<void()> fn_;
};

// Steady-clock milliseconds (the timers' time base).
int64_t SteadyMillis();

}  // namespace gearbox::server

// Uring: one io_uring instance for one event-loop thread, with a ring of provided receive
// buffers and an eventfd that tells the thread's libevent loop when completions are ready.
// On this project's machines a system call costs microseconds, so connection reads and writes
// go through the ring: a whole loop turn's sends and receive re-arms cost one io_uring_enter.
// Owned and used by one thread. Create() returns nullptr when the kernel refuses io_uring
// (the caller then falls back to plain epoll reads and writes).
#pragma once

#include <liburing.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "server/event_loop.h"

namespace gearbox::server {

class Uring {
 public:
  // `on_ready` runs on the loop's thread when completions may be waiting.
  static std::unique_ptr<Uring> Create(EventLoop& loop, std::function<void()> on_ready,
                                       std::string* why_not);
  ~Uring();
  Uring(const Uring&) = delete;
  Uring& operator=(const Uring&) = delete;

  // A submission entry (submits queued entries first if the ring is full).
  io_uring_sqe* Sqe();
  // Submits everything queued (one system call; nothing when the queue is empty).
  void Submit();
  // Calls f(cqe) for every completion ready now, without a system call.
  template <typename F>
  void Reap(F&& f) {
    io_uring_cqe* cqe;
    unsigned head;
    unsigned n = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      f(cqe);
      ++n;
    }
    io_uring_cq_advance(&ring_, n);
  }
  bool CompletionsPending() { return io_uring_cq_ready(&ring_) > 0; }

  // Provided receive buffers (buffer group kBufferGroup).
  static constexpr int kBufferGroup = 7;
  std::string_view Buffer(uint16_t bid, size_t len) const {
    return {buffers_.get() + size_t{bid} * kBufferSize, len};
  }
  void ReturnBuffer(uint16_t bid);

 private:
  Uring() = default;
  static void OnEventFd(evutil_socket_t, short, void* arg);

  static constexpr unsigned kEntries = 4096;
  static constexpr unsigned kBuffers = 256;
  static constexpr size_t kBufferSize = 16 * 1024;

  io_uring ring_{};
  bool ring_ok_ = false;
  io_uring_buf_ring* br_ = nullptr;
  size_t br_bytes_ = 0;
  std::unique_ptr<char[]> buffers_;
  int event_fd_ = -1;
  event* ev_ = nullptr;
  std::function<void()> on_ready_;
  unsigned queued_ = 0;
};

}  // namespace gearbox::server

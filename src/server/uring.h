// Uring: the io_uring instance of one event loop (EventLoop's io_uring engine), with a ring of
// provided receive buffers so idle connections hold no receive buffer.
// On this project's machines a system call costs microseconds, so the loop waits, submits and
// collects all its I/O through this ring: a busy turn costs one io_uring_enter.
// Owned and used by one thread. Create() returns nullptr when the kernel refuses io_uring.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace gearbox::server {

class Uring {
 public:
  static std::unique_ptr<Uring> Create(std::string* why_not);
  ~Uring();
  Uring(const Uring&) = delete;
  Uring& operator=(const Uring&) = delete;

  // Makes the calling thread the ring's only submitter; call from the loop's thread before
  // its first submission (the ring may have been created on another thread).
  void Enable();
  bool deferred_taskrun() const { return deferred_; }

  // A submission entry (submits queued entries first if the ring is full).
  io_uring_sqe* Sqe();
  // Submits everything queued (one system call; nothing when the queue is empty).
  void Submit();
  // Submits and waits for at least one completion or `timeout_ms` (-1: no timeout).
  void SubmitAndWait(int64_t timeout_ms);
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

  // Provided receive buffers (buffer group kBufferGroup).
  static constexpr int kBufferGroup = 7;
  std::string_view Buffer(uint16_t bid, size_t len) const {
    return {buffers_.get() + size_t{bid} * kBufferSize, len};
  }
  void ReturnBuffer(uint16_t bid);

 private:
  Uring() = default;

  static constexpr unsigned kEntries = 4096;
  static constexpr unsigned kBuffers = 256;
  static constexpr size_t kBufferSize = 16 * 1024;

  io_uring ring_{};
  bool ring_ok_ = false;
  bool disabled_ = false;  // created with R_DISABLED; Enable() turns it on
  bool deferred_ = false;  // DEFER_TASKRUN + SINGLE_ISSUER
  io_uring_buf_ring* br_ = nullptr;
  size_t br_bytes_ = 0;
  std::unique_ptr<char[]> buffers_;
  unsigned queued_ = 0;
};

}  // namespace gearbox::server

// Ring: one io_uring as an event loop uses it, with a BufferRing of provided receive buffers.
// The loop queues its receives and sends during a turn and submits them together with the
// wait, so a busy turn costs one io_uring_enter (on this project's machines a system call costs
// microseconds). Used by the server's io_uring engine (src/server/uring.h) and by gearbox-load's
// (tools/load/ring.h), each with its own setup.
// Owned by one loop and used by one thread at a time: the thread running that loop (a ring set
// up with SINGLE_ISSUER: only the thread that enabled it, see Enable()).
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "io/buffer_ring.h"

namespace gearbox::io {

class Ring {
 public:
  struct Setup {
    unsigned flags;     // IORING_SETUP_*
    const char* words;  // the same in words, for reports
  };
  struct Options {
    std::span<const Setup> setups;  // tried in order until the kernel accepts one
    unsigned entries = 4096;
    int buffer_group = 1;
    unsigned buffers = 256;  // a power of two
    size_t buffer_size = 16 * 1024;
    bool need_ext_arg = false;  // refuse kernels without a wait timeout in io_uring_enter itself
  };
  // nullptr, with the reason, when the kernel refuses every setup or lacks what a loop needs
  // (IORING_FEAT_FAST_POLL, provided buffer rings).
  static std::unique_ptr<Ring> Create(const Options& o, std::string* why_not);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // A ring set up with IORING_SETUP_R_DISABLED starts when the thread that will be its only
  // submitter calls this (it may have been created on another thread); otherwise a no-op.
  void Enable();
  bool deferred_taskrun() const { return (flags_ & IORING_SETUP_DEFER_TASKRUN) != 0; }
  // The setup the kernel accepted, in words.
  const char* setup() const { return setup_; }

  // A submission entry (submits what is queued first when the submission queue is full).
  io_uring_sqe* Sqe();
  // Submits everything queued; nothing when the queue is empty.
  void Submit();
  // Submits everything queued and waits until a completion is ready or `timeout_ns` passed
  // (negative: no timeout; 0: do not wait). liburing makes no system call when a completion is
  // ready and nothing is queued.
  void SubmitAndWait(int64_t timeout_ns);
  // Calls f(cqe) for every completion ready now, without a system call, then hands the
  // buffers given back with ReturnBuffer to the kernel.
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
    buffers_->Commit();
  }
  // Waits up to `timeout_ns` for one completion and consumes it (probes at setup time).
  bool WaitOne(int64_t timeout_ns, io_uring_cqe* out);

  // Provided receive buffers: a receive names buffer_group(); a buffer named by a completion is
  // the caller's until it is given back with ReturnBuffer.
  int buffer_group() const { return buffers_->group(); }
  std::string_view Buffer(uint16_t bid, size_t len) const { return buffers_->Buffer(bid, len); }
  void ReturnBuffer(uint16_t bid) { buffers_->Return(bid); }
  void CommitBuffers() { buffers_->Commit(); }

 private:
  Ring() = default;

  io_uring ring_{};
  bool ring_ok_ = false;
  unsigned flags_ = 0;
  bool disabled_ = false;  // created with R_DISABLED; Enable() turns it on
  const char* setup_ = "";
  std::unique_ptr<BufferRing> buffers_;  // destroyed after ring_ is torn down (~Ring)
  unsigned queued_ = 0;                  // entries prepared since the last submit
};

}  // namespace gearbox::io

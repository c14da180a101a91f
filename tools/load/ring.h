// Ring: the io_uring instance of one gearbox-load loop (UringLoop), with a ring of provided
// receive buffers so that a connection holds a buffer only while its bytes are dispatched.
// The same design as the server's (src/server/uring.h): the loop queues its receives and sends
// during a turn and submits them together with the wait, so a busy turn costs one
// io_uring_enter. On these machines a system call costs microseconds; a tool that pays one per
// read and one per send measures itself rather than the server.
// Owned by one UringLoop; used by one thread at a time (the thread running that loop).
// Create() returns nullptr, with the reason, when the kernel refuses what the loop needs.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace gearbox::load {

class Ring {
 public:
  // `one_thread`: every call on this ring, from creation to destruction, comes from the creating
  // thread. Such a ring is set up with DEFER_TASKRUN (completions are posted only while the
  // thread waits in io_uring_enter), which needs a single issuer.
  static std::unique_ptr<Ring> Create(bool one_thread, std::string* why_not);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // A submission entry (submits what is queued first when the submission queue is full).
  io_uring_sqe* Sqe();
  // Submits everything queued; nothing when the queue is empty.
  void Submit();
  // Submits everything queued and waits until a completion is ready or `timeout_ns` passed
  // (0: do not wait): one io_uring_enter, none when completions are ready and nothing is queued.
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
    CommitBuffers();
  }

  // Provided receive buffers (buffer group kBufferGroup). A buffer named by a completion is
  // the caller's until it is given back with ReturnBuffer.
  static constexpr int kBufferGroup = 1;
  std::string_view Buffer(uint16_t bid, size_t len) const {
    return {buffers_.get() + size_t{bid} * kBufferSize, len};
  }
  void ReturnBuffer(uint16_t bid);

  // The setup flags the kernel accepted, in words (for the report).
  const std::string& setup() const { return setup_; }

 private:
  Ring() = default;
  void CommitBuffers();
  bool ProbeMultishotRecv(std::string* why_not);

  static constexpr unsigned kEntries = 4096;
  static constexpr unsigned kBuffers = 1024;
  static constexpr size_t kBufferSize = 32 * 1024;

  io_uring ring_{};
  bool ring_ok_ = false;
  io_uring_buf_ring* br_ = nullptr;
  size_t br_bytes_ = 0;
  std::unique_ptr<char[]> buffers_;
  unsigned queued_ = 0;  // entries prepared since the last submit
  int returned_ = 0;     // buffers added to the buffer ring but not yet published
  std::string setup_;
};

}  // namespace gearbox::load

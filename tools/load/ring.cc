#include "ring.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <cstring>

namespace gearbox::load {

std::unique_ptr<Ring> Ring::Create(bool one_thread, std::string* why_not) {
  std::unique_ptr<Ring> r(new Ring());
  // DEFER_TASKRUN (one-thread rings only): completion work runs only inside this thread's wait,
  // so the server's sends into this process never interrupt it or contend for the ring: the
  // server's own ring is set up the same way (src/server/uring.cc). COOP_TASKRUN otherwise:
  // completions are not pushed to the thread with an interrupt while it runs. Older kernels
  // refuse the flags; fall back step by step.
  struct Try {
    unsigned flags;
    const char* words;
    bool needs_one_thread;
  };
  static constexpr Try kTries[] = {
      {IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
       "submit-all, defer-taskrun", true},
      {IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
       "submit-all, coop-taskrun", false},
      {IORING_SETUP_SUBMIT_ALL, "submit-all", false},
      {0, "plain", false},
  };
  io_uring_params params{};
  int rc = -1;
  for (const Try& t : kTries) {
    if (t.needs_one_thread && !one_thread) continue;
    params = io_uring_params{};
    params.flags = t.flags;
    rc = io_uring_queue_init_params(kEntries, &r->ring_, &params);
    if (rc >= 0) {
      r->setup_ = t.words;
      break;
    }
  }
  if (rc < 0) {
    *why_not = std::string("io_uring_queue_init: ") + std::strerror(-rc);
    return nullptr;
  }
  r->ring_ok_ = true;
  if ((params.features & IORING_FEAT_FAST_POLL) == 0) {
    *why_not = "io_uring without IORING_FEAT_FAST_POLL (kernel too old)";
    return nullptr;
  }
  if ((params.features & IORING_FEAT_EXT_ARG) == 0) {
    *why_not = "io_uring without IORING_FEAT_EXT_ARG (no wait timeout in io_uring_enter)";
    return nullptr;
  }
  // Provided buffers: the kernel picks one per receive, so idle connections hold none.
  r->br_bytes_ = kBuffers * sizeof(io_uring_buf);
  void* mem =
      ::mmap(nullptr, r->br_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) {
    *why_not = "mmap for the buffer ring failed";
    return nullptr;
  }
  r->br_ = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(mem);
  reg.ring_entries = kBuffers;
  reg.bgid = kBufferGroup;
  rc = io_uring_register_buf_ring(&r->ring_, &reg, 0);
  if (rc < 0) {
    *why_not = std::string("io_uring_register_buf_ring: ") + std::strerror(-rc);
    return nullptr;
  }
  io_uring_buf_ring_init(r->br_);
  r->buffers_.reset(new char[kBuffers * kBufferSize]);
  int mask = io_uring_buf_ring_mask(kBuffers);
  for (unsigned i = 0; i < kBuffers; ++i) {
    io_uring_buf_ring_add(r->br_, r->buffers_.get() + i * kBufferSize, kBufferSize,
                          static_cast<unsigned short>(i), mask, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(r->br_, kBuffers);
  if (!r->ProbeMultishotRecv(why_not)) return nullptr;
  return r;
}

bool Ring::ProbeMultishotRecv(std::string* why_not) {
  // Multishot receive needs Linux 6.0; older kernels refuse it only when it is used. Try it on
  // a socket pair: one byte must arrive in a provided buffer with the receive still armed.
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    *why_not = std::string("socketpair: ") + std::strerror(errno);
    return false;
  }
  io_uring_sqe* sqe = Sqe();
  io_uring_prep_recv_multishot(sqe, sv[0], nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kBufferGroup;
  io_uring_sqe_set_data64(sqe, 1);
  Submit();
  bool ok = ::send(sv[1], "x", 1, MSG_NOSIGNAL) == 1;
  int res = 0;
  unsigned flags = 0;
  if (ok) {
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec ts{1, 0};
    ok = io_uring_wait_cqe_timeout(&ring_, &cqe, &ts) == 0 && cqe != nullptr;
    if (ok) {
      res = cqe->res;
      flags = cqe->flags;
      io_uring_cqe_seen(&ring_, cqe);
      if ((flags & IORING_CQE_F_BUFFER) != 0) {
        ReturnBuffer(static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT));
        CommitBuffers();
      }
    }
  }
  ::close(sv[0]);
  ::close(sv[1]);
  // Closing the pair ends the receive; collect its last completion so none is left over.
  if ((flags & IORING_CQE_F_MORE) != 0) {
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec ts{1, 0};
    if (io_uring_wait_cqe_timeout(&ring_, &cqe, &ts) == 0 && cqe != nullptr) {
      io_uring_cqe_seen(&ring_, cqe);
    }
  }
  if (!ok || res != 1 || (flags & IORING_CQE_F_MORE) == 0) {
    *why_not = "multishot receive with provided buffers does not work here (needs Linux 6.0): " +
               (ok ? "result " + std::to_string(res) : std::string("no completion"));
    return false;
  }
  return true;
}

Ring::~Ring() {
  // Tearing the ring down cancels the receives still armed (they reference our buffers).
  if (ring_ok_) io_uring_queue_exit(&ring_);
  if (br_ != nullptr) ::munmap(br_, br_bytes_);
}

io_uring_sqe* Ring::Sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    Submit();
    sqe = io_uring_get_sqe(&ring_);
  }
  ++queued_;
  return sqe;
}

void Ring::Submit() {
  if (queued_ == 0) return;
  queued_ = 0;
  io_uring_submit(&ring_);
}

void Ring::SubmitAndWait(int64_t timeout_ns) {
  queued_ = 0;
  if (timeout_ns < 0) timeout_ns = 0;
  __kernel_timespec ts{};
  ts.tv_sec = timeout_ns / 1'000'000'000;
  ts.tv_nsec = timeout_ns % 1'000'000'000;
  io_uring_cqe* cqe = nullptr;
  // With IORING_FEAT_EXT_ARG this is one io_uring_enter that submits, then waits with the
  // timeout; liburing skips the call when a completion is ready and nothing is queued.
  io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
}

void Ring::ReturnBuffer(uint16_t bid) {
  io_uring_buf_ring_add(br_, buffers_.get() + size_t{bid} * kBufferSize, kBufferSize, bid,
                        io_uring_buf_ring_mask(kBuffers), returned_);
  ++returned_;
}

void Ring::CommitBuffers() {
  if (returned_ == 0) return;
  io_uring_buf_ring_advance(br_, returned_);
  returned_ = 0;
}

}  // namespace gearbox::load

#include "io/ring.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gearbox::io {

std::unique_ptr<Ring> Ring::Create(const Options& o, std::string* why_not) {
  std::unique_ptr<Ring> r(new Ring());
  io_uring_params params{};
  int rc = -EINVAL;
  for (const Setup& s : o.setups) {
    params = io_uring_params{};
    params.flags = s.flags;
    rc = io_uring_queue_init_params(o.entries, &r->ring_, &params);
    if (rc == 0) {
      r->flags_ = s.flags;
      r->setup_ = s.words;
      r->disabled_ = (s.flags & IORING_SETUP_R_DISABLED) != 0;
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
  if (o.need_ext_arg && (params.features & IORING_FEAT_EXT_ARG) == 0) {
    *why_not = "io_uring without IORING_FEAT_EXT_ARG (no wait timeout in io_uring_enter)";
    return nullptr;
  }
  // Provided buffers: the kernel picks one per receive, so idle connections hold none.
  r->buffers_ = BufferRing::Register(&r->ring_, o.buffer_group, o.buffers, o.buffer_size, why_not);
  if (r->buffers_ == nullptr) return nullptr;
  return r;
}

Ring::~Ring() {
  // Tearing the ring down cancels the receives still armed (they point into buffers_).
  if (ring_ok_) io_uring_queue_exit(&ring_);
}

void Ring::Enable() {
  if (!disabled_) return;
  disabled_ = false;
  // liburing 2.3 declares io_uring_enable_rings() but does not export it: register directly.
  ::syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
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
  if (timeout_ns < 0) {
    io_uring_submit_and_wait(&ring_, 1);
    return;
  }
  __kernel_timespec ts{};
  ts.tv_sec = timeout_ns / 1'000'000'000;
  ts.tv_nsec = timeout_ns % 1'000'000'000;
  io_uring_cqe* cqe = nullptr;
  // With IORING_FEAT_EXT_ARG this is one io_uring_enter that submits, then waits with the
  // timeout (without it liburing queues a timeout entry first).
  io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
}

bool Ring::WaitOne(int64_t timeout_ns, io_uring_cqe* out) {
  __kernel_timespec ts{};
  ts.tv_sec = timeout_ns / 1'000'000'000;
  ts.tv_nsec = timeout_ns % 1'000'000'000;
  io_uring_cqe* cqe = nullptr;
  if (io_uring_wait_cqe_timeout(&ring_, &cqe, &ts) != 0 || cqe == nullptr) return false;
  *out = *cqe;
  io_uring_cqe_seen(&ring_, cqe);
  return true;
}

}  // namespace gearbox::io

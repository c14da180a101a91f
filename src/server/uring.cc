#include "server/uring.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gearbox::server {

std::unique_ptr<Uring> Uring::Create(std::string* why_not) {
  std::unique_ptr<Uring> u(new Uring());
  // Preferred: completions are processed only when this loop's thread waits in
  // io_uring_enter (DEFER_TASKRUN), so the other CPU's network stack never interrupts it or
  // contends on the ring; measured here at half the CPU per job of the default mode. That mode
  // needs a single submitting thread, which the ring learns when the loop enables it on its own
  // thread (R_DISABLED + Enable()). Older kernels get the plain mode.
  const unsigned kFlagSets[] = {
      IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
          IORING_SETUP_R_DISABLED,
      IORING_SETUP_SUBMIT_ALL,
      0,
  };
  io_uring_params params{};
  int rc = -EINVAL;
  for (unsigned flags : kFlagSets) {
    params = io_uring_params{};
    params.flags = flags;
    rc = io_uring_queue_init_params(kEntries, &u->ring_, &params);
    if (rc == 0) {
      u->disabled_ = (flags & IORING_SETUP_R_DISABLED) != 0;
      u->deferred_ = (flags & IORING_SETUP_DEFER_TASKRUN) != 0;
      break;
    }
  }
  if (rc < 0) {
    *why_not = std::string("io_uring_queue_init: ") + std::strerror(-rc);
    return nullptr;
  }
  u->ring_ok_ = true;
  if ((params.features & IORING_FEAT_FAST_POLL) == 0) {
    *why_not = "io_uring without IORING_FEAT_FAST_POLL (kernel too old)";
    return nullptr;
  }
  // Provided buffers: the kernel picks one per receive, so idle connections hold none.
  u->br_bytes_ = kBuffers * sizeof(io_uring_buf);
  void* mem =
      ::mmap(nullptr, u->br_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) {
    *why_not = "mmap for the buffer ring failed";
    return nullptr;
  }
  u->br_ = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(mem);
  reg.ring_entries = kBuffers;
  reg.bgid = kBufferGroup;
  rc = io_uring_register_buf_ring(&u->ring_, &reg, 0);
  if (rc < 0) {
    *why_not = std::string("io_uring_register_buf_ring: ") + std::strerror(-rc);
    return nullptr;
  }
  io_uring_buf_ring_init(u->br_);
  u->buffers_.reset(new char[kBuffers * kBufferSize]);
  int mask = io_uring_buf_ring_mask(kBuffers);
  for (unsigned i = 0; i < kBuffers; ++i) {
    io_uring_buf_ring_add(u->br_, u->buffers_.get() + i * kBufferSize, kBufferSize,
                          static_cast<unsigned short>(i), mask, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(u->br_, kBuffers);
  return u;
}

Uring::~Uring() {
  if (ring_ok_) io_uring_queue_exit(&ring_);
  if (br_ != nullptr) ::munmap(br_, br_bytes_);
}

io_uring_sqe* Uring::Sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    Submit();
    sqe = io_uring_get_sqe(&ring_);
  }
  ++queued_;
  return sqe;
}

void Uring::Submit() {
  if (queued_ == 0) return;
  queued_ = 0;
  io_uring_submit(&ring_);
}

void Uring::Enable() {
  if (!disabled_) return;
  disabled_ = false;
  // liburing 2.3 declares io_uring_enable_rings() but does not export it: register directly.
  ::syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
}

void Uring::SubmitAndWait(int64_t timeout_ms) {
  queued_ = 0;
  io_uring_cqe* cqe = nullptr;
  if (timeout_ms < 0) {
    io_uring_submit_and_wait(&ring_, 1);
    return;
  }
  __kernel_timespec ts{};
  ts.tv_sec = timeout_ms / 1000;
  ts.tv_nsec = (timeout_ms % 1000) * 1000000;
  io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
}

void Uring::ReturnBuffer(uint16_t bid) {
  io_uring_buf_ring_add(br_, buffers_.get() + size_t{bid} * kBufferSize, kBufferSize, bid,
                        io_uring_buf_ring_mask(kBuffers), 0);
  io_uring_buf_ring_advance(br_, 1);
}

}  // namespace gearbox::server

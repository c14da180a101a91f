#include "server/uring.h"

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

namespace gearbox::server {

std::unique_ptr<Uring> Uring::Create(EventLoop& loop, std::function<void()> on_ready,
                                     std::string* why_not) {
  std::unique_ptr<Uring> u(new Uring());
  io_uring_params params{};
  params.flags = IORING_SETUP_SUBMIT_ALL;
  int rc = io_uring_queue_init_params(kEntries, &u->ring_, &params);
  if (rc < 0) {
    params.flags = 0;  // older kernels
    rc = io_uring_queue_init_params(kEntries, &u->ring_, &params);
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
  void* mem = ::mmap(nullptr, u->br_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE,
                     -1, 0);
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
  // Completions signal an eventfd that libevent watches edge-triggered (no read needed).
  u->event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (u->event_fd_ < 0 || io_uring_register_eventfd(&u->ring_, u->event_fd_) < 0) {
    *why_not = "io_uring_register_eventfd failed";
    return nullptr;
  }
  u->on_ready_ = std::move(on_ready);
  u->ev_ = event_new(loop.base(), u->event_fd_, EV_READ | EV_PERSIST | EV_ET, &Uring::OnEventFd,
                     u.get());
  event_add(u->ev_, nullptr);
  return u;
}

Uring::~Uring() {
  if (ev_ != nullptr) event_free(ev_);
  if (ring_ok_) io_uring_queue_exit(&ring_);
  if (event_fd_ >= 0) ::close(event_fd_);
  if (br_ != nullptr) ::munmap(br_, br_bytes_);
}

void Uring::OnEventFd(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Uring*>(arg);
  self->on_ready_();
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

void Uring::ReturnBuffer(uint16_t bid) {
  io_uring_buf_ring_add(br_, buffers_.get() + size_t{bid} * kBufferSize, kBufferSize, bid,
                        io_uring_buf_ring_mask(kBuffers), 0);
  io_uring_buf_ring_advance(br_, 1);
}

}  // namespace gearbox::server

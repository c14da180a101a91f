#include "io/buffer_ring.h"

#include <sys/mman.h>

#include <cstring>

namespace gearbox::io {

std::unique_ptr<BufferRing> BufferRing::Register(io_uring* ring, int group, unsigned count,
                                                 size_t size, std::string* why_not) {
  std::unique_ptr<BufferRing> b(new BufferRing());
  b->group_ = group;
  b->count_ = count;
  b->size_ = size;
  b->br_bytes_ = count * sizeof(io_uring_buf);
  void* mem =
      ::mmap(nullptr, b->br_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) {
    *why_not = "mmap for the buffer ring failed";
    return nullptr;
  }
  b->br_ = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(mem);
  reg.ring_entries = count;
  reg.bgid = static_cast<uint16_t>(group);
  int rc = io_uring_register_buf_ring(ring, &reg, 0);
  if (rc < 0) {
    *why_not = std::string("io_uring_register_buf_ring: ") + std::strerror(-rc);
    return nullptr;
  }
  io_uring_buf_ring_init(b->br_);
  b->buffers_.reset(new char[count * size]);
  for (unsigned i = 0; i < count; ++i) {
    b->Return(static_cast<uint16_t>(i));
  }
  b->Commit();
  return b;
}

BufferRing::~BufferRing() {
  if (br_ != nullptr) ::munmap(br_, br_bytes_);
}

void BufferRing::Return(uint16_t bid) {
  io_uring_buf_ring_add(br_, buffers_.get() + size_t{bid} * size_, static_cast<unsigned>(size_),
                        bid, io_uring_buf_ring_mask(count_), returned_);
  ++returned_;
}

void BufferRing::Commit() {
  if (returned_ == 0) return;
  io_uring_buf_ring_advance(br_, returned_);
  returned_ = 0;
}

}  // namespace gearbox::io

// BufferRing: a ring of provided receive buffers registered with one io_uring under a buffer
// group. The kernel picks a buffer for each receive that names the group, so a connection holds
// a buffer only from the completion that fills it until its owner gives it back: idle
// connections hold none. Used by the server's io_uring engine (src/server/uring.h) and by
// gearbox-load's (tools/load/ring.h).
// Owned by the owner of the io_uring it is registered with, and used only by the thread that
// runs that ring. The io_uring must be torn down before the BufferRing is destroyed (receives
// still armed point into its buffers).
#pragma once

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace gearbox::io {

class BufferRing {
 public:
  // Registers `count` buffers (a power of two) of `size` bytes each with `ring` as buffer group
  // `group`, all handed to the kernel. nullptr, with the reason, when the kernel refuses.
  static std::unique_ptr<BufferRing> Register(io_uring* ring, int group, unsigned count,
                                              size_t size, std::string* why_not);
  ~BufferRing();
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  int group() const { return group_; }

  // The first `len` bytes of buffer `bid`, as a completion named it.
  std::string_view Buffer(uint16_t bid, size_t len) const {
    return {buffers_.get() + size_t{bid} * size_, len};
  }
  // Gives buffer `bid` back; the kernel sees it (with every other one given back since) after
  // the next Commit().
  void Return(uint16_t bid);
  void Commit();

 private:
  BufferRing() = default;

  int group_ = 0;
  unsigned count_ = 0;
  size_t size_ = 0;
  io_uring_buf_ring* br_ = nullptr;
  size_t br_bytes_ = 0;
  std::unique_ptr<char[]> buffers_;
  int returned_ = 0;  // given back but not yet committed
};

}  // namespace gearbox::io

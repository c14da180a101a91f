// ByteQueue: a FIFO of bytes built from heap chunks, filled by appends and drained with writev.
// Owned by one connection (or one cross-thread batch); not thread-safe.
// Memory is committed only for bytes actually queued; an empty queue holds no chunks.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace gearbox {

class ByteQueue {
 public:
  ByteQueue() = default;
  ~ByteQueue();
  ByteQueue(const ByteQueue&) = delete;
  ByteQueue& operator=(const ByteQueue&) = delete;
  ByteQueue(ByteQueue&& other) noexcept;
  ByteQueue& operator=(ByteQueue&& other) noexcept;

  // Returns n contiguous writable bytes at the tail; they count as queued immediately.
  char* Append(size_t n);
  void Append(std::string_view bytes);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Fills up to max iovecs from the head; returns how many were filled.
  int FillIov(iovec* iov, int max) const;
  // Drops n bytes from the head (after a successful write).
  void Consume(size_t n);
  void Clear();
  // Moves all bytes of other to the tail of this queue (chunks are moved, not copied).
  void Splice(ByteQueue& other);
  // Copies everything into one string (tests and small replies).
  std::string ToString() const;

 private:
  // Chunks of kMinChunk bytes are recycled through a small per-thread pool, so a connection
  // that writes every turn does not pay malloc+free every turn.
  struct Chunk {
    char* data = nullptr;
    uint32_t cap = 0;
    uint32_t begin = 0;
    uint32_t end = 0;
  };
  static char* AllocChunk(size_t cap);
  static void FreeChunk(Chunk& c);
  static constexpr size_t kMinChunk = 4096;
  static constexpr size_t kMaxChunk = 64 * 1024;

  std::vector<Chunk> chunks_;
  size_t head_ = 0;  // index of the first chunk with unread bytes
  size_t size_ = 0;
  size_t next_chunk_ = kMinChunk;
};

}  // namespace gearbox

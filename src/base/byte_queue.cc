#include "base/byte_queue.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace gearbox {

namespace {
struct ChunkPool {
  std::vector<char*> free;
  ~ChunkPool() {
    for (char* p : free)
      delete[] p;
  }
};
thread_local ChunkPool t_pool;
constexpr size_t kPoolMax = 256;
}  // namespace

char* ByteQueue::AllocChunk(size_t cap) {
  if (cap == kMinChunk && !t_pool.free.empty()) {
    char* p = t_pool.free.back();
    t_pool.free.pop_back();
    return p;
  }
  return new char[cap];
}

void ByteQueue::FreeChunk(Chunk& c) {
  if (c.data == nullptr) return;
  if (c.cap == kMinChunk && t_pool.free.size() < kPoolMax) {
    t_pool.free.push_back(c.data);
  } else {
    delete[] c.data;
  }
  c.data = nullptr;
}

ByteQueue::~ByteQueue() {
  for (auto& c : chunks_)
    FreeChunk(c);
}

ByteQueue::ByteQueue(ByteQueue&& other) noexcept
    : chunks_(std::move(other.chunks_)),
      head_(other.head_),
      size_(other.size_),
      next_chunk_(other.next_chunk_) {
  other.chunks_.clear();
  other.head_ = 0;
  other.size_ = 0;
  other.next_chunk_ = kMinChunk;
}

ByteQueue& ByteQueue::operator=(ByteQueue&& other) noexcept {
  if (this != &other) {
    for (auto& c : chunks_)
      FreeChunk(c);
    chunks_ = std::move(other.chunks_);
    head_ = other.head_;
    size_ = other.size_;
    next_chunk_ = other.next_chunk_;
    other.chunks_.clear();
    other.head_ = 0;
    other.size_ = 0;
    other.next_chunk_ = kMinChunk;
  }
  return *this;
}

char* ByteQueue::Append(size_t n) {
  if (!chunks_.empty()) {
    Chunk& tail = chunks_.back();
    if (tail.cap - tail.end >= n) {
      char* p = tail.data + tail.end;
      tail.end += static_cast<uint32_t>(n);
      size_ += n;
      return p;
    }
  }
  size_t cap = std::max(n, next_chunk_);
  next_chunk_ = std::min(next_chunk_ * 2, kMaxChunk);
  Chunk c;
  c.data = AllocChunk(cap);
  c.cap = static_cast<uint32_t>(cap);
  c.end = static_cast<uint32_t>(n);
  chunks_.push_back(std::move(c));
  size_ += n;
  return chunks_.back().data;
}

void ByteQueue::Append(std::string_view bytes) {
  if (bytes.empty()) return;
  std::memcpy(Append(bytes.size()), bytes.data(), bytes.size());
}

int ByteQueue::FillIov(iovec* iov, int max) const {
  int n = 0;
  for (size_t i = head_; i < chunks_.size() && n < max; ++i) {
    const Chunk& c = chunks_[i];
    if (c.end == c.begin) continue;
    iov[n].iov_base = c.data + c.begin;
    iov[n].iov_len = c.end - c.begin;
    ++n;
  }
  return n;
}

void ByteQueue::Consume(size_t n) {
  size_ -= n;
  while (n > 0) {
    Chunk& c = chunks_[head_];
    size_t avail = c.end - c.begin;
    if (n < avail) {
      c.begin += static_cast<uint32_t>(n);
      return;
    }
    n -= avail;
    FreeChunk(c);
    ++head_;
  }
  if (size_ == 0) {
    Clear();
  } else if (head_ >= 16 && head_ * 2 >= chunks_.size()) {
    chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void ByteQueue::Clear() {
  for (auto& c : chunks_)
    FreeChunk(c);
  chunks_.clear();
  chunks_.shrink_to_fit();
  head_ = 0;
  size_ = 0;
  next_chunk_ = kMinChunk;
}

void ByteQueue::Splice(ByteQueue& other) {
  if (other.empty()) return;
  if (empty()) {
    *this = std::move(other);
    return;
  }
  for (size_t i = other.head_; i < other.chunks_.size(); ++i) {
    chunks_.push_back(other.chunks_[i]);
    other.chunks_[i].data = nullptr;  // moved: not freed by other.Clear()
  }
  size_ += other.size_;
  other.Clear();
}

std::string ByteQueue::ToString() const {
  std::string s;
  s.reserve(size_);
  for (size_t i = head_; i < chunks_.size(); ++i) {
    s.append(chunks_[i].data + chunks_[i].begin, chunks_[i].end - chunks_[i].begin);
  }
  return s;
}

}  // namespace gearbox

#include "base/byte_queue.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace gearbox {

char* ByteQueue::Append(size_t n) {
  if (!chunks_.empty()) {
    Chunk& tail = chunks_.back();
    if (tail.cap - tail.end >= n) {
      char* p = tail.data.get() + tail.end;
      tail.end += static_cast<uint32_t>(n);
      size_ += n;
      return p;
    }
  }
  size_t cap = std::max(n, next_chunk_);
  next_chunk_ = std::min(next_chunk_ * 2, kMaxChunk);
  Chunk c;
  c.data.reset(new char[cap]);
  c.cap = static_cast<uint32_t>(cap);
  c.end = static_cast<uint32_t>(n);
  chunks_.push_back(std::move(c));
  size_ += n;
  return chunks_.back().data.get();
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
    iov[n].iov_base = c.data.get() + c.begin;
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
    c.data.reset();
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
    other.head_ = 0;
    other.size_ = 0;
    other.chunks_.clear();
    return;
  }
  for (size_t i = other.head_; i < other.chunks_.size(); ++i) {
    chunks_.push_back(std::move(other.chunks_[i]));
  }
  size_ += other.size_;
  other.Clear();
}

std::string ByteQueue::ToString() const {
  std::string s;
  s.reserve(size_);
  for (size_t i = head_; i < chunks_.size(); ++i) {
    s.append(chunks_[i].data.get() + chunks_[i].begin, chunks_[i].end - chunks_[i].begin);
  }
  return s;
}

}  // namespace gearbox

// HandleIndex: job handle number -> Job*. Handle numbers are handed out in increasing order, so
// the index is a paged array: O(1) without hashing, 8 bytes a job, and a queue drained in FIFO
// order walks it sequentially (no cache miss per job, unlike a hash table). A page is freed when
// its last job goes, and empty pages are dropped from the front, so memory follows the range of
// live handles. Owned by JobCore; single-threaded.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>

namespace gearbox::core {

template <typename T>
class HandleIndex {
 public:
  HandleIndex() = default;
  HandleIndex(const HandleIndex&) = delete;
  HandleIndex& operator=(const HandleIndex&) = delete;

  size_t size() const { return size_; }

  T* Find(uint64_t no) const {
    uint64_t page = no >> kPageBits;
    if (page < base_ || page - base_ >= pages_.size()) return nullptr;
    const Page* p = pages_[page - base_].get();
    return p == nullptr ? nullptr : p->slots[no & kPageMask];
  }

  // `no` must not be below a handle whose page was already dropped (handles only grow).
  void Insert(uint64_t no, T* value) {
    uint64_t page = no >> kPageBits;
    if (pages_.empty()) base_ = page;
    while (page < base_) {  // only if handles went backwards; kept correct anyway
      pages_.emplace_front();
      --base_;
    }
    while (page - base_ >= pages_.size())
      pages_.emplace_back();
    auto& p = pages_[page - base_];
    if (!p) p = std::make_unique<Page>();
    T*& slot = p->slots[no & kPageMask];
    if (slot == nullptr) {
      ++p->used;
      ++size_;
    }
    slot = value;
  }

  void Erase(uint64_t no) {
    uint64_t page = no >> kPageBits;
    if (page < base_ || page - base_ >= pages_.size()) return;
    auto& p = pages_[page - base_];
    if (!p || p->slots[no & kPageMask] == nullptr) return;
    p->slots[no & kPageMask] = nullptr;
    --size_;
    if (--p->used == 0) p.reset();
    while (!pages_.empty() && !pages_.front()) {
      pages_.pop_front();
      ++base_;
    }
    while (!pages_.empty() && !pages_.back())
      pages_.pop_back();
  }

  // Visits every value in handle order.
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& p : pages_) {
      if (!p) continue;
      for (T* v : p->slots) {
        if (v != nullptr) f(v);
      }
    }
  }

 private:
  static constexpr unsigned kPageBits = 12;
  static constexpr uint64_t kPageMask = (uint64_t{1} << kPageBits) - 1;
  struct Page {
    std::array<T*, size_t{1} << kPageBits> slots{};
    uint32_t used = 0;
  };
  std::deque<std::unique_ptr<Page>> pages_;
  uint64_t base_ = 0;  // page number of pages_[0]
  size_t size_ = 0;
};

}  // namespace gearbox::core

// PtrTable: an open-addressing hash set of T* (8 bytes a slot), used for the job indexes.
// Linear probing with backward-shift deletion (no tombstones); grows at 3/4 load and shrinks
// when mostly empty, so memory returns after a large queue drains. Single-threaded.
// Traits provides: static uint64_t Hash(const T*), and Eq(const T*, const Key&) per key type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace gearbox::core {

template <typename T, typename Traits>
class PtrTable {
 public:
  PtrTable() = default;
  PtrTable(const PtrTable&) = delete;
  PtrTable& operator=(const PtrTable&) = delete;

  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }

  template <typename Key>
  T* Find(const Key& key, uint64_t hash) const {
    if (size_ == 0) return nullptr;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      T* e = slots_[i];
      if (e == nullptr) return nullptr;
      if (Traits::Eq(e, key)) return e;
    }
  }

  // Inserts e; the caller guarantees no equal element is present.
  void Insert(T* e) {
    if ((size_ + 1) * 4 > cap_ * 3) Rehash(cap_ == 0 ? 16 : cap_ * 2);
    Place(e);
    ++size_;
  }

  // Removes exactly e (by identity). Returns false if absent.
  bool Erase(T* e) {
    if (size_ == 0) return false;
    size_t i = Traits::Hash(e) & mask_;
    while (slots_[i] != e) {
      if (slots_[i] == nullptr) return false;
      i = (i + 1) & mask_;
    }
    // Backward-shift the following cluster so lookups never stop early.
    size_t hole = i;
    for (size_t j = (i + 1) & mask_; slots_[j] != nullptr; j = (j + 1) & mask_) {
      size_t home = Traits::Hash(slots_[j]) & mask_;
      // Move slots_[j] into the hole if its home is not cyclically in (hole, j].
      bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!in_range) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = nullptr;
    --size_;
    if (cap_ > 64 && size_ * 16 < cap_) Rehash(cap_ / 4);
    return true;
  }

  template <typename F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i < cap_; ++i) {
      if (slots_[i] != nullptr) f(slots_[i]);
    }
  }

 private:
  void Place(T* e) {
    size_t i = Traits::Hash(e) & mask_;
    while (slots_[i] != nullptr)
      i = (i + 1) & mask_;
    slots_[i] = e;
  }

  void Rehash(size_t new_cap) {
    std::unique_ptr<T*[]> old = std::move(slots_);
    size_t old_cap = cap_;
    slots_.reset(new T*[new_cap]());
    cap_ = new_cap;
    mask_ = new_cap - 1;
    for (size_t i = 0; i < old_cap; ++i) {
      if (old[i] != nullptr) Place(old[i]);
    }
  }

  std::unique_ptr<T*[]> slots_;
  size_t cap_ = 0;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace gearbox::core

// IList: a doubly-linked intrusive list whose links live inside the elements (no allocation).
// The list does not own its elements. Single-threaded, like everything in core/.
#pragma once

#include <cstddef>

namespace gearbox::core {

template <typename T, T* T::*Prev, T* T::*Next>
class IList {
 public:
  IList() = default;
  IList(const IList&) = delete;
  IList& operator=(const IList&) = delete;

  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  T* front() const { return head_; }
  T* back() const { return tail_; }
  static T* next(const T* e) { return e->*Next; }

  void push_back(T* e) {
    e->*Prev = tail_;
    e->*Next = nullptr;
    if (tail_ != nullptr) {
      tail_->*Next = e;
    } else {
      head_ = e;
    }
    tail_ = e;
    ++size_;
  }

  void push_front(T* e) {
    e->*Next = head_;
    e->*Prev = nullptr;
    if (head_ != nullptr) {
      head_->*Prev = e;
    } else {
      tail_ = e;
    }
    head_ = e;
    ++size_;
  }

  void remove(T* e) {
    T* p = e->*Prev;
    T* n = e->*Next;
    if (p != nullptr) {
      p->*Next = n;
    } else {
      head_ = n;
    }
    if (n != nullptr) {
      n->*Prev = p;
    } else {
      tail_ = p;
    }
    e->*Prev = nullptr;
    e->*Next = nullptr;
    --size_;
  }

  T* pop_front() {
    T* e = head_;
    if (e != nullptr) remove(e);
    return e;
  }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace gearbox::core

#pragma once
// intrusive_fifo: a first-in first-out list of objects linked through one of their own
// pointer members (Link), so that queueing allocates nothing: e.g. the requests of a queue
// pair waiting for a data buffer. An object is on at most one such list through a given
// member at a time. Not thread-safe: one owner (a reactor) uses it.
namespace nvmfd {

template <class T, T* T::*Link>
class intrusive_fifo {
 public:
  bool empty() const { return head_ == nullptr; }
  T& front() const { return *head_; }
  void push_back(T& t) {
    t.*Link = nullptr;
    (tail_ ? tail_->*Link : head_) = &t;
    tail_ = &t;
  }
  T& pop_front() {
    T& t = *head_;
    head_ = t.*Link;
    if (!head_) tail_ = nullptr;
    t.*Link = nullptr;
    return t;
  }
  // Forgets every entry (their owner frees them some other way).
  void clear() { head_ = tail_ = nullptr; }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
};

}  // namespace nvmfd

#pragma once
// completion<T>: the continuation of an asynchronous operation, called with its result.
// The operation calls it exactly once, on the thread its contract names (usually the
// operation's home reactor); calling it a second time, or calling an empty one, is a broken
// invariant and aborts. Moving a completion hands the duty to call it on.
#include <concepts>
#include <cstdlib>
#include <functional>
#include <type_traits>
#include <utility>

#include "base/result.h"

namespace nvmfd {

template <class T>
class completion {
 public:
  completion() = default;
  template <class F>
    requires std::invocable<F&, result<T>> && (!std::same_as<std::decay_t<F>, completion>)
  completion(F&& f) : fn_(std::forward<F>(f)) {}  // NOLINT: implicit, as std::function

  // False once called (or when made empty).
  explicit operator bool() const { return static_cast<bool>(fn_); }

  void operator()(result<T> r) {
    if (!fn_) std::abort();  // called twice, or never given a function
    auto fn = std::exchange(fn_, nullptr);
    fn(std::move(r));
  }

 private:
  std::function<void(result<T>)> fn_;
};

}  // namespace nvmfd

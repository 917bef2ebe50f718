#pragma once
// result<T>: a value or an nvmfd::error. The local-failure channel of every module
// (no exceptions on the data path). result<void> carries only success or an error.
#include <cassert>
#include <utility>
#include <variant>

#include "base/errc.h"

namespace nvmfd {

template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::move(value)) {}                // NOLINT: implicit by design
  result(error err) : v_(std::move(err)) {}                // NOLINT
  result(errc code, std::string msg) : v_(error{code, std::move(msg)}) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const error& err() const { assert(!ok()); return std::get<1>(v_); }
  error&& take_err() { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, error> v_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error err) : err_(std::move(err)), ok_(false) {}  // NOLINT
  result(errc code, std::string msg) : err_{code, std::move(msg)}, ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const error& err() const { assert(!ok_); return err_; }
  error&& take_err() { assert(!ok_); return std::move(err_); }

 private:
  error err_;
  bool ok_ = true;
};

inline result<void> success() { return {}; }

}  // namespace nvmfd

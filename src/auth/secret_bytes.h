#pragma once
// secret_bytes: key material that is wiped (OPENSSL_cleanse) when it goes away. Copyable, so
// that a configuration can hand a copy to each queue; every copy wipes itself.
#include <cstdint>
#include <span>
#include <vector>

namespace nvmfd::auth {

class secret_bytes {
 public:
  secret_bytes() = default;
  explicit secret_bytes(std::span<const uint8_t> b) : v_(b.begin(), b.end()) {}
  explicit secret_bytes(size_t n) : v_(n) {}
  secret_bytes(const secret_bytes& o) : v_(o.v_) {}
  secret_bytes(secret_bytes&& o) noexcept : v_(std::move(o.v_)) {}
  secret_bytes& operator=(const secret_bytes& o) {
    if (this != &o) {
      wipe();
      v_ = o.v_;
    }
    return *this;
  }
  secret_bytes& operator=(secret_bytes&& o) noexcept {
    if (this != &o) {
      wipe();
      v_ = std::move(o.v_);
    }
    return *this;
  }
  ~secret_bytes() { wipe(); }

  uint8_t* data() { return v_.data(); }
  const uint8_t* data() const { return v_.data(); }
  size_t size() const { return v_.size(); }
  bool empty() const { return v_.empty(); }
  std::span<const uint8_t> view() const { return v_; }
  bool operator==(const secret_bytes& o) const { return v_ == o.v_; }

 private:
  void wipe();
  std::vector<uint8_t> v_;
};

// A DH-HMAC-CHAP secret as the interchange format carries it (DHHC-1:<hh>:...): the key and
// the hash that transforms it before use (0: none; 1..3: SHA-256/384/512). Secret length is
// 32, 48 or 64 bytes.
struct dhchap_key {
  uint8_t transform = 0;
  secret_bytes secret;
};

}  // namespace nvmfd::auth

#pragma once
// dh_keypair: one side's ephemeral Diffie-Hellman key in an RFC 7919 FFDHE group, through
// OpenSSL 3's named groups. Public values and shared secrets are big-endian and padded to the
// size of the group's prime (256 bytes for ffdhe2048 ... 1024 for ffdhe8192), as the Linux
// kernel sends and expects them.
// Move-only; control path; any thread, one at a time.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "auth/dhchap_ids.h"
#include "auth/secret_bytes.h"
#include "base/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace nvmfd::auth {

class dh_keypair {
 public:
  // A fresh key pair in group g (not null). errc::io_error if OpenSSL fails.
  static result<dh_keypair> generate(dh_group g);

  dh_group group() const { return group_; }
  // Bytes of the group's prime: the length of public values and shared secrets.
  size_t value_size() const { return size_; }
  // Our public value g^x mod p.
  const std::vector<uint8_t>& public_value() const { return public_; }
  // The shared secret with the peer's public value, which OpenSSL checks (1 < y < p-1, in
  // the prime-order subgroup). errc::invalid_argument for an empty, too long or invalid
  // peer value.
  result<secret_bytes> shared_secret(std::span<const uint8_t> peer_public) const;

 private:
  struct pkey_free {
    void operator()(EVP_PKEY* k) const;
  };
  dh_keypair(dh_group g, std::unique_ptr<EVP_PKEY, pkey_free> key, std::vector<uint8_t> pub, size_t size)
      : group_(g), key_(std::move(key)), public_(std::move(pub)), size_(size) {}

  dh_group group_;
  std::unique_ptr<EVP_PKEY, pkey_free> key_;
  std::vector<uint8_t> public_;
  size_t size_;
};

}  // namespace nvmfd::auth

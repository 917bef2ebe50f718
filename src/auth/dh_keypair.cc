#include "auth/dh_keypair.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <string>

namespace nvmfd::auth {

namespace {

error openssl_failed(const char* what) { return error{errc::io_error, std::string("OpenSSL: ") + what + " failed"}; }

struct ctx_free {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
  void operator()(BIGNUM* b) const { BN_free(b); }
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
template <class T>
using owned = std::unique_ptr<T, ctx_free>;

const char* group_name(dh_group g) { return name(g).data(); }  // names are NUL-terminated literals

}  // namespace

void dh_keypair::pkey_free::operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }

result<dh_keypair> dh_keypair::generate(dh_group g) {
  if (g == dh_group::null) return error{errc::invalid_argument, "the null DH group has no key pair"};
  owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) return openssl_failed("EVP_PKEY_keygen_init(DH)");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group_name(g)), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_PKEY_CTX_set_params(ctx.get(), params) != 1) return openssl_failed("EVP_PKEY_CTX_set_params(group)");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1) return openssl_failed("EVP_PKEY_generate(DH)");
  std::unique_ptr<EVP_PKEY, pkey_free> key(raw);
  const int size = EVP_PKEY_get_size(key.get());
  if (size <= 0) return openssl_failed("EVP_PKEY_get_size");
  BIGNUM* pub_raw = nullptr;
  if (EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, &pub_raw) != 1)
    return openssl_failed("EVP_PKEY_get_bn_param(pub)");
  owned<BIGNUM> pub(pub_raw);
  std::vector<uint8_t> value(static_cast<size_t>(size));
  if (BN_bn2binpad(pub.get(), value.data(), size) != size) return openssl_failed("BN_bn2binpad");
  return dh_keypair(g, std::move(key), std::move(value), static_cast<size_t>(size));
}

result<secret_bytes> dh_keypair::shared_secret(std::span<const uint8_t> peer_public) const {
  if (peer_public.empty() || peer_public.size() > size_)
    return error{errc::invalid_argument, "DH value of " + std::to_string(peer_public.size()) + " bytes for " +
                                             std::string(name(group_)) + " (" + std::to_string(size_) + " bytes)"};
  owned<BIGNUM> y(BN_bin2bn(peer_public.data(), static_cast<int>(peer_public.size()), nullptr));
  owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!y || !bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group_name(group_), 0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, y.get()) != 1)
    return openssl_failed("OSSL_PARAM_BLD");
  owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld.get()));
  owned<EVP_PKEY_CTX> fctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
  if (!params || !fctx || EVP_PKEY_fromdata_init(fctx.get()) != 1) return openssl_failed("EVP_PKEY_fromdata_init");
  EVP_PKEY* peer_raw = nullptr;
  if (EVP_PKEY_fromdata(fctx.get(), &peer_raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return error{errc::invalid_argument, "the peer's DH value is not a public key of " + std::string(name(group_))};
  std::unique_ptr<EVP_PKEY, pkey_free> peer(peer_raw);
  owned<EVP_PKEY_CTX> dctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  if (!dctx || EVP_PKEY_derive_init(dctx.get()) != 1 || EVP_PKEY_CTX_set_dh_pad(dctx.get(), 1) != 1)
    return openssl_failed("EVP_PKEY_derive_init");
  // Validation of the peer's value: range and subgroup (RFC 7919 groups are safe primes).
  if (EVP_PKEY_derive_set_peer_ex(dctx.get(), peer.get(), 1) != 1)
    return error{errc::invalid_argument, "the peer's DH value is invalid for " + std::string(name(group_))};
  secret_bytes out(size_);
  size_t n = out.size();
  if (EVP_PKEY_derive(dctx.get(), out.data(), &n) != 1 || n != size_) return openssl_failed("EVP_PKEY_derive");
  return out;
}

}  // namespace nvmfd::auth

#include "tls/tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace nvmfd::tls {

namespace {

constexpr const char* suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384";

// One context per role for the process: TLS 1.3 only, the two NVMe/TCP suites, no
// tickets, kTLS asked for. Made once (thread-safe static), never freed.
SSL_CTX* context(bool server) {
  auto make = [](bool srv) -> SSL_CTX* {
    SSL_CTX* ctx = SSL_CTX_new(srv ? TLS_server_method() : TLS_client_method());
    if (ctx == nullptr) return nullptr;
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_ciphersuites(ctx, suites);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_ENABLE_KTLS);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    // Read what the socket holds, several records at once, rather than a header and a body
    // per record (two syscalls each). OpenSSL turns read-ahead off by itself under kTLS.
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_default_read_buffer_len(ctx, 64 * 1024);
    return ctx;
  };
  static SSL_CTX* const server_ctx = make(true);
  static SSL_CTX* const client_ctx = make(false);
  return server ? server_ctx : client_ctx;
}

std::string openssl_reason() {
  unsigned long e = ERR_get_error();
  if (e == 0) return {};
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

result<SSL*> new_ssl(bool server, int fd) {
  SSL_CTX* ctx = context(server);
  if (ctx == nullptr) return error{errc::io_error, "OpenSSL: cannot create the TLS context"};
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) return error{errc::no_memory, "OpenSSL: SSL_new failed"};
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return error{errc::io_error, "OpenSSL: SSL_set_fd failed"};
  }
  return ssl;
}

}  // namespace

result<std::unique_ptr<tls_session>> tls_session::client(int fd, tls_psk psk) {
  auto ssl = new_ssl(false, fd);
  if (!ssl) return ssl.take_err();
  std::unique_ptr<tls_session> s(new tls_session(*ssl, false));
  s->own_psk_ = std::move(psk);
  s->identity_ = s->own_psk_.identity;
  SSL_set_app_data(*ssl, s.get());
  // Offer only the PSK's suite.
  SSL_set_ciphersuites(*ssl, std::string(cipher_suite(s->own_psk_.hash)).c_str());
  SSL_set_psk_use_session_callback(*ssl, &tls_session::on_client_psk);
  SSL_set_connect_state(*ssl);
  return s;
}

result<std::unique_ptr<tls_session>> tls_session::server(int fd, psk_finder find) {
  auto ssl = new_ssl(true, fd);
  if (!ssl) return ssl.take_err();
  std::unique_ptr<tls_session> s(new tls_session(*ssl, true));
  s->finder_ = std::move(find);
  SSL_set_app_data(*ssl, s.get());
  SSL_set_psk_find_session_callback(*ssl, &tls_session::on_server_psk);
  SSL_set_accept_state(*ssl);
  return s;
}

tls_session::~tls_session() { SSL_free(ssl_); }

SSL_SESSION* tls_session::psk_session(SSL* ssl, const tls_psk& psk) {
  const SSL_CIPHER* cipher = nullptr;
  STACK_OF(SSL_CIPHER)* ciphers = SSL_get_ciphers(ssl);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    if (cipher_suite(psk.hash) == SSL_CIPHER_get_name(c)) cipher = c;
  }
  if (cipher == nullptr) return nullptr;
  SSL_SESSION* sess = SSL_SESSION_new();
  if (sess == nullptr) return nullptr;
  if (SSL_SESSION_set1_master_key(sess, psk.key.view().data(), psk.key.size()) != 1 ||
      SSL_SESSION_set_cipher(sess, cipher) != 1 || SSL_SESSION_set_protocol_version(sess, TLS1_3_VERSION) != 1) {
    SSL_SESSION_free(sess);
    return nullptr;
  }
  return sess;
}

int tls_session::on_client_psk(SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* idlen,
                               SSL_SESSION** sess) {
  auto* self = static_cast<tls_session*>(SSL_get_app_data(ssl));
  *sess = nullptr;
  SSL_SESSION* s = psk_session(ssl, self->own_psk_);
  if (s == nullptr) return 0;
  // After a HelloRetryRequest OpenSSL asks again with the suite's digest: ours or none.
  if (md != nullptr && md != SSL_CIPHER_get_handshake_digest(SSL_SESSION_get0_cipher(s))) {
    SSL_SESSION_free(s);
    return 1;
  }
  *id = reinterpret_cast<const unsigned char*>(self->own_psk_.identity.data());
  *idlen = self->own_psk_.identity.size();
  *sess = s;
  return 1;
}

int tls_session::on_server_psk(SSL* ssl, const unsigned char* id, size_t idlen, SSL_SESSION** sess) {
  auto* self = static_cast<tls_session*>(SSL_get_app_data(ssl));
  *sess = nullptr;
  self->identity_.assign(reinterpret_cast<const char*>(id), idlen);
  auto psk = self->finder_(self->identity_);
  if (!psk) {
    // No session: the handshake goes on without a PSK and fails (no certificates).
    self->failure_ = psk.err().message;
    return 1;
  }
  *sess = psk_session(ssl, *psk);
  return *sess != nullptr ? 1 : 0;
}

tls_session::status tls_session::fail_with(int ssl_ret, std::string_view what) {
  int err = SSL_get_error(ssl_, ssl_ret);
  switch (err) {
    case SSL_ERROR_WANT_READ: return status::want_read;
    case SSL_ERROR_WANT_WRITE: return status::want_write;
    case SSL_ERROR_ZERO_RETURN: return status::closed;
    default: break;
  }
  std::string reason = openssl_reason();
  if (err == SSL_ERROR_SYSCALL && reason.empty()) {
    if (errno == 0 || errno == ECONNRESET || errno == EPIPE) {
      if (handshake_done_) return status::closed;
      reason = "the peer closed the connection";
    } else {
      reason = std::strerror(errno);
    }
  }
  std::string msg = fmt::format("{}: {}", what, reason.empty() ? "failed" : reason);
  failure_ = failure_.empty() ? msg : fmt::format("{} ({})", msg, failure_);
  return status::failed;
}

tls_session::status tls_session::handshake() {
  if (handshake_done_) return status::ok;
  ERR_clear_error();
  errno = 0;
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    handshake_done_ = true;
    return status::ok;
  }
  return fail_with(rc, "TLS handshake");
}

tls_session::io_result tls_session::read(std::span<std::byte> buf) {
  ERR_clear_error();
  errno = 0;
  size_t n = 0;
  int rc = SSL_read_ex(ssl_, buf.data(), buf.size(), &n);
  if (rc == 1) return {status::ok, n};
  return {fail_with(rc, "TLS read")};
}

tls_session::io_result tls_session::write(std::span<const std::byte> buf) {
  ERR_clear_error();
  errno = 0;
  size_t n = 0;
  int rc = SSL_write_ex(ssl_, buf.data(), buf.size(), &n);
  if (rc == 1) return {status::ok, n};
  return {fail_with(rc, "TLS write")};
}

void tls_session::coalesce_writes(size_t bytes) {
  if (coalescing_ || !handshake_done_ || ktls_send()) return;
  BIO* socket_bio = SSL_get_wbio(ssl_);
  BIO* buffer = BIO_new(BIO_f_buffer());
  if (buffer == nullptr) return;  // stays unbuffered: slower, still correct
  if (BIO_set_write_buffer_size(buffer, static_cast<long>(bytes)) != 1) {
    BIO_free(buffer);
    return;
  }
  // The socket BIO is shared by rbio and wbio; the chain takes a reference of its own, and
  // SSL_set0_wbio drops the one the old wbio held.
  BIO_up_ref(socket_bio);
  BIO_push(buffer, socket_bio);
  SSL_set0_wbio(ssl_, buffer);
  coalescing_ = true;
}

tls_session::status tls_session::flush() {
  if (!coalescing_) return status::ok;
  ERR_clear_error();
  errno = 0;
  BIO* wbio = SSL_get_wbio(ssl_);
  if (BIO_flush(wbio) == 1) return status::ok;
  if (BIO_should_retry(wbio)) return status::want_write;
  if (errno == ECONNRESET || errno == EPIPE) return status::closed;
  failure_ = fmt::format("TLS write: {}", errno != 0 ? std::strerror(errno) : "the socket failed");
  return status::failed;
}

bool tls_session::has_buffered_output() const { return coalescing_ && BIO_wpending(SSL_get_wbio(ssl_)) > 0; }

bool tls_session::has_buffered_input() const { return SSL_pending(ssl_) > 0 || SSL_has_pending(ssl_); }

void tls_session::shutdown() {
  if (handshake_done_) {
    ERR_clear_error();
    (void)SSL_shutdown(ssl_);
    if (coalescing_) (void)BIO_flush(SSL_get_wbio(ssl_));
    ERR_clear_error();
  }
}

std::string_view tls_session::cipher() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  return c ? SSL_CIPHER_get_name(c) : "none";
}

bool tls_session::ktls_send() const { return BIO_get_ktls_send(SSL_get_wbio(ssl_)) != 0; }
bool tls_session::ktls_recv() const { return BIO_get_ktls_recv(SSL_get_rbio(ssl_)) != 0; }

std::string_view tls_session::crypto_path() const {
  if (ktls_send() && ktls_recv()) return "kTLS";
  if (ktls_send()) return "kTLS send";
  return "user-space";
}

}  // namespace nvmfd::tls

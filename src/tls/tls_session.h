#pragma once
// tls_session: one TLS 1.3 connection with an external PSK (NVMe/TCP, TP 8011) over a
// non-blocking TCP socket, through OpenSSL: no certificates, no session tickets, no
// resumption; cipher TLS_AES_128_GCM_SHA256 for a SHA-256 PSK, TLS_AES_256_GCM_SHA384 for a
// SHA-384 one. Every call returns at once: want_read / want_write say which readiness of
// the socket to wait for before calling again (the caller's reactor watches the fd).
//
// kTLS: SSL_OP_ENABLE_KTLS is asked for; where the kernel has the tls ULP, OpenSSL hands the
// record crypto to the kernel once the keys are set (ktls_send() / ktls_recv() tell), and
// plain send/recv on the socket then carry application data.
//
// Write coalescing (coalesce_writes(), user-space crypto only): records go into a buffer in
// front of the socket and reach it with one write per buffer-full or per flush(), not one
// write (and one TCP push) per 16 KiB record: a 128 KiB read's data then leaves as one large
// write, as in clear text. The caller must flush() once it has written a batch.
//
// Ownership: the session does not own the socket (the caller closes it, after the session).
// Threading: one thread at a time (the connection's reactor); the PSK finder runs inside
// handshake(), on that thread.
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "tls/tls_psk.h"

#include <openssl/ssl.h>


namespace nvmfd::tls {

// Server side: the TLS PSK for an identity a client offered, or an error that refuses it
// (the message says why, for the log; it names no key).
using psk_finder = std::function<result<tls_psk>(std::string_view identity)>;

class tls_session {
 public:
  enum class status : uint8_t {
    ok,          // done (handshake) / n bytes moved (read, write)
    want_read,   // call again once the socket is readable
    want_write,  // call again once the socket is writable
    closed,      // the peer ended the stream (close_notify or EOF)
    failed,      // TLS failed: failure() says why; the connection is over
  };
  struct io_result {
    status st;
    size_t n = 0;
  };

  static result<std::unique_ptr<tls_session>> client(int fd, tls_psk psk);
  static result<std::unique_ptr<tls_session>> server(int fd, psk_finder find);
  ~tls_session();
  tls_session(const tls_session&) = delete;
  tls_session& operator=(const tls_session&) = delete;

  status handshake();
  bool handshake_done() const { return handshake_done_; }
  // Decrypted bytes into buf (ok with n > 0), or why none.
  io_result read(std::span<std::byte> buf);
  // Writes all of buf (ok, n == buf.size()) or none of it yet: after want_read/want_write,
  // call again with the same bytes at the same address. With coalescing on, records may wait
  // in the buffer until flush().
  io_result write(std::span<const std::byte> buf);
  // After the handshake, when the record crypto is not in the kernel: put a write buffer of
  // `bytes` in front of the socket (no-op otherwise, or when already on).
  void coalesce_writes(size_t bytes);
  // Sends what the write buffer holds: ok once it is all on the socket, want_write when the
  // socket is full (call again once writable), failed/closed when the socket is broken.
  status flush();
  // Records wait in the write buffer (flush() has something to send).
  bool has_buffered_output() const;
  // Bytes already decrypted and buffered inside (readable without the socket).
  bool has_buffered_input() const;
  // Sends close_notify if it can without waiting (best effort).
  void shutdown();

  // After a failure: OpenSSL's reason, and what the server found for the offered identity.
  const std::string& failure() const { return failure_; }
  // Server: the identity the client offered (empty if none); client: its own.
  const std::string& identity() const { return identity_; }
  std::string_view cipher() const;
  bool ktls_send() const;
  bool ktls_recv() const;
  // "kTLS" (record crypto in the kernel both ways), "kTLS send" or "user-space".
  std::string_view crypto_path() const;

 private:
  tls_session(SSL* ssl, bool server) : ssl_(ssl), server_(server) {}
  status fail_with(int ssl_ret, std::string_view what);
  static int on_client_psk(SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* idlen, SSL_SESSION** sess);
  static int on_server_psk(SSL* ssl, const unsigned char* id, size_t idlen, SSL_SESSION** sess);
  // A session that carries psk as its resumption secret, for TLS 1.3 external PSK.
  static SSL_SESSION* psk_session(SSL* ssl, const tls_psk& psk);

  SSL* ssl_;
  bool server_;
  bool handshake_done_ = false;
  bool coalescing_ = false;
  tls_psk own_psk_;       // client: what it offers
  psk_finder finder_;     // server
  std::string identity_;
  std::string failure_;
};

}  // namespace nvmfd::tls

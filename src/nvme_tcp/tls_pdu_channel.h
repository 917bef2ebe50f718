#pragma once
// tls_pdu_channel: a pdu_channel over TLS 1.3 (NVMe/TCP with a secure channel, TP 8011), on
// readiness like epoll_pdu_channel, whatever the reactor's backend. It finishes the
// session's handshake first if it is not done (the target's side: start() drives it; the
// host's opener has done it before the ICReq), then:
//  - receive: SSL_read into a buffer of its own, fed to the reader (pdu_reader::feed), a
//    budget per event; decrypted bytes OpenSSL still holds are read on the next pass;
//  - send: the writer's small pieces (headers, data under 16 KiB) are copied together into
//    one buffer and written with one SSL_write (few records for many PDUs); large data is
//    written from where it is; a PDU's owner is told once all its bytes went through SSL_write.
// Where the kernel does the record crypto (kTLS), OpenSSL's reads and writes are plain
// socket calls; tls_state() says which ("TLS_AES_128_GCM_SHA256, kTLS" or "..., user-space").
// The clear-text channels are untouched: the channel is chosen at connection setup.
//
// A failed handshake is logged with the peer's address and the identity it offered (the
// NQNs; never a key), then reported as channel_error::handshake_failed.
// Threading and lifetime as pdu_channel.h; quiet once closed and no deferred read is queued.
#include <memory>
#include <string>

#include "nvme_tcp/pdu_channel.h"
#include "reactor/reactor.h"
#include "tls/tls_session.h"

namespace nvmfd {

class tls_pdu_channel final : public pdu_channel, private event_handler, private deferred_task {
 public:
  tls_pdu_channel(reactor& r, int fd, std::shared_ptr<tls::tls_session> session, pdu_reader& reader,
                  pdu_writer& writer, pdu_channel_client& client);
  ~tls_pdu_channel() override;

  result<void> start() override;
  void flush() override;
  void shutdown_write() override;
  void close() override;
  bool quiet() const override { return closed_ && !deferred_queued_; }
  std::string tls_state() const override;

 private:
  void on_events(uint32_t events) override;
  void run_deferred() override;
  void step_handshake();
  void receive();
  void update_watch();
  void queue_deferred();
  // The next bytes to hand to SSL_write (pending_), from the writer's queue.
  bool stage();
  // A write or flush did not finish: wait for the socket (want_*) or fail the channel.
  void stop_sending(tls::tls_session::status st);

  reactor& reactor_;
  std::shared_ptr<tls::tls_session> session_;
  bool watched_ = false;
  uint32_t watched_events_ = 0;
  bool handshake_wants_write_ = false;
  bool write_blocked_ = false;      // SSL_write waits for the socket (pending_ to retry)
  bool read_wants_write_ = false;   // SSL_read waits for the socket to be writable
  bool deferred_queued_ = false;
  std::span<const std::byte> pending_;  // given to SSL_write, not yet accepted
  static constexpr size_t rx_size = 64 * 1024;
  static constexpr size_t tx_size = 64 * 1024;  // up to four full TLS records per SSL_write
  std::unique_ptr<std::byte[]> rx_buf_;
  std::unique_ptr<std::byte[]> tx_buf_;
};

}  // namespace nvmfd

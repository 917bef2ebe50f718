#pragma once
// pdu_channel: the socket I/O of one NVMe/TCP connection, on the connection's reactor, for
// the reactor's io_backend: epoll_pdu_channel (recv/sendmsg on readiness) or
// uring_pdu_channel (multishot recv into provided buffers, IORING_OP_SENDMSG). Bytes
// received go to the connection's pdu_reader (whose sink is the connection); the PDUs
// queued on the connection's pdu_writer go out on flush().
//
// Ownership: the client (the connection) owns the channel, the reader and the writer; from
// start() on the channel owns the socket and closes it.
// Threading: created and used on the reactor's thread only.
// Lifetime: after close(), io_uring operations may still be in flight that point at the
// channel, at the writer's PDUs (headers, data) and at the socket. quiet() tells when none
// is; until then the client keeps the channel, the PDUs it had queued and their memory
// alive. If close() returned with quiet() false, on_channel_quiet() follows (the channel's
// last act: the client may destroy the channel from there, and only from there or later).
// The epoll channel is quiet as soon as it is closed.
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "nvme_tcp/pdu_reader.h"
#include "nvme_tcp/pdu_writer.h"

namespace nvmfd {

namespace tls {
class tls_session;
}
class reactor;

enum class channel_error : uint8_t {
  peer_closed,     // end of stream (or a receive error)
  socket_error,    // EPOLLERR/EPOLLHUP, or a receive failure other than EOF
  send_failed,     // a send failed
  protocol_error,  // the reader rejected a header: its error_info() says which field
  handshake_failed,  // TLS: the handshake failed (the channel logged why)
};

std::string_view to_string(channel_error e);

class pdu_channel_client {
 public:
  // The connection cannot go on as it was; the channel stays open until the client closes
  // it (after protocol_error the client may still queue and flush a TermReq). Input after a
  // protocol_error is dropped. Not called once the channel is closed.
  virtual void on_channel_error(channel_error e) = 0;
  // flush() or a completed send left the writer's queue empty.
  virtual void on_channel_drained() {}
  // Closed, and the last in-flight operation has completed (see Lifetime above).
  virtual void on_channel_quiet() = 0;

 protected:
  ~pdu_channel_client() = default;
};

class pdu_channel {
 public:
  virtual ~pdu_channel() = default;
  pdu_channel(const pdu_channel&) = delete;
  pdu_channel& operator=(const pdu_channel&) = delete;

  // Starts receiving. A failure (socket not registered) leaves the channel to be closed.
  virtual result<void> start() = 0;
  // Sends what the writer holds. epoll: writes now, and waits for EPOLLOUT when the socket
  // is full. uring: queues one SENDMSG over the queued PDUs (the reactor submits it on its
  // next pass) unless one is in flight, whose completion sends what came meanwhile.
  virtual void flush() = 0;
  // From now on received bytes are dropped unread; the end of the stream is still reported
  // (peer_closed). For the drain after a C2HTermReq.
  void discard_input() { discarding_ = true; }
  // Half-closes the socket (SHUT_WR).
  virtual void shutdown_write() = 0;
  // Idempotent. Stops receiving and sending (queued PDUs are not sent); the socket is
  // closed once no operation refers to it.
  virtual void close() = 0;
  bool closed() const { return closed_; }
  virtual bool quiet() const = 0;
  // TLS: the cipher suite and where the record crypto runs ("TLS_AES_128_GCM_SHA256,
  // user-space" / "..., kTLS"); empty for a clear-text channel.
  virtual std::string tls_state() const { return {}; }

 protected:
  pdu_channel(int fd, pdu_reader& reader, pdu_writer& writer, pdu_channel_client& client)
      : fd_(fd), reader_(reader), writer_(writer), client_(client) {}

  // What both backends keep: the socket (-1 once closed), the connection's reader, writer
  // and client, and where the channel stands.
  int fd_;
  pdu_reader& reader_;
  pdu_writer& writer_;
  pdu_channel_client& client_;
  bool discarding_ = false;  // discard_input(), or the reader failed
  bool closed_ = false;
};

// The channel for r's backend, for the connected socket fd. The reader and the writer must
// outlive the channel; the client too, until it is quiet.
std::unique_ptr<pdu_channel> make_pdu_channel(reactor& r, int fd, pdu_reader& reader, pdu_writer& writer,
                                              pdu_channel_client& client);
// The same over a TLS session on fd (tls_pdu_channel.h), whatever r's backend.
std::unique_ptr<pdu_channel> make_tls_pdu_channel(reactor& r, int fd, std::shared_ptr<tls::tls_session> session,
                                                  pdu_reader& reader, pdu_writer& writer, pdu_channel_client& client);

}  // namespace nvmfd

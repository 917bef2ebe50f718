#include "nvme_tcp/pdu_channel.h"

#include "nvme_tcp/epoll_pdu_channel.h"
#include "nvme_tcp/tls_pdu_channel.h"
#include "nvme_tcp/uring_pdu_channel.h"

namespace nvmfd {

std::string_view to_string(channel_error e) {
  switch (e) {
    case channel_error::peer_closed: return "peer closed the connection";
    case channel_error::socket_error: return "socket error";
    case channel_error::send_failed: return "send failed";
    case channel_error::protocol_error: return "protocol error";
    case channel_error::handshake_failed: return "TLS handshake failed";
  }
  return "?";
}

std::unique_ptr<pdu_channel> make_pdu_channel(reactor& r, int fd, pdu_reader& reader, pdu_writer& writer,
                                              pdu_channel_client& client) {
  if (r.backend() == io_backend::uring) {
    if (uring_engine* e = r.uring(); e && e->engine_mode() == uring_engine::mode::driving)
      return std::make_unique<uring_pdu_channel>(*e, fd, reader, writer, client);
  }
  return std::make_unique<epoll_pdu_channel>(r, fd, reader, writer, client);
}

std::unique_ptr<pdu_channel> make_tls_pdu_channel(reactor& r, int fd, std::shared_ptr<tls::tls_session> session,
                                                  pdu_reader& reader, pdu_writer& writer, pdu_channel_client& client) {
  return std::make_unique<tls_pdu_channel>(r, fd, std::move(session), reader, writer, client);
}

}  // namespace nvmfd

#pragma once
// epoll_pdu_channel: a pdu_channel on readiness (io_backend::epoll). EPOLLIN pumps the
// reader (recv, a budget per event; a short recv ends the pump so that the replies go out
// before the next read), flush() writes with sendmsg and watches EPOLLOUT while the socket
// is full. Synchronous: quiet as soon as closed. Contract in pdu_channel.h.
#include "nvme_tcp/pdu_channel.h"
#include "reactor/reactor.h"

namespace nvmfd {

class epoll_pdu_channel final : public pdu_channel, private event_handler {
 public:
  epoll_pdu_channel(reactor& r, int fd, pdu_reader& reader, pdu_writer& writer, pdu_channel_client& client);
  ~epoll_pdu_channel() override;

  result<void> start() override;
  void flush() override;
  void shutdown_write() override;
  void close() override;
  bool quiet() const override { return closed_; }

 private:
  void on_events(uint32_t events) override;
  // Reads and drops until EAGAIN; false if the stream ended (reported).
  bool drain_input();

  reactor& reactor_;
  bool watched_ = false;
  bool want_out_ = false;
};

}  // namespace nvmfd

#include "nvme_tcp/pdu_writer.h"

#include <sys/socket.h>

#include <cassert>
#include <cerrno>
#include <cstring>

#include "base/crc32c.h"

namespace nvmfd {

namespace {
constexpr std::array<std::byte, 128> zero_pad{};
}  // namespace

void pdu_writer::build(tx_pdu& p, std::byte* header, uint8_t hlen, const std::byte* data, uint32_t data_len,
                       bool hdgst, bool ddgst, uint32_t pda_bytes) {
  auto ch = load_wire<pdu_common_header>(header);
  ch.flags = static_cast<uint8_t>(ch.flags & ~(pdu_flags::hdgstf | pdu_flags::ddgstf));
  bool has_data = data_len > 0;
  if (hdgst) ch.flags |= pdu_flags::hdgstf;
  if (ddgst && has_data) ch.flags |= pdu_flags::ddgstf;
  ch.hlen = hlen;
  uint32_t header_end = hlen + (hdgst ? digest_len : 0);
  uint32_t pad = 0;
  if (has_data && pda_bytes > 0 && header_end % pda_bytes != 0) pad = pda_bytes - header_end % pda_bytes;
  assert(pad <= zero_pad.size());
  ch.pdo = has_data ? static_cast<uint8_t>(header_end + pad) : 0;
  ch.plen = header_end + pad + data_len + (ddgst && has_data ? digest_len : 0);
  std::memcpy(header, &ch, sizeof(ch));
  if (hdgst) {
    uint32_t h = crc32c(header, hlen);
    std::memcpy(header + hlen, &h, sizeof(h));
  }
  p.iovcnt = 0;
  p.first_iov = 0;
  p.iov[p.iovcnt++] = {header, header_end};
  if (pad) p.iov[p.iovcnt++] = {const_cast<std::byte*>(zero_pad.data()), pad};
  if (has_data) {
    p.iov[p.iovcnt++] = {const_cast<std::byte*>(data), data_len};
    if (ddgst) {
      p.ddgst = crc32c(data, data_len);
      p.iov[p.iovcnt++] = {&p.ddgst, digest_len};
    }
  }
}

void pdu_writer::enqueue(tx_pdu& p) {
  assert(tail_ != &p && p.next == nullptr);  // a PDU is queued once at a time
  p.next = nullptr;
  if (tail_)
    tail_->next = &p;
  else
    head_ = &p;
  tail_ = &p;
}

size_t pdu_writer::gather(std::span<iovec> out) const {
  size_t n = 0;
  for (tx_pdu* p = head_; p && n < out.size(); p = p->next)
    for (uint8_t i = p->first_iov; i < p->iovcnt && n < out.size(); ++i) out[n++] = p->iov[i];
  return n;
}

void pdu_writer::advance(size_t sent) {
  while (head_ && sent > 0) {
    tx_pdu* p = head_;
    while (p->first_iov < p->iovcnt && sent > 0) {
      iovec& v = p->iov[p->first_iov];
      if (sent >= v.iov_len) {
        sent -= v.iov_len;
        ++p->first_iov;
      } else {
        v.iov_base = static_cast<std::byte*>(v.iov_base) + sent;
        v.iov_len -= sent;
        sent = 0;
      }
    }
    if (p->first_iov < p->iovcnt) break;
    head_ = p->next;
    if (!head_) tail_ = nullptr;
    p->next = nullptr;
    if (p->done) p->done->on_pdu_sent(*p);
  }
}

write_status pdu_writer::flush(int fd) {
  while (head_) {
    iovec iov[max_iov];
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = gather(iov);
    ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return write_status::would_block;
      if (errno == EINTR) continue;
      return write_status::closed;
    }
    advance(static_cast<size_t>(w));
  }
  return write_status::idle;
}

}  // namespace nvmfd

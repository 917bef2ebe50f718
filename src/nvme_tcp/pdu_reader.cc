#include "nvme_tcp/pdu_reader.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "base/crc32c.h"

namespace nvmfd {

pdu_reader::pdu_reader(pdu_reader_sink& sink, pdu_check_params params)
    : sink_(sink), params_(params), staging_(new std::byte[staging_size]) {}

bool pdu_reader::fail(term_error e) {
  term_ = e;
  failed_ = true;
  return false;
}

void pdu_reader::start_next() {
  state_ = state::common_header;
  hdr_got_ = 0;
  hdr_need_ = sizeof(pdu_common_header);
  data_ = nullptr;
  data_len_ = data_got_ = ddgst_got_ = pad_left_ = 0;
  has_ddgst_ = false;
}

bool pdu_reader::header_done() {
  auto ch = load_wire<pdu_common_header>(hdr_.data());
  if (pdu_has_header_digest(ch, params_.hdgst)) {
    if (auto e = check_header_digest({hdr_.data(), hdr_got_}, ch.hlen)) return fail(*e);
  }
  data_len_ = pdu_data_length(ch, params_.hdgst, params_.ddgst);
  pad_left_ = data_len_ > 0 ? pdu_padding(ch, params_.hdgst) : 0;
  has_ddgst_ = pdu_has_data_digest(ch, params_.hdgst, params_.ddgst);
  auto dest = sink_.on_pdu_header({hdr_.data(), ch.hlen}, data_len_);
  if (auto* e = std::get_if<term_error>(&dest)) return fail(*e);
  if (stopped_) return false;
  data_ = std::get<std::byte*>(dest);
  crc_ = crc32c_init;
  if (pad_left_ > 0) {
    state_ = state::padding;
  } else if (data_len_ > 0) {
    state_ = state::data;
  } else {
    return finish_pdu();
  }
  return true;
}

bool pdu_reader::finish_pdu() {
  auto ch = load_wire<pdu_common_header>(hdr_.data());
  bool ok = true;
  if (has_ddgst_) {
    uint32_t got;
    std::memcpy(&got, ddgst_.data(), sizeof(got));
    ok = got == crc32c_final(crc_);
  }
  ++pdus_received_;
  sink_.on_pdu_received({hdr_.data(), ch.hlen}, ok);
  start_next();
  return !stopped_;
}

bool pdu_reader::consume(const std::byte* p, size_t n, size_t& used) {
  used = 0;
  while (used < n) {
    size_t avail = n - used;
    switch (state_) {
      case state::common_header:
      case state::header: {
        size_t take = std::min(avail, hdr_need_ - hdr_got_);
        std::memcpy(hdr_.data() + hdr_got_, p + used, take);
        hdr_got_ += take;
        used += take;
        if (hdr_got_ < hdr_need_) break;
        if (state_ == state::common_header) {
          auto ch = load_wire<pdu_common_header>(hdr_.data());
          if (auto e = check_common_header(ch, params_)) return fail(*e);
          hdr_need_ = ch.hlen + (pdu_has_header_digest(ch, params_.hdgst) ? digest_len : 0);
          state_ = state::header;
          if (hdr_got_ < hdr_need_) break;
        }
        if (!header_done()) return false;
        break;
      }
      case state::padding: {
        size_t take = std::min<size_t>(avail, pad_left_);
        pad_left_ -= static_cast<uint32_t>(take);
        used += take;
        if (pad_left_ == 0) {
          if (data_len_ > 0) {
            state_ = state::data;
          } else if (!finish_pdu()) {
            return false;
          }
        }
        break;
      }
      case state::data: {
        size_t take = std::min<size_t>(avail, data_len_ - data_got_);
        if (data_) std::memcpy(data_ + data_got_, p + used, take);
        if (has_ddgst_) crc_ = crc32c_update(crc_, p + used, take);
        data_got_ += static_cast<uint32_t>(take);
        used += take;
        if (data_got_ == data_len_) {
          if (has_ddgst_) {
            state_ = state::data_digest;
          } else if (!finish_pdu()) {
            return false;
          }
        }
        break;
      }
      case state::data_digest: {
        size_t take = std::min<size_t>(avail, digest_len - ddgst_got_);
        std::memcpy(ddgst_.data() + ddgst_got_, p + used, take);
        ddgst_got_ += static_cast<uint32_t>(take);
        used += take;
        if (ddgst_got_ == digest_len && !finish_pdu()) return false;
        break;
      }
    }
  }
  return true;
}

read_status pdu_reader::feed(std::span<const std::byte> bytes) {
  if (stopped_) return read_status::stopped;
  size_t used = 0;
  if (!consume(bytes.data(), bytes.size(), used)) return failed_ ? read_status::protocol_error : read_status::stopped;
  return read_status::would_block;
}

read_status pdu_reader::pump(int fd, size_t budget) {
  size_t total = 0;
  bool drained = false;
  for (;;) {
    if (staged_pos_ < staged_len_) {
      size_t used = 0;
      bool go = consume(staging_.get() + staged_pos_, staged_len_ - staged_pos_, used);
      staged_pos_ += used;
      if (!go) return failed_ ? read_status::protocol_error : read_status::stopped;
    }
    staged_pos_ = staged_len_ = 0;
    // A recv that returned less than it asked for emptied the socket: another would only
    // say EAGAIN. Return now, so that the replies to what was read go out first; bytes that
    // arrive meanwhile keep the socket readable for the next poll.
    if (drained) return read_status::would_block;
    if (total >= budget) return read_status::budget_spent;

    ssize_t n;
    bool direct = state_ == state::data && data_ != nullptr && data_len_ - data_got_ >= direct_threshold;
    size_t asked = direct ? data_len_ - data_got_ : staging_size;
    n = recv(fd, direct ? data_ + data_got_ : staging_.get(), asked, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return read_status::would_block;
      if (errno == EINTR) continue;
      return read_status::closed;
    }
    if (n == 0) return read_status::closed;
    total += static_cast<size_t>(n);
    drained = static_cast<size_t>(n) < asked;
    if (direct) {
      if (has_ddgst_) crc_ = crc32c_update(crc_, data_ + data_got_, static_cast<size_t>(n));
      data_got_ += static_cast<uint32_t>(n);
      if (data_got_ == data_len_) {
        if (has_ddgst_) {
          state_ = state::data_digest;
        } else if (!finish_pdu()) {
          return failed_ ? read_status::protocol_error : read_status::stopped;
        }
      }
    } else {
      staged_len_ = static_cast<size_t>(n);
    }
  }
}

}  // namespace nvmfd

#pragma once
// pdu_reader: the resumable NVMe/TCP receive state machine shared by target and host.
// It reads from a non-blocking socket into a staging buffer, reassembles one PDU at a time
// (common header, rest of header, header digest, padding, data, data digest), validates
// each header before trusting it (proto/pdu_check.h) and hands the PDU to its sink.
// Large data is received straight into the sink's buffer, skipping the staging copy.
//
// Threading: one reader per connection, used only on the connection's reactor.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <variant>

#include "proto/nvme_tcp_pdu.h"
#include "proto/pdu_check.h"

namespace nvmfd {

class pdu_reader_sink {
 public:
  // A PDU's header (hlen bytes, digest verified) has arrived; data_len bytes of data follow.
  // Returns where they go (room for data_len bytes; ignored when data_len is 0), or a
  // term_error if the header is unacceptable in the connection's state.
  virtual std::variant<std::byte*, term_error> on_pdu_header(std::span<const std::byte> header,
                                                             uint32_t data_len) = 0;
  // The whole PDU is in. data_digest_ok is false when its data digest did not match.
  // The sink may call pdu_reader::stop() from here (connection closing).
  virtual void on_pdu_received(std::span<const std::byte> header, bool data_digest_ok) = 0;

 protected:
  ~pdu_reader_sink() = default;
};

enum class read_status : uint8_t {
  would_block,     // socket drained (a recv came back short or said EAGAIN); wait for EPOLLIN
  budget_spent,    // more may be readable; call again on the next loop pass
  closed,          // peer closed or the socket failed
  protocol_error,  // a header failed validation: send a TermReq with term_info(), then close
  stopped,         // the sink called stop()
};

class pdu_reader {
 public:
  pdu_reader(pdu_reader_sink& sink, pdu_check_params params);

  // Reads and dispatches PDUs until the socket is drained (a short recv: no extra recv
  // only to hear EAGAIN) or budget bytes were read. Level-triggered readiness reports
  // bytes that arrive after a short recv.
  read_status pump(int fd, size_t budget);
  // Dispatches PDUs from bytes received by other means (io_uring's buffers): consumes all
  // of them unless the stream turns out bad (protocol_error) or the sink stops the reader
  // (stopped); otherwise returns would_block (wants more bytes).
  read_status feed(std::span<const std::byte> bytes);
  // Called by the sink after ICReq/ICResp: digests and limits for every later PDU.
  void set_params(const pdu_check_params& p) { params_ = p; }
  const pdu_check_params& params() const { return params_; }
  void stop() { stopped_ = true; }
  // Part of a PDU has arrived and the rest has not (a stall watchdog's question).
  bool mid_pdu() const { return state_ != state::common_header || hdr_got_ > 0; }
  // PDUs received whole since the start.
  uint64_t pdus_received() const { return pdus_received_; }

  // After protocol_error: the error and the offending header bytes (for the TermReq data).
  const term_error& error_info() const { return term_; }
  std::span<const std::byte> error_header() const { return {hdr_.data(), hdr_got_}; }

 private:
  enum class state : uint8_t { common_header, header, padding, data, data_digest };

  // Consumes staged bytes; false when the connection must stop (error or stop()).
  bool consume(const std::byte* p, size_t n, size_t& used);
  bool header_done();
  bool finish_pdu();
  void start_next();
  bool fail(term_error e);

  pdu_reader_sink& sink_;
  pdu_check_params params_;
  state state_ = state::common_header;
  bool stopped_ = false;
  bool failed_ = false;
  uint64_t pdus_received_ = 0;
  term_error term_{};

  std::array<std::byte, 128 + digest_len> hdr_{};
  size_t hdr_got_ = 0;
  size_t hdr_need_ = sizeof(pdu_common_header);
  uint32_t pad_left_ = 0;
  std::byte* data_ = nullptr;
  uint32_t data_len_ = 0;
  uint32_t data_got_ = 0;
  uint32_t crc_ = 0;
  bool has_ddgst_ = false;
  std::array<std::byte, digest_len> ddgst_{};
  uint32_t ddgst_got_ = 0;

  static constexpr size_t staging_size = 64 * 1024;
  static constexpr uint32_t direct_threshold = 16 * 1024;
  std::unique_ptr<std::byte[]> staging_;
  size_t staged_pos_ = 0;
  size_t staged_len_ = 0;
};

}  // namespace nvmfd

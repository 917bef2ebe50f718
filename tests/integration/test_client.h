#pragma once
// test_client: a small synchronous NVMe/TCP host for integration tests (one queue pair).
//
// It builds every PDU from the src/proto wire structs and checks every PDU the target
// sends with the same rules the target applies to us (proto/pdu_check.h, host role):
// header and data digests, pdo/plen, flags. Anything wrong on the target's side is an
// error (errc::protocol_error) naming the rule, never a silent pass.
//
// Blocking with deadlines: each receive waits at most options().timeout (5 s by default)
// and then fails with errc::timed_out, so a target that stops answering fails a test
// instead of hanging it.
//
// Commands: submit() sends a capsule and returns its CID; wait(cid)/wait_any() pump the
// connection until that (or any) command completes. While pumping, R2Ts of writes submitted
// with data are answered with H2CData PDUs (at most MAXH2CDATA, or options().h2c_chunk,
// bytes each, LAST_PDU on the last), C2HData is gathered per command (several PDUs, any
// order of datao, the SUCCESS flag), and completions may come in any order. A write
// submitted without data (manual_r2t) leaves its R2T to the test: wait_r2t() and
// send_h2c_data(). The NVMe status of a command is data, not an error: callers check
// command_result::status().
//
// Not thread-safe; one test thread drives one client.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/uuid.h"
#include "blocking_socket.h"
#include "proto/nvme_command.h"
#include "proto/nvme_tcp_pdu.h"
#include "proto/wire.h"

namespace nvmfd {

// The host NQN the tests connect with unless they choose another.
inline constexpr std::string_view test_host_nqn = "nqn.2014-08.io.nvmfd.test:host-a";

// One PDU received from the target, digests verified and removed.
struct rx_pdu {
  std::vector<std::byte> header;  // hlen bytes
  std::vector<std::byte> data;    // the PDU data (TermReq: the echoed header)
  bool data_digest_ok = true;

  pdu_type type() const { return static_cast<pdu_type>(header.at(0)); }
  pdu_common_header ch() const { return load_wire<pdu_common_header>(header.data()); }
  // The header as its wire struct; header.size() is the type's hlen, which
  // check_common_header verified, so S must be that type's struct.
  template <class S>
  S as() const {
    return load_wire<S>(header.data());
  }
};

struct completion {
  nvme_cqe cqe{};
  bool by_success_flag = false;  // ended by C2HData SUCCESS; no CapsuleResp was sent

  nvme_status status() const { return nvme_status::decode(cqe.status.get()); }
  uint32_t dw0() const { return cqe.dw0.get(); }
  uint32_t dw1() const { return cqe.dw1.get(); }
  uint16_t cid() const { return cqe.cid.get(); }
};

struct command_result {
  completion cpl;
  std::vector<std::byte> data;  // controller-to-host data, as many bytes as requested

  nvme_status status() const { return cpl.status(); }
  uint32_t dw0() const { return cpl.dw0(); }
  // The data as a wire struct (zeroes past the end if the data is shorter).
  template <class S>
  S data_as() const {
    std::vector<std::byte> tmp(sizeof(S));
    std::memcpy(tmp.data(), data.data(), std::min(data.size(), sizeof(S)));
    return load_wire<S>(tmp.data());
  }
};

enum class write_mode : uint8_t {
  in_capsule,  // SGL Data Block, offset 0: the data travels in the capsule
  r2t,         // SGL Transport Data Block (5Ah): the target asks with R2T, we send H2CData
};

// Deliberate damage to one PDU we send (wire error tests).
struct pdu_tweaks {
  bool bad_header_digest = false;
  bool bad_data_digest = false;
};

struct client_options {
  bool hdgst = false;                        // request header digests in ICReq
  bool ddgst = false;                        // request data digests in ICReq
  uint8_t hpda = 0;                          // our C2H data alignment, dwords minus one
  uint32_t h2c_chunk = 0;                    // H2CData size; 0 = MAXH2CDATA from ICResp
  uint32_t send_fragment = 0;                // >0: each send() carries at most this many bytes
  std::chrono::milliseconds timeout{5000};   // every receive's deadline
  std::string hostnqn{test_host_nqn};
  uuid hostid{{0x6e, 0x76, 0x6d, 0x66, 0x64, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x2d, 0x68, 0x6f, 0x73, 0x74, 0x01}};
};

// A DSM range (NVM Command Set 1.0 Figure 39): the test's view, encoded by the client.
struct lba_range {
  uint64_t slba = 0;
  uint32_t nlb = 0;
};

class test_client {
 public:
  explicit test_client(client_options o = {});

  const client_options& options() const { return opts_; }
  client_options& options() { return opts_; }

  // --- connection ---
  // TCP connect only (no ICReq).
  result<void> open(const std::string& addr, uint16_t port);
  // ICReq with options() digests and HPDA; receives and checks the ICResp.
  result<ic_resp_pdu> initialize();
  // open() + initialize().
  result<void> connect(const std::string& addr, uint16_t port);
  void close() { sock_.close(); }
  bool is_open() const { return sock_.is_open(); }
  blocking_socket& socket() { return sock_; }
  const ic_resp_pdu& ic_resp() const { return ic_resp_; }
  uint32_t maxh2cdata() const { return ic_resp_.maxh2cdata.get(); }
  bool header_digest() const { return hdgst_; }
  bool data_digest() const { return ddgst_; }

  // --- PDUs ---
  // Sends a PDU: `header` is its hlen bytes with the type and type-specific fields set;
  // this sets the digest flags (keeping the other flags), hlen, pdo and plen, and appends
  // the negotiated digests.
  result<void> send_pdu(std::span<const std::byte> header, std::span<const std::byte> data = {},
                        pdu_tweaks tweaks = {});
  template <class S>
  result<void> send_pdu_struct(const S& header, std::span<const std::byte> data = {}, pdu_tweaks tweaks = {}) {
    return send_pdu(std::span<const std::byte>(wire_bytes(header)), data, tweaks);
  }
  // Sends bytes as they are (or queues them while batching).
  result<void> send_raw(std::span<const std::byte> bytes);
  // While batching, PDUs are collected and go out in one send() at flush_batch(), so the
  // target receives many PDUs in one read.
  void begin_batch() { batching_ = true; }
  result<void> flush_batch();
  template <class S>
  result<void> send_raw_struct(const S& s) {
    return send_raw(std::span<const std::byte>(wire_bytes(s)));
  }
  // The next PDU from the target, checked.
  result<rx_pdu> recv_pdu();
  // A C2HTermReq must come next and the target must then close the connection.
  result<term_req_pdu> expect_term_req_and_close();
  // The target closes the connection within the timeout (bytes before EOF are discarded).
  result<void> wait_closed();

  // --- commands ---
  // Sends a command capsule. h2c_data: data the target will ask for with R2T (SGL 5Ah);
  // c2h_len: bytes of C2HData expected. A write whose SGL is 5Ah and whose h2c_data is
  // empty is manual_r2t (see the header comment). The CID in sqe is replaced by a free one
  // unless keep_cid.
  result<uint16_t> submit(nvme_sqe sqe, std::span<const std::byte> in_capsule = {},
                          std::vector<std::byte> h2c_data = {}, uint32_t c2h_len = 0, pdu_tweaks tweaks = {},
                          bool keep_cid = false);
  result<command_result> wait(uint16_t cid);
  // The next command to complete, in the order the completions arrived.
  result<std::pair<uint16_t, command_result>> wait_any();
  size_t outstanding() const { return pending_.size(); }
  // True if cid's completion has been received (while waiting for another command) and not
  // yet taken by wait(cid).
  bool completed(uint16_t cid) const {
    auto it = pending_.find(cid);
    return it != pending_.end() && it->second.done;
  }
  // For manual_r2t writes: pumps until the target's R2T for cid arrives.
  result<r2t_pdu> wait_r2t(uint16_t cid);
  result<void> send_h2c_data(uint16_t cccid, uint16_t ttag, uint32_t datao, std::span<const std::byte> data,
                             bool last, pdu_tweaks tweaks = {});
  // submit() + wait().
  result<command_result> execute(const nvme_sqe& sqe, std::span<const std::byte> in_capsule = {},
                                 std::vector<std::byte> h2c_data = {}, uint32_t c2h_len = 0);

  // --- SQE builders (PSDT = SGL, as fabrics require) ---
  static nvme_sqe make_sqe(uint8_t opcode, uint32_t nsid = 0);
  static nvme_sqe make_fabrics_sqe(fabrics_type t);
  static void set_sgl_in_capsule(nvme_sqe& sqe, uint32_t len);
  static void set_sgl_transport(nvme_sqe& sqe, uint32_t len);
  static nvme_sqe make_rw_sqe(io_opcode op, uint32_t nsid, uint64_t slba, uint32_t nlb);

  // --- fabrics ---
  // Connect (qid 0: admin; cntlid 0xffff for the admin queue). sqsize is zero-based.
  result<command_result> fabrics_connect(std::string_view subnqn, uint16_t qid, uint16_t sqsize, uint16_t cntlid,
                                         uint32_t kato_ms = 0);
  result<command_result> property_get(uint32_t ofst);
  // The property's value; fails if the command fails.
  result<uint64_t> property_value(uint32_t ofst);
  result<command_result> property_set(uint32_t ofst, uint32_t value);
  // CC.EN = 1 (NVM command set, 4 KiB pages, 64/16-byte entries), then waits for CSTS.RDY.
  result<void> enable();
  result<command_result> disconnect();

  // --- admin ---
  result<command_result> identify(uint8_t cns, uint32_t nsid = 0, uint16_t cntid = 0, uint8_t csi = 0);
  result<command_result> get_log_page(uint8_t lid, uint64_t offset, uint32_t len, uint32_t nsid = 0xffffffffu,
                                      bool rae = false);
  result<command_result> set_features(uint8_t fid, uint32_t cdw11, uint32_t nsid = 0);
  result<command_result> get_features(uint8_t fid, uint8_t sel = 0, uint32_t nsid = 0);
  // Set Features Number of Queues: n I/O submission and completion queues (one-based).
  result<command_result> set_number_of_queues(uint16_t n);
  result<command_result> keep_alive();
  // An Asynchronous Event Request, left outstanding: wait(cid) for the event.
  result<uint16_t> submit_async_event_request();

  // --- I/O ---
  // Reads nlb blocks of block_size bytes.
  result<command_result> read(uint32_t nsid, uint64_t slba, uint32_t nlb, uint32_t block_size);
  result<uint16_t> submit_read(uint32_t nsid, uint64_t slba, uint32_t nlb, uint32_t block_size);
  // Writes data (a whole number of blocks of block_size bytes).
  result<command_result> write(uint32_t nsid, uint64_t slba, std::span<const std::byte> data, uint32_t block_size,
                               write_mode mode);
  result<uint16_t> submit_write(uint32_t nsid, uint64_t slba, std::span<const std::byte> data, uint32_t block_size,
                                write_mode mode);
  result<command_result> flush(uint32_t nsid);
  result<command_result> write_zeroes(uint32_t nsid, uint64_t slba, uint32_t nlb);
  result<command_result> dsm_deallocate(uint32_t nsid, std::span<const lba_range> ranges);

  // The last C2HTermReq received while pumping, if any.
  const std::optional<term_req_pdu>& last_term_req() const { return last_term_; }

 private:
  struct pending_command {
    std::vector<std::byte> h2c;     // data to send on R2T
    bool manual_r2t = false;
    std::deque<r2t_pdu> r2ts;       // manual_r2t: R2Ts not yet taken by wait_r2t
    std::vector<std::byte> c2h;     // data received so far (sized to c2h_len)
    uint32_t c2h_received = 0;
    bool done = false;
    completion cpl;
  };

  // Receives and handles one PDU.
  result<void> pump_one();
  result<void> on_r2t(const rx_pdu& p);
  result<void> on_c2h_data(const rx_pdu& p);
  result<void> on_capsule_resp(const rx_pdu& p);
  uint16_t alloc_cid();
  command_result take(uint16_t cid);

  client_options opts_;
  blocking_socket sock_;
  bool ic_done_ = false;
  bool hdgst_ = false;
  bool ddgst_ = false;
  ic_resp_pdu ic_resp_{};
  uint16_t next_cid_ = 1;
  std::map<uint16_t, pending_command> pending_;
  std::deque<uint16_t> done_order_;
  std::optional<term_req_pdu> last_term_;
  bool batching_ = false;
  std::vector<std::byte> batch_;
};

}  // namespace nvmfd

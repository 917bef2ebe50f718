#pragma once
// handler_harness: a target with no sockets for the command handlers' unit tests. One
// reactor (epoll) on a manual_time, an nvmf_target, and fake_queue connections. Subsystems:
//  - open_nqn: any host; nsid 1 (RAM, 512-byte blocks, 2048 blocks), nsid 2 (RAM, 4 KiB
//    blocks, 64 blocks); max 8 namespaces;
//  - acl_nqn: only allowed_host; nsid 1 (RAM, 512 x 256);
//  - the discovery subsystem.
// Each listens on fake_queue's default local address (injected into the configuration, so
// no socket is opened). Other subsystems can be added by the test.
//
// Threading: the harness's methods are called from the test thread; they run the handlers
// on the reactor (run()) and wait there for completions.
#include <chrono>
#include <cstring>
#include <ostream>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fake_queue.h"
#include "reactor/manual_time.h"
#include "reactor/reactor.h"
#include "sqe_builders.h"
#include "target/nvmf_target.h"

namespace nvmfd {

// gtest prints statuses as SCT/SC/DNR.
inline void PrintTo(const nvme_status& s, std::ostream* os) {
  *os << "{sct " << int(s.sct) << ", sc 0x" << std::hex << int(s.sc) << std::dec << (s.dnr ? ", dnr" : "") << "}";
}

// A little-endian field of a completion's data, at byte offset off.
template <class T>
T data_at(const fake_completion& c, size_t off) {
  T v{};
  if (off + sizeof(T) <= c.data.size()) std::memcpy(&v, c.data.data() + off, sizeof(T));
  return v;
}

// The statuses the test tables name most, as a host reads them.
namespace want {
inline constexpr nvme_status ok = nvme_status::success();
inline constexpr nvme_status invalid_field = nvme_status::generic(sc_generic::invalid_field);
inline constexpr nvme_status invalid_ns = nvme_status::generic(sc_generic::invalid_namespace_or_format);
inline constexpr nvme_status sequence_error = nvme_status::generic(sc_generic::command_sequence_error);
inline constexpr nvme_status lba_out_of_range = nvme_status::generic(sc_generic::lba_out_of_range);
inline constexpr nvme_status sgl_length = nvme_status::generic(sc_generic::data_sgl_length_invalid);
inline constexpr nvme_status invalid_log_page = nvme_status::specific(sc_command_specific::invalid_log_page);
}  // namespace want

// A RAM disk for a namespace (fails the test if it cannot be made).
std::shared_ptr<bdev> ram_disk(const std::string& name, uint32_t block_size, uint64_t blocks);

// A namespace's parameters: dev as nsid, visible to every host unless no_auto_visible.
namespace_params ns_params(std::shared_ptr<bdev> dev, uint32_t nsid, bool no_auto_visible = false);

class handler_harness {
 public:
  static constexpr const char* open_nqn = "nqn.2024-01.io.nvmfd:unit-open";
  static constexpr const char* acl_nqn = "nqn.2024-01.io.nvmfd:unit-acl";
  static constexpr const char* host_nqn = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
  static constexpr const char* allowed_host = "nqn.2024-01.io.nvmfd:allowed-host";

  // CC for CC.EN = 1 as a host writes it: NVM command set, 4 KiB pages, 64/16-byte entries.
  static constexpr uint32_t enable_cc = 1u | (6u << 16) | (4u << 20);

  handler_harness();
  ~handler_harness();
  handler_harness(const handler_harness&) = delete;
  handler_harness& operator=(const handler_harness&) = delete;

  nvmf_target& target() { return *target_; }
  manual_time& time() { return time_; }
  reactor& owner() { return pool_->at(0); }
  // Runs fn on the reactor and waits for it.
  void run(const std::function<void()>& fn) { pool_->run_on(0, fn); }

  // A new, unconnected queue; the harness closes it at the end.
  std::shared_ptr<fake_queue> make_queue(queue_limits limits = {},
                                         queue_endpoint local = {fake_queue::default_traddr,
                                                                 fake_queue::default_trsvcid});
  // Submits sqe (its CID replaced by a fresh one) with data and waits for its completion.
  fake_completion execute(fake_queue& q, nvme_sqe sqe, std::span<const std::byte> data = {});
  // Submits without waiting; returns the CID (for AERs).
  uint16_t submit(fake_queue& q, nvme_sqe sqe, std::span<const std::byte> data = {});
  // The completion of cid, waiting up to timeout; a failed EXPECT and a status of
  // all-ones-ish (internal error) when it does not come.
  fake_completion wait(fake_queue& q, uint16_t cid, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True when no completion of cid has come (after the reactor ran everything queued).
  bool pending(fake_queue& q, uint16_t cid);

  // --- connecting ---
  fake_completion connect(fake_queue& q, const sqe::connect_request& c) { return execute(q, c.cmd, c.data); }
  // A new queue with a successful admin Connect to nqn, enabled (CC.EN = 1).
  std::shared_ptr<fake_queue> admin_queue(const std::string& nqn, const std::string& hostnqn = host_nqn);
  // An admin queue Connect to nqn that must succeed, with CC.EN = 1 after it unless !enable.
  // Returns the cntlid.
  uint16_t connect_admin(fake_queue& q, const std::string& nqn, const std::string& hostnqn = host_nqn,
                         uint32_t kato_ms = 0, bool enable = true);
  // An I/O queue Connect that must succeed.
  void connect_io(fake_queue& q, const std::string& nqn, uint16_t cntlid, uint16_t qid,
                  const std::string& hostnqn = host_nqn, uint16_t sqsize = 31);
  // An admin queue and one I/O queue (qid 1) on nqn, connected and enabled.
  struct io_pair {
    std::shared_ptr<fake_queue> admin, io;
    uint16_t cntlid = 0;
  };
  io_pair connect_pair(const std::string& nqn = open_nqn, queue_limits limits = {});
  // The same for a host of its own: hostnqn and Host Identifier (text form) hostid.
  io_pair connect_host(const std::string& hostnqn, const std::string& hostid, const std::string& nqn = open_nqn);

  // --- configuration (control thread: the test's) ---
  // A subsystem any host may connect to, listening on fake_queue's default address, with
  // one namespace per disk (NSIDs 1, 2, ...; each in the ANA group of its NSID).
  void add_subsystem(const std::string& nqn, const std::vector<std::shared_ptr<bdev>>& disks,
                     bool ana_reporting = false);
  // The same with namespaces as given (their own NSIDs, visibility, ptpl file, ...).
  void add_subsystem(const std::string& nqn, const std::vector<namespace_params>& namespaces,
                     bool ana_reporting = false);
  // The ANA state of group anagrpid through the default listener of nqn.
  void set_ana_state(const std::string& nqn, uint32_t anagrpid, ana_state st);
  // Adds a listener to nqn's configuration without opening a socket.
  void add_listener(const std::string& nqn, const std::string& traddr = fake_queue::default_traddr,
                    const std::string& trsvcid = fake_queue::default_trsvcid);
  std::shared_ptr<subsystem> subsystem_of(const std::string& nqn);

 private:
  manual_time time_;
  std::unique_ptr<reactor_pool> pool_;
  std::unique_ptr<nvmf_target> target_;
  std::vector<std::shared_ptr<fake_queue>> queues_;
  uint16_t next_cid_ = 1;
};

}  // namespace nvmfd

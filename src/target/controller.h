#pragma once
// controller: an NVMe controller created by an admin-queue Connect (dynamic controller model).
//
// Threading: the admin state (properties, features, AERs, keep-alive, changed-namespace
// list) lives on the admin queue's reactor and is touched only there. The I/O queue
// registry is guarded by a mutex because I/O queues connect on other reactors. The
// controller is kept alive by its queue pairs (shared_ptr); the subsystem holds a weak_ptr.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/strong_id.h"
#include "base/uuid.h"
#include "proto/reservations.h"
#include "reactor/reactor.h"
#include "target/reservation_log.h"

namespace nvmfd {

class nvmf_target;
class subsystem;
class target_queue;
struct target_request;

// I/O counters of one queue, written by that queue's reactor only and read relaxed by the
// admin queue (SMART / Health log). They live in the controller so they outlive the queue.
// Each queue's counters fill cache lines of their own (no false sharing between reactors),
// and their single writer adds without a locked read-modify-write.
struct alignas(64) queue_stats {
  std::atomic<uint64_t> read_ops{0}, write_ops{0}, read_bytes{0}, write_bytes{0};
  // Single writer: a plain load and store, atomic only so that readers see whole values.
  static void add(std::atomic<uint64_t>& counter, uint64_t n) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void count_read(uint64_t bytes) {
    add(read_ops, 1);
    add(read_bytes, bytes);
  }
  void count_write(uint64_t bytes) {
    add(write_ops, 1);
    add(write_bytes, bytes);
  }
  struct snapshot_t {
    uint64_t read_ops = 0, write_ops = 0, read_bytes = 0, write_bytes = 0;
  };
};

class controller : public std::enable_shared_from_this<controller> {
 public:
  controller(nvmf_target& t, std::shared_ptr<subsystem> s, cntlid_t cntlid, std::string hostnqn, uuid hostid,
             uint32_t kato_ms, reactor& admin_reactor, uint16_t max_io_queues);
  ~controller();

  nvmf_target& target() const { return target_; }
  const std::shared_ptr<subsystem>& subsys() const { return subsys_; }
  cntlid_t cntlid() const { return cntlid_; }
  // The KATO granted at Connect (immutable, any thread; kato_ms is the current one).
  uint32_t granted_kato_ms() const { return granted_kato_ms_; }
  const std::string& hostnqn() const { return hostnqn_; }
  const uuid& hostid() const { return hostid_; }
  // Its admin queue's secure channel ("TLS_AES_128_GCM_SHA256, user-space"), empty for clear
  // text. Set at creation, before the controller is published; read under the target mutex.
  std::string secure_channel;
  reactor& admin_reactor() const { return admin_reactor_; }
  bool is_discovery() const;
  // The subsystem listener (traddr, trsvcid as configured) the admin queue connected
  // through; set at Connect, before the controller is shared. Its ANA states apply.
  const std::string& listener_traddr() const { return listener_traddr_; }
  const std::string& listener_trsvcid() const { return listener_trsvcid_; }
  void set_listener(std::string traddr, std::string trsvcid) {
    listener_traddr_ = std::move(traddr);
    listener_trsvcid_ = std::move(trsvcid);
  }
  // The admin queue connected through the listener traddr:trsvcid (as configured: a
  // wildcard listener's address is 0.0.0.0 or ::).
  bool connected_through(const std::string& traddr, const std::string& trsvcid) const {
    return listener_traddr_ == traddr && listener_trsvcid_ == trsvcid;
  }

  // --- admin reactor only ---
  void attach_admin_queue(target_queue* q);
  // The admin queue went away: the controller ends; its I/O queues are closed and no
  // I/O queue can join it any more.
  void detach_admin_queue();
  uint32_t cc = 0;
  uint32_t csts = 0;
  uint32_t aec = 0;                    // Asynchronous Event Configuration (feature 0x0b)
  uint32_t kato_ms = 0;
  void keep_alive() { last_keep_alive_ = admin_reactor_.now(); }
  // Set Features Keep Alive Timer: the new timeout takes effect now (0 turns it off).
  void set_kato(uint32_t ms);
  // CC written by Property Set: EN and SHN take effect on CSTS. EN 0 -> 1 with values the
  // controller does not support (cc_supported) sets CSTS.CFS and leaves it disabled.
  void write_cc(uint32_t value);
  bool cc_supported(uint32_t value) const;
  // Parks an Asynchronous Event Request; false if the limit (aerl + 1) is reached.
  bool park_aer(target_request& req);
  // Namespace attribute changed (from the control thread, posted here).
  void notice_namespaces_changed(const std::vector<nsid_t>& nsids);
  // The discovery log changed (discovery controllers; posted here by the target).
  void notice_discovery_log_changed();
  // The ANA log of this controller's listener changed (posted here by the target).
  void notice_ana_changed();
  // Returns and clears the Changed Namespace List (log page 04h), 1024 entries at most;
  // clear_on_read false when RAE is set.
  std::vector<nsid_t> take_changed_namespaces(bool clear);
  void unmask_notice(uint8_t log_page);
  // A reservation notice for this controller's host (Base 2.0 8.19.5): logged, and announced
  // by an AER (I/O command set specific, Reservation Log Page Available) unless the
  // Reservation Notification Mask of nsid masks it. One AER until the host reads the log
  // page without RAE; then another if notices still wait.
  void notice_reservation(nsid_t nsid, reservation_notice n);
  // Get Log Page 80h: the oldest notice, removed.
  reservation_notification_log take_reservation_notice(bool rae);
  // Reservation Notification Mask (feature 82h) of nsid; set for one namespace, or with
  // broadcast_nsid for every namespace (and those added later).
  uint32_t reservation_mask(nsid_t nsid) const;
  void set_reservation_mask(nsid_t nsid, uint32_t mask);

  // --- any reactor ---
  std::atomic<bool> enabled{false};                 // CC.EN = 1 and CSTS.RDY = 1
  std::atomic<uint16_t> io_queues_granted{0};       // Number of Queues feature, count (not zero-based)
  std::atomic<bool> io_queues_set{false};
  // Registers I/O queue qid; false if it is in use or the controller has ended (its admin
  // queue closed, perhaps while this I/O queue's Connect ran on another reactor).
  bool register_io_queue(qid_t qid, unsigned reactor_index, std::weak_ptr<target_queue> q);
  void unregister_io_queue(qid_t qid);
  // Asks every I/O queue's reactor to close it.
  void close_io_queues(const char* why);
  // A fatal error (a failed authentication): CSTS.CFS is set and the admin queue closes,
  // which ends the controller and closes its I/O queues, as Linux nvmet_ctrl_fatal_error.
  // Posted to the admin reactor; why must be a string literal.
  void fatal_error(const char* why);
  size_t io_queue_count() const;
  // Its I/O queues, with the index of the reactor each lives on.
  std::vector<std::pair<unsigned, std::weak_ptr<target_queue>>> io_queues() const;
  // Counters of queue qid (0 .. max_io_queues); the queue's reactor writes them.
  queue_stats& stats(qid_t qid) { return stats_[qid.value]; }
  uint16_t max_io_queues() const { return max_io_queues_; }
  // Sum over all queues.
  queue_stats::snapshot_t total_stats() const;
  std::map<uint8_t, uint32_t> feature_values;      // admin reactor: plain stored features

 private:
  void arm_keep_alive_timer();
  void deliver_events();
  // One AER for the notices waiting in resv_log_, unless one is out and unread.
  void announce_reservation_log();

  nvmf_target& target_;
  std::shared_ptr<subsystem> subsys_;
  cntlid_t cntlid_;
  std::string hostnqn_;
  uuid hostid_;
  reactor& admin_reactor_;
  uint16_t max_io_queues_;
  const uint32_t granted_kato_ms_;
  std::unique_ptr<queue_stats[]> stats_;

  target_queue* admin_queue_ = nullptr;
  clock_type::time_point last_keep_alive_ = admin_reactor_.now();  // on the reactor's time (tests move it)
  timer_id ka_timer_ = 0;
  std::vector<target_request*> parked_aers_;
  std::deque<uint32_t> pending_events_;             // AER completion dw0 values
  bool notice_ns_masked_ = false;                   // until log 04h is read
  bool notice_discovery_masked_ = false;            // until log 70h is read
  bool notice_ana_masked_ = false;                  // until log 0Ch is read
  bool notice_resv_masked_ = false;                 // until log 80h is read
  reservation_log resv_log_;
  uint32_t resv_mask_all_ = 0;                      // the mask of namespaces not in resv_mask_
  std::map<uint32_t, uint32_t> resv_mask_;
  std::string listener_traddr_, listener_trsvcid_;
  std::vector<nsid_t> changed_ns_;
  bool changed_ns_overflow_ = false;

  struct io_queue_ref {
    unsigned reactor_index;
    std::weak_ptr<target_queue> queue;
  };
  mutable std::mutex io_mu_;
  std::map<qid_t, io_queue_ref> io_queues_;
  bool ended_ = false;                              // under io_mu_: the admin queue is gone
};

inline constexpr uint8_t max_outstanding_aers = 4;   // Identify AERL + 1

}  // namespace nvmfd

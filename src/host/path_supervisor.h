#pragma once
// path_supervisor: what keeps one nvme_path connected, as a state machine on the pool's
// control reactor (no thread of its own, no periodic wake-up). It
//  - makes the first connection (start) and reads the ANA log page when the controller
//    reports ANA;
//  - reconnects when the controller fails or is reset: the first attempt at once, then one
//    every reconnect_delay_sec (a reactor_timer), until ctrlr_loss_timeout_sec have passed
//    since the loss (0: no attempt; -1: for ever); in failover mode each attempt moves on to
//    the next of the path's transport IDs, except the one right after remove_transport;
//  - re-reads the ANA log page on an ANA change event, on request_ana_refresh() and after
//    each connect; while a group is in the ANA change state an ANATT timer runs (disarmed as
//    soon as none is), and when it fires the log is read once more and, if a group is still
//    changing, the connection is reset;
//  - on a Namespace Attribute Changed event reads the Changed Namespace List and identifies
//    the namespaces in it (path_status::sizes);
//  - tells its change listener whenever what a selector needs changes (on the control
//    reactor; the listener must not block).
// Events from controllers (failure, AER) are posted to the control reactor with the
// generation of the connection they belong to; those of a connection already replaced are
// dropped. Connecting and reading the ANA log go through seams, so tests drive the policy
// with fakes and a manual_time.
//
// A controller the path stops using (failed, or reset) is moved to a retired list that the
// owner empties with take_retired() once no reactor can still see it (nvme_controller_
// registry); stop() disconnects whatever is left.
//
// Threads: start() and stop() from any thread (their completion runs on the control
// reactor); the accessors and the event entry points from any thread (the mutex guards
// only the fields they read, and is never held across a post or a wait).
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "host/ana_log_reader.h"
#include "host/namespace_change_reader.h"
#include "host/nvme_attach_request.h"
#include "reactor/completion.h"
#include "reactor/reactor.h"
#include "reactor/reactor_timer.h"

namespace nvmfd {

// SPDK's controller states in bdev_nvme_get_controllers.
enum class path_state { enabled, resetting, reconnect_is_delayed, failed, deleting };
const char* path_state_name(path_state s);

// A namespace's size as a path last learnt it (Identify Namespace at connect, then again on
// each Namespace Attribute Changed event), stamped from one process-wide counter: among the
// paths of one namespace the largest stamp is the newest news.
struct observed_size {
  uint64_t num_blocks = 0;
  uint64_t stamp = 0;
};

// What a selector and a report need of a path, copied under the path's mutex.
struct path_status {
  std::shared_ptr<host_controller> ctrl;  // null while disconnected
  path_state state = path_state::enabled;
  cntlid_t cntlid{0xffff};                // the last one, also while disconnected
  transport_id trid;                      // the transport ID in use (or being tried)
  std::vector<transport_id> alternates;   // failover: the others, in the order tried
  std::map<uint32_t, ana_state> ana;      // ANA group -> state (empty without ANA reporting)
  bool ana_reporting = false;
  std::string last_error;                 // why the last connection failed or the last attempt
  std::map<uint32_t, observed_size> sizes;  // by NSID: the active namespaces as last seen
  // By NSID: namespaces as Namespace Attribute Changed events identified them on this
  // connection (the others are as ctrl->namespaces() has them from the connect).
  std::map<uint32_t, std::shared_ptr<const remote_namespace>> identified;
};

// How a supervisor connects and reads the ANA log (real_path_seams: host_controller and
// read_ana_log_async). Both complete on the control reactor.
struct path_supervisor_seams {
  // Starts connecting; returns a function that cancels the attempt (may be empty), after
  // which done still runs once.
  using connect_fn = std::function<std::function<void()>(const transport_id&, const controller_options&,
                                                         host_controller::event_handlers,
                                                         completion<std::shared_ptr<host_controller>>)>;
  using read_ana_fn = std::function<void(std::shared_ptr<host_controller>, completion<ana_log_snapshot>)>;
  using read_namespace_changes_fn =
      std::function<void(std::shared_ptr<host_controller>, completion<std::vector<namespace_change>>)>;
  connect_fn connect;
  read_ana_fn read_ana;
  read_namespace_changes_fn read_namespace_changes;  // empty: namespace events are ignored
};
// host_controller::connect_async, refusing a controller with fewer I/O queues than the pool
// has reactors (nvme_bdev sends each I/O on its reactor's own queue); read_ana_log_async;
// read_namespace_changes_async.
path_supervisor_seams real_path_seams(reactor_pool& pool);

class path_supervisor : public std::enable_shared_from_this<path_supervisor> {
 public:
  using change_listener = std::function<void()>;

  path_supervisor(reactor& home, nvme_attach_request req, path_supervisor_seams seams, change_listener on_change);
  ~path_supervisor();

  // The first connection and ANA read. Errors: the connect's, prefixed with the path's name
  // and address; "reading the ANA log page: ...". After a failure the supervisor is over.
  void start(completion<void> done);
  // Ends supervision: timers cancelled, an attempt under way cancelled (and its controller,
  // if it still connects, disconnected), then every controller disconnected; done after.
  void stop(completion<void> done);

  nvme_attach_request request() const;
  path_status get_status() const;
  bool ana_pending() const { return ana_pending_.load(std::memory_order_acquire); }
  void request_ana_refresh();
  void add_alternate(const transport_id& t);
  bool remove_transport(const transport_id& t);
  void reset(const std::string& why);
  std::vector<std::shared_ptr<host_controller>> take_retired();

 private:
  enum class phase { idle, starting, connected, connecting, delayed, failed, stopping, stopped };

  host_controller::event_handlers handlers(uint64_t gen);
  void on_started(result<std::shared_ptr<host_controller>> c, completion<void> done);
  void on_failure(uint64_t gen, const std::string& why);
  void start_reconnect();
  void try_attempt();
  void on_attempt_done(uint64_t gen, const transport_id& trid, result<std::shared_ptr<host_controller>> c);
  void install(std::shared_ptr<host_controller> c);
  void refresh_ana();
  void on_ana_read(const std::shared_ptr<host_controller>& c, result<ana_log_snapshot> snap);
  void on_anatt_expired();
  // Namespace Attribute Changed: one read at a time, once more if events came meanwhile.
  void refresh_namespaces();
  void on_namespaces_read(const std::shared_ptr<host_controller>& c, result<std::vector<namespace_change>> changes);
  // The sizes the controller reported at connect (mu_ held).
  void take_sizes_locked(const host_controller& c);
  void finish_stop();
  void notify() { if (on_change_) on_change_(); }
  std::string where(const transport_id& t) const;

  reactor& home_;
  const path_supervisor_seams seams_;
  const change_listener on_change_;

  // Read by other threads: under mu_.
  mutable std::mutex mu_;
  nvme_attach_request req_;
  std::shared_ptr<host_controller> ctrl_;
  path_state state_ = path_state::enabled;
  cntlid_t cntlid_{0xffff};
  std::vector<transport_id> alternates_;
  std::map<uint32_t, ana_state> ana_;
  std::map<uint32_t, observed_size> sizes_;
  std::map<uint32_t, std::shared_ptr<const remote_namespace>> identified_;
  bool ana_reporting_ = false;
  std::string last_error_;
  std::vector<std::shared_ptr<host_controller>> retired_;
  bool skip_rotation_ = false;  // the next attempt uses req_.trid as it is (remove_transport set it)
  std::atomic<bool> ana_pending_{false};

  // The machine: on home_ only.
  phase phase_ = phase::idle;
  uint64_t gen_ = 0;                 // which connection (or attempt) events belong to
  unsigned attempt_ = 0;             // of the reconnect under way
  time_source::time_point since_{};  // when the connection was lost
  std::function<void()> cancel_attempt_;
  bool ana_reading_ = false;
  bool ana_again_ = false;           // read once more when the read under way is done
  bool anatt_expired_ = false;       // the read under way decides on a reset
  bool ns_reading_ = false;
  bool ns_again_ = false;
  std::unique_ptr<reactor_timer> reconnect_timer_;  // made and dropped on home_
  std::unique_ptr<reactor_timer> anatt_timer_;
  completion<void> stop_done_;
};

}  // namespace nvmfd

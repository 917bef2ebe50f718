#pragma once
// nvme_path: one path to an NVM subsystem (SPDK's nvme_ctrlr): a controller reached through
// one transport ID, kept alive by a supervisor thread of its own that
//  - reconnects when the controller fails (first attempt at once, then every
//    reconnect_delay_sec, until ctrlr_loss_timeout_sec; in failover mode each attempt moves
//    on to the next of the path's transport IDs),
//  - re-reads the ANA log page when the controller sends an ANA change event, when an I/O
//    reports an ANA status (request_ana_refresh) and after connecting,
//  - resets the connection when a group stays in the ANA change state longer than ANATT.
// Whenever what a selector needs changes (connected or not, ANA states), the path calls its
// change listener, which must not block (it is called with no lock held, from the supervisor
// or from a reactor).
//
// A controller the path stops using (failed, or reset) is not disconnected by the path:
// it is moved to a retired list that the owner empties with take_retired() once no reactor
// can still see it (see nvme_controller_registry), so that I/O paths may hold plain
// shared_ptr copies and a controller is never destroyed on a reactor.
//
// Threading: the accessors lock the path's mutex and may be called from any thread that is
// not a reactor; ana_pending() is for reactors (one atomic load).
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "host/nvme_attach_request.h"
#include "proto/ana_log.h"
#include "reactor/reactor.h"

namespace nvmfd {

// SPDK's controller states in bdev_nvme_get_controllers.
enum class path_state { enabled, resetting, reconnect_is_delayed, failed, deleting };
const char* path_state_name(path_state s);

class nvme_path {
 public:
  using change_listener = std::function<void()>;

  // Connects (on the calling control thread) and starts the supervisor. Errors: those of
  // host_controller::connect.
  static result<std::unique_ptr<nvme_path>> connect(reactor_pool& pool, nvme_attach_request req,
                                                    change_listener on_change);
  ~nvme_path();  // stop() and disconnect
  nvme_path(const nvme_path&) = delete;
  nvme_path& operator=(const nvme_path&) = delete;

  // Stops the supervisor (waits for a connect attempt in progress to end) and disconnects.
  void stop();

  uint64_t id() const { return id_; }
  // A copy, under the path's mutex: the supervisor (failover rotation) and remove_transport
  // change req_.trid while others read it.
  nvme_attach_request request() const;

  // What a selector and a report need, copied under the path's mutex.
  struct status {
    std::shared_ptr<host_controller> ctrl;  // null while disconnected
    path_state state = path_state::enabled;
    uint16_t cntlid = 0xffff;               // the last one, also while disconnected
    transport_id trid;                      // the transport ID in use (or being tried)
    std::vector<transport_id> alternates;   // failover: the others, in the order tried
    std::map<uint32_t, ana_state> ana;      // ANA group -> state (empty without ANA reporting)
    bool ana_reporting = false;
    std::string last_error;                 // why the last connection failed or the last attempt
  };
  status get_status() const;

  // The state of ANA group grpid through this path: optimized when the controller does not
  // report ANA; std::nullopt when the group is unknown to it.
  static std::optional<ana_state> ana_state_of(const status& s, uint32_t grpid);

  // Reactor (one atomic load): an I/O got an ANA status here and the log has not been
  // re-read since; selectors avoid the path meanwhile.
  bool ana_pending() const { return ana_pending_.load(std::memory_order_acquire); }
  // Any thread, non-blocking: mark ana_pending and have the supervisor re-read the log.
  void request_ana_refresh();

  // Failover: another transport ID for this path, tried in turn when a connection is lost.
  void add_alternate(const transport_id& t);
  // Removes an alternate (true) or, when t is the one in use and there are alternates,
  // switches to the next one by resetting the connection (true). False: not this path's,
  // or the only transport ID (the caller removes the whole path then).
  bool remove_transport(const transport_id& t);

  // Any thread, non-blocking: drop the connection and reconnect (bdev_nvme_reset_controller,
  // an ANATT expiry).
  void reset(const std::string& why);

  // Controllers no longer in use, for the owner to disconnect once reactors cannot see them.
  std::vector<std::shared_ptr<host_controller>> take_retired();

 private:
  nvme_path(reactor_pool& pool, nvme_attach_request req, change_listener on_change);
  host_controller::event_handlers handlers();
  result<std::shared_ptr<host_controller>> connect_once(const transport_id& trid);
  void install(std::shared_ptr<host_controller> c);
  void supervise();
  void reconnect_loop();
  void refresh_ana();
  void notify() { if (on_change_) on_change_(); }

  reactor_pool& pool_;
  const uint64_t id_;
  nvme_attach_request req_;
  change_listener on_change_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<host_controller> ctrl_;
  uint64_t ctrl_generation_ = 0;  // which connection the handlers' events belong to
  path_state state_ = path_state::enabled;
  uint16_t cntlid_ = 0xffff;
  std::vector<transport_id> alternates_;
  std::map<uint32_t, ana_state> ana_;
  bool ana_reporting_ = false;
  std::string last_error_;
  std::vector<std::shared_ptr<host_controller>> retired_;
  clock_type::time_point anatt_deadline_ = clock_type::time_point::max();
  // Work for the supervisor, set under mu_.
  bool failure_pending_ = false;
  bool ana_refresh_pending_ = false;
  bool stopping_ = false;
  bool skip_rotation_ = false;  // the next attempt uses req_.trid as it is (remove_transport set it)

  std::atomic<bool> ana_pending_{false};
  std::thread supervisor_;
};

}  // namespace nvmfd

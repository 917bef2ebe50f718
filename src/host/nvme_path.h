#pragma once
// nvme_path: one path to an NVM subsystem (SPDK's nvme_ctrlr): a controller reached through
// one transport ID, kept alive by its path_supervisor, a state machine on the pool's
// control reactor (path_supervisor.h has the reconnect, failover and ANA policy). Whenever
// what a selector needs changes (connected or not, ANA states), the path calls its change
// listener, which must not block (it is called with no lock held, on the control reactor).
//
// A controller the path stops using (failed, or reset) is not disconnected by the path:
// it is moved to a retired list that the owner empties with take_retired() once no reactor
// can still see it (see nvme_controller_registry), so that I/O paths may hold plain
// shared_ptr copies and a controller is never destroyed on a reactor.
//
// Threading: connect_async() and stop_async() from any thread, the control reactor included;
// their completion runs on the control reactor. connect(), stop() and the destructor of a
// path not stopped yet wait for the control reactor (blocking_call): never on a reactor; on
// the control reactor, stop_async() a path before dropping it. The accessors lock the path's
// mutex and may be called from any thread; ana_pending() is for reactors (one atomic load).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/nvme_attach_request.h"
#include "host/path_supervisor.h"
#include "proto/ana_log.h"
#include "reactor/completion.h"
#include "reactor/reactor.h"

namespace nvmfd {

class nvme_path {
 public:
  using change_listener = std::function<void()>;
  using status = path_status;

  // Connects and starts the supervision; done gets the path on the control reactor. Errors:
  // those of host_controller::connect, prefixed with the path's name and address.
  static void connect_async(reactor_pool& pool, nvme_attach_request req, change_listener on_change,
                            completion<std::unique_ptr<nvme_path>> done);
  // connect_async, waited for on the calling thread (never a reactor).
  static result<std::unique_ptr<nvme_path>> connect(reactor_pool& pool, nvme_attach_request req,
                                                    change_listener on_change);
  ~nvme_path();  // stop() unless stopped already
  nvme_path(const nvme_path&) = delete;
  nvme_path& operator=(const nvme_path&) = delete;

  // Stops the supervision (cancelling a connect attempt under way) and disconnects; done
  // after, on the control reactor. Once only: a second stop completes at once.
  void stop_async(completion<void> done);
  // stop_async, waited for on the calling thread (never a reactor).
  void stop();

  uint64_t id() const { return id_; }
  // A copy, under the path's mutex: failover rotation and remove_transport change the
  // transport ID while others read it.
  nvme_attach_request request() const { return sup_->request(); }
  // What a selector and a report need, copied under the path's mutex.
  status get_status() const { return sup_->get_status(); }

  // The state of ANA group grpid through this path: optimized when the controller does not
  // report ANA; std::nullopt when the group is unknown to it.
  static std::optional<ana_state> ana_state_of(const status& s, uint32_t grpid);

  // Reactor (one atomic load): an I/O got an ANA status here and the log has not been
  // re-read since; selectors avoid the path meanwhile.
  bool ana_pending() const { return sup_->ana_pending(); }
  // Any thread, non-blocking: mark ana_pending and have the supervisor re-read the log.
  void request_ana_refresh() { sup_->request_ana_refresh(); }

  // Failover: another transport ID for this path, tried in turn when a connection is lost.
  void add_alternate(const transport_id& t) { sup_->add_alternate(t); }
  // Removes an alternate (true) or, when t is the one in use and there are alternates,
  // switches to the next one by resetting the connection (true). False: not this path's,
  // or the only transport ID (the caller removes the whole path then).
  bool remove_transport(const transport_id& t) { return sup_->remove_transport(t); }

  // Any thread, non-blocking: drop the connection and reconnect (bdev_nvme_reset_controller,
  // an ANATT expiry).
  void reset(const std::string& why) { sup_->reset(why); }

  // Controllers no longer in use, for the owner to disconnect once reactors cannot see them.
  std::vector<std::shared_ptr<host_controller>> take_retired() { return sup_->take_retired(); }

 private:
  nvme_path(reactor_pool& pool, std::shared_ptr<path_supervisor> sup);

  reactor_pool& pool_;
  const uint64_t id_;
  std::shared_ptr<path_supervisor> sup_;
  bool stopped_ = false;
};

}  // namespace nvmfd

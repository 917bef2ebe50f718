#pragma once
// discovery_machine: what a discovery_service does, as a state machine on the pool's control
// reactor (its home), with no thread of its own:
//
//   connecting --ok--> idle <--------------------------------------------+
//       |  (a log change, or the connect)  -> refreshing: the discovery log, then each     |
//       |     referral's one by one (a missing referral controller is connected first)    |
//       |                                  -> reconciling: waits for the registry's       |
//       |     control token (a control_queue ticket), then holds it across the           |
//       |     detach_path_async / attach_async calls the difference needs ----------------+
//       +--failed--> delayed (reconnect timer) --> connecting
//   a referral controller failed -> delayed (referral retry timer) -> refreshing
//   stop -> stopping -> stopped
//
// Events (a discovery log change AEN, a controller failure) come from the controllers'
// handlers on any reactor; they are posted home with a weak_ptr to the machine and the
// generation of the connection they belong to (the discovery controller's and each
// referral's), and dropped when stale. Work is one step at a time: an event that comes while
// a step runs is remembered (refresh, reconnect, referral retry) and taken when it ends.
//
// Stop (stop_async): cancels a timer, a queued ticket request and a connect under way, and
// completes at once with the controllers for the caller to disconnect, unless the machine
// holds the token with a registry call under way: then when that call has ended (the token
// is given back first). Late completions of connects and log reads find the machine stopped:
// a controller they bring is disconnected, a log is dropped.
//
// Threads: start_async and stop_async on home; first_attached(), info() from any thread.
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "discovery/discovery_service.h"
#include "reactor/completion.h"
#include "reactor/control_queue.h"
#include "reactor/reactor_timer.h"

namespace nvmfd {

class controller_connector;

class discovery_machine : public std::enable_shared_from_this<discovery_machine> {
 public:
  using controllers = std::vector<std::shared_ptr<host_controller>>;

  discovery_machine(reactor_pool& pool, nvme_controller_registry& registry, discovery_service_params p,
                    std::string owner, std::string findings_source);

  // Home. Connects to the discovery controller; done gets the connect's result (the message
  // prefixed with the service's name and address). On success the machine runs on.
  void start_async(completion<void> done);
  // Home. See above; done gets the controllers left to disconnect.
  void stop_async(completion<controllers> done);

  // Any thread: waits until the first refresh has been reconciled (true) or limit passed.
  bool wait_first_attached(std::chrono::milliseconds limit);
  discovery_service::info info() const;

 private:
  enum class state { connecting, idle, refreshing, reconciling, delayed, stopping, stopped };
  struct referral {
    std::shared_ptr<host_controller> ctrl;
    uint64_t gen = 0;
  };
  // One path the log asks for: subsystem NQN and address.
  struct path_key {
    std::string subnqn, traddr, trsvcid;
    auto operator<=>(const path_key&) const = default;
  };
  // A refresh under way: the entries read so far and the referrals still to read.
  struct walk {
    std::vector<discovery_entry> entries;
    std::vector<transport_id> referrals;
    size_t next = 0;
    std::map<std::string, referral> kept, dropped;  // by "traddr:trsvcid"
  };
  // A reconcile under way: what is left to detach and to attach.
  struct change {
    std::vector<path_key> detach;
    std::vector<std::pair<path_key, discovery_entry>> attach;
  };

  host_controller::event_handlers handlers(uint64_t gen, bool is_referral);
  void on_log_change(uint64_t gen);
  void on_failure(uint64_t gen, bool is_referral, const std::string& why);
  bool live_referral(uint64_t gen) const;

  void step();  // from idle: the next thing to do, if any
  void connect(completion<void> first);
  void connected(result<std::shared_ptr<host_controller>> c, completion<void> first);
  void delay(bool reconnect);
  void refresh();
  void got_log(result<discovery_log> log);
  void next_referral();
  void referral_connected(const transport_id& r, uint64_t gen, result<std::shared_ptr<host_controller>> c);
  void read_referral(const std::string& key, referral rc);
  void reconcile();
  void granted(control_queue::token t);
  void next_change();
  void reconciled();
  void finish_stop();
  void set_error(std::string why);
  reactor_timer& timer();

  reactor_pool& pool_;
  reactor& home_;
  nvme_controller_registry& registry_;
  const discovery_service_params p_;
  const std::string owner_;
  const std::string findings_source_;

  // Home only.
  state state_ = state::connecting;
  uint64_t next_gen_ = 0;
  uint64_t gen_ = 0;  // the discovery controller's connection
  std::map<std::string, referral> referral_ctrls_;
  bool refresh_pending_ = false;
  bool failure_pending_ = false;
  bool referral_retry_ = false;
  std::shared_ptr<controller_connector> connecting_;
  std::unique_ptr<reactor_timer> timer_;  // made and dropped on home
  std::optional<walk> walk_;
  std::optional<control_queue::ticket> ticket_;
  control_queue::token token_;
  change change_;
  bool registry_call_ = false;  // an attach/detach under way
  completion<controllers> stop_done_;
  std::map<std::string, std::string> name_of_subsystem_;  // subnqn -> controller name
  std::map<path_key, transport_id> attached_;             // paths this service attached
  unsigned next_index_ = 0;

  // Shared with other threads.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<host_controller> ctrl_;  // written on home only
  std::vector<transport_id> referrals_;
  std::vector<std::string> names_;  // in order of first sight
  std::string last_error_;
  bool first_done_ = false;
  uint64_t refreshes_ = 0;
};

}  // namespace nvmfd

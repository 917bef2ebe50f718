#pragma once
// host_controller: one NVMe-oF controller as seen by our host: an admin queue and N I/O
// queues, each I/O queue owned by one reactor (queue i on reactor (i - 1) % reactors).
//
// Threading: connect(), disconnect(), admin() and identify helpers are called on a control
// thread (never on a reactor: they wait for the reactors). io_queue() is called on a reactor
// and returns that reactor's queue. When any queue fails (TermReq, dropped connection,
// command timeout, keep-alive failure) the controller is failed: failed() turns true, every
// outstanding command completes with a host path error, and later commands fail at once.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/uuid.h"
#include "host/host_qpair.h"
#include "host/transport_id.h"
#include "proto/identify.h"
#include "reactor/completion.h"
#include "reactor/reactor.h"

namespace nvmfd {

struct controller_options {
  std::string hostnqn;              // empty: nqn.2014-08.org.nvmexpress:uuid:<hostid>
  uuid hostid;                      // zero: random
  bool hdgst = false;
  bool ddgst = false;
  uint32_t num_io_queues = 0;       // 0: one per reactor
  uint32_t io_queue_size = 128;
  uint32_t kato_ms = 10000;         // 0: no keep-alive
  uint32_t io_timeout_ms = 30000;
  uint32_t connect_timeout_ms = 10000;
  // Ask to disable SQ flow control on I/O queues (Connect CATTR bit 2): the controller may
  // then end reads with a C2HData SUCCESS flag instead of a separate CapsuleResp.
  bool disable_sq_flow_control = false;
};

struct remote_namespace {
  uint32_t nsid = 0;
  uint64_t num_blocks = 0;
  uint32_t block_size = 0;
  uuid id;
  identify_namespace data{};
};

class host_controller : public std::enable_shared_from_this<host_controller> {
 public:
  // Told about a connected controller's life. Both run on a reactor and must not block:
  // hand the work to a thread.
  struct event_handlers {
    // Dword 0 of each Asynchronous Event completion (type, information, log page). When set,
    // the events the controller reports in OAES (namespace attribute, ANA change, discovery
    // log change) are enabled and an Asynchronous Event Request is kept outstanding.
    std::function<void(uint32_t dw0)> on_event;
    // Once, when the controller fails (not on disconnect()), with the reason.
    std::function<void(const std::string& why)> on_failure;
  };

  // Control thread. A discovery NQN connects the admin queue only.
  static result<std::shared_ptr<host_controller>> connect(reactor_pool& pool, const transport_id& trid,
                                                          const controller_options& opts,
                                                          event_handlers events = {});
  ~host_controller();

  // Control thread: Disconnect-free teardown (closes every queue; outstanding commands fail).
  void disconnect();
  // The same from any thread, reactors included: done runs on the pool's control reactor
  // once every queue is closed and gone (at once, posted, when the controller was disconnected
  // already). The controller keeps itself alive until then; dropping the last reference on a
  // reactor afterwards is safe (its destructor has nothing left to do).
  void disconnect_async(completion<void> done);

  const transport_id& trid() const { return trid_; }
  const controller_options& options() const { return opts_; }
  const std::string& hostnqn() const { return hostnqn_; }
  const uuid& hostid() const { return hostid_; }
  uint16_t cntlid() const { return cntlid_; }
  const identify_controller& identity() const { return id_ctrl_; }
  const std::vector<remote_namespace>& namespaces() const { return namespaces_; }
  uint32_t max_transfer_bytes() const { return max_xfer_; }
  bool ana_reporting() const { return id_ctrl_.cmic & cmic_bits::ana_reporting; }
  bool failed() const { return failed_.load(); }
  std::string failure_reason() const;
  size_t io_queue_count() const { return io_queues_.size(); }

  // Control thread: an admin command, waiting for its completion (or timeout_ms).
  // data/len/h2c describe the transfer. Errors: the controller failed, or timed out.
  result<nvme_completion> admin(nvme_sqe cmd, std::byte* data = nullptr, uint32_t len = 0, bool h2c = false);
  result<std::vector<std::byte>> get_log_page(uint8_t lid, uint64_t offset, uint32_t len, uint8_t lsp = 0);
  result<void> refresh_namespaces();

  // Reactor only: the I/O queue of the calling reactor, or nullptr if it has none.
  host_qpair* io_queue(reactor& r);
  // Any thread: every I/O queue with the reactor it lives on.
  const std::vector<std::shared_ptr<host_qpair>>& io_queues() const { return io_queues_; }

 private:
  host_controller(reactor_pool& pool, transport_id trid, controller_options opts);
  // connect()'s work after construction; connect() disconnects when it fails.
  result<void> connect_queues(reactor_pool& pool, const transport_id& trid, const controller_options& opts);
  result<std::shared_ptr<host_qpair>> open_queue(uint16_t qid, uint16_t size, reactor& r);
  result<void> fabrics_connect(host_qpair& q, uint16_t qid, uint16_t sqsize);
  result<void> enable();
  result<uint64_t> property_get(uint32_t offset, bool eight);
  result<void> property_set(uint32_t offset, uint32_t value);
  void on_queue_failed(const std::string& why);
  void tear_down(std::shared_ptr<host_controller> keep, completion<void> done);
  void start_keep_alive();
  void arm_keep_alive();
  result<void> start_async_events();
  void submit_async_event_request();

  struct keep_alive_callback final : host_callback {
    host_controller* ctrl = nullptr;
    void on_host_complete(host_request& req, const nvme_completion& c) override;
  };
  struct async_event_callback final : host_callback {
    host_controller* ctrl = nullptr;
    void on_host_complete(host_request& req, const nvme_completion& c) override;
  };

  reactor_pool& pool_;
  transport_id trid_;
  controller_options opts_;
  std::string hostnqn_;
  uuid hostid_;
  uint16_t cntlid_ = 0xffff;
  identify_controller id_ctrl_{};
  uint32_t max_xfer_ = 0;
  uint32_t in_capsule_max_ = 0;
  std::vector<remote_namespace> namespaces_;
  std::shared_ptr<host_qpair> admin_;
  std::vector<std::shared_ptr<host_qpair>> io_queues_;
  std::vector<host_qpair*> queue_by_reactor_;
  std::atomic<bool> failed_{false};
  mutable std::mutex mu_;
  std::string failure_;
  timer_id ka_timer_ = 0;
  keep_alive_callback ka_cb_;
  async_event_callback aer_cb_;
  event_handlers events_;
  std::atomic<bool> disconnected_{false};
};

}  // namespace nvmfd

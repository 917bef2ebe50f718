#pragma once
// host_controller: one NVMe-oF controller as seen by our host: an admin queue and N I/O
// queues, each I/O queue owned by one reactor (queue i on reactor (i - 1) % reactors).
//
// Threading: connect(), disconnect(), admin() and get_log_page() are called on a control
// thread (never on a reactor: they wait for the reactors); their asynchronous forms
// (connect_async, disconnect_async, submit_admin, get_log_page_async) from any thread,
// completing on the pool's control reactor, which holds every admin queue. io_queue() is called on a reactor
// and returns that reactor's queue. When any queue fails (TermReq, dropped connection,
// command timeout, keep-alive failure) the controller is failed: failed() turns true, every
// outstanding command completes with a host path error, and later commands fail at once.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "auth/host_auth.h"
#include "base/strong_id.h"
#include "base/uuid.h"
#include "host/host_queue.h"
#include "host/sync_command.h"
#include "host/transport_id.h"
#include "proto/identify.h"
#include "reactor/completion.h"
#include "reactor/reactor.h"
#include "tls/tls_psk.h"

namespace nvmfd {

class controller_connector;

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
  // DH-HMAC-CHAP (NVMe Base 2.1 8.3.4.5), on the admin queue and on every I/O queue after its
  // Connect: run when the controller asks (Connect AUTHREQ.ATR) or when ctrl_key is set (the
  // controller must then prove its key: bidirectional). A controller that asks while key is
  // unset fails the connect. ctrl_key needs key.
  std::optional<auth::dhchap_key> dhchap_key;
  std::optional<auth::dhchap_key> dhchap_ctrl_key;
  auth::hash_set dhchap_digests = auth::every_hash();           // offered in AUTH_Negotiate
  auth::dh_group_set dhchap_dhgroups = auth::every_dh_group();  // offered in AUTH_Negotiate
  // TLS 1.3 with this configured PSK on every queue (TP 8011; the target's listener must be
  // a secure one); null: clear text. Each connect, reconnects included, does the handshake.
  std::shared_ptr<const tls::configured_psk> tls_psk;
};

struct remote_namespace {
  nsid_t nsid;
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

  // Control thread. A discovery NQN connects the admin queue only. Errors: invalid_argument
  // (no subnqn; "host ... is not allowed to connect to ..."; "Connect (qid N) refused: ...
  // (unknown subsystem ...?)"), the socket's errors ("connect <addr>:<port>: ..."), timed_out
  // (TCP connect, ICReq, CSTS.RDY), protocol_error (ICResp), io_error naming a failing
  // command ("<command> failed: NVMe status ...").
  static result<std::shared_ptr<host_controller>> connect(reactor_pool& pool, const transport_id& trid,
                                                          const controller_options& opts,
                                                          event_handlers events = {});
  // Any thread: the same without blocking (controller_connector.h); done runs on the pool's
  // control reactor, never inside this call. The handle may be dropped, or kept to cancel();
  // it is null when nothing was started (no subnqn: done gets invalid_argument).
  static std::shared_ptr<controller_connector> connect_async(reactor_pool& pool, const transport_id& trid,
                                                             const controller_options& opts, event_handlers events,
                                                             completion<std::shared_ptr<host_controller>> done);
  // Tests: a controller object that was never connected (no queues, not failed) with this
  // identity, standing in for a connected one where only its accessors matter.
  static std::shared_ptr<host_controller> unconnected_for_test(reactor_pool& pool, const transport_id& trid,
                                                               const identify_controller& id);
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
  cntlid_t cntlid() const { return cntlid_; }
  const identify_controller& identity() const { return id_ctrl_; }
  const std::vector<remote_namespace>& namespaces() const { return namespaces_; }
  uint32_t max_transfer_bytes() const { return max_xfer_; }
  bool ana_reporting() const { return id_ctrl_.cmic & cmic_bits::ana_reporting; }
  bool failed() const { return failed_.load(); }
  // Any thread: disconnect() or disconnect_async() has begun (or connect failed).
  bool disconnected() const { return disconnected_.load(); }
  std::string failure_reason() const;
  size_t io_queue_count() const { return io_queues_.size(); }

  // The reactor of the admin queue (the pool's control reactor): where the asynchronous
  // admin operations below complete.
  reactor& admin_reactor() const { return pool_.control(); }

  // Any thread: an admin command with data as its buffer (h2c: written to the controller);
  // done runs on the admin reactor, never inside this call, with the completion (whatever
  // its NVMe status) and the buffer. Error: closed when the controller failed or is
  // disconnected. The queue's command timeout bounds the wait.
  void submit_admin(const nvme_sqe& cmd, std::vector<std::byte> data, bool h2c, completion<sync_result> done,
                    uint32_t timeout_ms = 0);
  // Any thread: Get Log Page of len bytes at offset (both multiples of 4); done on the admin
  // reactor. Errors: invalid_argument (length, offset), not_supported (an offset without
  // LPA extended data), those of submit_admin, io_error naming a failing NVMe status.
  void get_log_page_async(uint8_t lid, uint64_t offset, uint32_t len, uint8_t lsp,
                          completion<std::vector<std::byte>> done);

  // Control thread: the blocking forms of the two above.
  // data/len/h2c describe the transfer. Errors: the controller failed, or timed out.
  result<nvme_completion> admin(nvme_sqe cmd, std::byte* data = nullptr, uint32_t len = 0, bool h2c = false);
  result<std::vector<std::byte>> get_log_page(uint8_t lid, uint64_t offset, uint32_t len, uint8_t lsp = 0);

  // Reactor only: the I/O queue of the calling reactor, or nullptr if it has none.
  host_queue* io_queue(reactor& r);
  // Any thread: every I/O queue with the reactor it lives on.
  const std::vector<std::shared_ptr<host_queue>>& io_queues() const { return io_queues_; }

 private:
  friend class controller_connector;
  host_controller(reactor_pool& pool, transport_id trid, controller_options opts);
  static error status_error(const char* what, const nvme_status& s);
  // Fabrics Connect for queue qid: the command, with its data in `data`.
  nvme_sqe fabrics_connect_command(qid_t qid, uint16_t sqsize, std::vector<std::byte>& data) const;
  // Its completion: the error it means, or success (for qid 0 the CNTLID is kept). Any thread.
  result<void> check_connect(qid_t qid, const nvme_completion& c);
  void on_queue_failed(const std::string& why);
  // Whether queue qid, whose Connect completed with dword 0 connect_dw0, runs DH-HMAC-CHAP;
  // invalid_argument when the controller asks for what we cannot do (no key; a secure
  // channel). Any thread.
  result<bool> needs_authentication(qid_t qid, uint32_t connect_dw0) const;
  // The settings of a new DH-HMAC-CHAP transaction (its own transaction ID). Any thread.
  auth::host_auth_config auth_config();
  void tear_down(std::shared_ptr<host_controller> keep, completion<void> done);
  // Admin reactor.
  void start_keep_alive();
  void arm_keep_alive();
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
  cntlid_t cntlid_{0xffff};  // the dynamic-model wildcard until the admin Connect answers
  identify_controller id_ctrl_{};
  uint32_t max_xfer_ = 0;
  uint32_t in_capsule_max_ = 0;
  std::vector<remote_namespace> namespaces_;
  std::shared_ptr<host_queue> admin_;
  std::vector<std::shared_ptr<host_queue>> io_queues_;
  std::vector<host_queue*> queue_by_reactor_;
  std::atomic<bool> failed_{false};
  mutable std::mutex mu_;
  std::string failure_;
  timer_id ka_timer_ = 0;
  keep_alive_callback ka_cb_;
  async_event_callback aer_cb_;
  event_handlers events_;
  std::atomic<bool> disconnected_{false};
  std::atomic<uint16_t> auth_tid_{0};
};

}  // namespace nvmfd

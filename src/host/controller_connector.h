#pragma once
// controller_connector: connects one host_controller without blocking any thread, as a
// state machine on the pool's control reactor (which holds the admin queue):
//   admin socket (TCP connect + ICReq, queue_socket_opener; for trtype rdma an
//   rdma_host_queue, whose RDMA CM handshake the Connect waits for) -> Fabrics Connect (qid 0)
//   -> [DH-HMAC-CHAP, when asked or a controller key is set] -> CAP, CC.EN = 1
//   -> CSTS.RDY, polled every 10 ms on a reactor_timer until max(500 ms, CAP.TO)
//   -> Identify Controller -> keep-alive -> [discovery controller: AER and done]
//   -> Set Features (Number of Queues) -> every I/O queue in parallel, each opened,
//   connected and (as the admin queue) authenticated on its own reactor -> active
//   namespaces, one Identify (and its descriptors) each -> Asynchronous Event
//   Configuration and an AER -> done.
// Time is the reactors' (reactor::now(), timers), so tests drive it with a manual_time.
//
// Failure at any step tears down what was opened (host_controller::disconnect_async) and
// then completes with that step's error; the messages are those of the blocking connect
// (host_controller.h). cancel() ends the attempt early with closed ("cancelled"): the admin
// steps stop at once, and so do I/O queue sockets still opening (closed on their reactors
// before done runs).
//
// Threads: start() and cancel() from any thread; done runs on the control reactor, never
// inside start().
#include <memory>
#include <optional>
#include <vector>

#include "host/host_controller.h"
#include "host/queue_socket_opener.h"
#include "reactor/reactor_timer.h"

namespace nvmfd {

class controller_connector : public std::enable_shared_from_this<controller_connector> {
 public:
  using connect_done = completion<std::shared_ptr<host_controller>>;
  static std::shared_ptr<controller_connector> start(std::shared_ptr<host_controller> c, connect_done done);
  void cancel();

  controller_connector(std::shared_ptr<host_controller> c, connect_done done);

 private:
  using then_fn = std::function<void(sync_result)>;
  // The steps, in order (each on the control reactor).
  void open_admin();
  void admin_opened(std::shared_ptr<host_queue> q);
  void enable();
  void poll_ready(time_source::time_point deadline);
  void identify();
  void set_queue_count();
  void open_io_queues(uint32_t n, uint16_t qsize);
  void io_queue_opened(uint32_t i, result<std::shared_ptr<host_queue>> q);
  void io_queue_connected(uint32_t i, result<void> r);
  // Cancels the I/O queue sockets still opening, each on its reactor.
  void cancel_io_openers();
  void read_namespaces();
  void read_namespace(std::vector<nsid_t> nsids, size_t next);
  void enable_events();
  void succeed();
  void fail(error e);
  // On q's reactor, after q's Connect completed with dword 0 connect_dw0: DH-HMAC-CHAP on q
  // when the controller asks for it or a controller key is set (queue_authenticator.h),
  // bounded by the connect timeout; done on q's reactor (at once when none is needed).
  void authenticate(const std::shared_ptr<host_queue>& q, uint32_t connect_dw0, completion<void> done);

  // Runs an admin command; `then` gets its completion, a failure ends the connect.
  // timeout_ms: as submit_async's.
  void admin(const nvme_sqe& cmd, std::vector<std::byte> data, bool h2c, then_fn then, uint32_t timeout_ms = 0);
  // The same with an NVMe status other than success as a failure named `what`.
  void admin_ok(const char* what, const nvme_sqe& cmd, std::vector<std::byte> data, then_fn then);
  void property_get(uint32_t offset, bool eight, std::function<void(uint64_t)> then);
  // On reactor r: the queue over an opened socket, started there.
  std::shared_ptr<host_queue> make_queue(qid_t qid, uint16_t size, reactor& r, const opened_socket& s);
  // On reactor r: an NVMe/RDMA queue (rdma_host_queue.h), started there (its CM handshake
  // runs on r; the Fabrics Connect submitted at once waits for it).
  std::shared_ptr<host_queue> make_rdma_queue(qid_t qid, uint16_t size, reactor& r);
  // Sets q's failure handler and starts it.
  std::shared_ptr<host_queue> started(std::shared_ptr<host_queue> q);
  bool is_rdma() const;
  // c_->check_connect, or the queue's failure reason when the Connect never got an answer.
  result<void> check_queue_connect(const host_queue& q, const nvme_completion& r);

  std::shared_ptr<host_controller> c_;
  reactor& home_;
  connect_done done_;
  bool over_ = false;
  uint64_t cap_ = 0;
  std::shared_ptr<queue_socket_opener> admin_opener_;
  std::shared_ptr<const tls::tls_psk> tls_psk_;  // the identity and TLS PSK, with a configured PSK
  std::unique_ptr<reactor_timer> ready_timer_;  // made and dropped on home_
  // The I/O queue phase: queues still on their way, and the first error by qid.
  uint32_t io_pending_ = 0;
  // Queue i's opener, at [i]; sized on home before the openers start, then each entry is
  // set and read on queue i's reactor only.
  std::vector<std::weak_ptr<queue_socket_opener>> io_openers_;
  std::optional<std::pair<uint32_t, error>> io_error_;
};

}  // namespace nvmfd

#include "host/controller_connector.h"

#include "tls/psk_derivation.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "base/log.h"
#include "host/queue_authenticator.h"
#include "host/rdma_host_queue.h"
#include "host/tcp_host_qpair.h"
#include "host/admin_command.h"
#include "host/identify_limits.h"
#include "nvme_tcp/socket.h"
#include "proto/controller_properties.h"
#include "proto/discovery_log.h"
#include "proto/fabrics.h"
#include "proto/features.h"
#include "proto/nqn.h"

namespace nvmfd {

namespace {

constexpr uint16_t admin_queue_size = 32;
constexpr auto ready_poll_interval = std::chrono::milliseconds(10);

nvme_sqe fabrics_cmd(fabrics_type t) {
  nvme_sqe c{};
  c.opcode = static_cast<uint8_t>(admin_opcode::fabrics);
  c.nsid.raw[0] = static_cast<uint8_t>(t);
  return c;
}

nvme_sqe property_get_cmd(uint32_t offset, bool eight) {
  nvme_sqe cmd = fabrics_cmd(fabrics_type::property_get);
  property_command p = load_wire<property_command>(&cmd);
  p.attrib = eight ? 1 : 0;
  p.ofst = offset;
  return load_wire<nvme_sqe>(&p);
}

nvme_sqe property_set_cmd(uint32_t offset, uint32_t value) {
  nvme_sqe cmd = fabrics_cmd(fabrics_type::property_set);
  property_command p = load_wire<property_command>(&cmd);
  p.attrib = 0;
  p.ofst = offset;
  p.value = value;
  return load_wire<nvme_sqe>(&p);
}

}  // namespace

std::shared_ptr<controller_connector> controller_connector::start(std::shared_ptr<host_controller> c,
                                                                  connect_done done) {
  auto k = std::make_shared<controller_connector>(std::move(c), std::move(done));
  k->home_.post([k] { k->open_admin(); });
  return k;
}

controller_connector::controller_connector(std::shared_ptr<host_controller> c, connect_done done)
    : c_(std::move(c)), home_(c_->pool_.control()), done_(std::move(done)) {}

void controller_connector::cancel() {
  home_.post([self = shared_from_this()] {
    if (self->over_) return;
    if (self->admin_opener_) return self->admin_opener_->cancel();  // its completion fails the connect
    self->fail(error{errc::closed, "cancelled"});
  });
}

void controller_connector::open_admin() {
  auto port = parse_port(c_->trid_.trsvcid);
  if (!port) return fail(port.take_err());
  const auto& o = c_->opts_;
  if (is_rdma()) {
    if (o.tls_psk) return fail(error{errc::invalid_argument, "TLS is a TCP feature; an RDMA controller cannot use it"});
    return admin_opened(make_rdma_queue(admin_qid, admin_queue_size, home_));
  }
  if (o.tls_psk) {
    auto psk = tls::host_tls_psk(*o.tls_psk, c_->hostnqn_, c_->trid_.subnqn);
    if (!psk) return fail(psk.take_err());
    tls_psk_ = std::make_shared<const tls::tls_psk>(std::move(*psk));
  }
  admin_opener_ = queue_socket_opener::open(
      home_, c_->trid_.traddr, *port, o.hdgst, o.ddgst, tls_psk_, std::chrono::milliseconds(o.connect_timeout_ms),
      [self = shared_from_this()](result<opened_socket> s) {
        self->admin_opener_.reset();
        if (self->over_) return;
        if (!s) return self->fail(s.take_err());
        self->admin_opened(self->make_queue(admin_qid, admin_queue_size, self->home_, *s));
      });
}

void controller_connector::admin_opened(std::shared_ptr<host_queue> q) {
  {
    std::lock_guard lk(c_->mu_);
    c_->admin_ = q;
  }
  std::vector<std::byte> data;
  nvme_sqe cmd = c_->fabrics_connect_command(admin_qid, admin_queue_size - 1, data);
  admin(cmd, std::move(data), true, [self = shared_from_this(), q](sync_result r) {
    if (auto ok = self->check_queue_connect(*q, r.completion); !ok) return self->fail(ok.take_err());
    self->authenticate(q, r.completion.dw0, [self](result<void> a) {
      if (self->over_) return;
      if (!a) return self->fail(a.take_err());
      self->enable();
    });
  }, c_->opts_.connect_timeout_ms);
}

// A Connect that did not reach the controller (the queue failed under it: a dropped
// connection, an RDMA CM reject) is reported with the queue's reason, not the host status.
result<void> controller_connector::check_queue_connect(const host_queue& q, const nvme_completion& r) {
  if (q.failed() && r.status.sct == status_type::path_related && r.status.sc == sc_host::host_path_error)
    return error{errc::io_error, fmt::format("Connect (qid {}) failed: {}", q.qid(), q.failure_reason())};
  return c_->check_connect(q.qid(), r);
}

bool controller_connector::is_rdma() const { return c_->trid_.trtype == "rdma"; }

std::shared_ptr<host_queue> controller_connector::make_queue(qid_t qid, uint16_t size, reactor& r,
                                                             const opened_socket& s) {
  tcp_host_qpair_params p;
  p.qid = qid;
  p.queue_size = size;
  p.hdgst = s.ic.hdgst;
  p.ddgst = s.ic.ddgst;
  p.maxh2cdata = s.ic.maxh2cdata;
  p.cpda_bytes = s.ic.cpda_bytes;
  p.in_capsule_max = qid == admin_qid ? 8192 : c_->in_capsule_max_;
  p.io_timeout_ms = c_->opts_.io_timeout_ms;
  return started(std::make_shared<tcp_host_qpair>(r, s.fd, p, s.tls));
}

std::shared_ptr<host_queue> controller_connector::make_rdma_queue(qid_t qid, uint16_t size, reactor& r) {
  rdma_host_queue_params p;
  p.qid = qid;
  p.queue_size = size;
  p.cntlid = qid == admin_qid ? 0xffff : c_->cntlid_.value;
  p.traddr = c_->trid_.traddr;
  p.port = *parse_port(c_->trid_.trsvcid);  // checked by open_admin
  p.max_data = rdma_host_queue::default_max_data;
  p.io_timeout_ms = c_->opts_.io_timeout_ms;
  return started(std::make_shared<rdma_host_queue>(r, p));
}

std::shared_ptr<host_queue> controller_connector::started(std::shared_ptr<host_queue> q) {
  std::weak_ptr<host_controller> weak = c_;
  q->set_failure_handler([weak](const std::string& why) {
    if (auto c = weak.lock()) c->on_queue_failed(why);
  });
  q->start();
  return q;
}

void controller_connector::authenticate(const std::shared_ptr<host_queue>& q, uint32_t connect_dw0,
                                        completion<void> done) {
  auto need = c_->needs_authentication(q->qid(), connect_dw0);
  if (!need) return done(need.take_err());
  if (!*need) return done(success());
  auto deadline = q->owner().now() + std::chrono::milliseconds(c_->opts_.connect_timeout_ms);
  authenticate_queue(q, c_->auth_config(), deadline, std::move(done));
}

void controller_connector::admin(const nvme_sqe& cmd, std::vector<std::byte> data, bool h2c, then_fn then,
                                 uint32_t timeout_ms) {
  c_->submit_admin(
      cmd, std::move(data), h2c,
      [self = shared_from_this(), then = std::move(then)](result<sync_result> r) {
        if (self->over_) return;
        if (!r) return self->fail(r.take_err());
        then(std::move(*r));
      },
      timeout_ms);
}

void controller_connector::admin_ok(const char* what, const nvme_sqe& cmd, std::vector<std::byte> data, then_fn then) {
  admin(cmd, std::move(data), false, [self = shared_from_this(), what, then = std::move(then)](sync_result r) {
    if (!r.completion.status.ok()) return self->fail(host_controller::status_error(what, r.completion.status));
    then(std::move(r));
  });
}

void controller_connector::property_get(uint32_t offset, bool eight, std::function<void(uint64_t)> then) {
  admin_ok("Property Get", property_get_cmd(offset, eight), {}, [then = std::move(then)](sync_result r) {
    then(uint64_t{r.completion.dw0} | (uint64_t{r.completion.dw1} << 32));
  });
}

// CC.EN = 1, then wait for CSTS.RDY (Base 2.0 3.5.1) for up to CAP.TO.
void controller_connector::enable() {
  property_get(property_offset::cap, true, [self = shared_from_this()](uint64_t cap) {
    self->cap_ = cap;
    auto cc = cc_register::make(true, 0, 0, 0, shutdown_notification::none, 6, 4);
    self->admin_ok("Property Set", property_set_cmd(property_offset::cc, cc.raw), {}, [self](sync_result) {
      auto to = cap_fields::decode(self->cap_).to;
      self->poll_ready(self->home_.now() + std::chrono::milliseconds(std::max(500u, to * 500u)));
    });
  });
}

void controller_connector::poll_ready(time_source::time_point deadline) {
  property_get(property_offset::csts, false, [self = shared_from_this(), deadline](uint64_t csts) {
    if (csts & csts_bits::cfs) return self->fail(error{errc::io_error, "controller fatal status (CSTS.CFS) while enabling"});
    if (csts & csts_bits::rdy) {
      self->ready_timer_.reset();
      return self->identify();
    }
    if (self->home_.now() > deadline)
      return self->fail(error{errc::timed_out, "controller did not become ready (CSTS.RDY)"});
    if (!self->ready_timer_) self->ready_timer_ = std::make_unique<reactor_timer>(self->home_);
    self->ready_timer_->arm(ready_poll_interval, [self, deadline] {
      if (!self->over_) self->poll_ready(deadline);
    });
  });
}

void controller_connector::identify() {
  admin_ok("Identify Controller", make_identify(identify_cns::controller), std::vector<std::byte>(4096),
           [self = shared_from_this()](sync_result r) {
             host_controller& c = *self->c_;
             c.id_ctrl_ = load_wire<identify_controller>(r.data.data());
             c.max_xfer_ = max_transfer_from_mdts(c.id_ctrl_.mdts, cap_fields::decode(self->cap_).mpsmin);
             // RDMA queues move data through per-slot registered bounce buffers of this size.
             if (self->is_rdma()) c.max_xfer_ = std::min(c.max_xfer_, rdma_host_queue::default_max_data);
             c.in_capsule_max_ = in_capsule_data_limit(c.id_ctrl_.ioccsz.get(), c.max_xfer_);
             c.start_keep_alive();
             // Controllers older than TP8010 report no type: the discovery NQN tells then.
             bool discovery = c.id_ctrl_.cntrltype == static_cast<uint8_t>(controller_type::discovery) ||
                              (c.id_ctrl_.cntrltype == static_cast<uint8_t>(controller_type::not_reported) &&
                               is_discovery_nqn(c.trid_.subnqn));
             if (discovery) return self->enable_events();
             self->set_queue_count();
           });
}

void controller_connector::set_queue_count() {
  reactor_pool& pool = c_->pool_;
  uint32_t want = c_->opts_.num_io_queues ? c_->opts_.num_io_queues : pool.size();
  nvme_sqe nq{};
  nq.opcode = static_cast<uint8_t>(admin_opcode::set_features);
  nq.cdw10 = static_cast<uint32_t>(feature_id::number_of_queues);
  nq.cdw11 = queue_counts{static_cast<uint16_t>(want - 1), static_cast<uint16_t>(want - 1)}.encode();
  admin_ok("Set Features (Number of Queues)", nq, {}, [self = shared_from_this(), want](sync_result r) {
    auto granted = queue_counts::decode(r.completion.dw0);
    uint32_t n = std::min<uint32_t>({want, uint32_t{granted.nsq} + 1, uint32_t{granted.ncq} + 1});
    uint32_t mqes = cap_fields::decode(self->cap_).mqes + 1u;
    auto qsize = static_cast<uint16_t>(std::min<uint32_t>({self->c_->opts_.io_queue_size, mqes, 1024}));
    self->open_io_queues(n, qsize);
  });
}

// Queue i lives on reactor (i - 1) % reactors: its socket is opened and started there, and
// every queue's Fabrics Connect runs at the same time as the others'.
void controller_connector::open_io_queues(uint32_t n, uint16_t qsize) {
  reactor_pool& pool = c_->pool_;
  c_->queue_by_reactor_.assign(pool.size(), nullptr);
  auto port = parse_port(c_->trid_.trsvcid);
  if (!port) return fail(port.take_err());
  io_pending_ = n;
  io_openers_.assign(n + 1, {});
  const auto& o = c_->opts_;
  for (uint32_t i = 1; i <= n; ++i) {
    reactor& r = pool.at((i - 1) % pool.size());
    if (is_rdma()) {
      r.post([self = shared_from_this(), &r, i, qsize] {
        auto q = self->make_rdma_queue(qid_t{static_cast<uint16_t>(i)}, qsize, r);
        self->home_.post([self, i, q]() mutable { self->io_queue_opened(i, q); });
      });
      continue;
    }
    r.post([self = shared_from_this(), &r, i, qsize, addr = c_->trid_.traddr, port = *port, o] {
      self->io_openers_[i] = queue_socket_opener::open(
          r, addr, port, o.hdgst, o.ddgst, self->tls_psk_, std::chrono::milliseconds(o.connect_timeout_ms),
          [self, &r, i, qsize](result<opened_socket> s) {
            result<std::shared_ptr<host_queue>> q =
                s ? result<std::shared_ptr<host_queue>>(self->make_queue(qid_t{static_cast<uint16_t>(i)}, qsize, r, *s))
                  : result<std::shared_ptr<host_queue>>(s.take_err());
            self->home_.post([self, i, q = std::move(q)]() mutable { self->io_queue_opened(i, std::move(q)); });
          });
    });
  }
}

void controller_connector::io_queue_opened(uint32_t i, result<std::shared_ptr<host_queue>> q) {
  if (!q) return io_queue_connected(i, q.take_err());
  std::shared_ptr<host_queue> qp = *q;
  if (over_) {  // the connect ended meanwhile: this queue is nobody's
    qp->owner().post([qp] { qp->fail("disconnected by the host", true); });
    return io_queue_connected(i, error{errc::closed, "cancelled"});
  }
  {
    std::lock_guard lk(c_->mu_);
    c_->io_queues_.push_back(qp);
  }
  std::vector<std::byte> data;
  nvme_sqe cmd = c_->fabrics_connect_command(qid_t{static_cast<uint16_t>(i)}, static_cast<uint16_t>(qp->queue_size() - 1), data);
  submit_async(
      *qp, cmd, std::move(data), true,
      [self = shared_from_this(), i, qp](result<sync_result> r) {
        result<void> ok = r ? self->check_queue_connect(*qp, r->completion) : r.take_err();
        auto connected = [self, i](result<void> ok) {
          self->home_.post([self, i, ok = std::move(ok)]() mutable { self->io_queue_connected(i, std::move(ok)); });
        };
        if (!ok) return connected(std::move(ok));
        self->authenticate(qp, r->completion.dw0, std::move(connected));
      },
      c_->opts_.connect_timeout_ms);
}

void controller_connector::io_queue_connected(uint32_t i, result<void> r) {
  if (!r && (!io_error_ || i < io_error_->first)) io_error_.emplace(i, r.take_err());
  if (--io_pending_ > 0 || over_) return;
  if (io_error_) return fail(std::move(io_error_->second));
  {
    std::lock_guard lk(c_->mu_);
    std::sort(c_->io_queues_.begin(), c_->io_queues_.end(), [](auto& a, auto& b) { return a->qid() < b->qid(); });
  }
  for (auto& q : c_->io_queues_) {
    auto& slot = c_->queue_by_reactor_[q->owner().index()];
    if (!slot) slot = q.get();
  }
  read_namespaces();
}

void controller_connector::read_namespaces() {
  admin_ok("Identify (active namespaces)", make_identify(identify_cns::active_namespace_list),
           std::vector<std::byte>(4096), [self = shared_from_this()](sync_result r) {
             std::vector<nsid_t> nsids;
             for (size_t i = 0; i < 1024; ++i) {
               uint32_t nsid = load_wire<le32>(r.data.data() + 4 * i).get();
               if (nsid == 0) break;
               nsids.push_back(nsid_t{nsid});
             }
             self->c_->namespaces_.clear();
             self->read_namespace(std::move(nsids), 0);
           });
}

// One namespace: Identify Namespace, then its ID descriptors (a UUID replaces the NGUID).
void controller_connector::read_namespace(std::vector<nsid_t> nsids, size_t next) {
  if (next == nsids.size()) return enable_events();
  nsid_t nsid = nsids[next];
  admin(make_identify(identify_cns::namespace_, nsid), std::vector<std::byte>(4096), false,
        [self = shared_from_this(), nsids = std::move(nsids), next, nsid](sync_result r) mutable {
          if (!r.completion.status.ok()) return self->read_namespace(std::move(nsids), next + 1);  // gone in between
          remote_namespace ns;
          ns.nsid = nsid;
          ns.data = load_wire<identify_namespace>(r.data.data());
          auto geometry = namespace_geometry_of(ns.data);
          if (!geometry) {  // not usable: the others still are
            NVMFD_LOG_WARN("{}: namespace {} ignored: {}", self->c_->trid_.subnqn, nsid, geometry.err().message);
            return self->read_namespace(std::move(nsids), next + 1);
          }
          ns.num_blocks = geometry->num_blocks;
          ns.block_size = geometry->block_size;
          std::memcpy(ns.id.bytes.data(), ns.data.nguid, 16);
          self->admin(make_identify(identify_cns::namespace_id_descriptors, nsid), std::vector<std::byte>(4096), false,
                      [self, nsids = std::move(nsids), next, ns](sync_result d) mutable {
                        if (d.completion.status.ok())
                          if (auto p = parse_ns_id_descriptors(std::span<const std::byte>(d.data)); p && p->uuid)
                            std::memcpy(ns.id.bytes.data(), p->uuid->data(), 16);
                        self->c_->namespaces_.push_back(ns);
                        self->read_namespace(std::move(nsids), next + 1);
                      });
        });
}

// Asynchronous events the controller offers and the owner wants: configure them, then keep
// an Asynchronous Event Request outstanding.
void controller_connector::enable_events() {
  host_controller& c = *c_;
  uint32_t wanted = aec_bits::namespace_attribute | aec_bits::ana_change | aec_bits::discovery_log_change;
  uint32_t aec = c.id_ctrl_.oaes.get() & wanted;
  if (!c.events_.on_event || aec == 0) return succeed();
  nvme_sqe cmd{};
  cmd.opcode = static_cast<uint8_t>(admin_opcode::set_features);
  cmd.cdw10 = static_cast<uint32_t>(feature_id::async_event_configuration);
  cmd.cdw11 = aec;
  admin_ok("Set Features (Asynchronous Event Configuration)", cmd, {}, [self = shared_from_this()](sync_result) {
    self->c_->aer_cb_.ctrl = self->c_.get();
    self->c_->submit_async_event_request();
    self->succeed();
  });
}

void controller_connector::succeed() {
  over_ = true;
  ready_timer_.reset();
  const host_controller& c = *c_;
  if (!c.io_queues_.empty())
    NVMFD_LOG_INFO("connected to {} at {}:{} (cntlid {}, {} I/O queues of {})", c.trid_.subnqn, c.trid_.traddr,
                   c.trid_.trsvcid, c.cntlid_, c.io_queues_.size(), c.io_queues_.front()->queue_size());
  done_(std::move(c_));
}

// Posted after each opener's start to the same reactor, so it finds the opener there.
void controller_connector::cancel_io_openers() {
  reactor_pool& pool = c_->pool_;
  for (uint32_t i = 1; i < io_openers_.size(); ++i)
    pool.at((i - 1) % pool.size()).post([self = shared_from_this(), i] {
      if (auto o = self->io_openers_[i].lock()) o->cancel();
    });
}

void controller_connector::fail(error e) {
  if (over_) return;
  over_ = true;
  ready_timer_.reset();
  if (admin_opener_) std::exchange(admin_opener_, nullptr)->cancel();
  cancel_io_openers();
  // c_ stays: late completions of I/O queue steps still read it.
  c_->disconnect_async([self = shared_from_this(), e = std::move(e)](result<void>) mutable { self->done_(std::move(e)); });
}

}  // namespace nvmfd

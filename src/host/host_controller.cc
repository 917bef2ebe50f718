#include "host/host_controller.h"

#include <cstring>
#include <fmt/format.h>

#include "base/log.h"
#include "host/sync_command.h"
#include "nvme_tcp/socket.h"
#include "proto/controller_properties.h"
#include "proto/discovery_log.h"
#include "proto/fabrics.h"
#include "proto/features.h"
#include "proto/log_pages.h"
#include "proto/nqn.h"
#include "reactor/blocking_call.h"
#include "reactor/post_all.h"
#include "reactor/reactor_assert.h"

namespace nvmfd {

namespace {

constexpr uint16_t admin_queue_size = 32;

// Largest transfer: 2^MDTS pages of CAP.MPSMIN (4 KiB << MPSMIN); MDTS 0 = no limit, for
// which we use 1 MiB. Computed in 64 bits and clamped to 1 GiB.
uint32_t max_transfer_from_mdts(uint8_t mdts, uint8_t mpsmin) {
  if (mdts == 0) return 1u << 20;
  uint64_t bytes = uint64_t{1} << std::min<unsigned>(12u + mpsmin + mdts, 30u);
  return static_cast<uint32_t>(bytes);
}

error status_error(const char* what, const nvme_status& s) {
  return error{errc::io_error, fmt::format("{} failed: NVMe status SCT {:#x} SC {:#x}{}", what,
                                           static_cast<unsigned>(s.sct), s.sc, s.dnr ? " (DNR)" : "")};
}

nvme_sqe fabrics_cmd(fabrics_type t) {
  nvme_sqe c{};
  c.opcode = static_cast<uint8_t>(admin_opcode::fabrics);
  c.nsid.raw[0] = static_cast<uint8_t>(t);
  return c;
}

}  // namespace

host_controller::host_controller(reactor_pool& pool, transport_id trid, controller_options opts)
    : pool_(pool), trid_(std::move(trid)), opts_(std::move(opts)) {
  hostid_ = opts_.hostid.is_zero() ? uuid::random_v4() : opts_.hostid;
  hostnqn_ = opts_.hostnqn.empty() ? "nqn.2014-08.org.nvmexpress:uuid:" + hostid_.to_string() : opts_.hostnqn;
}

host_controller::~host_controller() { disconnect(); }

std::string host_controller::failure_reason() const {
  std::lock_guard lk(mu_);
  return failure_;
}

result<std::shared_ptr<host_qpair>> host_controller::open_queue(uint16_t qid, uint16_t size, reactor& r) {
  auto port = parse_port(trid_.trsvcid);
  if (!port) return port.take_err();
  auto fd = tcp_connect(trid_.traddr, *port, static_cast<int>(opts_.connect_timeout_ms));
  if (!fd) return fd.take_err();
  auto ic = icreq_exchange(*fd, opts_.hdgst, opts_.ddgst, static_cast<int>(opts_.connect_timeout_ms));
  if (!ic) {
    ::close(*fd);
    return ic.take_err();
  }
  host_qpair_params p;
  p.qid = qid;
  p.queue_size = size;
  p.hdgst = ic->hdgst;
  p.ddgst = ic->ddgst;
  p.maxh2cdata = ic->maxh2cdata;
  p.cpda_bytes = ic->cpda_bytes;
  p.in_capsule_max = qid == 0 ? 8192 : in_capsule_max_;
  p.io_timeout_ms = opts_.io_timeout_ms;
  auto q = std::make_shared<host_qpair>(r, *fd, p);
  std::weak_ptr<host_controller> weak = weak_from_this();
  q->set_failure_handler([weak](const std::string& why) {
    if (auto c = weak.lock()) c->on_queue_failed(why);
  });
  unsigned idx = r.index();
  pool_.run_on(idx, [q] { q->start(); });
  return q;
}

result<void> host_controller::fabrics_connect(host_qpair& q, uint16_t qid, uint16_t sqsize) {
  nvme_sqe cmd = fabrics_cmd(fabrics_type::connect);
  connect_command c = load_wire<connect_command>(&cmd);
  c.recfmt = 0;
  c.qid = qid;
  c.sqsize = sqsize;
  c.kato = qid == 0 ? opts_.kato_ms : 0;
  c.cattr = qid != 0 && opts_.disable_sq_flow_control ? cattr_bits::disable_sq_flow_control : 0;
  cmd = load_wire<nvme_sqe>(&c);
  connect_data d{};
  std::memcpy(d.hostid, hostid_.bytes.data(), 16);
  d.cntlid = qid == 0 ? cntlid_dynamic : cntlid_;
  set_padded(d.subnqn, trid_.subnqn, '\0');
  set_padded(d.hostnqn, hostnqn_, '\0');
  std::vector<std::byte> buf(sizeof(d));
  std::memcpy(buf.data(), &d, sizeof(d));
  auto r = run_sync(q, cmd, std::move(buf), true, opts_.connect_timeout_ms + 1000);
  if (!r) return r.take_err();
  const auto& st = r->completion.status;
  if (st.sct == status_type::command_specific && st.sc == sc_command_specific::connect_invalid_host)
    return error{errc::invalid_argument, fmt::format("host {} is not allowed to connect to {}", hostnqn_, trid_.subnqn)};
  if (st.sct == status_type::command_specific && st.sc == sc_command_specific::connect_invalid_parameters)
    return error{errc::invalid_argument,
                 fmt::format("Connect (qid {}) refused: invalid parameter at {} offset {} (unknown subsystem {}?)", qid,
                             (r->completion.dw0 >> 16) & 1 ? "data" : "command", r->completion.dw0 & 0xffff,
                             trid_.subnqn)};
  if (!st.ok()) return status_error("Connect", st);
  if (qid == 0) cntlid_ = static_cast<uint16_t>(r->completion.dw0 & 0xffff);
  return success();
}

result<uint64_t> host_controller::property_get(uint32_t offset, bool eight) {
  nvme_sqe cmd = fabrics_cmd(fabrics_type::property_get);
  property_command p = load_wire<property_command>(&cmd);
  p.attrib = eight ? 1 : 0;
  p.ofst = offset;
  cmd = load_wire<nvme_sqe>(&p);
  auto r = admin(cmd);
  if (!r) return r.take_err();
  if (!r->status.ok()) return status_error("Property Get", r->status);
  return uint64_t{r->dw0} | (uint64_t{r->dw1} << 32);
}

result<void> host_controller::property_set(uint32_t offset, uint32_t value) {
  nvme_sqe cmd = fabrics_cmd(fabrics_type::property_set);
  property_command p = load_wire<property_command>(&cmd);
  p.attrib = 0;
  p.ofst = offset;
  p.value = value;
  cmd = load_wire<nvme_sqe>(&p);
  auto r = admin(cmd);
  if (!r) return r.take_err();
  if (!r->status.ok()) return status_error("Property Set", r->status);
  return success();
}

result<void> host_controller::enable() {
  auto cap = property_get(property_offset::cap, true);
  if (!cap) return cap.take_err();
  auto capf = cap_fields::decode(*cap);
  auto cc = cc_register::make(true, 0, 0, 0, shutdown_notification::none, 6, 4);
  if (auto r = property_set(property_offset::cc, cc.raw); !r) return r;
  auto deadline = clock_type::now() + std::chrono::milliseconds(std::max(500u, capf.to * 500u));
  for (;;) {
    auto csts = property_get(property_offset::csts, false);
    if (!csts) return csts.take_err();
    if (*csts & csts_bits::cfs) return error{errc::io_error, "controller fatal status (CSTS.CFS) while enabling"};
    if (*csts & csts_bits::rdy) return success();
    if (clock_type::now() > deadline) return error{errc::timed_out, "controller did not become ready (CSTS.RDY)"};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

result<nvme_completion> host_controller::admin(nvme_sqe cmd, std::byte* data, uint32_t len, bool h2c) {
  assert_off_reactor("host_controller::admin");
  // Called from control threads: disconnect() may reset admin_ meanwhile (under mu_).
  std::shared_ptr<host_qpair> q;
  {
    std::lock_guard lk(mu_);
    q = admin_;
  }
  if (!q || q->failed()) return error{errc::closed, fmt::format("controller failed: {}", failure_reason())};
  std::vector<std::byte> buf(len);
  if (h2c && len) std::memcpy(buf.data(), data, len);
  auto r = run_sync(*q, cmd, std::move(buf), h2c, opts_.io_timeout_ms + 2000);
  if (!r) return r.take_err();
  if (!h2c && len) std::memcpy(data, r->data.data(), len);
  return r->completion;
}

result<std::vector<std::byte>> host_controller::get_log_page(uint8_t lid, uint64_t offset, uint32_t len, uint8_t lsp) {
  if (len == 0 || len % 4 != 0 || offset % 4 != 0)
    return error{errc::invalid_argument, "log page length and offset must be non-zero multiples of 4"};
  // Offsets need LPA bit 2 (extended data for Get Log Page).
  if (offset != 0 && !(id_ctrl_.lpa & lpa_bits::extended_data))
    return error{errc::not_supported, "the controller does not support log page offsets"};
  nvme_sqe cmd{};
  cmd.opcode = static_cast<uint8_t>(admin_opcode::get_log_page);
  cmd.nsid = 0xffffffffu;
  uint32_t numd = len / 4 - 1;
  cmd.cdw10 = uint32_t{lid} | (uint32_t{lsp} << 8) | ((numd & 0xffff) << 16);
  cmd.cdw11 = numd >> 16;
  cmd.cdw12 = static_cast<uint32_t>(offset);
  cmd.cdw13 = static_cast<uint32_t>(offset >> 32);
  std::vector<std::byte> out(len);
  auto r = admin(cmd, out.data(), len, false);
  if (!r) return r.take_err();
  if (!r->status.ok()) return status_error("Get Log Page", r->status);
  return out;
}

result<void> host_controller::refresh_namespaces() {
  std::array<std::byte, 4096> list{};
  nvme_sqe cmd{};
  cmd.opcode = static_cast<uint8_t>(admin_opcode::identify);
  cmd.cdw10 = static_cast<uint32_t>(identify_cns::active_namespace_list);
  auto r = admin(cmd, list.data(), list.size(), false);
  if (!r) return r.take_err();
  if (!r->status.ok()) return status_error("Identify (active namespaces)", r->status);
  std::vector<remote_namespace> found;
  for (size_t i = 0; i < 1024; ++i) {
    uint32_t nsid = load_wire<le32>(list.data() + 4 * i).get();
    if (nsid == 0) break;
    std::array<std::byte, 4096> idns{};
    nvme_sqe c{};
    c.opcode = static_cast<uint8_t>(admin_opcode::identify);
    c.nsid = nsid;
    c.cdw10 = static_cast<uint32_t>(identify_cns::namespace_);
    auto rr = admin(c, idns.data(), idns.size(), false);
    if (!rr) return rr.take_err();
    if (!rr->status.ok()) continue;  // gone in between
    remote_namespace ns;
    ns.nsid = nsid;
    ns.data = load_wire<identify_namespace>(idns.data());
    ns.num_blocks = ns.data.nsze.get();
    ns.block_size = 1u << ns.data.current_format().lbads;
    std::memcpy(ns.id.bytes.data(), ns.data.nguid, 16);
    std::array<std::byte, 4096> desc{};
    c.cdw10 = static_cast<uint32_t>(identify_cns::namespace_id_descriptors);
    if (auto d = admin(c, desc.data(), desc.size(), false); d && d->status.ok())
      if (auto p = parse_ns_id_descriptors(desc); p && p->uuid) std::memcpy(ns.id.bytes.data(), p->uuid->data(), 16);
    found.push_back(ns);
  }
  namespaces_ = std::move(found);
  return success();
}

result<std::shared_ptr<host_controller>> host_controller::connect(reactor_pool& pool, const transport_id& trid,
                                                                  const controller_options& opts,
                                                                  event_handlers events) {
  assert_off_reactor("host_controller::connect");
  if (trid.subnqn.empty()) return error{errc::invalid_argument, "transport ID lacks subnqn"};
  std::shared_ptr<host_controller> c(new host_controller(pool, trid, opts));
  c->events_ = std::move(events);
  auto r = c->connect_queues(pool, trid, opts);
  if (!r) {
    // Tear down here, on this control thread. Left to the destructor, the teardown could run
    // on a reactor: the keep-alive timer and a failing queue's handler hold a strong reference
    // for a moment (weak_ptr::lock), and if ours is dropped meanwhile theirs is the last one;
    // ~host_controller -> disconnect() -> run_on() of that same reactor would never return.
    c->disconnect();
    return r.take_err();
  }
  return c;
}

result<void> host_controller::connect_queues(reactor_pool& pool, const transport_id& trid,
                                             const controller_options& opts) {
  host_controller* c = this;
  auto admin_q = c->open_queue(0, admin_queue_size, pool.at(0));
  if (!admin_q) return admin_q.take_err();
  {
    std::lock_guard lk(c->mu_);
    c->admin_ = *admin_q;
  }
  if (auto r = c->fabrics_connect(*c->admin_, 0, admin_queue_size - 1); !r) return r.take_err();
  if (auto r = c->enable(); !r) return r.take_err();
  std::array<std::byte, 4096> idc{};
  nvme_sqe cmd{};
  cmd.opcode = static_cast<uint8_t>(admin_opcode::identify);
  cmd.cdw10 = static_cast<uint32_t>(identify_cns::controller);
  auto r = c->admin(cmd, idc.data(), idc.size(), false);
  if (!r) return r.take_err();
  if (!r->status.ok()) return status_error("Identify Controller", r->status);
  c->id_ctrl_ = load_wire<identify_controller>(idc.data());
  auto cap0 = c->property_get(property_offset::cap, true);
  if (!cap0) return cap0.take_err();
  c->max_xfer_ = max_transfer_from_mdts(c->id_ctrl_.mdts, cap_fields::decode(*cap0).mpsmin);
  uint32_t ioccsz = c->id_ctrl_.ioccsz.get();
  c->in_capsule_max_ = ioccsz * 16 > sizeof(nvme_sqe) ? ioccsz * 16 - static_cast<uint32_t>(sizeof(nvme_sqe)) : 0;
  c->start_keep_alive();
  // Controllers older than TP8010 report no type: the discovery NQN tells then.
  bool discovery = c->id_ctrl_.cntrltype == static_cast<uint8_t>(controller_type::discovery) ||
                   (c->id_ctrl_.cntrltype == static_cast<uint8_t>(controller_type::not_reported) &&
                    is_discovery_nqn(trid.subnqn));
  if (discovery) {
    if (auto ev = c->start_async_events(); !ev) return ev.take_err();
    return success();
  }

  uint32_t want = opts.num_io_queues ? opts.num_io_queues : pool.size();
  nvme_sqe nq{};
  nq.opcode = static_cast<uint8_t>(admin_opcode::set_features);
  nq.cdw10 = static_cast<uint32_t>(feature_id::number_of_queues);
  nq.cdw11 = queue_counts{static_cast<uint16_t>(want - 1), static_cast<uint16_t>(want - 1)}.encode();
  auto nqr = c->admin(nq);
  if (!nqr) return nqr.take_err();
  if (!nqr->status.ok()) return status_error("Set Features (Number of Queues)", nqr->status);
  auto granted = queue_counts::decode(nqr->dw0);
  uint32_t n = std::min<uint32_t>({want, uint32_t{granted.nsq} + 1, uint32_t{granted.ncq} + 1});
  auto cap = c->property_get(property_offset::cap, true);
  if (!cap) return cap.take_err();
  uint32_t mqes = cap_fields::decode(*cap).mqes + 1u;
  uint16_t qsize = static_cast<uint16_t>(std::min<uint32_t>({opts.io_queue_size, mqes, 1024}));
  c->queue_by_reactor_.assign(pool.size(), nullptr);
  for (uint32_t i = 1; i <= n; ++i) {
    reactor& rr = pool.at((i - 1) % pool.size());
    auto q = c->open_queue(static_cast<uint16_t>(i), qsize, rr);
    if (!q) return q.take_err();
    {
      std::lock_guard lk(c->mu_);
      c->io_queues_.push_back(*q);
    }
    if (auto cr = c->fabrics_connect(**q, static_cast<uint16_t>(i), static_cast<uint16_t>(qsize - 1)); !cr)
      return cr.take_err();
    if (!c->queue_by_reactor_[rr.index()]) c->queue_by_reactor_[rr.index()] = q->get();
  }
  if (auto rn = c->refresh_namespaces(); !rn) return rn.take_err();
  if (auto ev = c->start_async_events(); !ev) return ev.take_err();
  NVMFD_LOG_INFO("connected to {} at {}:{} (cntlid {}, {} I/O queues of {})", trid.subnqn, trid.traddr, trid.trsvcid,
                 c->cntlid_, n, qsize);
  return success();
}

host_qpair* host_controller::io_queue(reactor& r) {
  // queue_by_reactor_ is fixed once connect() returns (disconnect() fails the queues but
  // leaves the table), so reactors read it without a lock.
  if (r.index() >= queue_by_reactor_.size()) return nullptr;
  host_qpair* q = queue_by_reactor_[r.index()];
  return q && &q->owner() == &r ? q : nullptr;  // a reactor of another pool has no queue here
}

void host_controller::start_keep_alive() {
  if (opts_.kato_ms == 0) return;
  ka_cb_.ctrl = this;
  pool_.run_on(admin_->owner().index(), [this] { arm_keep_alive(); });
}

void host_controller::arm_keep_alive() {
  auto period = std::chrono::milliseconds(std::max(100u, opts_.kato_ms / 2));
  std::weak_ptr<host_controller> weak = weak_from_this();
  ka_timer_ = admin_->owner().schedule(period, [weak] {
    auto c = weak.lock();
    if (!c || c->disconnected_.load() || !c->admin_ || c->admin_->failed()) return;
    c->ka_timer_ = 0;
    if (host_request* r = c->admin_->alloc()) {
      r->cmd.opcode = static_cast<uint8_t>(admin_opcode::keep_alive);
      r->cb = &c->ka_cb_;
      // A Keep Alive unanswered for KATO means the path is gone (a silent link cut shows
      // only this way): fail the controller then, not after the I/O timeout.
      r->timeout_ms = c->opts_.kato_ms;
      c->admin_->submit(*r);
    }
    c->arm_keep_alive();
  });
}

result<void> host_controller::start_async_events() {
  if (!events_.on_event) return success();
  uint32_t wanted = aec_bits::namespace_attribute | aec_bits::ana_change | aec_bits::discovery_log_change;
  uint32_t aec = id_ctrl_.oaes.get() & wanted;
  if (aec == 0) return success();  // nothing to be told: no request is kept outstanding
  nvme_sqe cmd{};
  cmd.opcode = static_cast<uint8_t>(admin_opcode::set_features);
  cmd.cdw10 = static_cast<uint32_t>(feature_id::async_event_configuration);
  cmd.cdw11 = aec;
  auto r = admin(cmd);
  if (!r) return r.take_err();
  if (!r->status.ok()) return status_error("Set Features (Asynchronous Event Configuration)", r->status);
  aer_cb_.ctrl = this;
  pool_.run_on(admin_->owner().index(), [this] { submit_async_event_request(); });
  return success();
}

void host_controller::submit_async_event_request() {
  if (disconnected_.load() || !admin_ || admin_->failed()) return;
  host_request* r = admin_->alloc();
  if (!r) return;  // the admin queue is full of other commands: re-armed by the next event
  r->cmd.opcode = static_cast<uint8_t>(admin_opcode::async_event_request);
  r->cb = &aer_cb_;
  r->timeout_ms = host_request::no_timeout;
  admin_->submit(*r);
}

void host_controller::async_event_callback::on_host_complete(host_request&, const nvme_completion& c) {
  // A failed queue completes the request with a host status: nothing to re-arm then.
  if (!c.status.ok() || ctrl->disconnected_.load() || ctrl->failed()) return;
  ctrl->events_.on_event(c.dw0);
  ctrl->submit_async_event_request();
}

void host_controller::keep_alive_callback::on_host_complete(host_request&, const nvme_completion& c) {
  if (!c.status.ok() && ctrl->admin_ && !ctrl->admin_->failed())
    ctrl->admin_->fail(fmt::format("Keep Alive failed (SCT {:#x} SC {:#x})", static_cast<unsigned>(c.status.sct),
                                   c.status.sc));
}

void host_controller::on_queue_failed(const std::string& why) {
  if (disconnected_.load()) return;  // a teardown we asked for
  if (failed_.exchange(true)) return;
  std::vector<std::shared_ptr<host_qpair>> all;
  {
    std::lock_guard lk(mu_);
    failure_ = why;
    all = io_queues_;
    all.push_back(admin_);
  }
  // One queue failed: the controller is gone; fail the others on their reactors.
  for (auto& q : all) {
    if (!q) continue;
    q->owner().post([q, why] { q->fail("controller failed: " + why); });
  }
  if (events_.on_failure) events_.on_failure(why);
}

void host_controller::disconnect() {
  if (disconnected_.exchange(true)) return;
  assert_off_reactor("host_controller::disconnect");
  // this outlives the wait: the teardown needs no reference of its own.
  (void)blocking_call<void>(
      pool_.control(), [this](completion<void> done) { tear_down(nullptr, std::move(done)); }, std::nullopt,
      "host_controller::disconnect");
}

void host_controller::disconnect_async(completion<void> done) {
  if (disconnected_.exchange(true)) return pool_.control().post([done]() mutable { done(success()); });
  tear_down(shared_from_this(), std::move(done));
}

// Four rounds, each posted to the reactors it concerns once the one before has finished
// everywhere: cancel the keep-alive timer (admin reactor); fail every queue (outstanding
// commands complete with a host path error); empty the per-reactor queue table, so that
// io_queue() never returns a queue about to go; destroy each queue on its reactor, after the
// failures' deferred work there has run. keep holds the controller when nobody waits.
void host_controller::tear_down(std::shared_ptr<host_controller> keep, completion<void> done) {
  auto queues = std::make_shared<std::vector<std::vector<std::shared_ptr<host_qpair>>>>(pool_.size());
  reactor* admin_reactor = nullptr;
  {
    std::lock_guard lk(mu_);
    for (auto& q : io_queues_) (*queues)[q->owner().index()].push_back(q);
    if (admin_) {
      admin_reactor = &admin_->owner();
      (*queues)[admin_reactor->index()].push_back(admin_);
    }
  }
  reactor* home = &pool_.control();
  auto destroy_queues = [this, keep, queues, done, home]() mutable {
    post_all(pool_, [queues](reactor& r) { (*queues)[r.index()].clear(); }, *home,
             [keep, done]() mutable { done(success()); });
  };
  auto empty_table = [this, keep, destroy_queues, home]() mutable {
    {
      std::lock_guard lk(mu_);
      io_queues_.clear();
      admin_.reset();
    }
    post_all(pool_, [this, keep](reactor& r) {
      if (r.index() < queue_by_reactor_.size()) queue_by_reactor_[r.index()] = nullptr;
    }, *home, destroy_queues);
  };
  auto fail_queues = [this, keep, queues, empty_table, home]() mutable {
    post_all(pool_, [queues](reactor& r) {
      for (auto& q : (*queues)[r.index()]) q->fail("disconnected by the host", true);
    }, *home, empty_table);
  };
  if (!admin_reactor) return fail_queues();
  admin_reactor->post([this, keep, admin_reactor, fail_queues, home] {
    if (ka_timer_) admin_reactor->cancel(ka_timer_);
    ka_timer_ = 0;
    home->post(fail_queues);
  });
}

}  // namespace nvmfd

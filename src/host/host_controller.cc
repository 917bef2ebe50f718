#include "host/host_controller.h"

#include <cstring>
#include <fmt/format.h>

#include "base/log.h"
#include "proto/controller_properties.h"
#include "proto/discovery_log.h"
#include "proto/fabrics.h"
#include "proto/features.h"
#include "proto/log_pages.h"
#include "proto/nqn.h"
#include "reactor/blocking_call.h"
#include "host/controller_connector.h"
#include "host/queue_authenticator.h"
#include "reactor/post_all.h"
#include "reactor/reactor_assert.h"

namespace nvmfd {


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

error host_controller::status_error(const char* what, const nvme_status& s) {
  return error{errc::io_error, fmt::format("{} failed: NVMe status SCT {:#x} SC {:#x}{}", what,
                                           static_cast<unsigned>(s.sct), s.sc, s.dnr ? " (DNR)" : "")};
}

nvme_sqe host_controller::fabrics_connect_command(qid_t qid, uint16_t sqsize, std::vector<std::byte>& data) const {
  nvme_sqe cmd{};
  cmd.opcode = static_cast<uint8_t>(admin_opcode::fabrics);
  cmd.nsid.raw[0] = static_cast<uint8_t>(fabrics_type::connect);
  connect_command c = load_wire<connect_command>(&cmd);
  c.recfmt = 0;
  c.qid = qid.value;
  c.sqsize = sqsize;
  c.kato = qid == admin_qid ? opts_.kato_ms : 0;
  c.cattr = qid != admin_qid && opts_.disable_sq_flow_control ? cattr_bits::disable_sq_flow_control : 0;
  cmd = load_wire<nvme_sqe>(&c);
  connect_data d{};
  std::memcpy(d.hostid, hostid_.bytes.data(), 16);
  d.cntlid = qid == admin_qid ? cntlid_dynamic : cntlid_.value;
  set_padded(d.subnqn, trid_.subnqn, '\0');
  set_padded(d.hostnqn, hostnqn_, '\0');
  data.resize(sizeof(d));
  std::memcpy(data.data(), &d, sizeof(d));
  return cmd;
}

result<void> host_controller::check_connect(qid_t qid, const nvme_completion& c) {
  const auto& st = c.status;
  if (st.sct == status_type::command_specific && st.sc == sc_command_specific::connect_invalid_host)
    return error{errc::invalid_argument, fmt::format("host {} is not allowed to connect to {}", hostnqn_, trid_.subnqn)};
  if (st.sct == status_type::command_specific && st.sc == sc_command_specific::connect_invalid_parameters)
    return error{errc::invalid_argument,
                 fmt::format("Connect (qid {}) refused: invalid parameter at {} offset {} (unknown subsystem {}?)", qid,
                             (c.dw0 >> 16) & 1 ? "data" : "command", c.dw0 & 0xffff, trid_.subnqn)};
  if (!st.ok()) return status_error(fmt::format("Connect (qid {})", qid).c_str(), st);
  if (qid == admin_qid) cntlid_ = cntlid_t{static_cast<uint16_t>(c.dw0 & 0xffff)};
  return success();
}

result<bool> host_controller::needs_authentication(qid_t qid, uint32_t connect_dw0) const {
  uint16_t authreq = static_cast<uint16_t>(connect_dw0 >> 16);  // proto/fabrics.h authreq_bits
  if (authreq & authreq_bits::ascr)
    return error{errc::invalid_argument,
                 fmt::format("Connect (qid {}): {} requires a secure channel with authentication (AUTHREQ.ASCR), "
                             "which is not supported",
                             qid, trid_.subnqn)};
  if (opts_.dhchap_ctrl_key && !opts_.dhchap_key)
    return error{errc::invalid_argument, "a DH-HMAC-CHAP controller key needs a host key as well"};
  bool asked = authreq & authreq_bits::atr;
  if (asked && !opts_.dhchap_key)
    return error{errc::invalid_argument,
                 fmt::format("Connect (qid {}): {} requires DH-HMAC-CHAP authentication (AUTHREQ.ATR) but no "
                             "DH-HMAC-CHAP key is configured for host {}",
                             qid, trid_.subnqn, hostnqn_)};
  return asked || opts_.dhchap_ctrl_key.has_value();
}

auth::host_auth_config host_controller::auth_config() {
  auth::host_auth_config cfg;
  cfg.hostnqn = hostnqn_;
  cfg.subnqn = trid_.subnqn;
  cfg.host_key = *opts_.dhchap_key;
  cfg.ctrl_key = opts_.dhchap_ctrl_key;
  cfg.hashes.clear();
  for (auth::hash_id h : auth::all_hashes)
    if (opts_.dhchap_digests.contains(h)) cfg.hashes.push_back(h);
  cfg.dh_groups.clear();
  for (auth::dh_group g : auth::all_dh_groups)
    if (opts_.dhchap_dhgroups.contains(g)) cfg.dh_groups.push_back(g);
  cfg.tid = auth_tid_.fetch_add(1, std::memory_order_relaxed);
  return cfg;
}

void host_controller::submit_admin(const nvme_sqe& cmd, std::vector<std::byte> data, bool h2c,
                                   completion<sync_result> done, uint32_t timeout_ms) {
  // disconnect() may reset admin_ meanwhile (under mu_).
  std::shared_ptr<host_queue> q;
  {
    std::lock_guard lk(mu_);
    q = admin_;
  }
  if (!q || q->failed()) {
    error e{errc::closed, fmt::format("controller failed: {}", failure_reason())};
    return admin_reactor().post([done = std::move(done), e]() mutable { done(e); });
  }
  submit_async(*q, cmd, std::move(data), h2c, std::move(done), timeout_ms);
}

result<nvme_completion> host_controller::admin(nvme_sqe cmd, std::byte* data, uint32_t len, bool h2c) {
  assert_off_reactor("host_controller::admin");
  std::vector<std::byte> buf(len);
  if (h2c && len) std::memcpy(buf.data(), data, len);
  auto self = shared_from_this();
  auto r = blocking_call<sync_result>(
      admin_reactor(),
      [self, cmd, buf = std::move(buf), h2c](completion<sync_result> done) mutable {
        self->submit_admin(cmd, std::move(buf), h2c, std::move(done));
      },
      std::chrono::milliseconds(opts_.io_timeout_ms + 2000), "command");
  if (!r) return r.take_err();
  if (!h2c && len) std::memcpy(data, r->data.data(), len);
  return r->completion;
}

void host_controller::get_log_page_async(uint8_t lid, uint64_t offset, uint32_t len, uint8_t lsp,
                                         completion<std::vector<std::byte>> done) {
  auto fail = [this, &done](error e) {
    admin_reactor().post([done = std::move(done), e]() mutable { done(e); });
  };
  if (len == 0 || len % 4 != 0 || offset % 4 != 0)
    return fail(error{errc::invalid_argument, "log page length and offset must be non-zero multiples of 4"});
  // Offsets need LPA bit 2 (extended data for Get Log Page).
  if (offset != 0 && !(id_ctrl_.lpa & lpa_bits::extended_data))
    return fail(error{errc::not_supported, "the controller does not support log page offsets"});
  nvme_sqe cmd{};
  cmd.opcode = static_cast<uint8_t>(admin_opcode::get_log_page);
  cmd.nsid = broadcast_nsid.value;
  uint32_t numd = len / 4 - 1;
  cmd.cdw10 = uint32_t{lid} | (uint32_t{lsp} << 8) | ((numd & 0xffff) << 16);
  cmd.cdw11 = numd >> 16;
  cmd.cdw12 = static_cast<uint32_t>(offset);
  cmd.cdw13 = static_cast<uint32_t>(offset >> 32);
  submit_admin(cmd, std::vector<std::byte>(len), false,
               [done = std::move(done)](result<sync_result> r) mutable {
                 if (!r) return done(r.take_err());
                 if (!r->completion.status.ok()) return done(status_error("Get Log Page", r->completion.status));
                 done(std::move(r->data));
               });
}

result<std::vector<std::byte>> host_controller::get_log_page(uint8_t lid, uint64_t offset, uint32_t len, uint8_t lsp) {
  assert_off_reactor("host_controller::get_log_page");
  auto self = shared_from_this();
  return blocking_call<std::vector<std::byte>>(
      admin_reactor(),
      [self, lid, offset, len, lsp](completion<std::vector<std::byte>> done) {
        self->get_log_page_async(lid, offset, len, lsp, std::move(done));
      },
      std::chrono::milliseconds(opts_.io_timeout_ms + 2000), "command");
}

result<std::shared_ptr<host_controller>> host_controller::connect(reactor_pool& pool, const transport_id& trid,
                                                                  const controller_options& opts,
                                                                  event_handlers events) {
  assert_off_reactor("host_controller::connect");
  return blocking_call<std::shared_ptr<host_controller>>(
      pool.control(),
      [&pool, &trid, &opts, &events](completion<std::shared_ptr<host_controller>> done) {
        connect_async(pool, trid, opts, std::move(events), std::move(done));
      },
      std::nullopt, "host_controller::connect");
}

std::shared_ptr<controller_connector> host_controller::connect_async(reactor_pool& pool, const transport_id& trid,
                                                                     const controller_options& opts,
                                                                     event_handlers events,
                                                                     completion<std::shared_ptr<host_controller>> done) {
  std::shared_ptr<host_controller> c(new host_controller(pool, trid, opts));
  c->events_ = std::move(events);
  if (trid.subnqn.empty()) {
    // Nothing was opened: the controller is disconnected already.
    c->disconnected_ = true;
    pool.control().post([done = std::move(done)]() mutable {
      done(error{errc::invalid_argument, "transport ID lacks subnqn"});
    });
    return nullptr;
  }
  return controller_connector::start(std::move(c), std::move(done));
}

std::shared_ptr<host_controller> host_controller::unconnected_for_test(reactor_pool& pool, const transport_id& trid,
                                                                      const identify_controller& id) {
  std::shared_ptr<host_controller> c(new host_controller(pool, trid, {}));
  c->id_ctrl_ = id;
  return c;
}

host_queue* host_controller::io_queue(reactor& r) {
  // queue_by_reactor_ is fixed once connect() returns (disconnect() fails the queues but
  // leaves the table), so reactors read it without a lock.
  if (r.index() >= queue_by_reactor_.size()) return nullptr;
  host_queue* q = queue_by_reactor_[r.index()];
  return q && &q->owner() == &r ? q : nullptr;  // a reactor of another pool has no queue here
}

void host_controller::start_keep_alive() {
  if (opts_.kato_ms == 0) return;
  ka_cb_.ctrl = this;
  arm_keep_alive();
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
  std::vector<std::shared_ptr<host_queue>> all;
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
  auto queues = std::make_shared<std::vector<std::vector<std::shared_ptr<host_queue>>>>(pool_.size());
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

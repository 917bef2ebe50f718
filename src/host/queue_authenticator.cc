#include "host/queue_authenticator.h"

#include <fmt/format.h>

#include "auth/dhchap_messages.h"
#include "base/log.h"
#include "host/sync_command.h"
#include "proto/nvme_command.h"

namespace nvmfd {

namespace {

// AUTH_Send / AUTH_Receive (Base 2.1 Figures "Authentication Send/Receive Command"): SECP,
// SPSP0 and SPSP1 in dword 10, the transfer or allocation length in dword 11.
nvme_sqe auth_command(fabrics_type t, uint32_t length) {
  nvme_sqe c{};
  c.opcode = static_cast<uint8_t>(admin_opcode::fabrics);
  c.nsid.raw[0] = static_cast<uint8_t>(t);
  c.cdw10 = (uint32_t{auth::secp_dhchap} << 24) | (uint32_t{auth::spsp_dhchap} << 16) |
            (uint32_t{auth::spsp_dhchap} << 8);
  c.cdw11 = length;
  return c;
}

// The name of the message an AUTH_Send carries, for errors.
const char* message_name(std::span<const std::byte> m) {
  auto k = auth::peek_kind(m);
  if (!k) return "?";
  if (k->is(auth::auth_type::common, auth::message_id::negotiate)) return "Negotiate";
  if (k->is(auth::auth_type::dhchap, auth::message_id::reply)) return "Reply";
  if (k->is(auth::auth_type::dhchap, auth::message_id::success2)) return "Success2";
  if (k->is(auth::auth_type::common, auth::message_id::failure2)) return "Failure2";
  return "?";
}

class queue_authenticator : public std::enable_shared_from_this<queue_authenticator> {
 public:
  queue_authenticator(std::shared_ptr<host_queue> q, auth::host_auth_config cfg, time_source::time_point deadline,
                      completion<void> done)
      : q_(std::move(q)),
        subnqn_(cfg.subnqn),
        bidirectional_(cfg.ctrl_key.has_value()),
        engine_(std::move(cfg)),
        deadline_(deadline),
        done_(std::move(done)) {}

  // On the queue's reactor: the next command, or the outcome.
  void step() {
    if (engine_.wants_send()) return send();
    if (engine_.wants_receive()) return receive();
    if (engine_.succeeded()) {
      // Once per connection (the admin queue), so that a reconnect shows its authentication.
      if (q_->qid() == admin_qid)
        NVMFD_LOG_INFO("DH-HMAC-CHAP: authenticated to {} ({}, {}, {})", subnqn_, auth::name(engine_.hash()),
                       auth::name(engine_.group()), bidirectional_ ? "bidirectional" : "unidirectional");
      return done_(success());
    }
    finish(error{errc::invalid_argument, fmt::format("DH-HMAC-CHAP on qid {} failed: {}", q_->qid(),
                                                     engine_.failure_detail())});
  }

 private:
  void send() {
    std::vector<std::byte> m = engine_.next_send();
    const char* what = message_name(m);
    auto len = static_cast<uint32_t>(m.size());
    submit(auth_command(fabrics_type::authentication_send, len), std::move(m), true, what,
           [](queue_authenticator&, sync_result&) {});
  }

  void receive() {
    submit(auth_command(fabrics_type::authentication_receive, auth_receive_length),
           std::vector<std::byte>(auth_receive_length), false, "",
           [](queue_authenticator& self, sync_result& r) { self.engine_.on_received(r.data); });
  }

  // One command; then `next` with its successful completion, and the next step.
  template <class Then>
  void submit(const nvme_sqe& cmd, std::vector<std::byte> data, bool h2c, const char* what, Then next) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - q_->owner().now()).count();
    std::string step = h2c ? fmt::format("AUTH_Send ({})", what) : std::string("AUTH_Receive");
    if (left <= 0)
      return finish(error{errc::timed_out, fmt::format("DH-HMAC-CHAP on qid {}: timed out before {}", q_->qid(), step)});
    submit_async(
        *q_, cmd, std::move(data), h2c,
        [self = shared_from_this(), step, next](result<sync_result> r) mutable {
          if (!r) return self->finish(error{r.err().code, fmt::format("DH-HMAC-CHAP on qid {}: {}: {}", self->q_->qid(),
                                                                      step, r.err().message)});
          const nvme_status& st = r->completion.status;
          if (!st.ok())
            return self->finish(error{errc::io_error, fmt::format("DH-HMAC-CHAP on qid {}: {} failed: NVMe status SCT "
                                                                  "{:#x} SC {:#x}{}",
                                                                  self->q_->qid(), step, static_cast<unsigned>(st.sct),
                                                                  st.sc, st.dnr ? " (DNR)" : "")});
          next(*self, *r);
          self->step();
        },
        static_cast<uint32_t>(left));
  }

  void finish(error e) { done_(std::move(e)); }

  std::shared_ptr<host_queue> q_;
  std::string subnqn_;
  bool bidirectional_;
  auth::host_auth engine_;
  time_source::time_point deadline_;
  completion<void> done_;
};

}  // namespace

void authenticate_queue(std::shared_ptr<host_queue> q, auth::host_auth_config cfg, time_source::time_point deadline,
                        completion<void> done) {
  reactor& r = q->owner();
  auto a = std::make_shared<queue_authenticator>(std::move(q), std::move(cfg), deadline, std::move(done));
  r.post([a] { a->step(); });
}

}  // namespace nvmfd

// Authentication Send / Receive (NVMe Base 2.1 6.2, 6.3; the protocol in 8.3.4.5): they
// carry DH-HMAC-CHAP messages between the host and the queue's auth::controller_auth.
// A failed authentication is logged (host NQN, address, reason; never key material) and
// tears the controller down once the command's response is out, as Linux nvmet does.
#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "auth/controller_auth.h"
#include "auth/dhchap_messages.h"
#include "base/log.h"
#include "proto/fabrics.h"
#include "target/command_handlers.h"
#include "target/controller.h"
#include "target/nvmf_target.h"
#include "target/subsystem.h"
#include "target/target_queue.h"

namespace nvmfd {

namespace {

// The SQE checks both commands share (Linux nvmet checks the same, in this order).
std::optional<nvme_status> check_sqe(const target_queue& q, const target_request& req) {
  const auto f = decode_auth_command(req.cmd);
  if (f.secp != auth::secp_dhchap || f.spsp0 != auth::spsp_dhchap || f.spsp1 != auth::spsp_dhchap || f.length == 0 ||
      f.length != req.xfer_len)
    return nvme_status::generic(sc_generic::invalid_field);
  // No key for this host: nothing to authenticate. Or a host sending the next message before
  // the last one's AUTH_Send completed.
  if (!q.authentication() || q.authentication_busy()) return nvme_status::generic(sc_generic::command_sequence_error);
  return std::nullopt;
}

std::string_view subsystem_nqn(const target_queue& q) { return q.ctrl()->subsys()->nqn(); }

// After a message moved: logs the outcome once, and ends the controller on failure.
void after_step(target_queue& q, bool was_authenticated, bool was_failed) {
  auth::controller_auth& a = *q.authentication();
  controller& c = *q.ctrl();
  if (a.failed() && !was_failed) {
    NVMFD_LOG_WARN("authentication failed: host '{}' at {} on {} (controller {}, qid {}): {}", c.hostnqn(), q.peer(),
                   subsystem_nqn(q), c.cntlid(), q.qid(), a.failure_detail());
    q.disconnect_after_response();
    if (!q.is_admin()) c.fatal_error("DH-HMAC-CHAP authentication failed");
    return;
  }
  if (a.authenticated() && !was_authenticated)
    NVMFD_LOG_INFO("host '{}' at {} authenticated on {} (controller {}, qid {}): {}, {}{}", c.hostnqn(), q.peer(),
                   subsystem_nqn(q), c.cntlid(), q.qid(), auth::name(a.hash()), auth::name(a.group()),
                   a.bidirectional() ? ", bidirectional" : "");
}

// A Negotiate starts a transaction: it uses the host's keys and the policy as they are now
// (nvmf_subsystem_set_keys re-keys the next authentication).
void refresh_keys(target_queue& q, std::span<const std::byte> message) {
  auto kind = auth::peek_kind(message);
  if (!kind || !kind->is(auth::auth_type::common, auth::message_id::negotiate)) return;
  auto cfg = q.target().dhchap_config_for(*q.ctrl()->subsys(), q.ctrl()->hostnqn());
  if (cfg && *cfg) q.authentication()->set_config(std::move(**cfg));
}

// The exchange is traffic on the admin queue: the host sends no Keep Alive before its
// controller is live, and a slow DH group must not let KATO expire meanwhile (Linux nvmet
// counts every command as keep-alive traffic).
void count_as_keep_alive(target_queue& q) {
  if (q.is_admin()) q.ctrl()->keep_alive();
}

}  // namespace

bool is_authentication_command(const nvme_sqe& cmd) {
  if (cmd.opcode != static_cast<uint8_t>(admin_opcode::fabrics)) return false;
  auto t = static_cast<fabrics_type>(cmd.fctype());
  return t == fabrics_type::authentication_send || t == fabrics_type::authentication_receive;
}

std::optional<nvme_status> execute_auth_send(target_queue& q, target_request& req) {
  if (auto st = check_sqe(q, req)) return *st;
  count_as_keep_alive(q);
  auth::controller_auth& a = *q.authentication();
  const bool was_authenticated = a.authenticated(), was_failed = a.failed();
  refresh_keys(q, req.data());
  // The message may cost an FFDHE key pair or shared secret: off the reactor.
  q.run_authentication_step(
      req, [message = req.data()](auth::controller_auth& m) { m.on_send(message); },
      [&q, was_authenticated, was_failed] {
        after_step(q, was_authenticated, was_failed);
        return nvme_status::success();
      });
  return std::nullopt;
}

nvme_status execute_auth_receive(target_queue& q, target_request& req) {
  if (auto st = check_sqe(q, req)) return *st;
  count_as_keep_alive(q);
  auth::controller_auth& a = *q.authentication();
  const bool was_authenticated = a.authenticated(), was_failed = a.failed();
  auto message = a.on_receive(req.xfer_len);
  if (!message) return nvme_status::generic(sc_generic::invalid_field);  // AL too short for it
  // The whole AL is returned, zero padded, as Linux nvmet does.
  std::memcpy(req.buf, message->data(), message->size());
  std::fill(req.buf + message->size(), req.buf + req.xfer_len, std::byte{0});
  req.c2h_len = req.xfer_len;
  after_step(q, was_authenticated, was_failed);
  return nvme_status::success();
}

}  // namespace nvmfd

#include "auth/controller_auth.h"

#include <fmt/format.h>

#include "auth/dhchap_crypto.h"

namespace nvmfd::auth {

namespace {

// The strongest identifier the host offers that we allow (higher IDs are stronger).
template <class E, class Parse>
std::optional<E> strongest(const std::vector<uint8_t>& offered, const id_set<E>& allowed, Parse parse) {
  std::optional<E> best;
  for (uint8_t raw : offered) {
    auto e = parse(raw);
    if (e && allowed.contains(*e) && (!best || *e > *best)) best = e;
  }
  return best;
}

}  // namespace

const char* to_string(controller_auth::state s) {
  switch (s) {
    case controller_auth::state::expect_negotiate: return "expect negotiate";
    case controller_auth::state::challenge_ready: return "challenge ready";
    case controller_auth::state::expect_reply: return "expect reply";
    case controller_auth::state::success1_ready: return "success1 ready";
    case controller_auth::state::expect_success2: return "expect success2";
    case controller_auth::state::failure1_ready: return "failure1 ready";
    case controller_auth::state::authenticated: return "authenticated";
    case controller_auth::state::failed: return "failed";
  }
  return "?";
}

void controller_auth::refuse(failure_reason r, std::string detail) {
  detail_ = std::move(detail);
  pending_ = encode(failure_message{message_id::failure1, tid_, rescode_failed, static_cast<uint8_t>(r)});
  state_ = state::failure1_ready;
}

void controller_auth::fail(std::string detail) {
  detail_ = std::move(detail);
  pending_.clear();
  dh_.reset();
  authenticated_ = false;
  state_ = state::failed;
}

void controller_auth::on_send(std::span<const std::byte> message) {
  if (state_ == state::failed) return;
  auto kind = peek_kind(message);
  if (!kind) return fail(fmt::format("an AUTH_Send of {} bytes holds no message header", message.size()));
  if (kind->is(auth_type::common, message_id::negotiate)) return negotiate(message);
  if (kind->is(auth_type::common, message_id::failure2)) {
    auto f = decode_failure(message);
    return fail(fmt::format("the host sent AUTH_Failure2 ({})",
                            f ? to_string(static_cast<failure_reason>(f->explanation)) : "malformed"));
  }
  if (state_ == state::expect_reply && kind->is(auth_type::dhchap, message_id::reply)) {
    if (kind->tid != tid_)
      return refuse(failure_reason::incorrect_payload,
                    fmt::format("Reply has transaction ID {}, not {}", kind->tid, tid_));
    return reply(message);
  }
  if (state_ == state::expect_success2 && kind->is(auth_type::dhchap, message_id::success2)) {
    if (kind->tid != tid_ || !decode_success2(message))
      return fail(fmt::format("a malformed Success2 (transaction ID {}, expected {})", kind->tid, tid_));
    dh_.reset();
    authenticated_ = true;
    state_ = state::authenticated;
    return;
  }
  fail(fmt::format("message {:02x}h/{:02x}h out of turn (state: {})", kind->type, kind->id, to_string(state_)));
}

void controller_auth::negotiate(std::span<const std::byte> message) {
  dh_.reset();
  bidirectional_ = false;
  auto m = decode_negotiate(message);
  if (!m) {
    tid_ = peek_kind(message)->tid;
    return refuse(failure_reason::incorrect_payload, m.err().message);
  }
  tid_ = m->tid;
  if (m->sc_c != sc_c_none)
    return refuse(failure_reason::concat_mismatch, "the host asked for secure channel concatenation");
  auto h = strongest(m->hash_ids, cfg_.hashes, hash_from_wire);
  if (!h) return refuse(failure_reason::hash_unusable, "no hash function in common with the host");
  auto g = strongest(m->dh_ids, cfg_.dh_groups, dh_group_from_wire);
  if (!g) return refuse(failure_reason::dhgroup_unusable, "no DH group in common with the host");
  hash_ = *h;
  group_ = *g;
  auto c1 = random_bytes(digest_length(hash_));
  if (!c1) return refuse(failure_reason::failed, c1.err().message);
  c1_ = std::move(*c1);
  s1_ = next_seqnum();
  challenge_message ch{tid_, static_cast<uint8_t>(hash_), static_cast<uint8_t>(group_), s1_, c1_, {}};
  if (group_ != dh_group::null) {
    auto kp = dh_keypair::generate(group_);
    if (!kp) return refuse(failure_reason::dhgroup_unusable, kp.err().message);
    ch.dhv = kp->public_value();
    dh_.emplace(std::move(*kp));
  }
  pending_ = encode(ch);
  state_ = state::challenge_ready;
}

void controller_auth::reply(std::span<const std::byte> message) {
  auto m = decode_reply(message);
  if (!m) return refuse(failure_reason::incorrect_payload, m.err().message);
  const size_t hl = digest_length(hash_);
  if (m->r1.size() != hl)
    return refuse(failure_reason::incorrect_payload, fmt::format("Reply HL is {}, {} needs {}", m->r1.size(),
                                                                 name(hash_), hl));
  secret_bytes session;
  if (group_ == dh_group::null) {
    if (!m->dhv.empty())
      return refuse(failure_reason::incorrect_payload, "a DH value in the Reply with the null DH group");
  } else {
    auto s = dh_->shared_secret(m->dhv);
    if (!s) return refuse(failure_reason::dhgroup_unusable, s.err().message);
    session = std::move(*s);
  }
  // C1, augmented with the session key when a DH group is in use.
  auto challenge_for = [&](std::span<const uint8_t> c) -> result<secret_bytes> {
    if (group_ == dh_group::null) return secret_bytes(c);
    return augmented_challenge(hash_, session.view(), c);
  };
  auto kh = transform_secret(cfg_.host_key, cfg_.hostnqn);
  auto ca = challenge_for(c1_);
  if (!kh || !ca) return refuse(failure_reason::failed, !kh ? kh.err().message : ca.err().message);
  auto expected = host_response(hash_, kh->view(), ca->view(), s1_, tid_, cfg_.hostnqn, cfg_.subnqn);
  if (!expected) return refuse(failure_reason::failed, expected.err().message);
  if (!equal_secret(expected->view(), m->r1))
    return refuse(failure_reason::failed, "the host's response does not match its key (wrong secret)");

  success1_message s1{tid_, static_cast<uint8_t>(hl), false, {}};
  if (m->cvalid) {
    if (!cfg_.ctrl_key)
      return refuse(failure_reason::failed, "the host asks the controller to authenticate, and no controller key is set");
    if (m->seqnum == 0)
      return refuse(failure_reason::incorrect_payload, "a challenge C2 with sequence number 0");
    auto kc = transform_secret(*cfg_.ctrl_key, cfg_.subnqn);
    auto c2 = challenge_for(m->c2);
    if (!kc || !c2) return refuse(failure_reason::failed, !kc ? kc.err().message : c2.err().message);
    auto r2 = controller_response(hash_, kc->view(), c2->view(), m->seqnum, tid_, cfg_.hostnqn, cfg_.subnqn);
    if (!r2) return refuse(failure_reason::failed, r2.err().message);
    s1.rvalid = true;
    s1.r2.assign(r2->data(), r2->data() + r2->size());
  }
  bidirectional_ = m->cvalid;
  pending_ = encode(s1);
  state_ = state::success1_ready;
}

std::optional<std::vector<std::byte>> controller_auth::on_receive(uint32_t al) {
  switch (state_) {
    case state::challenge_ready:
    case state::success1_ready:
    case state::failure1_ready: {
      if (pending_.size() > al) return std::nullopt;
      auto out = std::move(pending_);
      pending_.clear();
      if (state_ == state::challenge_ready) {
        state_ = state::expect_reply;
      } else if (state_ == state::failure1_ready) {
        dh_.reset();
        authenticated_ = false;
        state_ = state::failed;
      } else if (bidirectional_) {
        state_ = state::expect_success2;
      } else {
        dh_.reset();
        authenticated_ = true;
        state_ = state::authenticated;
      }
      return out;
    }
    default: {
      auto out = encode(failure_message{message_id::failure1, tid_, rescode_failed,
                                        static_cast<uint8_t>(failure_reason::incorrect_message)});
      if (state_ != state::failed) fail(fmt::format("AUTH_Receive out of turn (state: {})", to_string(state_)));
      if (out.size() > al) return std::nullopt;
      return out;
    }
  }
}

}  // namespace nvmfd::auth

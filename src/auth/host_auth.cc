#include "auth/host_auth.h"

#include <algorithm>
#include <fmt/format.h>

#include "auth/dhchap_crypto.h"

namespace nvmfd::auth {

host_auth::host_auth(host_auth_config cfg) : cfg_(std::move(cfg)) {
  negotiate_message m{cfg_.tid, sc_c_none, {}, {}};
  for (hash_id h : cfg_.hashes) m.hash_ids.push_back(static_cast<uint8_t>(h));
  for (dh_group g : cfg_.dh_groups) m.dh_ids.push_back(static_cast<uint8_t>(g));
  pending_ = encode(m);
}

std::vector<std::byte> host_auth::next_send() {
  auto out = std::move(pending_);
  pending_.clear();
  state_ = after_send_;
  return out;
}

void host_auth::refuse(failure_reason r, std::string detail) {
  detail_ = std::move(detail);
  pending_ = encode(failure_message{message_id::failure2, cfg_.tid, rescode_failed, static_cast<uint8_t>(r)});
  state_ = state::sending;
  after_send_ = state::failed;
}

void host_auth::fail(std::string detail) {
  detail_ = std::move(detail);
  pending_.clear();
  state_ = state::failed;
}

void host_auth::on_received(std::span<const std::byte> data) {
  auto kind = peek_kind(data);
  if (kind && kind->is(auth_type::common, message_id::failure1)) {
    auto f = decode_failure(data);
    if (f) ctrl_reason_ = static_cast<failure_reason>(f->explanation);
    return fail(fmt::format("the controller sent AUTH_Failure1 ({})",
                            f ? to_string(static_cast<failure_reason>(f->explanation)) : "malformed"));
  }
  if (!kind) return refuse(failure_reason::incorrect_payload, "an AUTH_Receive without a message header");
  if (kind->tid != cfg_.tid)
    return refuse(failure_reason::incorrect_message,
                  fmt::format("transaction ID {} in a controller message, not {}", kind->tid, cfg_.tid));
  if (state_ == state::expect_challenge && kind->is(auth_type::dhchap, message_id::challenge)) return challenge(data);
  if (state_ == state::expect_success1 && kind->is(auth_type::dhchap, message_id::success1)) return success1(data);
  refuse(failure_reason::incorrect_message, fmt::format("message {:02x}h/{:02x}h out of turn", kind->type, kind->id));
}

void host_auth::challenge(std::span<const std::byte> data) {
  auto m = decode_challenge(data);
  if (!m) return refuse(failure_reason::incorrect_payload, m.err().message);
  auto h = hash_from_wire(m->hashid);
  if (!h || std::find(cfg_.hashes.begin(), cfg_.hashes.end(), *h) == cfg_.hashes.end())
    return refuse(failure_reason::hash_unusable, fmt::format("the controller chose hash {}", m->hashid));
  if (m->c1.size() != digest_length(*h))
    return refuse(failure_reason::hash_unusable, fmt::format("HL {} does not fit {}", m->c1.size(), name(*h)));
  auto g = dh_group_from_wire(m->dhgid);
  if (!g || std::find(cfg_.dh_groups.begin(), cfg_.dh_groups.end(), *g) == cfg_.dh_groups.end())
    return refuse(failure_reason::dhgroup_unusable, fmt::format("the controller chose DH group {}", m->dhgid));
  hash_ = *h;
  group_ = *g;
  reply_message r{cfg_.tid, false, 0, {}, {}, {}};
  secret_bytes c1(m->c1);
  if (group_ == dh_group::null) {
    if (!m->dhv.empty()) return refuse(failure_reason::incorrect_payload, "a DH value with the null DH group");
  } else {
    if (m->dhv.empty()) return refuse(failure_reason::dhgroup_unusable, "no DH value with a DH group");
    auto kp = dh_keypair::generate(group_);
    if (!kp) return refuse(failure_reason::failed, kp.err().message);
    auto s = kp->shared_secret(m->dhv);
    if (!s) return refuse(failure_reason::dhgroup_unusable, s.err().message);
    session_ = std::move(*s);
    r.dhv = kp->public_value();
    auto a = augmented_challenge(hash_, session_.view(), m->c1);
    if (!a) return refuse(failure_reason::failed, a.err().message);
    c1 = std::move(*a);
  }
  auto kh = transform_secret(cfg_.host_key, cfg_.hostnqn);
  if (!kh) return refuse(failure_reason::failed, kh.err().message);
  auto r1 = host_response(hash_, kh->view(), c1.view(), m->seqnum, cfg_.tid, cfg_.hostnqn, cfg_.subnqn);
  if (!r1) return refuse(failure_reason::failed, r1.err().message);
  r.r1.assign(r1->data(), r1->data() + r1->size());
  if (cfg_.ctrl_key) {
    auto c2 = random_bytes(digest_length(hash_));
    if (!c2) return refuse(failure_reason::failed, c2.err().message);
    c2_ = std::move(*c2);
    s2_ = next_seqnum();
    r.cvalid = true;
    r.seqnum = s2_;
    r.c2 = c2_;
  }
  pending_ = encode(r);
  state_ = state::sending;
  after_send_ = state::expect_success1;
}

void host_auth::success1(std::span<const std::byte> data) {
  auto m = decode_success1(data);
  if (!m) return refuse(failure_reason::incorrect_payload, m.err().message);
  if (m->hl != digest_length(hash_))
    return refuse(failure_reason::hash_unusable, fmt::format("Success1 HL {} does not fit {}", m->hl, name(hash_)));
  if (!cfg_.ctrl_key) {
    state_ = state::succeeded;
    return;
  }
  if (!m->rvalid) return refuse(failure_reason::failed, "the controller sent no response R2");
  secret_bytes c2(c2_);
  if (group_ != dh_group::null) {
    auto a = augmented_challenge(hash_, session_.view(), c2_);
    if (!a) return refuse(failure_reason::failed, a.err().message);
    c2 = std::move(*a);
  }
  auto kc = transform_secret(*cfg_.ctrl_key, cfg_.subnqn);
  if (!kc) return refuse(failure_reason::failed, kc.err().message);
  auto r2 = controller_response(hash_, kc->view(), c2.view(), s2_, cfg_.tid, cfg_.hostnqn, cfg_.subnqn);
  if (!r2) return refuse(failure_reason::failed, r2.err().message);
  if (!equal_secret(r2->view(), m->r2))
    return refuse(failure_reason::failed, "the controller's response does not match its key (wrong secret)");
  pending_ = encode(success2_message{cfg_.tid});
  state_ = state::sending;
  after_send_ = state::succeeded;
}

}  // namespace nvmfd::auth

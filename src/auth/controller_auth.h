#pragma once
// controller_auth: the controller's side of one DH-HMAC-CHAP transaction on one queue (NVMe
// Base 2.1 8.3.4.5), as a pure state machine driven by the payloads of AUTH_Send and
// AUTH_Receive. No sockets, no clocks: the target feeds it and acts on what it says.
//
//   expect negotiate --AUTH_Send(Negotiate)--> [Challenge ready] --AUTH_Receive--> expect reply
//   expect reply --AUTH_Send(Reply, R1 right)--> [Success1 ready, with R2 if C2 came]
//   [Success1] --AUTH_Receive--> authenticated (unidirectional) | expect success2 (bidirectional)
//   expect success2 --AUTH_Send(Success2)--> authenticated
// A bad negotiation or a wrong R1 readies a Failure1 (reason in its explanation); once the
// host has fetched it, the machine has failed. A message out of turn, a Failure2 from the
// host, or an AUTH_Receive out of turn fails it at once (as Linux nvmet does). A new
// Negotiate starts over (re-authentication), keeping authenticated() until it fails.
//
// Threading: one thread at a time (the queue's reactor). Control path: it allocates, and the
// FFDHE operations take milliseconds.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "auth/dh_keypair.h"
#include "auth/dhchap_ids.h"
#include "auth/dhchap_messages.h"
#include "auth/secret_bytes.h"

namespace nvmfd::auth {

struct controller_auth_config {
  std::string hostnqn;
  std::string subnqn;
  dhchap_key host_key;                 // the host must prove it knows this one
  std::optional<dhchap_key> ctrl_key;  // ours, for a host that asks us to authenticate (C2)
  hash_set hashes = every_hash();      // what we accept; the strongest in common is chosen
  dh_group_set dh_groups = every_dh_group();
};

class controller_auth {
 public:
  enum class state : uint8_t {
    expect_negotiate,
    challenge_ready,
    expect_reply,
    success1_ready,
    expect_success2,
    failure1_ready,
    authenticated,
    failed,
  };

  explicit controller_auth(controller_auth_config cfg) : cfg_(std::move(cfg)) {}
  // New keys and policy, used from the next Negotiate on (re-keying).
  void set_config(controller_auth_config cfg) { cfg_ = std::move(cfg); }

  // An AUTH_Send's data.
  void on_send(std::span<const std::byte> message);
  // An AUTH_Receive with allocation length al: the message to return. nullopt when the
  // message is longer than al; the state is then unchanged (the host may ask again).
  std::optional<std::vector<std::byte>> on_receive(uint32_t al);

  state current() const { return state_; }
  // The host has proven its key (and we ours, when asked) in this or an earlier transaction.
  bool authenticated() const { return authenticated_; }
  // Final failure: the target tears the controller down.
  bool failed() const { return state_ == state::failed; }
  // Why it failed, for the log (never key material).
  const std::string& failure_detail() const { return detail_; }
  // What was negotiated (valid after a Negotiate was accepted).
  hash_id hash() const { return hash_; }
  dh_group group() const { return group_; }
  bool bidirectional() const { return bidirectional_; }

 private:
  void negotiate(std::span<const std::byte> message);
  void reply(std::span<const std::byte> message);
  // Readies a Failure1 with reason r; detail goes to the log.
  void refuse(failure_reason r, std::string detail);
  // Fails at once (no Failure1 to fetch).
  void fail(std::string detail);

  controller_auth_config cfg_;
  state state_ = state::expect_negotiate;
  bool authenticated_ = false;
  bool bidirectional_ = false;
  uint16_t tid_ = 0;
  hash_id hash_ = hash_id::sha256;
  dh_group group_ = dh_group::null;
  uint32_t s1_ = 0;
  std::vector<uint8_t> c1_;
  std::optional<dh_keypair> dh_;
  std::vector<std::byte> pending_;  // the message the next AUTH_Receive returns
  std::string detail_;
};

const char* to_string(controller_auth::state s);

}  // namespace nvmfd::auth

#pragma once
// host_auth: the host's side of one DH-HMAC-CHAP transaction on one queue (NVMe Base 2.1
// 8.3.4.5), a pure state machine like controller_auth. The caller moves the messages: while
// wants_send(), it AUTH_Sends next_send(); while wants_receive(), it AUTH_Receives and hands
// the data to on_received(). Then done(): succeeded() or not.
//
//   Negotiate -> (Challenge) -> Reply -> (Success1 | Failure1) [-> Success2 | Failure2]
// A challenge we cannot accept, or a controller response (R2) that does not match, readies a
// Failure2; after it is sent, the transaction has failed. A Failure1 from the controller
// ends it at once.
//
// Threading: one thread at a time. Control path.
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

struct host_auth_config {
  std::string hostnqn;
  std::string subnqn;
  dhchap_key host_key;
  std::optional<dhchap_key> ctrl_key;  // set: the controller must authenticate too
  std::vector<hash_id> hashes{std::begin(all_hashes), std::end(all_hashes)};            // offered
  std::vector<dh_group> dh_groups{std::begin(all_dh_groups), std::end(all_dh_groups)};  // offered
  uint16_t tid = 0;  // transaction ID, chosen by the host
};

class host_auth {
 public:
  explicit host_auth(host_auth_config cfg);

  bool wants_send() const { return !pending_.empty(); }
  bool wants_receive() const { return state_ == state::expect_challenge || state_ == state::expect_success1; }
  bool done() const { return state_ == state::succeeded || state_ == state::failed; }
  bool succeeded() const { return state_ == state::succeeded; }

  // The message to AUTH_Send now (wants_send()); the machine moves on as if it was sent.
  std::vector<std::byte> next_send();
  // The data of an AUTH_Receive (wants_receive()).
  void on_received(std::span<const std::byte> data);

  // Why it failed (for the log), and the reason code the controller sent, if it sent one.
  const std::string& failure_detail() const { return detail_; }
  std::optional<failure_reason> controller_reason() const { return ctrl_reason_; }
  hash_id hash() const { return hash_; }
  dh_group group() const { return group_; }

 private:
  enum class state : uint8_t { sending, expect_challenge, expect_success1, succeeded, failed };
  void challenge(std::span<const std::byte> data);
  void success1(std::span<const std::byte> data);
  // Readies a Failure2 with reason r; the transaction fails once it is sent.
  void refuse(failure_reason r, std::string detail);
  void fail(std::string detail);

  host_auth_config cfg_;
  state state_ = state::sending;
  state after_send_ = state::expect_challenge;
  std::vector<std::byte> pending_;
  hash_id hash_ = hash_id::sha256;
  dh_group group_ = dh_group::null;
  uint32_t s2_ = 0;
  std::vector<uint8_t> c2_;
  secret_bytes session_;
  std::optional<failure_reason> ctrl_reason_;
  std::string detail_;
};

}  // namespace nvmfd::auth

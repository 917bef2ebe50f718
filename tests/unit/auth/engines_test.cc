// Host and controller state machines against each other: every hash x DH group, one and
// both directions; wrong keys; policies without a common choice; tampered, truncated and
// out-of-turn messages.
#include "auth/controller_auth.h"
#include "auth/host_auth.h"

#include <gtest/gtest.h>

#include <functional>
#include <tuple>

#include "auth/dhchap_crypto.h"

namespace nvmfd::auth {
namespace {

const std::string hostnqn = "nqn.2014-08.org.nvmexpress:uuid:0f8b4a1e-9c2d-4e55-8a77-2c1d3e4f5a6b";
const std::string subnqn = "nqn.2016-06.io.nvmfd:auth-test";

dhchap_key key(uint8_t transform, uint8_t fill, size_t len = 32) {
  std::vector<uint8_t> raw(len);
  for (size_t i = 0; i < len; ++i) raw[i] = static_cast<uint8_t>(fill + i * 7);
  return {transform, secret_bytes(raw)};
}

struct pair_config {
  controller_auth_config ctrl{hostnqn, subnqn, key(1, 1), std::nullopt};
  host_auth_config host{hostnqn, subnqn, key(1, 1), std::nullopt};
};

// A hook sees (and may change) each message on its way: true for host-to-controller.
using tamper_fn = std::function<void(bool to_controller, std::vector<std::byte>&)>;

// Runs the exchange to its end; returns the number of messages moved.
int run(host_auth& h, controller_auth& c, const tamper_fn& tamper = {}) {
  int moved = 0;
  for (int i = 0; i < 16 && !h.done() && !c.failed(); ++i) {
    if (h.wants_send()) {
      auto m = h.next_send();
      if (tamper) tamper(true, m);
      c.on_send(m);
    } else if (h.wants_receive()) {
      auto r = c.on_receive(4096);
      if (!r) break;
      if (tamper) tamper(false, *r);
      h.on_received(*r);
    } else {
      break;
    }
    ++moved;
  }
  // A Failure2 the host readied last is still to be delivered.
  if (h.wants_send()) {
    c.on_send(h.next_send());
    ++moved;
  }
  return moved;
}

class every_combination : public testing::TestWithParam<std::tuple<hash_id, dh_group, bool>> {};

TEST_P(every_combination, host_and_controller_authenticate) {
  auto [hash, group, bidirectional] = GetParam();
  pair_config p;
  p.ctrl.hashes = hash_set{hash};
  p.ctrl.dh_groups = dh_group_set{group};
  p.ctrl.host_key = key(uint8_t(hash), 3, digest_length(hash));
  p.host.host_key = p.ctrl.host_key;
  if (bidirectional) {
    p.ctrl.ctrl_key = key(0, 9, 48);
    p.host.ctrl_key = p.ctrl.ctrl_key;
  }
  p.host.tid = 0x4242;
  controller_auth c(p.ctrl);
  host_auth h(p.host);
  const int moved = run(h, c);
  EXPECT_TRUE(h.succeeded()) << h.failure_detail();
  EXPECT_TRUE(c.authenticated()) << c.failure_detail();
  EXPECT_EQ(c.current(), controller_auth::state::authenticated);
  EXPECT_EQ(c.hash(), hash);
  EXPECT_EQ(c.group(), group);
  EXPECT_EQ(h.hash(), hash);
  EXPECT_EQ(h.group(), group);
  EXPECT_EQ(c.bidirectional(), bidirectional);
  EXPECT_EQ(moved, bidirectional ? 5 : 4);
}

INSTANTIATE_TEST_SUITE_P(dhchap, every_combination,
                         testing::Combine(testing::ValuesIn(all_hashes), testing::ValuesIn(all_dh_groups),
                                          testing::Bool()),
                         [](const auto& info) {
                           return std::string(name(std::get<0>(info.param))) + "_" +
                                  std::string(name(std::get<1>(info.param))) +
                                  (std::get<2>(info.param) ? "_bidirectional" : "_unidirectional");
                         });

TEST(auth_engines, the_strongest_common_hash_and_group_are_chosen) {
  pair_config p;
  p.ctrl.hashes = hash_set{hash_id::sha256, hash_id::sha384};
  p.ctrl.dh_groups = dh_group_set{dh_group::null, dh_group::ffdhe2048, dh_group::ffdhe3072};
  p.host.dh_groups = {dh_group::null, dh_group::ffdhe2048};
  controller_auth c(p.ctrl);
  host_auth h(p.host);
  run(h, c);
  EXPECT_TRUE(h.succeeded());
  EXPECT_EQ(c.hash(), hash_id::sha384);
  EXPECT_EQ(c.group(), dh_group::ffdhe2048);
}

TEST(auth_engines, wrong_host_key_gets_failure1_failed) {
  pair_config p;
  p.host.host_key = key(1, 2);
  p.ctrl.dh_groups = dh_group_set{dh_group::ffdhe2048};
  controller_auth c(p.ctrl);
  host_auth h(p.host);
  run(h, c);
  EXPECT_FALSE(h.succeeded());
  EXPECT_EQ(h.controller_reason(), failure_reason::failed);
  EXPECT_TRUE(c.failed());
  EXPECT_FALSE(c.authenticated());
  EXPECT_NE(c.failure_detail().find("does not match"), std::string::npos);
}

TEST(auth_engines, same_secret_with_another_transform_hash_is_a_wrong_key) {
  pair_config p;
  p.host.host_key = key(2, 1);  // the same bytes, transformed with SHA-384
  controller_auth c(p.ctrl);
  host_auth h(p.host);
  run(h, c);
  EXPECT_FALSE(h.succeeded());
  EXPECT_TRUE(c.failed());
}

TEST(auth_engines, wrong_controller_key_is_caught_by_the_host) {
  pair_config p;
  p.ctrl.ctrl_key = key(0, 5);
  p.host.ctrl_key = key(0, 6);
  controller_auth c(p.ctrl);
  host_auth h(p.host);
  run(h, c);
  EXPECT_FALSE(h.succeeded());
  EXPECT_NE(h.failure_detail().find("controller's response"), std::string::npos);
  EXPECT_TRUE(c.failed());  // the host's Failure2 ends it on the controller too
  EXPECT_FALSE(c.authenticated());
}

TEST(auth_engines, host_asking_for_controller_authentication_without_a_controller_key_fails) {
  pair_config p;
  p.host.ctrl_key = key(0, 5);
  controller_auth c(p.ctrl);
  host_auth h(p.host);
  run(h, c);
  EXPECT_FALSE(h.succeeded());
  EXPECT_EQ(h.controller_reason(), failure_reason::failed);
  EXPECT_TRUE(c.failed());
}

TEST(auth_engines, no_common_hash_or_group_is_refused_with_its_reason) {
  {
    pair_config p;
    p.ctrl.hashes = hash_set{hash_id::sha512};
    p.host.hashes = {hash_id::sha256};
    controller_auth c(p.ctrl);
    host_auth h(p.host);
    run(h, c);
    EXPECT_EQ(h.controller_reason(), failure_reason::hash_unusable);
    EXPECT_TRUE(c.failed());
  }
  {
    pair_config p;
    p.ctrl.dh_groups = dh_group_set{dh_group::ffdhe4096};
    p.host.dh_groups = {dh_group::null};
    controller_auth c(p.ctrl);
    host_auth h(p.host);
    run(h, c);
    EXPECT_EQ(h.controller_reason(), failure_reason::dhgroup_unusable);
    EXPECT_TRUE(c.failed());
  }
}

// Flipping a byte of R1, of the host's DH value or of its transaction ID fails it.
TEST(auth_engines, tampered_reply_fails) {
  for (size_t offset : {4u, 16u, 16u + 31, 16u + 64, 16u + 64 + 255}) {  // SHA-256: R1, C2, DH value
    pair_config p;
    p.ctrl.hashes = hash_set{hash_id::sha256};
    p.ctrl.dh_groups = dh_group_set{dh_group::ffdhe2048};
    controller_auth c(p.ctrl);
    host_auth h(p.host);
    run(h, c, [&](bool to_controller, std::vector<std::byte>& m) {
      if (to_controller && m.size() > 1 && m[1] == std::byte{0x02} && offset < m.size()) m[offset] ^= std::byte{1};
    });
    SCOPED_TRACE(offset);
    EXPECT_FALSE(h.succeeded());
    EXPECT_TRUE(c.failed());
    EXPECT_FALSE(c.authenticated());
  }
}

TEST(auth_engines, tampered_challenge_or_success1_fails) {
  for (auto [id, offset] : {std::pair{0x01, 16}, std::pair{0x01, 16 + 32 + 10}, std::pair{0x03, 16}}) {
    pair_config p;
    p.ctrl.dh_groups = dh_group_set{dh_group::ffdhe2048};
    p.ctrl.ctrl_key = key(0, 5);
    p.host.ctrl_key = p.ctrl.ctrl_key;
    controller_auth c(p.ctrl);
    host_auth h(p.host);
    run(h, c, [&](bool to_controller, std::vector<std::byte>& m) {
      if (!to_controller && m[1] == std::byte(id)) m[static_cast<size_t>(offset)] ^= std::byte{0x80};
    });
    SCOPED_TRACE(offset);
    EXPECT_FALSE(h.succeeded());
    EXPECT_FALSE(c.authenticated());
  }
}

// Each host message cut at every length: the controller fails (at once or with a Failure1),
// never authenticates.
TEST(auth_engines, truncated_host_messages_fail) {
  for (uint8_t which : {0x00, 0x02, 0x04}) {
    pair_config p;
    p.ctrl.dh_groups = dh_group_set{dh_group::ffdhe2048};
    p.ctrl.ctrl_key = key(0, 5);
    p.host.ctrl_key = p.ctrl.ctrl_key;
    // One clean run to capture the message's full length.
    size_t full = 0;
    {
      controller_auth c(p.ctrl);
      host_auth h(p.host);
      run(h, c, [&](bool to_c, std::vector<std::byte>& m) {
        if (to_c && m[1] == std::byte{which}) full = m.size();
      });
      ASSERT_TRUE(c.authenticated());
    }
    for (size_t n = 0; n < full; ++n) {
      controller_auth c(p.ctrl);
      host_auth h(p.host);
      run(h, c, [&](bool to_c, std::vector<std::byte>& m) {
        if (to_c && m.size() == full && m[1] == std::byte{which}) m.resize(n);
      });
      SCOPED_TRACE(testing::Message() << "message " << int(which) << " cut at " << n);
      EXPECT_FALSE(c.authenticated());
      if (which != 0x04) {  // the host is done once it sent Success2
        EXPECT_FALSE(h.succeeded());
      }
    }
  }
}

TEST(auth_engines, controller_messages_cut_short_fail_the_host) {
  for (uint8_t which : {0x01, 0x03}) {
    for (size_t n : {0u, 5u, 15u, 16u, 47u}) {
      pair_config p;
      p.ctrl.ctrl_key = key(0, 5);
      p.host.ctrl_key = p.ctrl.ctrl_key;
      controller_auth c(p.ctrl);
      host_auth h(p.host);
      run(h, c, [&](bool to_c, std::vector<std::byte>& m) {
        if (!to_c && m.size() > 1 && m[1] == std::byte{which}) m.resize(n);
      });
      SCOPED_TRACE(testing::Message() << "message " << int(which) << " cut at " << n);
      EXPECT_FALSE(h.succeeded());
      EXPECT_FALSE(c.authenticated());
    }
  }
}

TEST(auth_engines, out_of_turn_messages_fail_the_controller) {
  pair_config p;
  {
    controller_auth c(p.ctrl);  // Reply before Negotiate
    c.on_send(encode(reply_message{0, false, 0, std::vector<uint8_t>(32), {}, {}}));
    EXPECT_TRUE(c.failed());
  }
  {
    controller_auth c(p.ctrl);  // AUTH_Receive before Negotiate: a Failure1
    auto r = c.on_receive(4096);
    ASSERT_TRUE(r);
    auto f = decode_failure(*r);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->explanation, uint8_t(failure_reason::incorrect_message));
    EXPECT_TRUE(c.failed());
  }
  {
    controller_auth c(p.ctrl);  // Success2 in a unidirectional exchange
    host_auth h(p.host);
    run(h, c);
    ASSERT_TRUE(c.authenticated());
    c.on_send(encode(success2_message{0}));
    EXPECT_TRUE(c.failed());
    EXPECT_FALSE(c.authenticated());
  }
}

TEST(auth_engines, reply_with_another_transaction_id_is_an_incorrect_payload) {
  pair_config p;
  p.host.tid = 5;
  controller_auth c(p.ctrl);
  host_auth h(p.host);
  run(h, c, [](bool to_c, std::vector<std::byte>& m) {
    if (to_c && m[1] == std::byte{0x02}) m[4] = std::byte{6};
  });
  EXPECT_TRUE(c.failed());
  EXPECT_EQ(h.controller_reason(), failure_reason::incorrect_payload);
}

TEST(auth_engines, short_allocation_length_leaves_the_message_for_a_retry) {
  pair_config p;
  p.ctrl.hashes = hash_set{hash_id::sha256};
  p.ctrl.dh_groups = dh_group_set{dh_group::ffdhe2048};
  controller_auth c(p.ctrl);
  host_auth h(p.host);
  c.on_send(h.next_send());
  EXPECT_FALSE(c.on_receive(100));  // the challenge is 16 + 32 + 256 bytes
  EXPECT_EQ(c.current(), controller_auth::state::challenge_ready);
  auto ch = c.on_receive(304);
  ASSERT_TRUE(ch);
  EXPECT_EQ(ch->size(), 304u);
}

TEST(auth_engines, renegotiation_after_success_authenticates_again) {
  pair_config p;
  controller_auth c(p.ctrl);
  {
    host_auth h(p.host);
    run(h, c);
  }
  ASSERT_TRUE(c.authenticated());
  p.host.tid = 9;
  host_auth again(p.host);
  c.on_send(again.next_send());
  EXPECT_TRUE(c.authenticated());  // still, while the new transaction runs
  run(again, c);
  EXPECT_TRUE(again.succeeded());
  EXPECT_TRUE(c.authenticated());
}

}  // namespace
}  // namespace nvmfd::auth

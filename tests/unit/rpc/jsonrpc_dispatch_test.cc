#include "rpc/jsonrpc_dispatch.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <stdexcept>

#include <fmt/format.h>

namespace nvmfd {
namespace {

class jsonrpc_dispatch_test : public ::testing::Test {
 protected:
  void SetUp() override {
    methods_.add("echo", [](const json& p) -> result<json> { return p; });
    methods_.add("fail_params", [](const json&) -> result<json> {
      return error{errc::invalid_argument, "num_blocks: expected unsigned integer"};
    });
    methods_.add("fail_missing", [](const json&) -> result<json> {
      return error{errc::not_found, "No such device"};
    });
    methods_.add("fail_busy", [](const json&) -> result<json> {
      return error{errc::busy, "bdev is claimed"};
    });
    methods_.add("fail_errno", [](const json&) -> result<json> {
      return error::from_errno(ENOENT, "open /nope");
    });
    methods_.add("fail_empty", [](const json&) -> result<json> {
      return error{errc::timed_out, ""};
    });
    methods_.add("throws", [](const json&) -> result<json> { throw std::runtime_error("boom"); });
    methods_.add("count", [this](const json&) -> result<json> { return json(++calls_); });
  }

  // The reply parsed, or null when there is none.
  json reply(std::string_view msg, bool* close = nullptr) {
    jsonrpc_reply r = dispatch_jsonrpc(msg, methods_);
    if (close) *close = r.close;
    if (r.text.empty()) return json();
    EXPECT_EQ(r.text.back(), '\n');
    return json::parse(r.text);
  }

  rpc_method_table methods_;
  int calls_ = 0;
};

TEST_F(jsonrpc_dispatch_test, result_reply_in_spdk_member_order) {
  jsonrpc_reply r =
      dispatch_jsonrpc(R"({"jsonrpc":"2.0","method":"echo","params":{"a":1},"id":7})", methods_);
  EXPECT_EQ(r.text, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"a\":1}}\n");
  EXPECT_FALSE(r.close);
}

TEST_F(jsonrpc_dispatch_test, string_ids_and_absent_params) {
  json r = reply(R"({"jsonrpc":"2.0","method":"echo","id":"abc"})");
  EXPECT_EQ(r["id"], "abc");
  EXPECT_TRUE(r["result"].is_null());
  r = reply(R"({"jsonrpc":"2.0","method":"echo","params":null,"id":1})");
  EXPECT_TRUE(r["result"].is_null());
}

TEST_F(jsonrpc_dispatch_test, missing_jsonrpc_member_is_accepted_like_spdk) {
  json r = reply(R"({"method":"echo","params":[1],"id":1})");
  EXPECT_EQ(r["result"], json::array({1}));
}

TEST_F(jsonrpc_dispatch_test, invalid_requests) {
  for (const char* msg : {
           R"({"jsonrpc":"1.0","method":"echo","id":1})",
           R"({"jsonrpc":"2.0","id":1})",
           R"({"jsonrpc":"2.0","method":5,"id":1})",
           R"({"jsonrpc":"2.0","method":"echo","params":"x","id":1})",
           R"({"jsonrpc":"2.0","method":"echo","id":{}})",
           R"("just a string")",
           R"(42)",
           R"([])",
       }) {
    bool close = true;
    json r = reply(msg, &close);
    EXPECT_EQ(r["error"]["code"], -32600) << msg;
    EXPECT_EQ(r["error"]["message"], "Invalid request") << msg;
    EXPECT_FALSE(close) << msg;
  }
  json r = reply(R"({"jsonrpc":"2.0","id":3})");
  EXPECT_EQ(r["id"], 3);  // the id is echoed when it is valid
}

TEST_F(jsonrpc_dispatch_test, parse_error_closes) {
  bool close = false;
  json r = reply(R"({"jsonrpc":"2.0","method":"echo",})", &close);
  EXPECT_EQ(r["error"]["code"], -32700);
  EXPECT_TRUE(r["id"].is_null());
  EXPECT_TRUE(r["error"]["message"].get<std::string>().starts_with("Parse error: "));
  EXPECT_TRUE(close);
}

TEST_F(jsonrpc_dispatch_test, method_not_found) {
  json r = reply(R"({"jsonrpc":"2.0","method":"nope","id":1})");
  EXPECT_EQ(r["error"], json({{"code", -32601}, {"message", "Method not found"}}));
}

TEST_F(jsonrpc_dispatch_test, handler_errors_map_to_codes) {
  auto err = [&](const char* m) {
    return reply(fmt::format(R"({{"jsonrpc":"2.0","method":"{}","id":1}})", m))["error"];
  };
  EXPECT_EQ(err("fail_params"),
            json({{"code", -32602}, {"message", "num_blocks: expected unsigned integer"}}));
  EXPECT_EQ(err("fail_missing"), json({{"code", -19}, {"message", "No such device"}}));
  EXPECT_EQ(err("fail_busy"), json({{"code", -32603}, {"message", "bdev is claimed"}}));
  EXPECT_EQ(err("fail_errno")["code"], -ENOENT);
  EXPECT_EQ(err("fail_empty")["message"], "timed out");
  EXPECT_EQ(err("throws"), json({{"code", -32603}, {"message", "Internal error: boom"}}));
}

TEST_F(jsonrpc_dispatch_test, notifications_run_without_reply) {
  EXPECT_TRUE(dispatch_jsonrpc(R"({"jsonrpc":"2.0","method":"count"})", methods_).text.empty());
  EXPECT_EQ(calls_, 1);
  // not even errors
  EXPECT_TRUE(dispatch_jsonrpc(R"({"jsonrpc":"2.0","method":"nope"})", methods_).text.empty());
  EXPECT_TRUE(
      dispatch_jsonrpc(R"({"jsonrpc":"2.0","method":"fail_params"})", methods_).text.empty());
}

TEST_F(jsonrpc_dispatch_test, null_id_is_a_request) {
  json r = reply(R"({"jsonrpc":"2.0","method":"count","id":null})");
  EXPECT_EQ(r["result"], 1);
  EXPECT_TRUE(r["id"].is_null());
}

TEST_F(jsonrpc_dispatch_test, batch) {
  json r = reply(R"([
    {"jsonrpc":"2.0","method":"count","id":1},
    {"jsonrpc":"2.0","method":"count"},
    {"jsonrpc":"2.0","method":"nope","id":"x"},
    5,
    {"jsonrpc":"2.0","method":"count","id":2}])");
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0], json({{"jsonrpc", "2.0"}, {"id", 1}, {"result", 1}}));
  EXPECT_EQ(r[1]["error"]["code"], -32601);
  EXPECT_EQ(r[1]["id"], "x");
  EXPECT_EQ(r[2]["error"]["code"], -32600);
  EXPECT_EQ(r[3]["result"], 3);
  EXPECT_EQ(calls_, 3);
}

TEST_F(jsonrpc_dispatch_test, batch_of_notifications_has_no_reply) {
  EXPECT_TRUE(dispatch_jsonrpc(R"([{"jsonrpc":"2.0","method":"count"},{"method":"count"}])",
                               methods_)
                  .text.empty());
  EXPECT_EQ(calls_, 2);
}

TEST_F(jsonrpc_dispatch_test, invalid_utf8_in_a_result_does_not_throw) {
  methods_.add("bad_utf8", [](const json&) -> result<json> { return json("a\xff" "b"); });
  json r = reply(R"({"jsonrpc":"2.0","method":"bad_utf8","id":1})");
  EXPECT_TRUE(r["result"].is_string());
}

}  // namespace
}  // namespace nvmfd

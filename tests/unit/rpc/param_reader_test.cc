#include "rpc/param_reader.h"

#include <gtest/gtest.h>

namespace nvmfd {
namespace {

// The message finish() reports, or "" when it succeeds.
std::string finish_msg(param_reader& p) {
  auto r = p.finish();
  if (r) return "";
  EXPECT_EQ(r.err().code, errc::invalid_argument);
  return r.err().message;
}

TEST(param_reader, reads_typed_values) {
  json params = json::parse(R"({"name":"Malloc0","num_blocks":131072,"block_size":512,
      "readonly":true,"numa_id":-1,"ana_state":"optimized","names":["a","b"]})");
  param_reader p(params);
  EXPECT_EQ(p.required_string("name"), "Malloc0");
  EXPECT_EQ(p.required_uint("num_blocks"), 131072u);
  EXPECT_EQ(p.optional_uint("block_size", UINT32_MAX), 512u);
  EXPECT_EQ(p.optional_bool("readonly"), true);
  EXPECT_EQ(p.optional_int("numa_id", INT32_MIN, INT32_MAX), -1);
  EXPECT_EQ(p.optional_enum("ana_state", {"optimized", "non_optimized", "inaccessible"}),
            "optimized");
  EXPECT_EQ(p.optional_string_array("names"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(p.ok());
  EXPECT_EQ(finish_msg(p), "");
}

TEST(param_reader, absent_optionals_are_nullopt) {
  json params = json::object();
  param_reader p(params);
  EXPECT_EQ(p.optional_string("uuid"), std::nullopt);
  EXPECT_EQ(p.optional_uint("x"), std::nullopt);
  EXPECT_EQ(p.optional_int("y"), std::nullopt);
  EXPECT_EQ(p.optional_bool("z"), std::nullopt);
  EXPECT_EQ(p.optional_sub("o"), std::nullopt);
  EXPECT_EQ(finish_msg(p), "");
}

TEST(param_reader, null_or_absent_params_are_an_empty_object) {
  param_reader p{json()};
  EXPECT_EQ(p.optional_string("name"), std::nullopt);
  EXPECT_EQ(finish_msg(p), "");
  param_reader q{json()};
  q.required_string("nqn");
  EXPECT_EQ(finish_msg(q), "nqn: required parameter missing");
}

TEST(param_reader, non_object_params_are_an_error) {
  param_reader p{json::array({1, 2})};
  EXPECT_FALSE(p.ok());
  EXPECT_EQ(p.required_string("name"), "");
  EXPECT_EQ(finish_msg(p), "params: expected object, got array");
}

TEST(param_reader, null_value_counts_as_absent) {
  json params = json::parse(R"({"uuid":null,"nqn":null})");
  param_reader p(params);
  EXPECT_EQ(p.optional_string("uuid"), std::nullopt);
  EXPECT_TRUE(p.ok());
  p.required_string("nqn");
  EXPECT_EQ(finish_msg(p), "nqn: required parameter missing");
}

TEST(param_reader, missing_required) {
  json params = json::object();
  param_reader p(params);
  EXPECT_EQ(p.required_uint("num_blocks"), 0u);
  EXPECT_EQ(finish_msg(p), "num_blocks: required parameter missing");
}

TEST(param_reader, wrong_types_name_the_field) {
  struct tc {
    const char* params;
    std::function<void(param_reader&)> read;
    const char* msg;
  };
  const tc cases[] = {
      {R"({"num_blocks":"64"})", [](auto& p) { p.required_uint("num_blocks"); },
       R"(num_blocks: expected unsigned integer, got string "64")"},
      {R"({"num_blocks":-1})", [](auto& p) { p.required_uint("num_blocks"); },
       "num_blocks: expected unsigned integer, got number -1"},
      {R"({"num_blocks":1.5})", [](auto& p) { p.optional_uint("num_blocks"); },
       "num_blocks: expected unsigned integer, got number 1.5"},
      {R"({"numa_id":0.5})", [](auto& p) { p.optional_int("numa_id"); },
       "numa_id: expected integer, got number 0.5"},
      {R"({"name":5.5})", [](auto& p) { p.required_string("name"); },
       "name: expected string, got number 5.5"},
      {R"({"name":true})", [](auto& p) { p.required_string("name"); },
       "name: expected string, got boolean"},
      {R"({"readonly":"yes"})", [](auto& p) { p.optional_bool("readonly"); },
       R"(readonly: expected boolean, got string "yes")"},
      {R"({"readonly":1})", [](auto& p) { p.required_bool("readonly"); },
       "readonly: expected boolean, got number 1"},
      {R"({"a":[1]})", [](auto& p) { p.required_object("a"); }, "a: expected object, got array"},
      {R"({"a":{}})", [](auto& p) { p.required_array("a"); }, "a: expected array, got object"},
      {R"({"names":"a"})", [](auto& p) { p.optional_string_array("names"); },
       R"(names: expected array of strings, got string "a")"},
      {R"({"names":["a",2]})", [](auto& p) { p.optional_string_array("names"); },
       "names[1]: expected string, got number"},
      {R"({"ana_state":"good"})",
       [](auto& p) { p.required_enum("ana_state", {"optimized", "inaccessible"}); },
       R"(ana_state: expected one of optimized, inaccessible, got "good")"},
  };
  for (const auto& c : cases) {
    json params = json::parse(c.params);
    param_reader p(params);
    c.read(p);
    EXPECT_FALSE(p.ok()) << c.params;
    EXPECT_EQ(finish_msg(p), c.msg) << c.params;
  }
}

TEST(param_reader, ranges) {
  json params = json::parse(R"({"bs":4294967296,"u16":65535,"i":-2147483649,"big":9223372036854775808})");
  {
    param_reader p(params);
    EXPECT_EQ(p.optional_uint("u16", UINT16_MAX), 65535u);
    EXPECT_EQ(p.optional_uint("bs", UINT32_MAX), std::nullopt);
    EXPECT_EQ(finish_msg(p), "bs: 4294967296 out of range (max 4294967295)");
  }
  {
    param_reader p(params);
    EXPECT_EQ(p.optional_int("i", INT32_MIN, INT32_MAX), std::nullopt);
    EXPECT_EQ(finish_msg(p), "i: -2147483649 out of range (-2147483648..2147483647)");
  }
  {
    param_reader p(params);
    EXPECT_EQ(p.required_int("big"), 0);
    EXPECT_EQ(finish_msg(p), "big: 9223372036854775808 out of range (max 9223372036854775807)");
  }
  {
    json small = {{"n", 3}};
    param_reader p(small);
    EXPECT_EQ(p.optional_int("n", 5, 10), std::nullopt);
    EXPECT_EQ(finish_msg(p), "n: 3 out of range (5..10)");
  }
}

TEST(param_reader, strings_accept_integers_as_decimal_text) {
  json params = json::parse(R"({"trsvcid":4420,"x":-1})");
  param_reader p(params);
  EXPECT_EQ(p.required_string("trsvcid"), "4420");
  EXPECT_EQ(p.optional_string("x"), "-1");
  EXPECT_EQ(finish_msg(p), "");
}

TEST(param_reader, unsigned_accepts_non_negative_signed_json) {
  json params = {{"block_size", 512}, {"neg", -1}};  // built in C++: number_integer
  ASSERT_FALSE(params["block_size"].is_number_unsigned());
  param_reader p(params);
  EXPECT_EQ(p.required_uint("block_size", UINT32_MAX), 512u);
  EXPECT_EQ(p.optional_uint("neg"), std::nullopt);
  EXPECT_EQ(finish_msg(p), "neg: expected unsigned integer, got number -1");
}

TEST(param_reader, unknown_keys_are_rejected_by_finish) {
  json params = json::parse(R"({"name":"x","bogus":1})");
  param_reader p(params);
  p.required_string("name");
  EXPECT_TRUE(p.ok());
  EXPECT_EQ(finish_msg(p), "bogus: unknown parameter");
}

TEST(param_reader, ignored_keys_pass) {
  json params = json::parse(R"({"name":"x","tgt_name":"t","zcopy":{"any":"thing"}})");
  param_reader p(params);
  p.required_string("name");
  p.ignore({"tgt_name", "zcopy", "not_there"});
  EXPECT_EQ(finish_msg(p), "");
}

TEST(param_reader, has_does_not_mark_read) {
  json params = json::parse(R"({"a":1,"b":null})");
  param_reader p(params);
  EXPECT_TRUE(p.has("a"));
  EXPECT_FALSE(p.has("b"));
  EXPECT_FALSE(p.has("c"));
  EXPECT_EQ(finish_msg(p), "a: unknown parameter");
}

TEST(param_reader, first_error_wins_and_getters_return_defaults_after_it) {
  json params = json::parse(R"({"a":"x","b":7,"c":true})");
  param_reader p(params);
  EXPECT_EQ(p.required_uint("a"), 0u);
  EXPECT_EQ(p.optional_uint("b"), std::nullopt);  // valid, but after an error
  EXPECT_EQ(p.optional_bool("c"), std::nullopt);
  p.required_string("missing");
  p.fail("b", "other problem");
  EXPECT_EQ(finish_msg(p), R"(a: expected unsigned integer, got string "x")");
}

TEST(param_reader, fail_records_handler_errors) {
  json params = {{"block_size", 500}};
  param_reader p(params);
  auto bs = p.required_uint("block_size", UINT32_MAX);
  if (bs % 512) p.fail("block_size", "must be a multiple of 512");
  EXPECT_EQ(finish_msg(p), "block_size: must be a multiple of 512");
}

TEST(param_reader, nested_objects_use_dotted_names) {
  json params = json::parse(R"({"nqn":"n","listen_address":{"trtype":"tcp","traddr":[1]}})");
  param_reader p(params);
  p.required_string("nqn");
  auto a = p.sub("listen_address");
  EXPECT_EQ(a.required_string("trtype"), "tcp");
  a.required_string("traddr");
  EXPECT_EQ(finish_msg(p), "listen_address.traddr: expected string, got array");
}

TEST(param_reader, nested_unknown_keys_are_found_by_the_root_finish) {
  json params = json::parse(R"({"listen_address":{"trtype":"tcp","traddr":"1.2.3.4","x":1}})");
  param_reader p(params);
  auto a = p.sub("listen_address");
  a.required_string("trtype");
  a.required_string("traddr");
  a.optional_string("trsvcid");
  EXPECT_EQ(finish_msg(p), "listen_address.x: unknown parameter");
  EXPECT_EQ(finish_msg(a), "listen_address.x: unknown parameter");  // shared state
}

TEST(param_reader, sub_of_missing_or_wrong_type) {
  {
    json params = json::object();
    param_reader p(params);
    auto a = p.sub("listen_address");
    EXPECT_EQ(a.required_string("traddr"), "");
    EXPECT_EQ(finish_msg(p), "listen_address: required parameter missing");
  }
  {
    json params = {{"namespace", "x"}};
    param_reader p(params);
    auto ns = p.optional_sub("namespace");
    ASSERT_TRUE(ns);
    EXPECT_EQ(ns->required_string("bdev_name"), "");
    EXPECT_EQ(finish_msg(p), R"(namespace: expected object, got string "x")");
  }
  {
    json params = {{"opts", nullptr}};
    param_reader p(params);
    EXPECT_EQ(p.optional_sub("opts"), std::nullopt);
    EXPECT_EQ(finish_msg(p), "");  // a null value is absent, not unknown
  }
}

TEST(param_reader, doubly_nested) {
  json params = json::parse(R"({"a":{"b":{"c":"x"}}})");
  param_reader p(params);
  auto b = p.sub("a").sub("b");
  b.required_uint("c");
  EXPECT_EQ(finish_msg(p), R"(a.b.c: expected unsigned integer, got string "x")");
}

TEST(param_reader, optional_value_gives_raw_access) {
  json params = json::parse(R"({"masked_oncs":["compare",1]})");
  param_reader p(params);
  const json* v = p.optional_value("masked_oncs");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->size(), 2u);
  EXPECT_EQ(p.optional_value("nothing"), nullptr);
  EXPECT_EQ(finish_msg(p), "");
}

TEST(param_reader, long_values_are_cut_in_messages) {
  json params = {{"n", std::string(200, 'x')}};
  param_reader p(params);
  p.required_uint("n");
  std::string m = finish_msg(p);
  EXPECT_LT(m.size(), 120u);
  EXPECT_NE(m.find("..."), std::string::npos);
}

}  // namespace
}  // namespace nvmfd

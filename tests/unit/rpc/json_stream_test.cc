#include "base/json_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nvmfd {
namespace {

// Feeds `input` in pieces cut at `cuts` and returns every value produced.
std::vector<std::string> split(const std::string& input, const std::vector<size_t>& cuts,
                               size_t max = json_stream::default_max_value_size) {
  json_stream s(max);
  std::vector<std::string> out;
  size_t prev = 0;
  auto drain = [&] {
    for (;;) {
      auto v = s.next();
      EXPECT_TRUE(v.ok());
      if (!v.ok() || !*v) return;
      out.push_back(**v);
    }
  };
  for (size_t c : cuts) {
    s.append(std::string_view(input).substr(prev, c - prev));
    prev = c;
    drain();
  }
  s.append(std::string_view(input).substr(prev));
  drain();
  return out;
}

std::vector<std::string> split_whole(const std::string& input) { return split(input, {}); }

TEST(json_stream, back_to_back_objects_without_delimiter) {
  EXPECT_EQ(split_whole(R"({"a":1}{"b":2})"),
            (std::vector<std::string>{R"({"a":1})", R"({"b":2})"}));
}

TEST(json_stream, newline_terminated_and_whitespace_skipped) {
  EXPECT_EQ(split_whole(" \n{\"a\":1}\n\r\t {\"b\":[1,2]}\n"),
            (std::vector<std::string>{R"({"a":1})", R"({"b":[1,2]})"}));
}

TEST(json_stream, strings_with_braces_and_escaped_quotes) {
  const std::string v = R"({"m":"}{][ \" \\\" \\","n":"\\"})";
  EXPECT_EQ(split_whole(v + v), (std::vector<std::string>{v, v}));
}

TEST(json_stream, arrays_and_nesting) {
  const std::string a = R"([{"a":[{}]},{"b":{"c":[]}}])";
  EXPECT_EQ(split_whole(a + "{}" + "[]"), (std::vector<std::string>{a, "{}", "[]"}));
}

TEST(json_stream, incomplete_value_waits) {
  json_stream s;
  s.append(R"({"a":"}")");
  auto v = s.next();
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(*v);
  EXPECT_FALSE(s.idle());
  s.append("}");
  v = s.next();
  ASSERT_TRUE(v.ok() && *v);
  EXPECT_EQ(**v, R"({"a":"}"})");
  EXPECT_TRUE(s.idle());
  EXPECT_EQ(s.buffered(), 0u);
}

TEST(json_stream, every_cut_point_gives_the_same_values) {
  const std::string input =
      "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"s\":\"a}b\\\"{c\\\\\"},\"id\":1}"
      "\n[{\"id\":2},{\"id\":\"]\"}]{}  \"str\\\"\" 42 true\n";
  const auto whole = split_whole(input);
  ASSERT_EQ(whole.size(), 6u);
  EXPECT_EQ(whole[1], "[{\"id\":2},{\"id\":\"]\"}]");
  EXPECT_EQ(whole[3], "\"str\\\"\"");
  EXPECT_EQ(whole[4], "42");
  EXPECT_EQ(whole[5], "true");
  for (size_t i = 0; i <= input.size(); ++i) {
    EXPECT_EQ(split(input, {i}), whole) << "cut at " << i;
    for (size_t j = i; j <= input.size(); j += 7) {
      EXPECT_EQ(split(input, {i, j}), whole) << "cuts at " << i << ", " << j;
    }
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < input.size(); ++i) every.push_back(i);
  EXPECT_EQ(split(input, every), whole);
}

TEST(json_stream, stray_closers_come_out_alone_for_the_parser_to_reject) {
  EXPECT_EQ(split_whole("}{}"), (std::vector<std::string>{"}", "{}"}));
  EXPECT_EQ(split_whole("{]"), (std::vector<std::string>{"{]"}));
}

TEST(json_stream, bare_token_ends_at_structural_character) {
  EXPECT_EQ(split_whole("12{}"), (std::vector<std::string>{"12", "{}"}));
  EXPECT_EQ(split_whole("nul"), std::vector<std::string>{});  // may continue: waits
}

TEST(json_stream, oversized_value_is_an_error_and_stays_one) {
  json_stream s(16);
  s.append(R"({"a":"0123456789")");  // 17 bytes, incomplete
  auto v = s.next();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.err().code, errc::invalid_argument);
  s.append("}");
  EXPECT_FALSE(s.next().ok());
}

TEST(json_stream, value_of_exactly_max_size_passes) {
  json_stream s(16);
  s.append(R"({"a":"01234567"})");  // 16 bytes
  auto v = s.next();
  ASSERT_TRUE(v.ok() && *v);
  EXPECT_EQ((*v)->size(), 16u);
}

TEST(json_stream, many_pipelined_values_in_one_append) {
  std::string in;
  for (int i = 0; i < 10000; ++i) in += "{\"id\":" + std::to_string(i) + "}";
  json_stream s;
  s.append(in);
  int n = 0;
  for (;;) {
    auto v = s.next();
    ASSERT_TRUE(v.ok());
    if (!*v) break;
    EXPECT_EQ(**v, "{\"id\":" + std::to_string(n) + "}");
    ++n;
    if (n % 100 == 0) s.append(" ");  // appends compact the consumed prefix
  }
  EXPECT_EQ(n, 10000);
}

}  // namespace
}  // namespace nvmfd

#pragma once
// param_reader: reads a JSON-RPC method's params with SPDK's rules and clear -32602 messages.
//
//   param_reader p(params);
//   auto name = p.required_string("name");
//   auto block_size = p.required_uint("block_size", UINT32_MAX);
//   auto uuid = p.optional_string("uuid");
//   auto addr = p.sub("listen_address");          // nested object, same rules
//   auto traddr = addr.required_string("traddr");
//   p.ignore({"tgt_name", "sock_impl"});           // accepted, not used
//   if (auto r = p.finish(); !r) return r.take_err();
//
// Rules:
// - params null or absent is {}; any other non-object is an error ("params: expected object").
// - A key whose value is null counts as absent (rpc.py drops None values, other clients may not).
// - Integers must be JSON integers (no fractions, no strings); unsigned getters reject negatives;
//   each getter takes the allowed range.
// - String getters also take a JSON integer, as its decimal text: SPDK would reject
//   "trsvcid": 4420, but nvmfctl's `--trsvcid 4420` sends a number and hand-written JSON
//   often does too. (required_enum/optional_enum too, harmlessly.)
// - Every key must be read (by a getter, has() does not count) or ignore()d: finish() rejects
//   the others, like SPDK's spdk_json_decode_object, naming the first unknown key.
// - The first error wins; after it, getters return defaults (empty string, 0, nullopt, false),
//   so a handler can read everything and check once. finish() returns that error as
//   errc::invalid_argument with a message "<field>: <problem>", nested fields dotted
//   ("listen_address.traddr: expected string, got number").
//
// A reader and the readers sub() returns share one error state; finish() on any of them
// checks unknown keys of all. The params json must outlive the readers. Not thread-safe.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rpc/rpc_method_table.h"

namespace nvmfd {

class param_reader {
 public:
  explicit param_reader(const json& params);

  std::string required_string(std::string_view name);
  std::optional<std::string> optional_string(std::string_view name);

  uint64_t required_uint(std::string_view name, uint64_t max = UINT64_MAX);
  std::optional<uint64_t> optional_uint(std::string_view name, uint64_t max = UINT64_MAX);

  int64_t required_int(std::string_view name, int64_t min = INT64_MIN, int64_t max = INT64_MAX);
  std::optional<int64_t> optional_int(std::string_view name, int64_t min = INT64_MIN,
                                      int64_t max = INT64_MAX);

  bool required_bool(std::string_view name);
  std::optional<bool> optional_bool(std::string_view name);

  // A string that must be one of `allowed` ("ana_state: expected one of optimized, ...").
  std::string required_enum(std::string_view name,
                            std::initializer_list<std::string_view> allowed);
  std::optional<std::string> optional_enum(std::string_view name,
                                           std::initializer_list<std::string_view> allowed);

  // An array whose elements are all strings.
  std::optional<std::vector<std::string>> optional_string_array(std::string_view name);

  // Raw access for shapes the getters do not cover. nullptr when absent or on error.
  const json* required_object(std::string_view name);
  const json* required_array(std::string_view name);
  const json* optional_value(std::string_view name);  // any type

  // A reader for a nested object (required, or nullopt when absent). On error the returned
  // reader reads an empty object, so its getters just return defaults.
  param_reader sub(std::string_view name);
  std::optional<param_reader> optional_sub(std::string_view name);

  // Keys accepted for compatibility and not used; they pass finish() whatever their value.
  void ignore(std::initializer_list<std::string_view> names);

  // Whether a key is present and not null. Does not mark it read.
  bool has(std::string_view name) const;

  // Records a handler-detected error on a field (e.g. "block_size: must be a power of two")
  // unless an error was already recorded.
  void fail(std::string_view name, std::string_view problem);

  bool ok() const;
  result<void> finish();

 private:
  struct state;
  param_reader(std::shared_ptr<state> st, size_t scope);

  // The value of a present, non-null key, marking it read; nullptr if absent, after an error,
  // or (required) with "missing" recorded.
  const json* get(std::string_view name, bool required);
  void fail_type(std::string_view name, const char* expected, const json& got);
  std::string path(std::string_view name) const;

  std::shared_ptr<state> st_;
  size_t scope_;
};

}  // namespace nvmfd

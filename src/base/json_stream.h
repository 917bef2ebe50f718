#pragma once
// json_stream: splits a byte stream of JSON values sent back to back into the text of each
// complete top-level value. This is SPDK's JSON-RPC framing: no delimiter between values
// (rpc.py sends bare objects; other clients end each with '\n'); whitespace between values
// is skipped.
//
// It only finds boundaries: bracket depth ('{' '[' vs '}' ']'), strings and their backslash
// escapes. It does not validate, so a malformed value (`{]`, `{"a" 1}`) comes out as text for
// the JSON parser to reject. A top-level scalar (`"x"`, `12`, `true`) ends at its closing quote,
// or at the next whitespace or structural character; a stray `}` `]` `,` `:` is returned alone.
//
// Bounded: a value longer than max_value_size is an error (the stream cannot be resynced after
// it, so the caller should answer and close). Memory use stays within max_value_size plus one
// append's worth. Single-threaded: one instance per connection.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace nvmfd {

class json_stream {
 public:
  static constexpr size_t default_max_value_size = size_t{64} << 20;  // 64 MiB

  explicit json_stream(size_t max_value_size = default_max_value_size);

  void append(std::string_view bytes);

  // The next complete value; std::nullopt when more bytes are needed. Once a value exceeds
  // max_value_size, returns errc::invalid_argument now and on every later call.
  result<std::optional<std::string>> next();

  // True when no partial value is buffered (only whitespace seen since the last value):
  // at end of stream, false means the peer stopped mid-value.
  bool idle() const { return start_ == npos; }

  // Bytes buffered and not yet returned by next().
  size_t buffered() const { return buf_.size() - consumed_; }

 private:
  static constexpr size_t npos = std::string::npos;
  enum class kind : uint8_t { container, string, bare };

  std::string take_value(size_t end);  // [start_, end) as a value; resets scan state

  std::string buf_;
  size_t consumed_ = 0;  // bytes of buf_ already returned or skipped
  size_t pos_ = 0;       // next byte to scan
  size_t start_ = npos;  // first byte of the value being scanned
  size_t max_;
  size_t depth_ = 0;
  kind kind_ = kind::container;
  bool in_string_ = false;
  bool escape_ = false;
  bool too_large_ = false;
};

}  // namespace nvmfd

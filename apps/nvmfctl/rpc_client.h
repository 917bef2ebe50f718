#pragma once
// rpc_client: nvmfctl's blocking JSON-RPC 2.0 client on nvmfd's Unix socket. One request at a
// time, each reply read in full (json_stream framing) before the next request is sent.
// Transport failures are errors (connect: io_error/not_found with a hint; timeout: timed_out;
// closed or garbled reply: protocol_error); a JSON-RPC error reply is a successful call whose
// response has an "error".
#include <string>
#include <utility>
#include <vector>

#include "base/json_stream.h"
#include "cli_params.h"

namespace nvmfd::ctl {

// The socket to use when -s is not given: preferred, unless it does not exist and fallback
// (the service's socket) does; then fallback.
std::string default_rpc_socket(const std::string& preferred, const std::string& fallback);

struct rpc_response {
  json result;
  json error;  // null on success, else {"code": ..., "message": ...}
  bool ok() const { return error.is_null(); }
};

class rpc_client {
 public:
  // timeout_s bounds the wait for each reply.
  static result<rpc_client> connect(const std::string& path, double timeout_s);

  rpc_client(rpc_client&& o) noexcept;
  rpc_client& operator=(rpc_client&&) = delete;
  ~rpc_client();

  // Params are omitted from the request when null or an empty object, as rpc.py does.
  result<rpc_response> call(const std::string& method, const json& params = json());

  // One batch request; the responses in the order of `calls` (a missing one is an error).
  result<std::vector<rpc_response>> call_batch(
      const std::vector<std::pair<std::string, json>>& calls);

 private:
  rpc_client(int fd, std::string path, double timeout_s)
      : fd_(fd), path_(std::move(path)), timeout_s_(timeout_s) {}

  json make_request(const std::string& method, const json& params);
  result<void> send_all(const std::string& text);
  result<json> receive();  // one complete JSON value

  int fd_;
  std::string path_;
  double timeout_s_;
  json_stream in_;
  uint64_t next_id_ = 1;
};

}  // namespace nvmfd::ctl

// fuzz_jsonrpc: JSON-RPC requests through dispatch_jsonrpc (src/rpc/jsonrpc_dispatch) into
// nvmfd's real method table over an in-process target (rpc_world.h), no socket. The input is
// cut at newlines; each line is one message, dispatched in order against the same world, so
// that a sequence can build state (transport, bdev, subsystem, namespace, listener, host...).
//
// Oracles besides ASan/UBSan/LSan: every reply is empty (notifications only) or one line of
// JSON ending in "\n"; a single request's reply is an object with "jsonrpc": "2.0", and exactly
// one of "result" and "error" (with an integer code and a string message); the reply's id is
// the request's when the request was an object with a usable id; a batch's reply is an array
// of such objects; only a parse error (-32700) closes the connection.
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "fuzz_support.h"
#include "rpc/jsonrpc_dispatch.h"
#include "rpc_world.h"

namespace nvmfd::fuzz {
namespace {

void check_response(const json& r) {
  check(r.is_object(), "a reply that is not an object");
  check(r.contains("jsonrpc") && r["jsonrpc"] == "2.0", "a reply without jsonrpc 2.0");
  check(r.contains("id"), "a reply without id");
  check(r.contains("result") != r.contains("error"), "a reply needs exactly one of result and error");
  if (r.contains("error")) {
    const json& e = r["error"];
    check(e.is_object() && e.contains("code") && e["code"].is_number_integer(), "error without an integer code");
    check(e.contains("message") && e["message"].is_string(), "error without a string message");
  }
}

void one_message(std::string_view text, rpc_world& world) {
  jsonrpc_reply reply = dispatch_jsonrpc(text, world.methods());
  json request = json::parse(text, nullptr, false);
  if (reply.close) {
    check(request.is_discarded(), "the connection closed after a message that parses");
  }
  if (reply.text.empty()) return;
  check(reply.text.back() == '\n' && reply.text.find('\n') == reply.text.size() - 1, "a reply is one line");
  json r = json::parse(reply.text, nullptr, false);
  check(!r.is_discarded(), "a reply that is not JSON");
  if (r.is_array()) {
    check(request.is_array(), "an array reply to a single request");
    check(!r.empty() && r.size() <= request.size(), "a batch reply with more replies than requests");
    for (const json& x : r) check_response(x);
    return;
  }
  check_response(r);
  if (request.is_object() && request.contains("id")) {
    const json& id = request["id"];
    if (id.is_string() || id.is_number() || id.is_null())
      check(r["id"] == id, "a reply's id is not its request's");
  }
}

}  // namespace
}  // namespace nvmfd::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // every refused call logs; NVMFD_FUZZ_LOG shows them
  if (const char* l = std::getenv("NVMFD_FUZZ_LOG")) spdlog::set_level(spdlog::level::from_str(l));
  (void)nvmfd::fuzz::rpc_fuzz_pool();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nvmfd::fuzz;
  std::string_view all(reinterpret_cast<const char*>(data), size);
  rpc_world world;
  int messages = 0;
  while (!all.empty() && messages++ < 64) {
    size_t nl = all.find('\n');
    std::string_view line = all.substr(0, nl);
    all = nl == std::string_view::npos ? std::string_view{} : all.substr(nl + 1);
    if (!line.empty()) one_message(line, world);
  }
  return 0;
}

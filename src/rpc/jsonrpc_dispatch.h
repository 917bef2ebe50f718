#pragma once
// jsonrpc_dispatch: one complete JSON-RPC 2.0 message (the text of a request object or of a
// batch array, as json_stream cuts it) in, the reply text out. No I/O; the server calls it
// on its thread and handlers run inside it.
//
// Follows SPDK's jsonrpc server (lib/jsonrpc/jsonrpc_server.c) and JSON-RPC 2.0:
// - text that does not parse: -32700 "Parse error: ..." with id null, and close = true
//   (a byte stream without delimiters cannot be resynced);
// - not an object, "jsonrpc" present but not "2.0", "method" missing or not a string, "id" not a
//   string/number/null, "params" not an object/array/null, or an empty batch: -32600
//   "Invalid request". A missing "jsonrpc" member is accepted, as SPDK does;
// - unknown method: -32601 "Method not found";
// - a handler's error: rpc_error_code(err) with err.message; a handler that throws: -32603.
// - a request without "id" is a notification: it runs, and gets no reply, not even an error;
// - a batch answers with one array of the replies (none at all if all were notifications).
// params absent or null reach the handler as a null json.
#include <string>
#include <string_view>

#include "rpc/rpc_method_table.h"

namespace nvmfd {

struct jsonrpc_reply {
  std::string text;    // the reply, ending in "\n"; empty when nothing is to be sent
  bool close = false;  // send text, then close the connection
};

jsonrpc_reply dispatch_jsonrpc(std::string_view message, const rpc_method_table& methods);

// {"jsonrpc":"2.0","id":id,"error":{"code":code,"message":message}} and "\n".
std::string jsonrpc_error_text(const json& id, int code, std::string_view message);

}  // namespace nvmfd

#include "rpc/jsonrpc_dispatch.h"

#include <optional>

#include <fmt/format.h>

#include "base/log.h"

namespace nvmfd {

namespace {

// Serializes without throwing on invalid UTF-8 from a handler (replaced by U+FFFD).
std::string dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

// Members in SPDK's order (jsonrpc, id, result|error); nlohmann would sort them.
std::string result_text(const json& id, const json& result) {
  return fmt::format(R"({{"jsonrpc":"2.0","id":{},"result":{}}})", dump(id), dump(result));
}

std::string error_object(const json& id, int code, std::string_view message) {
  return fmt::format(R"({{"jsonrpc":"2.0","id":{},"error":{{"code":{},"message":{}}}}})",
                     dump(id), code, dump(json(message)));
}

// nlohmann's what() starts with "[json.exception.parse_error.101] "; keep what follows.
std::string parse_detail(const std::exception& e) {
  std::string_view w = e.what();
  if (auto p = w.find("] "); w.starts_with("[json.exception") && p != std::string_view::npos) {
    w.remove_prefix(p + 2);
  }
  return std::string(w);
}

// One request object; the reply object's text, or nullopt for a notification.
std::optional<std::string> handle_one(const json& req, const rpc_method_table& methods) {
  const json null_id;
  if (!req.is_object()) return error_object(null_id, rpc_error_invalid_request, "Invalid request");
  auto id_it = req.find("id");
  const bool notification = id_it == req.end();
  const json& id = notification ? null_id : *id_it;
  if (!id.is_string() && !id.is_number() && !id.is_null()) {
    return error_object(null_id, rpc_error_invalid_request, "Invalid request");
  }
  auto ver = req.find("jsonrpc");
  auto method = req.find("method");
  auto params = req.find("params");
  if ((ver != req.end() && *ver != "2.0") || method == req.end() || !method->is_string() ||
      (params != req.end() && !params->is_null() && !params->is_object() &&
       !params->is_array())) {
    return error_object(id, rpc_error_invalid_request, "Invalid request");
  }

  const std::string& name = method->get_ref<const std::string&>();
  const rpc_handler* h = methods.find(name);
  std::string reply;
  if (!h) {
    reply = error_object(id, rpc_error_method_not_found, "Method not found");
  } else {
    static const json no_params;
    try {
      result<json> r = (*h)(params == req.end() ? no_params : *params);
      if (r) {
        reply = result_text(id, *r);
      } else {
        const error& e = r.err();
        int code = rpc_error_code(e);
        reply = error_object(id, code, e.message.empty() ? std::string(to_string(e.code))
                                                         : e.message);
      }
    } catch (const std::exception& e) {
      NVMFD_LOG_ERROR("rpc: {} threw: {}", name, e.what());
      reply = error_object(id, rpc_error_internal, fmt::format("Internal error: {}", e.what()));
    }
  }
  if (notification) return std::nullopt;
  return reply;
}

}  // namespace

std::string jsonrpc_error_text(const json& id, int code, std::string_view message) {
  return error_object(id, code, message) + "\n";
}

jsonrpc_reply dispatch_jsonrpc(std::string_view message, const rpc_method_table& methods) {
  json msg;
  try {
    msg = json::parse(message);
  } catch (const json::exception& e) {
    return {jsonrpc_error_text(json(), rpc_error_parse, "Parse error: " + parse_detail(e)), true};
  }
  if (!msg.is_array()) {
    auto r = handle_one(msg, methods);
    return {r ? *r + "\n" : std::string(), false};
  }
  if (msg.empty()) return {jsonrpc_error_text(json(), rpc_error_invalid_request, "Invalid request")};
  std::string out;
  for (const json& req : msg) {
    auto r = handle_one(req, methods);
    if (!r) continue;
    out += out.empty() ? "[" : ",";
    out += *r;
  }
  if (!out.empty()) out += "]\n";
  return {std::move(out), false};
}

}  // namespace nvmfd

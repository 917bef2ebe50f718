#include "rpc_client.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

namespace nvmfd::ctl {

std::string default_rpc_socket(const std::string& preferred, const std::string& fallback) {
  struct stat st;
  if (::stat(preferred.c_str(), &st) != 0 && ::stat(fallback.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) return fallback;
  return preferred;
}

result<rpc_client> rpc_client::connect(const std::string& path, double timeout_s) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return error{errc::invalid_argument, fmt::format("socket path '{}' is too long", path)};
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return error::from_errno(errno, "socket");
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    ::close(fd);
    error err{e == ENOENT ? errc::not_found : errc::io_error,
              fmt::format("cannot connect to {}: {}; is nvmfd running?", path, std::strerror(e)),
              e};
    return err;
  }
  return rpc_client(fd, path, timeout_s);
}

rpc_client::rpc_client(rpc_client&& o) noexcept
    : fd_(o.fd_), path_(std::move(o.path_)), timeout_s_(o.timeout_s_), in_(std::move(o.in_)),
      next_id_(o.next_id_) {
  o.fd_ = -1;
}

rpc_client::~rpc_client() {
  if (fd_ >= 0) ::close(fd_);
}

json rpc_client::make_request(const std::string& method, const json& params) {
  json req = {{"jsonrpc", "2.0"}, {"method", method}, {"id", next_id_++}};
  if (!params.is_null() && !(params.is_object() && params.empty())) req["params"] = params;
  return req;
}

result<void> rpc_client::send_all(const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::send(fd_, text.data() + off, text.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return error::from_errno(errno, fmt::format("send to {}", path_));
    }
    off += static_cast<size_t>(n);
  }
  return success();
}

result<json> rpc_client::receive() {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::duration<double>(timeout_s_);
  for (;;) {
    auto v = in_.next();
    if (!v) return error{errc::protocol_error, "reply: " + v.err().message};
    if (*v) {
      try {
        return json::parse(**v);
      } catch (const json::exception& e) {
        return error{errc::protocol_error, fmt::format("unparsable reply: {}", e.what())};
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) {
      return error{errc::timed_out,
                   fmt::format("timed out after {} s waiting for a reply", timeout_s_)};
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), INT32_MAX)));
    if (rc < 0 && errno != EINTR) return error::from_errno(errno, "poll");
    if (rc <= 0) continue;
    char buf[64 * 1024];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return error::from_errno(errno, fmt::format("receive from {}", path_));
    }
    if (n == 0) return error{errc::protocol_error, "nvmfd closed the connection before replying"};
    in_.append(std::string_view(buf, static_cast<size_t>(n)));
  }
}

namespace {

result<rpc_response> to_response(const json& r) {
  if (!r.is_object() || (!r.contains("result") && !r.contains("error"))) {
    return error{errc::protocol_error, fmt::format("not a JSON-RPC response: {}", r.dump())};
  }
  rpc_response out;
  if (r.contains("error")) {
    out.error = r["error"];
    if (out.error.is_null()) out.error = json::object();
  } else {
    out.result = r["result"];
  }
  return out;
}

}  // namespace

result<rpc_response> rpc_client::call(const std::string& method, const json& params) {
  json req = make_request(method, params);
  if (auto s = send_all(req.dump() + "\n"); !s) return s.take_err();
  auto r = receive();
  if (!r) return r.take_err();
  return to_response(*r);
}

result<std::vector<rpc_response>> rpc_client::call_batch(
    const std::vector<std::pair<std::string, json>>& calls) {
  json batch = json::array();
  uint64_t first = next_id_;
  for (const auto& [m, p] : calls) batch.push_back(make_request(m, p));
  if (auto s = send_all(batch.dump() + "\n"); !s) return s.take_err();
  auto r = receive();
  if (!r) return r.take_err();
  if (!r->is_array()) {
    auto one = to_response(*r);  // a batch-wide error such as a parse error
    if (one && !one->ok()) return std::vector<rpc_response>(calls.size(), *one);
    return error{errc::protocol_error, "batch reply is not an array"};
  }
  std::vector<rpc_response> out(calls.size());
  std::vector<bool> seen(calls.size(), false);
  for (const auto& item : *r) {
    auto resp = to_response(item);
    if (!resp) return resp.take_err();
    const json& id = item.contains("id") ? item["id"] : json();
    if (!id.is_number_unsigned() || id.get<uint64_t>() < first ||
        id.get<uint64_t>() - first >= calls.size()) {
      return error{errc::protocol_error, fmt::format("batch reply with unknown id {}", id.dump())};
    }
    size_t i = id.get<uint64_t>() - first;
    out[i] = std::move(*resp);
    seen[i] = true;
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    if (!seen[i]) {
      return error{errc::protocol_error, fmt::format("no reply for {}", calls[i].first)};
    }
  }
  return out;
}

}  // namespace nvmfd::ctl

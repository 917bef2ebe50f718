#pragma once
// rpc_server: JSON-RPC 2.0 over a Unix stream socket (SPDK's framing, see json_stream.h and
// jsonrpc_dispatch.h), served by a thread of its own with a poll() loop over non-blocking
// sockets, up to max_clients at once.
//
// Contract:
// - start() binds `path` (mode 0600) through unix_listener: errc::already_exists when another
//   process listens there ("another nvmfd is listening on PATH") or the path is not a socket;
//   a stale socket file is replaced; invalid_argument for a path too long; io_error otherwise.
// - Requests of all clients run one at a time, in each client's order, on the server thread,
//   through `methods`. The table must be complete before start() and outlive the server.
// - stop() closes every connection, joins the thread and unlinks the socket file if it is
//   still ours; idempotent. Called from a handler (the server thread), it ends the loop after
//   that handler (its reply is sent if the socket takes it at once) and closes the
//   connections; the socket file stays until the owner calls stop() or destroys the server
//   from another thread. The destructor calls stop().
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rpc/rpc_connection.h"
#include "rpc/rpc_method_table.h"
#include "rpc/unix_listener.h"

namespace nvmfd {

class rpc_server {
 public:
  static constexpr size_t max_clients = 64;  // as SPDK_JSONRPC_MAX_CONNS

  static result<std::unique_ptr<rpc_server>> start(const std::string& path,
                                                   rpc_method_table& methods);
  void stop();
  ~rpc_server();

  rpc_server(const rpc_server&) = delete;
  rpc_server& operator=(const rpc_server&) = delete;

  const std::string& path() const { return path_; }

 private:
  rpc_server(unix_listener listener, const rpc_method_table& methods, int wake_fd);
  void run();
  void poll_loop();
  void accept_clients();

  unix_listener listener_;
  const std::string path_;
  const rpc_method_table& methods_;
  int wake_fd_;  // eventfd: stop() wakes the loop
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<rpc_connection>> conns_;  // server thread only
  std::mutex stop_mu_;
  std::thread thread_;
};

}  // namespace nvmfd

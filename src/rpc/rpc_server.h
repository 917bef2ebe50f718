#pragma once
// rpc_server: JSON-RPC 2.0 over a Unix stream socket (SPDK's framing, see json_stream.h and
// jsonrpc_dispatch.h), served on an event loop that may block (loop_thread.h: in nvmfd the
// RPC thread, shared with Avahi and mDNS discovery), with non-blocking sockets, up to
// max_clients at once. The listener and each connection are event handlers on that loop.
//
// Contract:
// - start() binds `path` (mode 0600) through unix_listener: errc::already_exists when another
//   process listens there ("another nvmfd is listening on PATH") or the path is not a socket;
//   a stale socket file is replaced; invalid_argument for a path too long; io_error otherwise.
//   Without a loop it starts a loop_thread "rpc" of its own.
// - Requests of all clients run one at a time, in each client's order, on the loop's thread,
//   through `methods`. The table must be complete before start() and outlive the server.
// - stop() closes every connection and the listener and unlinks the socket file if it is
//   still ours; idempotent. Called from a handler (the loop's thread), no request is served
//   after that handler (its reply is sent if the socket takes it at once) and the connections
//   are closed right after it; the socket file stays until the owner calls stop() or destroys
//   the server from another thread. The destructor calls stop(). A loop given to start() must
//   run until the server is stopped.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "reactor/loop_thread.h"
#include "reactor/reactor.h"
#include "rpc/rpc_connection.h"
#include "rpc/rpc_method_table.h"
#include "rpc/unix_listener.h"

namespace nvmfd {

class rpc_server {
 public:
  static constexpr size_t max_clients = 64;  // as SPDK_JSONRPC_MAX_CONNS

  static result<std::unique_ptr<rpc_server>> start(const std::string& path, rpc_method_table& methods);
  // loop: a reactor that may block (loop_thread), running.
  static result<std::unique_ptr<rpc_server>> start(const std::string& path, rpc_method_table& methods,
                                                   reactor& loop);
  void stop();
  ~rpc_server();

  rpc_server(const rpc_server&) = delete;
  rpc_server& operator=(const rpc_server&) = delete;

  const std::string& path() const { return path_; }

 private:
  class client;
  class accept_handler final : public event_handler {
   public:
    explicit accept_handler(rpc_server& s) : s_(s) {}
    void on_events(uint32_t) override { s_.accept_clients(); }

   private:
    rpc_server& s_;
  };

  rpc_server(unix_listener listener, const rpc_method_table& methods, reactor& loop,
             std::unique_ptr<loop_thread> own);
  static result<std::unique_ptr<rpc_server>> open(const std::string& path, rpc_method_table& methods,
                                                  reactor* loop);
  void accept_clients();
  // After a client's events: watch it for what it waits for, or drop it when done.
  void update(client& c);
  void close_all();  // on the loop

  unix_listener listener_;
  const std::string path_;
  const rpc_method_table& methods_;
  std::unique_ptr<loop_thread> own_loop_;  // when start() was given none
  reactor& loop_;
  accept_handler acceptor_{*this};
  bool listening_ = false;                  // loop only
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<client>> conns_;  // loop only
  std::mutex stop_mu_;
  bool stopped_ = false;  // under stop_mu_: closed from outside the loop
};

}  // namespace nvmfd

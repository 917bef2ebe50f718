#pragma once
// rpc_connection: one client of rpc_server: its non-blocking socket, the json_stream that cuts
// requests out of what it sends, and the replies not yet written. Owned and used only by the
// server thread; requests run through dispatch_jsonrpc() in arrival order.
//
// Backpressure: while more than max_unsent bytes of replies wait for the client, it is not
// read and its buffered requests wait. After a parse error or an oversized request it is
// answered, flushed and closed; after the client's EOF its remaining complete requests are
// still answered.
#include <cstddef>
#include <string>

#include "base/json_stream.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd {

class rpc_connection {
 public:
  static constexpr size_t max_unsent = size_t{4} << 20;

  explicit rpc_connection(int fd, size_t max_request = json_stream::default_max_value_size);
  ~rpc_connection();  // closes the socket
  rpc_connection(const rpc_connection&) = delete;
  rpc_connection& operator=(const rpc_connection&) = delete;

  int fd() const { return fd_; }

  // poll() events to wait for; 0 only when done().
  short poll_events() const;
  // Call with the poll() revents of fd().
  void on_events(short revents, const rpc_method_table& methods);
  // The connection has nothing more to do and may be destroyed.
  bool done() const;

 private:
  void read_some();
  void process(const rpc_method_table& methods);
  void flush();
  size_t unsent() const { return out_.size() - out_pos_; }

  int fd_;
  json_stream in_;
  std::string out_;
  size_t out_pos_ = 0;
  bool peer_closed_ = false;  // EOF read
  bool closing_ = false;      // answer what is queued, then close
  bool broken_ = false;       // socket error: close now
  bool starved_ = false;      // the last process() ran out of complete requests
};

}  // namespace nvmfd

#pragma once
// tcp_transport: the NVMe/TCP transport of the target (target_transport). It listens with
// tcp_listener, and each accepted connection becomes a tcp_qpair on a reactor chosen
// round-robin, which it hands to the target (nvmf_target::adopt_queue).
//
// Threading: listen() on the control thread; adopt_connection() on any thread (a
// listener's, reactor 0). Its options are fixed at creation.
#include <atomic>
#include <memory>
#include <string_view>

#include "target/target_transport.h"
#include "target/data_buffer_budget.h"
#include "target/tcp/tcp_transport_options.h"
#include "tls/tls_psk.h"

namespace nvmfd {

class nvmf_target;

// One of a listener's open connections (max_connections_per_listener): the count goes down
// when the holder (the connection's tcp_qpair) is destroyed. Empty: not counted.
class connection_slot {
 public:
  connection_slot() = default;
  explicit connection_slot(std::shared_ptr<std::atomic<uint32_t>> count) : count_(std::move(count)) {
    if (count_) count_->fetch_add(1, std::memory_order_relaxed);
  }
  connection_slot(connection_slot&&) noexcept = default;
  connection_slot& operator=(connection_slot&& o) noexcept {
    release();
    count_ = std::move(o.count_);
    return *this;
  }
  ~connection_slot() { release(); }

 private:
  void release() {
    if (count_) count_->fetch_sub(1, std::memory_order_relaxed);
    count_.reset();
  }
  std::shared_ptr<std::atomic<uint32_t>> count_;
};

class tcp_transport final : public target_transport {
 public:
  static constexpr std::string_view trtype = "TCP";

  tcp_transport(nvmf_target& t, const tcp_transport_options& opts);

  std::string_view name() const override { return trtype; }
  queue_limits limits() const override { return limits_of(opts_); }
  // TRTYPE tcp; TSAS SECTYPE tls13 for a secure listener, none otherwise.
  void describe(discovery_log_entry& e, const listen_address& a) const override;
  result<std::unique_ptr<transport_listener>> listen(const listen_address& a) override;

  const tcp_transport_options& options() const { return opts_; }
  // The data buffers its requests hold (num_shared_buffers × io_unit_size at most).
  const data_buffer_budget& buffers() const { return buffers_; }
  // A connected socket (a listener accepted it, or a test made it): becomes a tcp_qpair,
  // owned by the target, on the next reactor round-robin. Takes fd. slot: the listener's
  // count of open connections, which the qpair holds one of until it is destroyed. secure:
  // the connection starts with a TLS 1.3 handshake whose PSK is found by find_tls_psk.
  void adopt_connection(int fd, connection_slot slot = {}, bool secure = false);
  // The TLS PSK for a PSK identity a host offered: the configured PSK of the identity's
  // host on the identity's subsystem (nvmf_subsystem_add_host --psk). Any thread (takes the
  // target's mutex). An error names the host and subsystem, never the key.
  result<tls::tls_psk> find_tls_psk(std::string_view identity) const;

 private:
  nvmf_target& target_;
  const tcp_transport_options opts_;
  data_buffer_budget buffers_;
  std::atomic<unsigned> next_reactor_{0};
};

}  // namespace nvmfd

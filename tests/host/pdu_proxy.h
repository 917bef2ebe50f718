#pragma once
// pdu_proxy: an NVMe/TCP relay that reads the PDUs it relays, standing in for a controller
// that misbehaves at one step of the connect sequence. It listens on 127.0.0.1 and relays
// every connection to a real target PDU by PDU (without digests: tests connect without them).
// The test may
//  - answer a command capsule itself (the target never sees it) with a status and a result,
//  - spoil the ICResp of a connection (a PDU format version no host speaks),
//  - hold the ICResps of some connections until a number of ICReqs have come in.
// Connections are numbered in accept order from 0 (a controller's admin queue is 0).
//
// Threads: its own relay thread; rules set before the host connects; the rest from any
// thread. Relaying writes block (the PDUs of these tests are small).
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proto/nvme_command.h"

namespace nvmfd::test {

class pdu_proxy {
 public:
  struct reply {
    nvme_status status;
    uint64_t result = 0;  // dw0 | dw1 << 32
  };
  // On the relay thread, for each command capsule of connection conn: a reply answers it
  // in the target's place, nullopt relays it.
  using command_rule = std::function<std::optional<reply>(size_t conn, const nvme_sqe& sqe)>;

  explicit pdu_proxy(uint16_t target_port);
  ~pdu_proxy();  // stops the relay thread and closes everything

  uint16_t port() const { return port_; }
  void on_command(command_rule r) { rule_ = std::move(r); }
  void spoil_icresp(size_t conn) { spoiled_ = conn; }
  // ICResps of connections first_conn and later wait until `icreqs` ICReqs have come in.
  void hold_icresps(size_t first_conn, size_t icreqs) {
    gated_from_ = first_conn;
    icresp_gate_ = icreqs;
  }

  // What happened so far, in order: "icreq <conn>" when an ICReq came in, "icresp <conn>"
  // when its ICResp went to the host.
  std::vector<std::string> log() const;
  // Connections open now (both sides), and accepted in all.
  size_t open_connections() const;
  size_t accepted() const;
  // Waits until pred() holds, checking after every relayed PDU and every closed connection;
  // false after `bound` (by default a generous 10 s: a failing test, not a timing bound).
  bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds bound = std::chrono::seconds(10));

 private:
  struct link {
    size_t conn;
    int host = -1, target = -1;
    std::vector<std::byte> from_host, from_target;  // bytes of PDUs not yet whole
    std::vector<std::byte> held_icresp;
  };
  void run();
  void accept_one();
  bool pump(link& l, bool from_host);  // false when a side closed
  void handle_host_pdu(link& l, std::vector<std::byte> pdu);
  void handle_target_pdu(link& l, std::vector<std::byte> pdu);
  void release_held();
  void note(std::string what);

  uint16_t target_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  command_rule rule_;
  std::optional<size_t> spoiled_;
  size_t gated_from_ = 0;
  size_t icresp_gate_ = 0;
  bool stop_ = false;  // under mu_
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::string> log_;
  size_t icreqs_ = 0;
  size_t accepted_ = 0;
  size_t open_ = 0;
  std::vector<link> links_;  // relay thread only
  std::thread thread_;
};

}  // namespace nvmfd::test

#pragma once
// scripted_controller: a small NVMe/TCP controller for host tests that is as hostile or as
// broken as a test makes it. It listens on 127.0.0.1 (an ephemeral port) and serves each
// connection on a thread of its own: ICReq -> a fixed ICResp (no digests, MAXH2CDATA 128 KiB),
// then every command capsule in order. A command gets the test's `script` reply if it has
// one, else the default: a minimal well-behaved controller (Connect, Property Get/Set with
// CSTS.RDY at once, Identify from id_ctrl and namespaces, Set Features Number of Queues = 1,
// Keep Alive, zero-filled log pages and reads, writes taken in-capsule or by one R2T).
// Read data goes out as one C2HData PDU before the CapsuleResp; a reply may also carry raw
// PDUs to send instead (anything a hostile target may say).
//
// Set id_ctrl and namespaces before a host connects. Every capsule is logged (commands()).
// The destructor shuts every connection down and joins the threads.
#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "proto/identify.h"
#include "proto/nvme_command.h"

namespace nvmfd::test {

class scripted_controller {
 public:
  struct reply {
    nvme_status status{};
    uint32_t dw0 = 0, dw1 = 0;
    std::vector<std::byte> data;      // controller-to-host data (C2HData), if any
    std::vector<std::byte> raw;       // when set: sent as is, instead of data and CapsuleResp
  };
  // What the controller received: one entry per command capsule.
  struct command {
    uint16_t qid = 0;
    nvme_sqe sqe{};
    uint32_t in_capsule_bytes = 0;
    std::vector<std::byte> data;       // in-capsule or H2CData, for commands that wrote
  };
  // Returns a reply to override the default, or nothing.
  using script = std::function<std::optional<reply>(const command&)>;

  scripted_controller();
  ~scripted_controller();
  scripted_controller(const scripted_controller&) = delete;
  scripted_controller& operator=(const scripted_controller&) = delete;

  // Starts listening; call after setting the fields below.
  void start(script s = {});
  uint16_t port() const { return port_; }
  std::vector<command> commands() const;

  identify_controller id_ctrl{};               // mdts 5, ioccsz 4, cntrltype I/O by default
  std::map<uint32_t, identify_namespace> namespaces;  // nsid -> Identify Namespace

  // A namespace of num_blocks blocks of 2^lbads bytes (format 0).
  static identify_namespace make_namespace(uint8_t lbads, uint64_t num_blocks);

 private:
  void accept_loop();
  void serve(int fd);
  reply default_reply(const command& c) const;

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  script script_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<int> conn_fds_;
  std::vector<std::thread> conns_;
  std::vector<command> log_;
};

}  // namespace nvmfd::test

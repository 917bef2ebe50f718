#pragma once
// link_proxy: a TCP relay standing in for a network link in tests. It listens on
// listen_addr:port and relays every connection to target_addr:target_port. cut() makes the
// link silent the way a pulled cable is: nothing is relayed any more in either direction and
// nothing is closed or reset, so each side only learns from its own timeouts; connections
// made while cut are accepted and never relayed. restore() closes the connections of the cut
// link (their peers gave up on them) and relays new ones again.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nvmfd::test {

class link_proxy {
 public:
  link_proxy(std::string listen_addr, std::string target_addr, uint16_t target_port);
  ~link_proxy();  // stops the relay thread and closes everything

  uint16_t port() const { return port_; }
  void cut();
  void restore();
  bool is_cut() const { return cut_.load(); }

 private:
  struct pair {
    int a = -1, b = -1;     // the accepted side, the target side
    bool held = false;      // accepted while cut: never relayed
  };
  void run();
  void accept_one();
  void close_pair(pair& p);

  std::string listen_addr_, target_addr_;
  uint16_t target_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> cut_{false};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<pair> pairs_;
  bool drop_held_ = false;
  std::thread thread_;
};

}  // namespace nvmfd::test

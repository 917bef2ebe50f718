#pragma once
// tcp_listener: a listening socket on reactor 0 that accepts NVMe/TCP connections and
// hands them to the target. Created and destroyed on the control thread (it registers
// and unregisters itself on reactor 0 synchronously).
#include <string>

#include "base/result.h"
#include "reactor/reactor.h"

namespace nvmfd {

class nvmf_target;

class tcp_listener final : public event_handler {
 public:
  static result<std::unique_ptr<tcp_listener>> open(nvmf_target& t, reactor_pool& pool, const std::string& addr,
                                                    uint16_t port);
  ~tcp_listener();
  void on_events(uint32_t events) override;

 private:
  tcp_listener(nvmf_target& t, reactor_pool& pool, int fd) : target_(t), pool_(pool), fd_(fd) {}
  nvmf_target& target_;
  reactor_pool& pool_;
  int fd_;
};

}  // namespace nvmfd

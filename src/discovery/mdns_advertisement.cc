#include "discovery/mdns_advertisement.h"

#include <errno.h>

#include <cstdlib>

#include "proto/nqn.h"

namespace nvmfd {

std::vector<mdns_listener> mdns_advertisement::discovery_listeners() const {
  std::vector<mdns_listener> out;
  auto ls = target_.listeners(std::string(discovery_nqn));
  if (!ls) return out;
  for (auto& a : ls.value()) {
    unsigned long port = std::strtoul(a.trsvcid.c_str(), nullptr, 10);
    if (port > 0 && port <= 65535) out.push_back({a.traddr, static_cast<uint16_t>(port)});
  }
  return out;
}

result<void> mdns_advertisement::publish() {
  std::lock_guard lk(mu_);
  if (publisher_) return error{errc::already_exists, "mDNS is already published", EEXIST};
  auto ls = discovery_listeners();
  if (ls.empty()) return error{errc::not_supported, "Discovery subsystem has no listeners", EINVAL};
  if (!loop_) return error{errc::io_error, "mDNS unavailable: no event loop for Avahi", ECONNREFUSED};
  auto pub = mdns_publisher::start(*loop_);
  if (!pub) return pub.take_err();
  pub.value()->publish(ls);
  publisher_ = std::move(pub.value());
  return success();
}

void mdns_advertisement::stop() {
  std::unique_ptr<mdns_publisher> victim;
  {
    std::lock_guard lk(mu_);
    victim = std::move(publisher_);
  }
  victim.reset();  // withdraws every service
}

bool mdns_advertisement::published() const {
  std::lock_guard lk(mu_);
  return publisher_ != nullptr;
}

void mdns_advertisement::listeners_changed() {
  std::lock_guard lk(mu_);
  if (publisher_) publisher_->publish(discovery_listeners());
}

}  // namespace nvmfd

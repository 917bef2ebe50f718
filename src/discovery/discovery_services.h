#pragma once
// discovery_services: the running discovery services of bdev_nvme_start_discovery, by name
// (those an mDNS discovery starts are its own). A name and a discovery controller address
// are each used by one service at most.
//
// Threading: a thread that may block (the RPC thread, the config load, a test's). start()
// and stop() take the registry's control token themselves, so the caller must not hold it;
// by_name() is read holding it. Lifetime: destroy before the registry (the destructor stops
// every service, detaching what it attached).
#include <map>
#include <memory>
#include <string>

#include "discovery/discovery_service.h"

namespace nvmfd {

class discovery_services {
 public:
  explicit discovery_services(nvme_controller_registry& registry) : registry_(registry) {}
  ~discovery_services();
  discovery_services(const discovery_services&) = delete;
  discovery_services& operator=(const discovery_services&) = delete;

  // Starts a service (discovery_service::start, which connects and, with wait_for_attach,
  // waits for its first attach). Errors: already_exists (EEXIST) when the name or the
  // discovery controller's address is in use; discovery_service::start's.
  result<void> start(discovery_service_params p);
  // Stops the named service, detaching exactly what it attached. Errors: not_found.
  result<void> stop(const std::string& name);

  // While holding the registry's control token.
  const std::map<std::string, std::unique_ptr<discovery_service>>& by_name() const { return by_name_; }

 private:
  result<void> check_unused(const discovery_service_params& p) const;

  nvme_controller_registry& registry_;
  std::map<std::string, std::unique_ptr<discovery_service>> by_name_;
};

}  // namespace nvmfd

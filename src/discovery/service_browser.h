#pragma once
// service_browser: what mdns_discovery needs of DNS-SD browsing, as a seam: a factory starts
// browsing one service type with found/removed callbacks (mdns_browser.h's contract) and
// returns a handle; destroying the handle stops the callbacks (none runs after it is gone).
// avahi_browsers() browses through the avahi-daemon; tests inject events with a fake.
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "mdns/mdns_browser.h"
#include "reactor/reactor.h"

namespace nvmfd {

class service_browser {
 public:
  virtual ~service_browser() = default;
};

using browser_factory =
    std::function<result<std::unique_ptr<service_browser>>(const std::string& type, mdns_browser::callbacks cb)>;

// Browsers of the avahi-daemon on loop (mdns_browser::start's loop; callbacks run there).
browser_factory avahi_browsers(reactor& loop);

}  // namespace nvmfd

#include "discovery/service_browser.h"

namespace nvmfd {

namespace {
class avahi_browser final : public service_browser {
 public:
  explicit avahi_browser(std::unique_ptr<mdns_browser> b) : b_(std::move(b)) {}

 private:
  std::unique_ptr<mdns_browser> b_;
};
}  // namespace

browser_factory avahi_browsers(reactor& loop) {
  return [&loop](const std::string& type, mdns_browser::callbacks cb) -> result<std::unique_ptr<service_browser>> {
    auto b = mdns_browser::start(loop, std::move(cb), type);
    if (!b) return b.take_err();
    return std::unique_ptr<service_browser>(std::make_unique<avahi_browser>(std::move(b.value())));
  };
}

}  // namespace nvmfd

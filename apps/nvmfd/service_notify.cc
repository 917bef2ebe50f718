#include "apps/nvmfd/service_notify.h"

#include <systemd/sd-daemon.h>

namespace nvmfd {

namespace {
void send(const std::string& state) { (void)sd_notify(0, state.c_str()); }
}  // namespace

void notify_ready(const std::string& status) { send("READY=1\nSTATUS=" + status); }
void notify_stopping(const std::string& status) { send("STOPPING=1\nSTATUS=" + status); }
void notify_status(const std::string& status) { send("STATUS=" + status); }
void notify_watchdog() { send("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> watchdog_ping_interval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec / 2);
}

}  // namespace nvmfd

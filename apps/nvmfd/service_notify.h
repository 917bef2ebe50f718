#pragma once
// service_notify: nvmfd's side of systemd's notify protocol (sd_notify(3), Type=notify units):
// datagrams of "KEY=VALUE" lines to the socket named by $NOTIFY_SOCKET, through libsystemd.
// Without $NOTIFY_SOCKET (not started by systemd) every call is a no-op.
//
// The daemon says READY=1 once its config is loaded and the RPC server (and with it every
// configured listener) is up, STOPPING=1 when a stop signal arrives, and, while the unit sets
// WatchdogSec= ($WATCHDOG_USEC, for this PID), WATCHDOG=1 from service_watchdog.
//
// Threads: any; the calls only send datagrams. A failed send is ignored (systemd will notice
// the missing READY or pings, which is what it is there for).
#include <chrono>
#include <optional>
#include <string>

namespace nvmfd {

void notify_ready(const std::string& status);
void notify_stopping(const std::string& status);
void notify_status(const std::string& status);
void notify_watchdog();
// The interval to ping at: half of $WATCHDOG_USEC, as sd_watchdog_enabled(3) advises; nullopt
// when no watchdog is asked of this process.
std::optional<std::chrono::microseconds> watchdog_ping_interval();

}  // namespace nvmfd

#!/usr/bin/env bash
# Runs a command next to a REAL avahi-daemon and D-Bus system bus that nothing else sees:
#
#   avahi_netns.sh [--here] [--no-avahi | --no-dbus] -- COMMAND [ARGS...]
#
# - A new network namespace (nvmfd-mdns-<pid>) with lo and a veth pair veth-a 10.78.0.1/24,
#   veth-b 10.78.0.2/24, both ends inside, multicast on (Avahi ignores loopback). With --here
#   the veth pair is made in the CURRENT network namespace instead (which must be one a test
#   made, e.g. the guest harness's lp-<pid>), and deleted at the end.
# - In it, a private mount namespace (mount --make-rprivate /) with a tmpfs on /run, so the
#   dbus-daemon --system (socket /run/dbus/system_bus_socket) and the avahi-daemon (its own
#   config: IPv4, veth-a and veth-b only) are private to this run.
# - COMMAND runs there (as a child of this script) with AVAHI_NETNS_DIR set; it may call
#   "avahi_netns.sh --stop-avahi" and "--start-avahi" to take the avahi-daemon away and back.
#   With --no-avahi the namespaces and the bus are made but no avahi-daemon is started;
#   with --no-dbus not even the bus (no /run/dbus/system_bus_socket).
# - At the end every process this script started is stopped by its PID, and the netns deleted.
#   Exit status: COMMAND's; 77 (ctest SKIP_RETURN_CODE) when not root or a tool is missing.
set -euo pipefail
self=$(readlink -f "$0")

stop_pid() {  # stop_pid PID: TERM, up to 3 s, then KILL
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

start_avahi() {
  avahi-daemon -f "$AVAHI_NETNS_DIR/avahi-daemon.conf" --no-drop-root --no-chroot --no-rlimits \
    > "$AVAHI_NETNS_DIR/avahi.log" 2>&1 &
  echo $! > "$AVAHI_NETNS_DIR/avahi.pid"
  # Ready when it answers on the bus in state AVAHI_SERVER_RUNNING (2).
  for _ in $(seq 100); do
    if dbus-send --system --print-reply --dest=org.freedesktop.Avahi / org.freedesktop.Avahi.Server.GetState \
         2>/dev/null | grep -q 'int32 2'; then return 0; fi
    sleep 0.1
  done
  echo "avahi_netns: avahi-daemon did not come up:" >&2
  cat "$AVAHI_NETNS_DIR/avahi.log" >&2
  return 1
}

stop_avahi() {
  local f="$AVAHI_NETNS_DIR/avahi.pid"
  if [ -s "$f" ]; then stop_pid "$(cat "$f")"; fi
  : > "$f"
}

inner() {  # in the netns, in a fresh mount namespace
  mount --make-rprivate /
  mount -t tmpfs tmpfs /run
  mkdir -p /run/dbus /run/avahi-daemon
  local dbus_pid="" rc=0
  cleanup_inner() {
    stop_avahi
    if [ -n "$dbus_pid" ]; then stop_pid "$dbus_pid"; fi
  }
  trap cleanup_inner EXIT
  if [ "$AVAHI_NETNS_WITH_DBUS" = 0 ]; then "$@"; exit $?; fi
  dbus-daemon --system --nofork --nopidfile > "$AVAHI_NETNS_DIR/dbus.log" 2>&1 &
  dbus_pid=$!
  for _ in $(seq 100); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.05; done
  [ -S /run/dbus/system_bus_socket ] || { echo "avahi_netns: dbus-daemon did not start" >&2; cat "$AVAHI_NETNS_DIR/dbus.log" >&2; exit 1; }
  if [ "$AVAHI_NETNS_WITH_AVAHI" = 1 ]; then start_avahi; fi
  "$@" || rc=$?
  exit "$rc"
}

case "${1:-}" in
  --inner) shift; inner "$@" ;;
  --stop-avahi) stop_avahi; exit 0 ;;
  --start-avahi) start_avahi; exit $? ;;
esac

with_avahi=1 with_dbus=1 here=0
if [ "${1:-}" = --here ]; then here=1; shift; fi
if [ "${1:-}" = --no-avahi ]; then with_avahi=0; shift; fi
if [ "${1:-}" = --no-dbus ]; then with_avahi=0 with_dbus=0; shift; fi
[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || { echo "usage: $0 [--here] [--no-avahi | --no-dbus] -- COMMAND [ARGS...]" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then echo "SKIP: network namespaces need root"; exit 77; fi
for t in ip unshare mount dbus-daemon dbus-send avahi-daemon; do
  command -v "$t" > /dev/null || { echo "SKIP: $t not installed (scripts/deps.sh)"; exit 77; }
done

if [ "$here" = 1 ] && [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ]; then
  echo "avahi_netns: --here needs a network namespace made by the test, not the machine's own" >&2
  exit 2
fi
ns="nvmfd-mdns-$$"
export AVAHI_NETNS_DIR
AVAHI_NETNS_DIR=$(mktemp -d /tmp/nvmfd-mdns.XXXXXX)
export AVAHI_NETNS_WITH_AVAHI=$with_avahi AVAHI_NETNS_WITH_DBUS=$with_dbus
cleanup() {
  if [ "$here" = 1 ]; then ip link del veth-a 2>/dev/null || true
  else ip netns del "$ns" 2>/dev/null || true; fi
  rm -rf "$AVAHI_NETNS_DIR"
}
trap cleanup EXIT
cat > "$AVAHI_NETNS_DIR/avahi-daemon.conf" <<CONF
[server]
host-name=nvmfd-mdns-test
use-ipv4=yes
use-ipv6=no
allow-interfaces=veth-a,veth-b
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
CONF

in_ns=()  # runs a command in the test's network namespace
if [ "$here" = 0 ]; then ip netns add "$ns"; in_ns=(ip netns exec "$ns"); fi
"${in_ns[@]}" ip link set lo up
"${in_ns[@]}" ip link add veth-a type veth peer name veth-b
"${in_ns[@]}" ip addr add 10.78.0.1/24 dev veth-a
"${in_ns[@]}" ip addr add 10.78.0.2/24 dev veth-b
"${in_ns[@]}" ip link set veth-a multicast on up
"${in_ns[@]}" ip link set veth-b multicast on up
rc=0
"${in_ns[@]}" unshare --mount --propagation private bash "$self" --inner "$@" || rc=$?
if [ "$rc" != 0 ] && [ -s "$AVAHI_NETNS_DIR/avahi.log" ]; then
  echo "--- avahi-daemon log ---"; cat "$AVAHI_NETNS_DIR/avahi.log"
fi
exit "$rc"

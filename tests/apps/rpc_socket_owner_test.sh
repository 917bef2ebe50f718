#!/usr/bin/env bash
# The RPC socket is nvmfd's control plane (docs/security.md, "Target-side limits"):
#   - a file at the socket path that belongs to another user (chown nobody) makes nvmfd refuse
#     to start (exit 1) with a message naming the path and the owner, and the file is left as
#     it was (not unlinked, not replaced);
#   - the socket nvmfd creates is mode 0600.
# Needs root (to chown to another user). Usage: rpc_socket_owner_test.sh BIN_DIR
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/nvmfd_proc.sh"
if [ "$(id -u)" != 0 ]; then
  echo "rpc_socket_owner_test: SKIPPED (chown to another user needs root)"
  exit 77
fi
work=$(mktemp -d /tmp/nvmfd-rpc-owner.XXXXXX)
cleanup() {
  stop_pidfile "$work/nvmfd.pid" 0
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- nvmfd output ---"; cat "$work/nvmfd.out" 2>/dev/null || true; exit 1; }
echo '{"subsystems": []}' > "$work/config.json"

# 1. Another user's file at the path: a regular file, and a socket nobody answers on (which
#    nvmfd would otherwise take for its own stale socket and replace).
touch "$work/planted.file"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$work/planted.sock"
for planted in "$work/planted.file" "$work/planted.sock"; do
  chown nobody "$planted"
  before=$(stat -c '%i %U %F' "$planted")
  rc=0
  timeout 20 "$bin/nvmfd" -c "$work/config.json" -r "$planted" -m 0x1 > "$work/nvmfd.out" 2>&1 || rc=$?
  [ "$rc" = 1 ] || fail "nvmfd with another user's file at the RPC path ($planted): exit $rc, want 1"
  grep -q "belongs to uid $(id -u nobody), not to this user" "$work/nvmfd.out" || fail "no clear message ($planted)"
  [ "$(stat -c '%i %U %F' "$planted")" = "$before" ] || fail "$planted was replaced or changed"
done

# 2. Our own socket: mode 0600.
"$bin/nvmfd" -c "$work/config.json" -r "$work/rpc.sock" -m 0x1 > "$work/nvmfd.out" 2>&1 &
echo $! > "$work/nvmfd.pid"
wait_rpc "$bin" "$work/rpc.sock" || fail "nvmfd did not answer on its RPC socket"
mode=$(stat -c %a "$work/rpc.sock")
[ "$mode" = 600 ] || fail "RPC socket mode $mode, want 600"
echo "PASS"

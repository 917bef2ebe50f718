#!/bin/bash
# nvmfd's keys as SPDK reads them (an implementation nobody here wrote): SPDK's nvmf_tgt loads
# the "keyring" section of nvmfd's save_config, and takes nvmfctl's generated keys (written with
# gen-dhchap-key / gen-tls-key -o) as a host's DH-HMAC-CHAP key and TLS PSK
# (nvmf_subsystem_add_host --dhchap-key / --psk, which parse them).
#
#   tests/rpc/keyring_spdk_test.sh BIN_DIR [SPDK_PEER_DIR]     (env SPDK_PEER_DIR, when set, wins)
# Skipped (exit 77) without an SPDK peer. The nvmfd and nvmf_tgt started here are stopped by PID.
set -u
BIN=${1:?usage: $0 BIN_DIR [SPDK_PEER_DIR]}
PEER=${SPDK_PEER_DIR:-${2:-}}
. "$(dirname "$0")/../lib/nvmfd_proc.sh"
if [ -z "$PEER" ] || [ ! -x "$PEER/bin/nvmf_tgt" ] || [ ! -f "$PEER/scripts/rpc.py" ]; then
  echo "keyring_spdk_test: SKIPPED (no SPDK peer at '$PEER'; set SPDK_PEER_DIR)"
  exit 77
fi
WORK=$(mktemp -d /tmp/nvmfd_keyring_spdk.XXXXXX)
tgt_pid=
cleanup() {
  stop_pidfile "$WORK/nvmfd.pid"
  if [ -n "$tgt_pid" ]; then
    kill "$tgt_pid" 2>/dev/null && wait "$tgt_pid" 2>/dev/null
    rm -rf "/var/run/dpdk/spdk_pid$tgt_pid" "${XDG_RUNTIME_DIR:-/tmp}/dpdk/spdk_pid$tgt_pid"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/tgt.log" ] && grep ERROR "$WORK/tgt.log" | tail -5 >&2; exit 1; }
spdk() { PYTHONPATH="$PEER/python" /usr/bin/python3 "$PEER/scripts/rpc.py" -s "$WORK/spdk.sock" "$@"; }

HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:8e8a4e0c-7f6b-4a53-9b8e-0d6f1b2a3c4d
"$BIN/nvmfctl" gen-dhchap-key -m 1 -n "$HOSTNQN" -o "$WORK/dhchap" || fail "gen-dhchap-key -o"
"$BIN/nvmfctl" gen-tls-key -m 1 -o "$WORK/psk" || fail "gen-tls-key -o"

# nvmfd saves its keyring section.
echo '{"subsystems":[]}' >"$WORK/empty.json"
"$BIN/nvmfd" -c "$WORK/empty.json" -r "$WORK/nvmfd.sock" -m 0x1 >"$WORK/nvmfd.log" 2>&1 &
echo $! >"$WORK/nvmfd.pid"
wait_rpc "$BIN" "$WORK/nvmfd.sock" || fail "nvmfd did not answer"
"$BIN/nvmfctl" -s "$WORK/nvmfd.sock" keyring_file_add_key --name dhchap0 --path "$WORK/dhchap" >/dev/null || fail "nvmfd add dhchap0"
"$BIN/nvmfctl" -s "$WORK/nvmfd.sock" keyring_file_add_key --name psk0 --path "$WORK/psk" >/dev/null || fail "nvmfd add psk0"
"$BIN/nvmfctl" -s "$WORK/nvmfd.sock" save_config -s keyring >"$WORK/keyring.json" || fail "nvmfd save_config"
stop_pidfile "$WORK/nvmfd.pid"

# SPDK loads it and uses the keys.
"$PEER/bin/nvmf_tgt" -m 0x1 -u --no-huge -s 1024 --disable-cpumask-locks -r "$WORK/spdk.sock" >"$WORK/tgt.log" 2>&1 &
tgt_pid=$!
for _ in $(seq 100); do spdk spdk_get_version >/dev/null 2>&1 && break; sleep 0.1; done
spdk spdk_get_version >/dev/null 2>&1 || { echo "keyring_spdk_test: SKIPPED (nvmf_tgt does not start here)"; tail -3 "$WORK/tgt.log"; exit 77; }
spdk load_config -j "$WORK/keyring.json" || fail "SPDK does not load nvmfd's keyring section"
spdk keyring_get_keys | grep -q '"dhchap0"' || fail "SPDK lists no dhchap0 after load_config"
spdk nvmf_create_transport -t TCP >/dev/null || fail "SPDK nvmf_create_transport"
spdk nvmf_create_subsystem nqn.2016-06.io.spdk:keys >/dev/null || fail "SPDK nvmf_create_subsystem"
spdk nvmf_subsystem_add_host nqn.2016-06.io.spdk:keys "$HOSTNQN" --dhchap-key dhchap0 >/dev/null ||
  fail "SPDK refuses nvmfctl's DH-HMAC-CHAP key"
spdk nvmf_subsystem_add_host nqn.2016-06.io.spdk:keys "${HOSTNQN%d}e" --psk psk0 >/dev/null ||
  fail "SPDK refuses nvmfctl's TLS PSK"
# The check can fail: a DH-HMAC-CHAP secret is no PSK.
spdk nvmf_subsystem_add_host nqn.2016-06.io.spdk:keys "${HOSTNQN%d}f" --psk dhchap0 >/dev/null 2>&1 &&
  fail "SPDK took a DH-HMAC-CHAP secret as a PSK: the check above proves nothing"
echo "keyring_spdk_test: all checks passed"

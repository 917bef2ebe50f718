#!/usr/bin/env bash
# nvmfctl resv-register / resv-acquire / resv-report / resv-release as a user runs them: one
# nvmfd exports a RAM namespace on loopback and attaches it back through its own host side
# (bdev_nvme_attach_controller), so the commands travel nvmfctl -> JSON-RPC -> bdev_nvme ->
# NVMe/TCP -> the target and back. Checks the report (JSON and nvme-cli's normal text), a
# refused command's message and exit status, and that the target saw the registration.
# Usage: resv_commands_test.sh BIN_DIR
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/nvmfd_proc.sh"
work=$(mktemp -d /tmp/nvmfd-resv-cli.XXXXXX)
cleanup() {
  stop_pidfile "$work/nvmfd.pid" 0
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- nvmfd output ---"; cat "$work/nvmfd.out" 2>/dev/null || true; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nqn=nqn.2016-06.io.nvmfd:resv-cli
cat > "$work/config.json" <<JSON
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": 4096, "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$nqn", "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$nqn", "namespace": {"bdev_name": "Malloc0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$nqn",
       "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$port"}}}]}]}
JSON
"$bin/nvmfd" -c "$work/config.json" -r "$work/rpc.sock" -m 0x1 > "$work/nvmfd.out" 2>&1 &
echo $! > "$work/nvmfd.pid"
wait_rpc "$bin" "$work/rpc.sock" || fail "nvmfd did not answer"
ctl() { "$bin/nvmfctl" -s "$work/rpc.sock" "$@"; }
ctl bdev_nvme_attach_controller --name R --trtype tcp --traddr 127.0.0.1 --trsvcid "$port" --subnqn "$nqn" \
  > /dev/null || fail "attach"

ctl resv-register Rn1 -n 1 --nrkey 0x1111 --rrega 0 > /dev/null || fail "resv-register"
ctl resv-acquire Rn1 --crkey=0x1111 --rtype 1 --racqa 0 > /dev/null || fail "resv-acquire"
json=$(ctl resv-report Rn1)
python3 - "$json" <<'PY' || fail "report: $json"
import json, sys
r = json.loads(sys.argv[1])
assert r["rtype"] == 1 and r["regctl"] == 1, r
e = r["regctlext"][0]
assert e["rkey"] == 0x1111 and e["rcsts"] == 1 and len(e["hostid"]) == 32, e
PY
text=$(ctl resv-report Rn1 -o normal)
echo "$text" | grep -q "^rtype     : 1$" || fail "normal report: $text"
echo "$text" | grep -q "^  rkey    : 1111$" || fail "normal report key: $text"

# Refused by the target: a wrong current key is Reservation Conflict, named, exit 1.
rc=0
ctl resv-release Rn1 --crkey 0x2222 --rtype 1 > "$work/refused.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "release with a wrong key: exit $rc"
grep -q "Reservation Release: Reservation Conflict" "$work/refused.out" || fail "message: $(cat "$work/refused.out")"
# Refused by nvmfctl: a bad number, and -n that is not the bdev's namespace.
rc=0; ctl resv-register Rn1 --nrkey 0xZZ > "$work/bad.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "is not a number" "$work/bad.out" || fail "bad key accepted: $(cat "$work/bad.out")"
rc=0; ctl resv-register Rn1 -n 2 --nrkey 1 > "$work/bad.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "Rn1 is namespace 1, not 2" "$work/bad.out" || fail "wrong -n accepted: $(cat "$work/bad.out")"

ctl resv-release Rn1 --crkey 0x1111 --rtype 1 > /dev/null || fail "resv-release"
ctl resv-register Rn1 --crkey 0x1111 --rrega 1 > /dev/null || fail "unregister"
[ "$(ctl resv-report Rn1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["regctl"])')" = 0 ] \
  || fail "a registrant is left"
echo "resv_commands_test: PASS"

#!/bin/bash
# The keyring RPCs on a running nvmfd: keyring_file_add_key / keyring_file_remove_key /
# keyring_get_keys through nvmfctl (and SPDK's rpc.py when an SPDK peer is given), the refusal
# of key files others may read, and save_config / nvmfd -c round trips that keep the key's name
# and path but never its material, with the "keyring" section first.
#
#   tests/rpc/keyring_test.sh BIN_DIR [SPDK_PEER_DIR]
set -u
BIN=${1:?usage: $0 BIN_DIR [SPDK_PEER_DIR]}
PEER=${2:-}
. "$(dirname "$0")/../lib/nvmfd_proc.sh"
WORK=$(mktemp -d /tmp/nvmfd_keyring.XXXXXX)
SOCK=$WORK/rpc.sock
PIDFILE=$WORK/nvmfd.pid
cleanup() { stop_pidfile "$PIDFILE"; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/nvmfd.log" ] && tail -5 "$WORK/nvmfd.log" >&2; exit 1; }
ctl() { "$BIN/nvmfctl" -s "$SOCK" "$@"; }
start_daemon() {  # CONFIG
  "$BIN/nvmfd" -c "$1" -r "$SOCK" -m 0x1 >"$WORK/nvmfd.log" 2>&1 &
  echo $! >"$PIDFILE"
  wait_rpc "$BIN" "$SOCK" || fail "nvmfd did not answer on $SOCK"
}

SECRET='DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:'
PSK='NVMeTLSkey-1:01:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiQ:'
(umask 077; echo "$SECRET" >"$WORK/key0"; echo "$PSK" >"$WORK/psk0")
cp "$WORK/key0" "$WORK/open"; chmod 0644 "$WORK/open"
# The keyring section after nvmf and bdev in the file: nvmfd loads it first all the same.
cat >"$WORK/start.json" <<JSON
{"subsystems":[
 {"subsystem":"bdev","config":[{"method":"bdev_malloc_create","params":{"name":"Malloc0","num_blocks":2048,"block_size":512}}]},
 {"subsystem":"keyring","config":[{"method":"keyring_file_add_key","params":{"name":"key0","path":"$WORK/key0"}}]}]}
JSON

start_daemon "$WORK/start.json"
ctl keyring_get_keys >"$WORK/keys" || fail "keyring_get_keys"
python3 - "$WORK/keys" "$WORK/key0" <<'PY' || fail "keyring_get_keys shape: $(cat "$WORK/keys")"
import json, sys
keys = json.load(open(sys.argv[1]))
assert keys == [{"name": "key0", "module": "keyring_file", "removed": False, "probed": False,
                 "refcnt": 1, "path": sys.argv[2]}], keys
PY
[ "$(ctl keyring_file_add_key --name psk0 --path "$WORK/psk0")" = true ] || fail "add psk0"
"$BIN/nvmfctl" gen-dhchap-key -m 1 -n nqn.2014-08.org.nvmexpress:uuid:h -o "$WORK/gen0" || fail "gen-dhchap-key -o"
[ "$(ctl keyring_file_add_key --name gen0 --path "$WORK/gen0")" = true ] || fail "a key file of gen-dhchap-key -o is refused"
ctl keyring_file_add_key --name bad --path "$WORK/open" 2>"$WORK/err" && fail "a 0644 key file was accepted"
grep -q '"code": -1' "$WORK/err" || fail "0644 key file: not -1 (EPERM): $(cat "$WORK/err")"
grep -q "Invalid permissions for key file '$WORK/open'" "$WORK/err" || fail "0644 message: $(cat "$WORK/err")"
ctl keyring_file_add_key --name key0 --path "$WORK/key0" 2>"$WORK/err" && fail "a duplicate name was accepted"
grep -q '"code": -17' "$WORK/err" || fail "duplicate: not -17: $(cat "$WORK/err")"
ctl keyring_file_remove_key --name nope 2>"$WORK/err" && fail "removing an unknown key succeeded"
grep -q '"code": -126' "$WORK/err" || fail "unknown key: not -126 (ENOKEY): $(cat "$WORK/err")"

ctl save_config >"$WORK/saved.json" || fail "save_config"
for f in key0 psk0 gen0; do
  grep -qF "$(cut -d: -f3 "$WORK/$f")" "$WORK/saved.json" && fail "key material of $f in the saved config"
done
python3 - "$WORK/saved.json" "$WORK" <<'PY' || fail "saved keyring section: $(head -c 600 "$WORK/saved.json")"
import json, sys
subs = json.load(open(sys.argv[1]))["subsystems"]
names = [s["subsystem"] for s in subs]
assert names[0] == "keyring" and names.index("keyring") < names.index("nvmf") < len(names), names
calls = subs[0]["config"]
assert calls == [{"method": "keyring_file_add_key", "params": {"name": n, "path": f"{sys.argv[2]}/{n}"}}
                 for n in ("gen0", "key0", "psk0")], calls
PY
if [ -n "$PEER" ] && [ -f "$PEER/scripts/rpc.py" ]; then
  rpc() { PYTHONPATH="$PEER/python" /usr/bin/python3 "$PEER/scripts/rpc.py" -s "$SOCK" "$@"; }
  rpc keyring_file_remove_key psk0 || fail "rpc.py keyring_file_remove_key"
  rpc keyring_get_keys | grep -q '"psk0"' && fail "psk0 still listed after rpc.py removed it"
  rpc keyring_file_add_key psk0 "$WORK/psk0" || fail "rpc.py keyring_file_add_key"
else
  echo "keyring_test: no SPDK peer ($PEER): rpc.py checks skipped"
fi
stop_pidfile "$PIDFILE"

start_daemon "$WORK/saved.json"  # nvmfd -c with the saved config: the keys come back
ctl save_config >"$WORK/saved2.json" || fail "save_config after restart"
cmp -s "$WORK/saved.json" "$WORK/saved2.json" || fail "saved config does not round-trip"
stop_pidfile "$PIDFILE"

chmod 0640 "$WORK/key0"  # a key file made readable meanwhile: the daemon refuses to start
"$BIN/nvmfd" -c "$WORK/saved.json" -r "$SOCK" -m 0x1 >"$WORK/nvmfd.log" 2>&1 && fail "nvmfd started"
grep -q "Invalid permissions for key file" "$WORK/nvmfd.log" || fail "start with a 0640 key: $(cat "$WORK/nvmfd.log")"
echo "keyring_test: all checks passed"

#!/usr/bin/env bash
# TLS 1.3 with PSK (NVMe/TCP secure channel, TP 8011) against SPDK, both ways (issue 15):
#
#   spdk_tls_test.sh BIN_DIR [SPDK_PEER_DIR]     (env SPDK_PEER_DIR, when set, wins)
#
#   1. nvmfd target, a secure_channel listener, host H with PSK K (nvmf_subsystem_add_host
#      --psk): spdk_nvme_perf -S ssl --psk-path K does randread I/O; nvmfd logs the cipher and
#      where the record crypto runs; a tshark capture of it decodes as TLS (ClientHello,
#      ServerHello) without malformed packets;
#   2. the same with a wrong PSK: refused in the handshake, nvmfd logs the peer and the
#      identity (NQNs), never a key; and clear text to the secure port: refused;
#   3. SPDK's nvmf_tgt with keyring_file_add_key + nvmf_subsystem_add_listener
#      --secure-channel + nvmf_subsystem_add_host --psk: nvmfd's host (nvmf-host-check io
#      --psk-path) does verified writes and reads, nvmf-perf --psk-path runs, and an nvmfd
#      daemon attaches with bdev_nvme_attach_controller --psk KEYNAME (its keyring);
#   4. nvmfd's host with a wrong PSK against it: refused.
# Skipped (exit 77) without the SPDK peer. Every process is stopped by its PID.
set -euo pipefail
bin=$1
peer=${SPDK_PEER_DIR:-${2:-}}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/nvmfd_proc.sh"

spdk_bin=$peer/bin
for tool in spdk_nvme_perf nvmf_tgt; do
  if [ -z "$peer" ] || [ ! -x "$spdk_bin/$tool" ]; then
    echo "spdk_tls: SKIPPED (no SPDK peer: $spdk_bin/$tool not found; set SPDK_PEER_DIR)"
    exit 77
  fi
done
if ldd "$spdk_bin/nvmf_tgt" 2>/dev/null | grep -q "not found"; then
  echo "spdk_tls: SKIPPED (SPDK's runtime libraries are missing: bash scripts/deps.sh)"
  exit 77
fi

work=$(mktemp -d /tmp/nvmfd-spdk-tls.XXXXXX)
spdk_pid=""
tgt_pid=""
cap_pid=""
remove_dpdk_dir() { rm -rf "/var/run/dpdk/spdk_pid$1" "${XDG_RUNTIME_DIR:-/tmp}/dpdk/spdk_pid$1"; }
cleanup() {
  for p in "$spdk_pid" "$tgt_pid"; do
    if [ -n "$p" ]; then
      kill -KILL "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
      remove_dpdk_dir "$p"
    fi
  done
  if [ -n "$cap_pid" ]; then kill -TERM "$cap_pid" 2>/dev/null || true; wait "$cap_pid" 2>/dev/null || true; fi
  stop_pidfile "$work/nvmfd.pid"
  stop_pidfile "$work/nvmfd-host.pid"
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- nvmfd log (last 30 lines) ---"
  tail -n 30 "$work/nvmfd.log" 2>/dev/null || true
  exit 1
}

read -r cpu_target cpu_host < <(python3 -c 'import os; c=sorted(os.sched_getaffinity(0)); print(c[0], c[-1])')
host_mask=$(printf '0x%x' $((1 << cpu_host)))
tgt_mask=$(printf '0x%x' $((1 << cpu_target)))
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
nqn=nqn.2016-06.io.nvmfd:tls
host_nqn=nqn.2014-08.org.nvmexpress:uuid:7e1d1b0a-3c55-4b9e-a3f1-2f6c4d5e6f70

# Interchange keys (NVMeTLSkey-1:01: = retained PSK by HKDF-SHA-256): a random one, and
# another for the wrong-key checks. Mode 0600, as SPDK's keyring and nvmfd demand.
make_key() {
  python3 - "$1" <<'PY'
import base64, os, struct, sys, zlib
k = os.urandom(32)
open(sys.argv[1], "w").write("NVMeTLSkey-1:01:" + base64.b64encode(k + struct.pack("<I", zlib.crc32(k))).decode() + ":")
PY
  chmod 0600 "$1"
}
make_key "$work/key"
make_key "$work/wrong"

# Runs an SPDK program for at most SECS seconds, output to $work/NAME.out; its exit status.
run_spdk() {
  local name=$1 secs=$2 rc=0 waited=0
  shift 2
  "$@" > "$work/$name.out" 2>&1 &
  spdk_pid=$!
  while kill -0 "$spdk_pid" 2>/dev/null; do
    sleep 0.1
    waited=$((waited + 1))
    if [ "$waited" -eq $((secs * 10)) ]; then kill -TERM "$spdk_pid" 2>/dev/null || true
    elif [ "$waited" -eq $((secs * 10 + 50)) ]; then kill -KILL "$spdk_pid" 2>/dev/null || true; fi
  done
  wait "$spdk_pid" || rc=$?
  remove_dpdk_dir "$spdk_pid"
  spdk_pid=""
  return "$rc"
}
spdk_env=(--no-huge -s 1024)
trid() { echo "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$1 subnqn:$2 hostnqn:$host_nqn"; }

# --- 1-2: nvmfd's secure listener ---------------------------------------------------------
listen="\"listen_address\": {\"trtype\": \"TCP\", \"adrfam\": \"IPv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"$port\"}"
cat > "$work/nvmfd.json" <<CFG
{"subsystems": [
  {"subsystem": "keyring", "config": [
    {"method": "keyring_file_add_key", "params": {"name": "key0", "path": "$work/key"}}]},
  {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": 16384, "block_size": 4096}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$nqn", "allow_any_host": false}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$nqn", "namespace": {"bdev_name": "Malloc0"}}},
    {"method": "nvmf_subsystem_add_host", "params": {"nqn": "$nqn", "host": "$host_nqn", "psk": "key0"}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$nqn", "secure_channel": true, $listen}}]}]}
CFG
"$bin/nvmfd" -c "$work/nvmfd.json" -r "$work/rpc.sock" -m "[$cpu_target]" > "$work/nvmfd.log" 2>&1 &
echo $! > "$work/nvmfd.pid"
wait_rpc "$bin" "$work/rpc.sock" || fail "nvmfd did not answer on its RPC socket"
"$bin/nvmfctl" -s "$work/rpc.sock" nvmf_get_subsystems > "$work/subsystems.json"
grep -q "\"psk\": *\"key0\"" "$work/subsystems.json" || { cat "$work/subsystems.json"; fail "nvmf_get_subsystems shows no psk for the host"; }

# tshark on loopback for the first connection (dumpcap; stopped by its PID).
tshark_ok=0
if command -v dumpcap > /dev/null; then
  dumpcap -q -i lo -f "tcp port $port" -w "$work/tls.pcapng" > "$work/dumpcap.out" 2>&1 &
  cap_pid=$!
  for _ in $(seq 50); do [ -s "$work/tls.pcapng" ] && break; sleep 0.1; done
fi

run_spdk perf-tls 60 "$spdk_bin/spdk_nvme_perf" "${spdk_env[@]}" -c "$host_mask" -S ssl --psk-path "$work/key" \
  -q 32 -o 4096 -w randread -t 2 -r "$(trid "$port" "$nqn")" || { cat "$work/perf-tls.out"; fail "spdk_nvme_perf over TLS failed"; }
total=$(grep -E "^Total +:" "$work/perf-tls.out" | tail -n 1 || true)
[ -n "$total" ] || { cat "$work/perf-tls.out"; fail "spdk_nvme_perf over TLS: no Total row"; }
iops=$(awk -F: '{split($2, f, " "); print f[1]}' <<< "$total")
awk -v v="$iops" 'BEGIN { exit !(v > 0) }' || { cat "$work/perf-tls.out"; fail "spdk_nvme_perf over TLS: IOPS $iops"; }
line=$(grep -F "TLS: NVMe0R01 $host_nqn $nqn from 127.0.0.1:" "$work/nvmfd.log" | head -n 1 || true)
[ -n "$line" ] || fail "nvmfd did not log the TLS connection"
echo "1. spdk_nvme_perf -S ssl --psk-path against nvmfd's secure listener: $iops IOPS (4 KiB randread QD32); nvmfd:"
echo "   ${line#*] }"

if [ -n "$cap_pid" ]; then
  kill -TERM "$cap_pid" 2>/dev/null || true
  wait "$cap_pid" 2>/dev/null || true
  cap_pid=""
  tshark -r "$work/tls.pcapng" -d "tcp.port==$port,tls" -Y tls.handshake -T fields -e tls.handshake.type \
    > "$work/hs.txt" 2> "$work/tshark.err" || true
  tshark -r "$work/tls.pcapng" -d "tcp.port==$port,tls" -Y "_ws.malformed || _ws.expert.severity == error" \
    > "$work/malformed.txt" 2>> "$work/tshark.err" || true
  frames=$(tshark -r "$work/tls.pcapng" 2>/dev/null | wc -l)
  grep -qw 1 "$work/hs.txt" || { cat "$work/hs.txt" "$work/tshark.err"; fail "tshark: no ClientHello in the capture"; }
  grep -qw 2 "$work/hs.txt" || { cat "$work/hs.txt" "$work/tshark.err"; fail "tshark: no ServerHello in the capture"; }
  [ ! -s "$work/malformed.txt" ] || { head -20 "$work/malformed.txt"; fail "tshark: malformed packets or errors"; }
  echo "   tshark: $frames frames, ClientHello and ServerHello decoded, 0 malformed"
  tshark_ok=1
fi
[ "$tshark_ok" = 1 ] || echo "   (no dumpcap: capture check not run)"

rc=0
run_spdk perf-wrong 60 "$spdk_bin/spdk_nvme_perf" "${spdk_env[@]}" -c "$host_mask" -S ssl --psk-path "$work/wrong" \
  -q 32 -o 4096 -w randread -t 1 -r "$(trid "$port" "$nqn")" || rc=$?
if grep -qE "^Total +:" "$work/perf-wrong.out"; then cat "$work/perf-wrong.out"; fail "a wrong PSK was let in"; fi
line=$(grep -F "TLS handshake with 127.0.0.1:" "$work/nvmfd.log" | grep -F "identity 'NVMe0R01 $host_nqn $nqn'" | head -n 1 || true)
[ -n "$line" ] || fail "nvmfd did not log the refused handshake"
if grep -qF "$(cut -d: -f3 "$work/wrong")" "$work/nvmfd.log" || grep -qF "$(cut -d: -f3 "$work/key")" "$work/nvmfd.log"; then
  fail "a key appears in nvmfd's log"
fi
echo "2. a wrong PSK: refused in the handshake (spdk_nvme_perf exit $rc); nvmfd:"
echo "   ${line#*] }"
run_spdk perf-clear 60 "$spdk_bin/spdk_nvme_perf" "${spdk_env[@]}" -c "$host_mask" \
  -q 32 -o 4096 -w randread -t 1 -r "$(trid "$port" "$nqn")" || true
if grep -qE "^Total +:" "$work/perf-clear.out"; then cat "$work/perf-clear.out"; fail "clear text was let into a secure listener"; fi
echo "   clear text to the secure listener: refused"
stop_pidfile "$work/nvmfd.pid"

# --- 3-4: SPDK's nvmf_tgt with a secure listener -------------------------------------------
port2=$(free_port)
rpc() { PYTHONPATH="$peer/python" /usr/bin/python3 "$peer/scripts/rpc.py" -s "$work/spdk.sock" "$@"; }
"$spdk_bin/nvmf_tgt" -m "$tgt_mask" -u --no-huge -s 1024 --disable-cpumask-locks -r "$work/spdk.sock" \
  > "$work/nvmf_tgt.log" 2>&1 &
tgt_pid=$!
for _ in $(seq 300); do rpc spdk_get_version > /dev/null 2>&1 && break; sleep 0.1; done
rpc spdk_get_version > /dev/null || { tail -20 "$work/nvmf_tgt.log"; fail "SPDK's nvmf_tgt did not start"; }
rpc nvmf_create_transport -t TCP --max-io-size 1048576 > /dev/null  # nvmf-host-check writes 1 MiB
rpc bdev_malloc_create -b Malloc0 64 4096 > /dev/null
rpc nvmf_create_subsystem "$nqn" -s SPDKTLS0001 > /dev/null
rpc nvmf_subsystem_add_ns "$nqn" Malloc0 > /dev/null
rpc keyring_file_add_key key0 "$work/key" > /dev/null
rpc nvmf_subsystem_add_listener "$nqn" -t tcp -a 127.0.0.1 -s "$port2" --secure-channel > /dev/null
rpc nvmf_subsystem_add_host "$nqn" "$host_nqn" --psk key0 > /dev/null

"$bin/nvmf-host-check" io -a 127.0.0.1 -s "$port2" -n "$nqn" --hostnqn "$host_nqn" --psk-path "$work/key" \
  --size $((8 << 20)) > "$work/check.out" 2>&1 || { cat "$work/check.out"; tail -20 "$work/nvmf_tgt.log"; fail "nvmfd's host over TLS to SPDK failed"; }
echo "3. nvmfd's host over TLS to SPDK's nvmf_tgt (--secure-channel, add_host --psk): verified writes and reads"
sed 's/^/   /' "$work/check.out" | head -n 3
"$bin/nvmf-perf" -q 32 -o 4096 -w randread -t 1 --psk-path "$work/key" \
  -r "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$port2 subnqn:$nqn hostnqn:$host_nqn" > "$work/nvmf-perf.out" 2>&1 \
  || { cat "$work/nvmf-perf.out"; fail "nvmf-perf --psk-path against SPDK failed"; }
echo "   nvmf-perf --psk-path: $(grep -iE "^total" "$work/nvmf-perf.out" | head -n 1)"

# nvmfd as a host daemon: bdev_nvme_attach_controller --psk names a keyring key, as in SPDK.
cat > "$work/nvmfd-host.json" <<CFG
{"subsystems": [
  {"subsystem": "keyring", "config": [
    {"method": "keyring_file_add_key", "params": {"name": "key0", "path": "$work/key"}}]},
  {"subsystem": "bdev", "config": [
    {"method": "bdev_nvme_attach_controller", "params": {"name": "Nvme0", "trtype": "TCP", "adrfam": "IPv4",
      "traddr": "127.0.0.1", "trsvcid": "$port2", "subnqn": "$nqn", "hostnqn": "$host_nqn", "psk": "key0"}}]}]}
CFG
"$bin/nvmfd" -c "$work/nvmfd-host.json" -r "$work/rpc-host.sock" -m "[$cpu_target]" > "$work/nvmfd-host.log" 2>&1 &
echo $! > "$work/nvmfd-host.pid"
wait_rpc "$bin" "$work/rpc-host.sock" || { tail -20 "$work/nvmfd-host.log"; fail "nvmfd (host) did not start with bdev_nvme_attach_controller --psk key0"; }
"$bin/nvmfctl" -s "$work/rpc-host.sock" bdev_get_bdevs > "$work/host-bdevs.json"
grep -q '"Nvme0n1"' "$work/host-bdevs.json" || { cat "$work/host-bdevs.json"; tail -20 "$work/nvmfd-host.log"; fail "no Nvme0n1 over TLS"; }
"$bin/nvmfctl" -s "$work/rpc-host.sock" save_config > "$work/host-saved.json"
grep -q '"psk": *"key0"' "$work/host-saved.json" || { cat "$work/host-saved.json"; fail "save_config lost the attach's psk name"; }
stop_pidfile "$work/nvmfd-host.pid"
echo "   nvmfd daemon: bdev_nvme_attach_controller --psk key0 (keyring) attached Nvme0n1 over TLS; save_config keeps the name"

if "$bin/nvmf-host-check" io -a 127.0.0.1 -s "$port2" -n "$nqn" --hostnqn "$host_nqn" --psk-path "$work/wrong" \
  --size $((1 << 20)) > "$work/check-wrong.out" 2>&1; then
  cat "$work/check-wrong.out"; fail "SPDK let nvmfd's host in with a wrong PSK"
fi
grep -q "TLS" "$work/check-wrong.out" || { cat "$work/check-wrong.out"; fail "the refusal does not say TLS"; }
echo "4. nvmfd's host with a wrong PSK: refused: $(grep -m1 "CHECK FAILED" "$work/check-wrong.out")"
echo "PASS"

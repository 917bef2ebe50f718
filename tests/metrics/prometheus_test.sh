#!/bin/bash
# The metrics endpoint scraped by a real Prometheus (Debian's prometheus package).
#   nvmfd T: a RAM namespace in an ANA-reporting subsystem with two listeners on 127.0.0.1,
#            --metrics-address on a free port;
#   nvmfd H: nvmfd's host attached to both listeners (multipath), its metrics set by
#            metrics_set_address (the RPC);
#   nvmf-perf reads from T while Prometheus (scrape interval 1 s) scrapes both.
# Checks through Prometheus's query API: rate() of T's read op counter is above zero, T's
# listener and H's path show an ANA state change made on T, and the endpoint's own rules:
# 404 elsewhere, metrics_get_address, a bad address refused, save_config keeps the address,
# promtool accepts the page.
#   prometheus_test.sh BUILD_BIN_DIR
set -u
bin=$1
command -v prometheus >/dev/null || { echo "SKIP: prometheus not installed"; exit 77; }
work=$(mktemp -d /tmp/nvmfd_prom.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(free_port) P2=$(free_port) MT=$(free_port) MH=$(free_port) PP=$(free_port)
NQN=nqn.2016-06.io.nvmfd:prom
ctl_t=("$bin/nvmfctl" -s "$work/t.sock") ctl_h=("$bin/nvmfctl" -s "$work/h.sock")
listener() { echo "{\"trtype\": \"TCP\", \"adrfam\": \"IPv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"$1\"}"; }
cat >"$work/t.json" <<JSON
{"subsystems": [
 {"subsystem": "bdev", "config": [
   {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": 16384, "block_size": 4096}}]},
 {"subsystem": "nvmf", "config": [
   {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
   {"method": "nvmf_create_subsystem", "params": {"nqn": "$NQN", "allow_any_host": true, "ana_reporting": true}},
   {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$NQN", "namespace": {"bdev_name": "Malloc0"}}},
   {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$NQN", "listen_address": $(listener $P1)}},
   {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$NQN", "listen_address": $(listener $P2)}}]}]}
JSON
echo '{"subsystems": []}' >"$work/h.json"
wait_sock() { for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done; return 1; }

"$bin/nvmfd" -c "$work/t.json" -r "$work/t.sock" -m 0x1 --metrics-address "127.0.0.1:$MT" >"$work/t.log" 2>&1 &
pids+=($!)
"$bin/nvmfd" -c "$work/h.json" -r "$work/h.sock" -m 0x1 >"$work/h.log" 2>&1 &
pids+=($!)
wait_sock "$work/t.sock" && wait_sock "$work/h.sock" || fail "nvmfd did not start"

# The endpoint's own rules.
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MT/metrics")" = 200 ] || fail "GET /metrics"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MT/other")" = 404 ] || fail "GET /other is not 404"
curl -s "http://127.0.0.1:$MT/metrics" | promtool check metrics >"$work/promtool.log" 2>&1 || fail "promtool check metrics"
"${ctl_h[@]}" call metrics_set_address '{"address": "localhost:1"}' >"$work/bad.log" 2>&1 && fail "a host name was accepted"
grep -q "not an IP address" "$work/bad.log" || fail "bad address message: $(cat "$work/bad.log")"
"${ctl_h[@]}" call metrics_set_address "{\"address\": \"127.0.0.1:$MH\"}" >/dev/null || fail "metrics_set_address"
"${ctl_h[@]}" call metrics_get_address | grep -q "\"127.0.0.1:$MH\"" || fail "metrics_get_address"
"${ctl_h[@]}" save_config | python3 -c "
import json, sys
calls = [c for s in json.load(sys.stdin)['subsystems'] if s['subsystem'] == 'metrics' for c in s['config']]
assert calls == [{'method': 'metrics_set_address', 'params': {'address': '127.0.0.1:$MH'}}], calls
" || fail "save_config does not keep the metrics address"

for p in $P1 $P2; do
  "${ctl_h[@]}" call bdev_nvme_attach_controller "{\"name\": \"N\", \"trtype\": \"tcp\", \"adrfam\": \"ipv4\",
    \"traddr\": \"127.0.0.1\", \"trsvcid\": \"$p\", \"subnqn\": \"$NQN\", \"multipath\": \"multipath\"}" \
    >>"$work/attach.log" 2>&1 || fail "attach through $p"
done

# (Not metrics: a QoS limit on a bdev_nvme bdev is saved in its section, after the attach calls.)
"${ctl_h[@]}" call bdev_set_qos_limit '{"name": "Nn1", "rw_ios_per_sec": 100000}' >/dev/null || fail "bdev_set_qos_limit Nn1"
"${ctl_h[@]}" save_config | python3 -c "
import json, sys
calls = [c for s in json.load(sys.stdin)['subsystems'] if s['subsystem'] == 'bdev_nvme' for c in s['config']]
names = [c['method'] for c in calls]
q = names.index('bdev_set_qos_limit')
assert q > max(i for i, n in enumerate(names) if n == 'bdev_nvme_attach_controller'), names
assert calls[q]['params'] == {'name': 'Nn1', 'rw_ios_per_sec': 100000}, calls[q]
" || fail "save_config does not keep the QoS limit of a bdev_nvme bdev after its attach"

cat >"$work/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: nvmfd
    static_configs: [{targets: ["127.0.0.1:$MT", "127.0.0.1:$MH"]}]
YML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$PP" >"$work/prometheus.log" 2>&1 &
pids+=($!)

"$bin/nvmf-perf" -c 0x2 -q 4 -o 4096 -w randread -t 20 \
  -r "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$P1 subnqn:$NQN" >"$work/perf.log" 2>&1 &
perf=$!
pids+=($perf)

# Polls a PromQL query until it returns at least one series (up to $2 seconds).
until_series() {
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    if curl -s --get "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1" >"$work/q.json" 2>/dev/null &&
       python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["status"]=="success" and r["data"]["result"] else 1)' "$work/q.json"; then
      return 0
    fi
    sleep 1
  done
  return 1
}
until_series "up{job=\"nvmfd\"} == 1" 30 || fail "Prometheus does not scrape nvmfd"
until_series "rate(nvmfd_bdev_ops_total{bdev=\"Malloc0\",op=\"read\"}[5s]) > 0" 40 ||
  fail "rate() of the read op counter is not above zero"
until_series "nvmfd_host_path_ana_state{trsvcid=\"$P2\",state=\"optimized\"} == 1" 20 ||
  fail "the host's path through $P2 is not shown optimized"

"${ctl_t[@]}" call nvmf_subsystem_listener_set_ana_state "{\"nqn\": \"$NQN\", \"listen_address\": $(listener $P2),
  \"ana_state\": \"inaccessible\"}" >/dev/null || fail "set_ana_state"
until_series "nvmfd_listener_ana_state{trsvcid=\"$P2\",state=\"inaccessible\"} == 1" 20 ||
  fail "the target's listener $P2 is not shown inaccessible"
until_series "nvmfd_host_path_ana_state{trsvcid=\"$P2\",state=\"inaccessible\"} == 1" 30 ||
  fail "the host's path through $P2 is not shown inaccessible"
until_series "nvmfd_host_path_ana_state{trsvcid=\"$P1\",state=\"optimized\"} == 1" 5 ||
  fail "the host's path through $P1 is not optimized any more"
wait "$perf" || fail "nvmf-perf failed"
echo "PASS"

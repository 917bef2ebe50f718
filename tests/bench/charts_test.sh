#!/usr/bin/env bash
# bench/charts.py on two nvmf-perf results of one workload (an nvmfd run and an SPDK run under
# compare/): one chart with both, and the page's charts section naming it.
#   charts_test.sh SOURCE_DIR
set -euo pipefail
src=$1
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || { echo "python3-matplotlib is not installed: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/run/compare"
result() {  # iops p50_us
  cat <<JSON
{"tool": "nvmf-perf", "parameters": {"workload": "randread", "io_size": 4096, "queue_depth": 32},
 "controller": {"subnqn": "nqn.2016-06.io.nvmfd:null0"},
 "total": {"iops": $1, "latency_cdf_us": [[$2, 0.5], [$(( $2 * 2 )), 0.99], [$(( $2 * 10 )), 1.0]]}}
JSON
}
result 100000 20 > "$work/run/nvmfd-randread-qd32.json"
result 90000 25 > "$work/run/compare/plain-nvmf-perf-spdk-null0-randread-1.json"
echo '{"not": "a perf result"}' > "$work/run/transports.json"
printf '# page\n' > "$work/perf.md"
out=$(/usr/bin/python3 "$src/bench/charts.py" "$work/run" "$work/img" --doc "$work/perf.md")
echo "$out"
grep -q "latency-randread-4096-qd32-null0.png: 2 run(s)" <<< "$out" || { echo "FAIL: not one chart of 2 runs"; exit 1; }
[ -s "$work/img/latency-randread-4096-qd32-null0.png" ] || { echo "FAIL: no PNG"; exit 1; }
grep -q '!\[randread 4 KiB, QD 32, null0\](img/latency-randread-4096-qd32-null0.png)' "$work/perf.md" ||
  { echo "FAIL: the page does not show the chart"; cat "$work/perf.md"; exit 1; }
# Again: the section is replaced, not added twice.
/usr/bin/python3 "$src/bench/charts.py" "$work/run" "$work/img" --doc "$work/perf.md" > /dev/null
[ "$(grep -c 'charts:begin' "$work/perf.md")" = 1 ] || { echo "FAIL: two charts sections"; exit 1; }
echo PASS

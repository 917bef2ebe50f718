#!/usr/bin/env bash
# Builds nvmfd and starts the daemon in the background with the default configuration:
# one RAM namespace in nqn.2016-06.io.nvmfd:cnode1 on 127.0.0.1:4420, plus discovery there.
# The RPC socket is /var/tmp/nvmfd.sock; the log is /var/tmp/nvmfd.log; the PID /var/tmp/nvmfd.pid.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh nvmfd nvmfctl
if [ -f /var/tmp/nvmfd.pid ] && kill -0 "$(cat /var/tmp/nvmfd.pid)" 2>/dev/null; then
  echo "nvmfd already running (pid $(cat /var/tmp/nvmfd.pid))"; exit 0
fi
nohup build/bin/nvmfd "$@" >/var/tmp/nvmfd.log 2>&1 &
echo $! >/var/tmp/nvmfd.pid
for _ in $(seq 50); do
  if build/bin/nvmfctl -s /var/tmp/nvmfd.sock nvmf_get_subsystems >/dev/null 2>&1; then
    echo "nvmfd running (pid $(cat /var/tmp/nvmfd.pid)); try: build/bin/nvmfctl nvmf_get_subsystems"
    exit 0
  fi
  sleep 0.2
done
echo "nvmfd did not come up; see /var/tmp/nvmfd.log" >&2; exit 1

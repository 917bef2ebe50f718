# Shell helpers for tests that run nvmfd as a process (sourced, bash).
#   require_root NAME           exit 77 (ctest: skipped) unless root, saying why
#   wait_rpc BIN SOCK           0 once nvmfd answers on SOCK (up to 10 s), else 1
#   stop_pidfile FILE [GRACE]   stop the nvmfd whose PID is in FILE, by that PID and only if it
#                               still is an nvmfd: SIGTERM, SIGKILL after GRACE seconds
#                               (default 5; 0: SIGKILL at once); then empty FILE. An exited
#                               process counts as gone even before its parent reaps it (an
#                               orphan's zombie may stay: PID 1 here does not always reap).
#   nvmfd_workdir NAME          sets `work` to a new /tmp/NAME.XXXXXX and, on exit, stops the
#                               nvmfd of $work/nvmfd.pid (SIGKILL) and removes the directory

require_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "$1: SKIPPED (network namespaces need root)"
    exit 77
  fi
}

wait_rpc() {
  local _
  for _ in $(seq 200); do
    "$1/nvmfctl" -s "$2" rpc_get_methods > /dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}

pid_running() {  # PID: running (not a zombie)
  kill -0 "$1" 2>/dev/null && [ "$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

stop_pidfile() {
  local file=$1 grace=${2:-5} p _
  p=$(cat "$file" 2>/dev/null || true)
  [ -n "$p" ] || return 0
  if kill -0 "$p" 2>/dev/null && grep -q nvmfd "/proc/$p/cmdline" 2>/dev/null; then
    if [ "$grace" = 0 ]; then kill -KILL "$p" 2>/dev/null || true
    else
      kill -TERM "$p" 2>/dev/null || true
      for _ in $(seq $((grace * 10))); do pid_running "$p" || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
    fi
    while pid_running "$p"; do sleep 0.05; done
  fi
  : > "$file"
}

nvmfd_workdir() {
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  trap 'stop_pidfile "$work/nvmfd.pid" 0; rm -rf "$work"' EXIT
}

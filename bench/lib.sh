# Shell helpers of the bench scripts (sourced, bash). Every process a script starts goes
# through start_bg and is listed in pids, so that the script's EXIT trap stops it by PID.
#   stop_pid PID            TERM (after CONT, for a target paused with SIGSTOP), KILL after 10 s
#   quote ARGS...           the command as it could be typed again
#   start_bg LOG CMD...     CMD in the background, output to LOG, its line in $work/commands.txt;
#                           sets bg_pid and adds it to pids
#   forget_pid PID          drops PID from pids (it was stopped by hand)
#   free_port               a free TCP port on 127.0.0.1
#   wait_listening PORT [PID]   0 once something listens on PORT (30 s), 1 if not or PID died
#   proc_jiffies PID        user+system jiffies of a process
#   cpu_busy_total          jiffies of all CPUs: busy, total (from /proc/stat)

pids=()
stop_pid() {
  local p=$1
  [ -n "$p" ] || return 0
  if kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p" 2>/dev/null || true
    kill -CONT "$p" 2>/dev/null || true  # a stopped process gets the TERM only once continued
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  fi
  wait "$p" 2>/dev/null || true
}
quote() {
  local a out=()
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then out+=("$a"); else out+=("'${a//\'/\'\\\'\'}'"); fi
  done
  echo "${out[*]}"
}
start_bg() {
  local log=$1
  shift
  quote "$@" >> "$work/commands.txt"
  "$@" > "$log" 2>&1 &
  bg_pid=$!
  pids+=("$bg_pid")
}
forget_pid() {
  local p kept=()
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  pids=("${kept[@]}")
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_listening() {
  for _ in $(seq 300); do
    ss -Hltn "sport = :$1" | grep -q . && return 0
    [ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
proc_jiffies() { awk '{print $14+$15}' "/proc/$1/stat"; }
cpu_busy_total() { awk '/^cpu /{t=0; for(i=2;i<=9;i++) t+=$i; print t-$5-$6, t; exit}' /proc/stat; }

#!/usr/bin/env python3
"""Runs one load-generator command and records the CPU that other processes used meanwhile.

    timed_run.py --out LOG --result RESULT.json [--marker TEXT] [--watch PID]... [--timeout S] -- CMD...

Used by bench/spdk_compare.sh. CMD's stdout and stderr go to LOG, line by line (run it under
`stdbuf -oL` so that its lines arrive as printed). The user+system CPU time of each --watch PID
(utime + stime of /proc/PID/stat: the totals over all of the process's threads) is read when CMD
starts, when the first line containing --marker appears (the client has connected and starts its
I/O), and when CMD has exited. RESULT.json gets those readings, the wall times, CMD's exit status
and its own CPU time (from wait4). Exit status: CMD's. On SIGTERM or SIGINT, CMD is stopped too.
Python 3 standard library only.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time


def jiffies(pid):
    """utime + stime of a process, in clock ticks; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)
    except (OSError, IndexError, ValueError):
        return None


def machine():
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    total = sum(v)
    return total - v[3] - v[4], total


def snapshot(pids, t0):
    busy, total = machine()
    return {"t_s": round(time.monotonic() - t0, 6), "jiffies": {str(p): jiffies(p) for p in pids},
            "machine_busy": busy, "machine_total": total}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--result", required=True)
    ap.add_argument("--marker")
    ap.add_argument("--watch", type=int, action="append", default=[])
    ap.add_argument("--timeout", type=float, default=0)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("no command")

    t0 = time.monotonic()
    res = {"cmd": cmd, "clk_tck": os.sysconf("SC_CLK_TCK"), "start": snapshot(a.watch, t0)}
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def stop(signum, _frame):
        try:
            child.terminate()
        except OSError:
            pass
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    timed_out = []
    timer = None
    if a.timeout > 0:
        def expire():
            timed_out.append(True)
            child.kill()
        timer = threading.Timer(a.timeout, expire)
        timer.daemon = True
        timer.start()

    marker = a.marker.encode() if a.marker else None
    with open(a.out, "wb") as log:
        for line in child.stdout:
            if marker is not None and "marker" not in res and marker in line:
                res["marker"] = snapshot(a.watch, t0)
            log.write(line)
            log.flush()
    _, status, usage = os.wait4(child.pid, 0)
    if timer is not None:
        timer.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    res["end"] = snapshot(a.watch, t0)
    res["rc"] = child.returncode
    res["timed_out"] = bool(timed_out)
    res["client_cpu_s"] = round(usage.ru_utime + usage.ru_stime, 6)
    with open(a.result, "w") as f:
        json.dump(res, f, indent=1)
    rc = child.returncode
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()

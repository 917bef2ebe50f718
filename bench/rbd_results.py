#!/usr/bin/env python3
"""Turns bench/rbd.sh's run outputs into WORK/rbd.json (called by bench/rbd.sh).

    rbd_results.py WORK ROUNDS TIME WARMUP OSDS SIZE_MIB QD LOADAVG BUSY GIT PRIORITY KNOBS CEPH CASE...

Per run: rbd bench's text output (NAME.txt) or nvmf-perf's JSON (NAME.json), and the CPU
readings of bench/timed_run.py (NAME.cpu.json). rbd bench has no warm-up: its rate is taken
from its cumulative per-second progress lines, from the first line at or after WARMUP seconds
to the end (ops and elapsed time of its summary line); the whole-run rate is kept too.
Ratios nvmfd / rbd bench are per round, then the median over the rounds.
Python 3 standard library only.
"""
import datetime
import json
import os
import re
import shlex
import statistics
import sys

sys.dont_write_bytecode = True
PROGRESS = re.compile(r"^\s*(\d+)\s+(\d+)\s+[\d.]+\s+[\d.]+ \S+/s\s*$")
SUMMARY = re.compile(r"^elapsed:\s*\S+\s+ops:\s*(\d+)\s+ops/sec:\s*([\d.]+)")


def rbd_bench_rate(path, warmup_s):
    """(steady IOPS after the warm-up, whole-run IOPS, ops, elapsed seconds) of one rbd bench output."""
    marks, ops, rate = [], None, None
    with open(path) as f:
        for line in f:
            m = PROGRESS.match(line)
            if m:
                marks.append((int(m.group(1)), int(m.group(2))))
            m = SUMMARY.match(line)
            if m:
                ops, rate = int(m.group(1)), float(m.group(2))
    if ops is None or rate <= 0:
        sys.exit(f"rbd_results: no summary line in {path}")
    elapsed = ops / rate
    steady = rate
    after = [(s, o) for s, o in marks if s >= warmup_s]
    if warmup_s > 0 and after and elapsed - after[0][0] >= 1:
        s, o = after[0]
        steady = (ops - o) / (elapsed - s)
    return steady, rate, ops, elapsed


def cores(cpu, pid):
    """Cores a watched process used from the client's marker (I/O about to start) to its end."""
    a, b = cpu.get("marker", cpu["start"]), cpu["end"]
    ja, jb = a["jiffies"].get(str(pid)), b["jiffies"].get(str(pid))
    if ja is None or jb is None:
        return 0.0
    return (jb - ja) / cpu["clk_tck"] / max(b["t_s"] - a["t_s"], 1e-6)


def machine_cores(cpu):
    a, b = cpu.get("marker", cpu["start"]), cpu["end"]
    return (b["machine_busy"] - a["machine_busy"]) / cpu["clk_tck"] / max(b["t_s"] - a["t_s"], 1e-6)


def main():
    a = sys.argv[1:]
    work, rounds, time_s, warmup_s, osds, size_mib, qd = a[0], int(a[1]), float(a[2]), float(a[3]), int(a[4]), int(a[5]), int(a[6])
    load_before, busy_before, git, prio, knobs, ceph = a[7], int(a[8]), a[9], a[10], a[11], a[12]
    cases = a[13:]
    knobs = " ".join(k + "=" + shlex.quote(v) for k, v in (x.split("=", 1) for x in knobs.splitlines()))
    med = statistics.median
    out = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"), "git": git,
           "nproc": os.cpu_count(), "loadavg_before": load_before, "busy_before_pct": busy_before,
           "loadavg_after": open("/proc/loadavg").read().split()[:3], "priority": prio, "knobs": knobs,
           "ceph_version": ceph, "osds": osds, "pool_size": 1, "image_mib": size_mib, "queue_depth": qd,
           "time_s": time_s, "warmup_s": warmup_s, "rounds": rounds, "cases": []}
    for c in cases:
        kind, size = c.rsplit("-", 1)
        io_size = int(size.rstrip("k")) * 1024
        rb, nv = [], []
        for i in range(1, rounds + 1):
            name = f"{work}/rbd-{c}-rbd-{i}"
            steady, whole, ops, elapsed = rbd_bench_rate(name + ".txt", warmup_s)
            cpu = json.load(open(name + ".cpu.json"))
            pids = list(cpu["start"]["jiffies"])
            osd = sum(cores(cpu, p) for p in pids[:-1])
            mon = cores(cpu, pids[-1])
            wall = max(cpu["end"]["t_s"] - cpu["start"]["t_s"], 1e-6)
            client = cpu["client_cpu_s"] / wall
            rb.append({"iops": steady, "whole_run_iops": whole, "ops": ops, "elapsed_s": elapsed,
                       "client_cores": client, "osd_cores": osd, "mon_cores": mon,
                       "others_cores": max(0.0, machine_cores(cpu) - client - osd - mon)})
            name = f"{work}/rbd-{c}-nvmfd-{i}"
            j = json.load(open(name + ".json"))
            cpu = json.load(open(name + ".cpu.json"))
            pids = list(cpu["start"]["jiffies"])  # nvmfd, the OSDs, the monitor
            tgt = cores(cpu, pids[0])
            osd = sum(cores(cpu, p) for p in pids[1:-1])
            mon = cores(cpu, pids[-1])
            perf = j["process_cpu"]["cores_busy"]
            t = j["total"]
            nv.append({"iops": t["iops"], "mib_s": t["mib_per_s"], "avg_lat_us": t["latency_us"]["average"],
                       "p99_lat_us": t["latency_us"]["p99"], "errors": j["errors"]["count"],
                       "target_cores": tgt, "perf_cores": perf, "osd_cores": osd, "mon_cores": mon,
                       "others_cores": max(0.0, machine_cores(cpu) - tgt - perf - osd - mon)})
        ratios = [n["iops"] / r["iops"] for n, r in zip(nv, rb)]

        def mid(rows, key):
            return med(x[key] for x in rows)
        out["cases"].append({
            "case": c, "io_size": io_size, "queue_depth": qd,
            "rbd_bench": {"iops": mid(rb, "iops"), "mib_s": mid(rb, "iops") * io_size / 2**20,
                          "whole_run_iops": mid(rb, "whole_run_iops"), "samples": [x["iops"] for x in rb],
                          "client_cores": mid(rb, "client_cores"), "osd_cores": mid(rb, "osd_cores"),
                          "mon_cores": mid(rb, "mon_cores"), "others_cores": mid(rb, "others_cores"), "runs": rb},
            "nvmfd": {"iops": mid(nv, "iops"), "mib_s": mid(nv, "mib_s"), "avg_lat_us": mid(nv, "avg_lat_us"),
                      "p99_lat_us": mid(nv, "p99_lat_us"), "errors": sum(x["errors"] for x in nv),
                      "samples": [x["iops"] for x in nv], "target_cores": mid(nv, "target_cores"),
                      "perf_cores": mid(nv, "perf_cores"), "osd_cores": mid(nv, "osd_cores"),
                      "mon_cores": mid(nv, "mon_cores"), "others_cores": mid(nv, "others_cores"), "runs": nv},
            "ratio": {"pairwise_median": med(ratios), "pairwise_min": min(ratios), "pairwise_max": max(ratios),
                      "pairwise": ratios, "of_medians": mid(nv, "iops") / mid(rb, "iops")}})
    json.dump(out, open(f"{work}/rbd.json", "w"), indent=1)
    for e in out["cases"]:
        r = e["ratio"]
        print(f"[bench] rbd: {e['case']} QD{qd}: nvmfd {e['nvmfd']['iops']:.0f} IOPS, rbd bench "
              f"{e['rbd_bench']['iops']:.0f} IOPS; nvmfd / rbd bench {r['pairwise_median']:.3f} "
              f"(median of {rounds} rounds, {r['pairwise_min']:.3f} - {r['pairwise_max']:.3f})", file=sys.stderr)


if __name__ == "__main__":
    main()

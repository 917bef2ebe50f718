#!/usr/bin/env python3
"""Writes docs/performance.md (to stdout) from one bench/run.sh result directory.

    report.py DIR                        # the whole page, to stdout
    report.py --section NAME DIR         # one section (NAME: reservations, rbd), to stdout
    report.py --update DOC NAME DIR      # that section put into DOC, between its marker comments
                                         # (before "## Commands", or at the end, when absent)

Every figure comes from the tools' JSON output in that directory (iperf3 -J, nvmf-perf --json,
nvmfctl nvmf_get_transports) or from the machine facts run.sh recorded (machine.env, runs.tsv,
commands.txt); nothing is typed in here.
"""
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the checkout
import compare_report  # noqa: E402  (the SPDK section and machine.env reader)

TARGETS = [("null0", "null"), ("malloc0", "RAM")]
WORKLOADS = [  # (run-name suffix, description)
    ("randread-4k-qd1", "4 KiB random read"),
    ("randread-4k-qd32", "4 KiB random read"),
    ("randread-4k-qd128", "4 KiB random read"),
    ("read-128k-qd16", "128 KiB sequential read"),
    ("randwrite-4k-qd32", "4 KiB random write"),
]


def load(work, name):
    with open(os.path.join(work, name)) as f:
        return json.load(f)


def runs_cpu(work, clk_tck):
    """name -> (target cores busy, machine cores busy, wall seconds), from runs.tsv."""
    out = {}
    with open(os.path.join(work, "runs.tsv")) as f:
        for line in f:
            name, _target, tj, mb, _mt, wall = line.rstrip("\n").split("\t")
            wall = float(wall)
            out[name] = (int(tj) / clk_tck / wall, int(mb) / clk_tck / wall, wall)
    return out


def fmt(v, digits=0):
    return f"{v:,.{digits}f}"


def failover_section(work):
    """The multipath failover times of nvmf-failover-bench (failover.json), as lines."""
    path = os.path.join(work, "failover.json")
    if not os.path.exists(path):
        return []
    fo = load(work, "failover.json")
    names = {
        "ana_change": "ANA: current path set inaccessible",
        "listener_removed": "current path's listener removed",
        "link_cut": "current path's link cut silently",
    }
    o = ["", "## Multipath failover", ""]
    o.append(f"`nvmf-failover-bench`: our host and target in one process, path A on 127.0.0.1, path B on "
             f"127.0.0.2 behind a relay on 127.0.0.3 that can go silent (nothing closed or reset); "
             f"{fo['qd']} 4 KiB reads in flight on the multipath bdev (active_passive), "
             f"{fo['samples']} samples per event. Time from the event to the first read completed through "
             f"the other path. Baseline from the same run: mean read latency "
             f"{fo['baseline_read_latency_us']:.1f} us at that queue depth. I/O errors seen by the "
             f"application: **{fo['io_errors']}**.")
    o.append("")
    o.append("| event | Keep Alive timeout | median ms | min ms | max ms | median / read latency | median / KATO |")
    o.append("|---|--:|--:|--:|--:|--:|--:|")
    for e in fo["events"]:
        kato = f"{e['kato_ms']} ms" if e["event"] == "link_cut" else "—"
        over_kato = f"{e['median_over_kato']:.2f}" if "median_over_kato" in e else "—"
        o.append(f"| {names.get(e['event'], e['event'])} | {kato} | {e['median_ms']:.1f} | {e['min_ms']:.1f} | "
                 f"{e['max_ms']:.1f} | {e['median_over_io_latency']:.0f} | {over_kato} |")
    o.append("")
    o.append("An ANA change is seen at once: the next I/O on the path gets an ANA status and is sent again "
             "on the other path (the AEN and the log page read follow). A removed listener closes the "
             "connections, which fails the path's queued I/O over immediately. A silent cut shows only "
             "as a Keep Alive that gets no answer: the host sends one every KATO/2 and fails the "
             "controller when one is unanswered for KATO, so the stall is between KATO and 1.5 x KATO "
             "(plus the 250 ms timeout check). KATO comes from `bdev_nvme_set_options "
             "keep_alive_timeout_ms` (default 10000, as SPDK).")
    return o


def tls_section(work):
    """TLS 1.3 with PSK vs clear text (bench/tls.sh: tls.json), as lines."""
    path = os.path.join(work, "tls.json")
    if not os.path.exists(path):
        return []
    t = load(work, "tls.json")
    o = ["", "## TLS cost", ""]
    o.append("TLS 1.3 with a PSK (TLS_AES_128_GCM_SHA256) against clear text, measured in the same session "
             "(`bench/tls.sh`): nvmfd (core 0) exports one RAM namespace through two listeners of one "
             "subsystem, a clear-text one and a `secure_channel` one; nvmf-perf (core 1, `--psk-path` for "
             "TLS) alternates clear and TLS runs. Record crypto on the target: "
             f"**{t['crypto_path'] or 'unknown'}** (kTLS needs the kernel's `tls` module; see docs/security.md).")
    o.append("")
    o.append("| workload | clear IOPS | TLS IOPS | TLS / clear | clear MiB/s | TLS MiB/s | clear avg us | TLS avg us |")
    o.append("|---|--:|--:|--:|--:|--:|--:|--:|")
    for e in t["runs"]:
        o.append(f"| {e['workload']} {e['io_size'] // 1024} KiB QD{e['queue_depth']} (median of "
                 f"{len(e['clear_samples'])}) | {fmt(e['clear_iops'])} | {fmt(e['tls_iops'])} | **{e['ratio']:.3f}** | "
                 f"{e['clear_mib_s']:.0f} | {e['tls_mib_s']:.0f} | {e['clear_avg_lat_us']:.0f} | {e['tls_avg_lat_us']:.0f} |")
    return o


def measured_by(r, script, work):
    """'Measured by `KNOBS bash SCRIPT DIR` on DATE at commit ... (...)' of a section script's JSON."""
    how = f"{r['knobs']} bash {script} DIR".lstrip()
    return (f"Measured by `{how}` on {r['date']} at commit {r['git']} ({r['nproc']} CPUs; priority: "
            f"{r['priority']}; raw outputs and the commands in `{work}/`)")


RESV_BEGIN = "<!-- reservations:begin (generated by bench/report.py from bench/reservations.sh: reservations.json) -->"
RESV_END = "<!-- reservations:end -->"
RESV_STATES = {
    "none": "no registrant (baseline)",
    "held": "another host holds Write Exclusive",
    "registered": "another host registered, no reservation",
}


def reservations_section(work):
    """What reservations cost the data path (bench/reservations.sh: reservations.json), as lines
    between marker comments (`report.py --update DOC reservations DIR` replaces them)."""
    path = os.path.join(work, "reservations.json")
    if not os.path.exists(path):
        return []
    r = load(work, "reservations.json")
    med = statistics.median
    o = ["", RESV_BEGIN, "## What reservations cost the I/O path", ""]
    o.append(f"{measured_by(r, 'bench/reservations.sh', work)}, in one session: nvmfd (core {r['target_cpu']}) exports a {r['namespace']}; nvmf-perf (core "
             f"{r['host_cpu']}, never registered) reads 4 KiB at random from it while a second nvmfd, host only "
             f"(core {r['holder_cpu']}, `--poll-mode event`, attached with `bdev_nvme_attach_controller`), moves "
             "the namespace between the states below with `nvmfctl resv-register`, `resv-acquire` and "
             "`resv-release`, each move checked with `resv-report`. The states alternate run by run, in "
             f"{r['samples']} round{'s' if r['samples'] != 1 else ''} per workload, each round starting one state "
             f"further ({', '.join(r['states'])}; {', '.join(r['states'][1:] + r['states'][:1])}; ...) so that "
             "every state takes every place in a round equally often; each run "
             f"{r['warmup_s']:g} s warm-up + {r['time_s']:g} s measured, and compared with the baseline run of "
             "its round. With no reservation held the "
             "namespace's reservation view is null, one pointer test per command; while another host holds "
             "Write Exclusive every read is checked against the view (and allowed).")
    o.append("")
    o.append("| workload | namespace state | IOPS: median (min - max) | avg µs | p99 µs | IOPS / baseline: median "
             "of the rounds' ratios (range) | ratio of the medians | others' CPU (cores, median) |")
    o.append("|---|---|--:|--:|--:|--:|--:|--:|")
    others = []
    spread = 1.0  # the largest max/min of one state's runs
    for run in r["runs"]:
        for s, v in run["states"].items():
            others += v["others_cores"]
            spread = max(spread, max(v["samples"]) / max(min(v["samples"]), 1))
            q = run["ratios"].get(s)
            pair = (f"**{q['pairwise_median']:.3f}** ({q['pairwise_min']:.3f} - {q['pairwise_max']:.3f})"
                    if q else "—")
            ofm = f"{q['of_medians']:.3f}" if q else "—"
            o.append(f"| randread {run['io_size'] // 1024} KiB QD{run['queue_depth']} | {RESV_STATES.get(s, s)} | "
                     f"{fmt(v['iops'])} ({fmt(min(v['samples']))} - {fmt(max(v['samples']))}) | {v['avg_lat_us']:.1f} | {v['p99_lat_us']:.1f} | {pair} | {ofm} | "
                     f"{med(v['others_cores']):.2f} |")
    o.append("")
    if spread > 1.25:
        o.append(f"The runs of one state differ by up to {spread:.2f} times with the same settings (the ranges "
                 "above), whatever the state: IOPS change from one stretch of runs to the next, and a round whose "
                 "runs fall on both sides of such a change gives an outlying ratio. The median of the rounds' "
                 "ratios leaves those out; the ratio of the medians does not.")
        o.append("")
    san = r["sanity"]

    def writes(w):
        st = "; ".join(f"{e['count']:,} with SCT {e['sct']:#x} SC {e['sc']:#x}"
                       f"{', Reservation Conflict' if (e['sct'], e['sc']) == (0, 0x83) else ''}" for e in w["statuses"])
        return f"{w['writes_completed']:,} completed, {w['errors']:,} failed" + (f" ({st})" if st else "")
    o.append("Sanity check before the runs, 1 s of 4 KiB random writes at QD 1 from nvmf-perf: with no registrant "
             f"{writes(san['none'])}; while the other host held Write Exclusive {writes(san['held'])}. "
             "No read of the runs failed.")
    o.append("")
    o.append(f"Load: load average {r['loadavg_before']} before the runs and {' '.join(r['loadavg_after'])} after; "
             f"{r['busy_before_pct']} % of all CPU time busy in the second before. Other processes used "
             f"{min(others):.2f} to {max(others):.2f} cores during the runs (median {med(others):.2f}; machine "
             "busy time from `/proc/stat` minus the target, nvmf-perf and the holder); the holder used at most "
             f"{r['holder_cores_max']:.3f} of a core in any run.")
    if med(others) > 0.1:
        o.append("")
        o.append("**Caution:** other processes competed for the two cores during the runs: absolute figures "
                 "understate this machine; the ratios compare runs made in turn under the same load.")
    o.append(RESV_END)
    return o


RBD_BEGIN = "<!-- rbd:begin (generated by bench/report.py from bench/rbd.sh: rbd.json) -->"
RBD_END = "<!-- rbd:end -->"
RBD_CASES = {
    "randread-4k": "4 KiB random read",
    "randwrite-4k": "4 KiB random write",
    "randrw70-4k": "4 KiB random 70 % read / 30 % write",
    "read-128k": "128 KiB sequential read",
}


def rbd_section(work):
    """nvmfd on Ceph RBD against rbd bench (bench/rbd.sh: rbd.json), as lines between marker
    comments (`report.py --update DOC rbd DIR` replaces them)."""
    path = os.path.join(work, "rbd.json")
    if not os.path.exists(path):
        return []
    r = load(work, "rbd.json")
    med = statistics.median
    qd = r["queue_depth"]
    o = ["", RBD_BEGIN, "## nvmfd on Ceph RBD against rbd bench", ""]
    o.append(f"{measured_by(r, 'bench/rbd.sh', work)}. The cluster: `tests/ceph/ceph_cluster.sh` (Ceph "
             f"{r['ceph_version']}), one monitor and {r['osds']} OSD{'s' if r['osds'] != 1 else ''} on bluestore "
             f"files, pool size {r['pool_size']}, on this machine; one image of {r['image_mib']:,} MiB written end to "
             "end first (rbd bench, 4 MiB sequential writes), so that reads hit data. Both sides on that image, "
             f"QD {qd}, in turns:")
    o.append("")
    o.append(f"- **rbd bench** (librbd directly): `taskset -c 0 rbd bench --io-type T --io-pattern rand|seq "
             f"--io-size S --io-threads {qd} [--rw-mix-read 70] --io-total N`, N sized from the previous run to "
             f"last about {r['warmup_s']:g} + {r['time_s']:g} s; the first {r['warmup_s']:g} s are cut from its "
             "per-second progress lines (cumulative I/Os), like nvmf-perf's warm-up.")
    o.append(f"- **nvmfd**: `taskset -c 0 nvmfd -m 0x1` exporting `bdev_rbd_create` on the same image (block size "
             f"4096, the cluster registered with `bdev_rbd_register_cluster`), started for each run and stopped after "
             f"it, as rbd bench opens the image per run; `taskset -c 1 nvmf-perf -c 0x2 -q {qd}` over NVMe/TCP on "
             f"127.0.0.1, {r['warmup_s']:g} s warm-up + {r['time_s']:g} s.")
    o.append("- **Same cache settings**: librbd's defaults on both sides (`rbd_cache` on, writeback) with "
             "`rbd_cache_writethrough_until_flush = false`: the rbd tool sets that at start-up, nvmfd gets it as "
             "the cluster's `config_param`. Without it nvmfd's writes would go through to the OSD until the first "
             "FLUSH (nvmf-perf sends none; a host with a volatile write cache does), see docs/ceph.md.")
    o.append(f"- Per case one rbd bench run first (warm-up, sizing), then {r['rounds']} rounds of one run per side, "
             "the side that goes first alternating round by round; the ratio is per round, the figure the median "
             "of the rounds' ratios. The OSDs and the monitor are not pinned (they take what the scheduler gives).")
    o.append("")
    o.append("| workload | rbd bench IOPS: median (min - max) | rbd bench MiB/s | nvmfd IOPS: median (min - max) | "
             "nvmfd MiB/s | nvmfd avg / p99 µs | nvmfd / rbd bench: median of the rounds' ratios (range) |")
    o.append("|---|--:|--:|--:|--:|--:|--:|")
    errors = 0
    for e in r["cases"]:
        b, n, q = e["rbd_bench"], e["nvmfd"], e["ratio"]
        errors += n["errors"]
        o.append(f"| {RBD_CASES.get(e['case'], e['case'])} QD{qd} | {fmt(b['iops'])} ({fmt(min(b['samples']))} - "
                 f"{fmt(max(b['samples']))}) | {b['mib_s']:.1f} | {fmt(n['iops'])} ({fmt(min(n['samples']))} - "
                 f"{fmt(max(n['samples']))}) | {n['mib_s']:.1f} | {n['avg_lat_us']:,.0f} / {n['p99_lat_us']:,.0f} | "
                 f"**{q['pairwise_median']:.3f}** ({q['pairwise_min']:.3f} - {q['pairwise_max']:.3f}) |")
    o.append("")
    o.append(f"I/O errors in the nvmfd runs: {errors}.")
    o.append("")
    o.append("Where the CPU went (cores, medians over the rounds; 1.00 is one core busy; from `/proc/PID/stat` "
             "between the client's start of I/O and its exit, rbd bench's own from wait4 over its whole run; "
             "others = all CPU time of the machine from `/proc/stat` minus the processes named: other processes "
             "on the machine, and kernel work charged to no process, such as the OSD's disk interrupts):")
    o.append("")
    o.append("| workload | side | client: rbd bench, or nvmfd + nvmf-perf | OSDs | monitor | others | all |")
    o.append("|---|---|--:|--:|--:|--:|--:|")
    for e in r["cases"]:
        b, n = e["rbd_bench"], e["nvmfd"]
        name = f"{RBD_CASES.get(e['case'], e['case'])} QD{qd}"
        o.append(f"| {name} | rbd bench | {b['client_cores']:.2f} | {b['osd_cores']:.2f} | {b['mon_cores']:.2f} | "
                 f"{b['others_cores']:.2f} | {b['client_cores'] + b['osd_cores'] + b['mon_cores'] + b['others_cores']:.2f} |")
        o.append(f"| {name} | nvmfd | {n['target_cores']:.2f} + {n['perf_cores']:.2f} | {n['osd_cores']:.2f} | "
                 f"{n['mon_cores']:.2f} | {n['others_cores']:.2f} | "
                 f"{n['target_cores'] + n['perf_cores'] + n['osd_cores'] + n['mon_cores'] + n['others_cores']:.2f} |")
    others = [x["others_cores"] for e in r["cases"] for side in ("rbd_bench", "nvmfd") for x in e[side]["runs"]]
    if others and statistics.median(others) > 0.1:
        o.append("")
        o.append(f"**Caution:** other processes used {min(others):.2f} to {max(others):.2f} cores during the runs "
                 f"(median {statistics.median(others):.2f}): absolute figures understate this machine; the ratios "
                 "compare runs made in turn under the same load.")
    o.append("")
    o.extend(rbd_limits(r))
    o.append("")
    o.append(f"Load: load average {r['loadavg_before']} before the runs and {' '.join(r['loadavg_after'])} after; "
             f"{r['busy_before_pct']} % of all CPU time busy in the second before.")
    o.append(RBD_END)
    return o


def rbd_limits(r):
    """What limits the RBD figures, from the CPU shares measured in the same runs."""
    ncpu = r["nproc"]
    o = []
    full = []
    for e in r["cases"]:
        b, n = e["rbd_bench"], e["nvmfd"]
        all_b = b["client_cores"] + b["osd_cores"] + b["mon_cores"] + b["others_cores"]
        all_n = n["target_cores"] + n["perf_cores"] + n["osd_cores"] + n["mon_cores"] + n["others_cores"]
        full.append((e, all_b, all_n))
    busy = [x for x in full if x[2] >= 0.9 * ncpu]
    o.append(f"What limits these figures: the cluster runs on the same {ncpu} CPUs as the clients, and the OSD "
             "does most of the work of every I/O (messenger, PG and bluestore). With rbd bench the machine runs "
             "librbd and the OSD; with nvmfd it also runs the NVMe/TCP target and nvmf-perf, whose CPU comes out "
             "of the same cores.")
    for e, all_b, all_n in full:
        b, n = e["rbd_bench"], e["nvmfd"]
        o.append(f"- {RBD_CASES.get(e['case'], e['case'])}: with rbd bench {all_b:.2f} of {ncpu} cores busy, "
                 f"the OSDs {b['osd_cores']:.2f}; with nvmfd {all_n:.2f} busy, the OSDs {n['osd_cores']:.2f}, "
                 f"nvmfd {n['target_cores']:.2f}, "
                 f"nvmf-perf {n['perf_cores']:.2f}. OSD CPU per 1,000 I/O: "
                 f"{b['osd_cores'] / max(b['iops'], 1) * 1e6:.0f} µs with rbd bench, "
                 f"{n['osd_cores'] / max(n['iops'], 1) * 1e6:.0f} µs with nvmfd.")
    if busy:
        o.append("")
        o.append(f"Where the machine is near {ncpu} busy cores, the ratio measures the share of the CPUs the OSD "
                 "is left with as much as nvmfd's own cost: on a gateway that is not also the storage node the OSD "
                 "would not compete with the target and the host. nvmfd's reactor runs in its default adaptive "
                 "mode: after each piece of work it keeps polling for up to 50 µs before it sleeps, time the OSD "
                 "threads on that core cannot use.")
    return o


SECTIONS = {"reservations": (reservations_section, RESV_BEGIN, RESV_END),  # --section / --update
            "rbd": (rbd_section, RBD_BEGIN, RBD_END)}


def lvol_section(work):
    """Thick lvol vs its base bdev (bench/lvol.sh: lvol.json), as lines."""
    path = os.path.join(work, "lvol.json")
    if not os.path.exists(path):
        return []
    lv = load(work, "lvol.json")
    o = ["", "## Logical volume overhead", ""]
    o.append("A thick logical volume (4 MiB clusters) against the RAM bdev under it, 4 KiB random I/O at "
             "queue depth 32, raw and lvol runs alternated in the same session (`bench/lvol.sh`). Through "
             "the whole stack: nvmf-perf (core 1) against nvmfd (core 0), which exports a RAM bdev and a "
             "thick volume on another RAM bdev of the same size. The bdev layer alone: `nvmf-lvol-bench`, "
             "the same I/O from one reactor with no network: the worst case, nothing to hide the "
             "volume's per-I/O work behind.")
    o.append("")
    o.append("| path | workload | raw IOPS | lvol IOPS | lvol / raw |")
    o.append("|---|---|--:|--:|--:|")
    for e in lv["stack"]:
        o.append(f"| NVMe/TCP (nvmf-perf, median of {len(e['raw_samples'])}) | {e['workload']} | "
                 f"{fmt(e['raw_iops'])} | {fmt(e['lvol_iops'])} | **{e['ratio']:.3f}** |")
    for e in lv["bdev"]["results"]:
        o.append(f"| bdev layer (nvmf-lvol-bench, median of {len(e['raw_samples'])}) | {e['workload']} | "
                 f"{fmt(e['raw_iops'])} | {fmt(e['lvol_iops'])} | {e['ratio']:.3f} |")
    o.append("")
    o.append("Goal: at most 5% overhead through the stack. At the bdev layer a RAM bdev completes a 4 KiB "
             "I/O in about 0.5 us, so the volume's bookkeeping (cluster lookup, a pooled piece context, "
             "the write-freeze counter for snapshots) shows there as a larger share.")
    return o


def compare_section(work):
    """Side by side with SPDK (bench/spdk_compare.sh WORK/compare), as lines."""
    d = os.path.join(work, "compare")
    if not os.path.exists(os.path.join(d, "machine.env")):
        return []
    return [""] + compare_report.section(d).rstrip("\n").split("\n")


def main():
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "--section" and a[1] in SECTIONS:
        print("\n".join(SECTIONS[a[1]][0](a[2])).lstrip("\n"))
        return
    if len(a) == 4 and a[0] == "--update" and a[2] in SECTIONS:
        make, begin, end = SECTIONS[a[2]]
        lines = make(a[3])
        if not lines:
            sys.exit(f"report.py: no {a[2]} results in {a[3]}")
        compare_report.replace_marked(a[1], begin, end, "\n".join(lines).lstrip("\n") + "\n")
        return
    if len(a) != 1 or a[0].startswith("--"):
        sys.exit(__doc__)
    work = a[0]
    m = compare_report.read_env(work)
    clk = int(m["clk_tck"])
    cpu = runs_cpu(work, clk)
    iperf_runs = []  # (MiB/s, run number, JSON)
    for i in (1, 2, 3):
        j = load(work, f"iperf3_client_{i}.json")
        iperf_runs.append((j["end"]["sum_received"]["bits_per_second"] / 8 / 1024 / 1024, i, j))
    tcp_mib, iperf_median, iperf = sorted(iperf_runs, key=lambda r: r[0])[1]
    iperf_retr = iperf["end"]["sum_sent"].get("retransmits", 0)
    transports = load(work, "transports.json")
    tr = transports[0] if isinstance(transports, list) and transports else {}
    config = load(work, "nvmfd_config.json")
    bdevs = {c["params"]["name"]: c["params"] for s in config["subsystems"] if s["subsystem"] == "bdev"
             for c in s["config"]}
    with open(os.path.join(work, "commands.txt")) as f:
        commands = [line.rstrip("\n") for line in f if line.strip()]

    perf = {}
    for t, _ in TARGETS:
        for w, _ in WORKLOADS:
            perf[f"{t}-{w}"] = load(work, f"{t}-{w}.json")
    fill = load(work, "malloc0-fill.json")
    any_json = next(iter(perf.values()))
    target_cores = 1  # nvmfd -m 0x1
    host_cores = len(any_json["parameters"]["cores"])

    o = []
    o.append("# Performance")
    o.append("")
    how = f"{m['invocation']} bash bench/run.sh" if m.get("invocation") else "bash bench/run.sh"
    o.append(f"Generated by `{how}` on {m['date']} at commit {m['git']}. Every figure below is read "
             "from the JSON output of iperf3 and nvmf-perf in that run (kept in "
             f"`{work}/`); none is typed in. Re-run the script to refresh this page.")
    o.append("")
    o.append("## Machine")
    o.append("")
    o.append(f"- CPUs (`nproc`): {m['nproc']}, model (`/proc/cpuinfo`): {m['cpu_model']}")
    o.append(f"- kernel (`uname -r`): {m['kernel']}; memory: {int(m['mem_total_kib']) // 1024 // 1024} GiB")
    o.append(f"- before the run: load average {m['loadavg']}, {m['busy_before_pct']} % of all CPU time busy "
             "(other processes; see the last column below for during the runs)")
    o.append(f"- priority of every benchmarked process: {m.get('nice', 'none')} (`BENCH_NICE`; other processes keep running)")
    o.append("")
    o.append("## Results")
    o.append("")
    o.append(f"Target: nvmfd, 1 reactor on core {m['target_cpu']}. Host: nvmf-perf, {host_cores} reactor on core "
             f"{m['host_cpu']}, 1 I/O queue pair. Each nvmf-perf run: {m['warmup_s']} s warm-up (not counted), "
             f"then {m['time_s']} s measured. Latency is submission to completion as the host sees it.")
    o.append("")
    o.append("| namespace | workload | QD | IOPS | MiB/s | avg latency (µs) | p99 latency (µs) "
             "| target CPU (cores) | host CPU (cores) | others' CPU (cores) |")
    o.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    icpu = iperf["end"]["cpu_utilization_percent"]
    i_sender, i_receiver = icpu["host_total"] / 100, icpu["remote_total"] / 100
    i_others = max(0.0, cpu[f"iperf3_{iperf_median}"][1] - i_sender - i_receiver)
    all_runs = ", ".join(fmt(r[0]) for r in iperf_runs)
    o.append(f"| — | raw TCP loopback, iperf3, 1 stream, 1 MiB writes (median of {all_runs}) | — | — | {fmt(tcp_mib)} | — | — "
             f"| {i_sender:.2f} (sender) | {i_receiver:.2f} (receiver) | {i_others:.2f} |")
    errors = 0
    for t, tname in TARGETS:
        for w, desc in WORKLOADS:
            name = f"{t}-{w}"
            j = perf[name]
            tot = j["total"]
            errors += j["errors"]["count"] + j["errors"]["cut_off_at_exit"]
            tc, mc, _ = cpu[name]
            hc = j["process_cpu"]["cores_busy"]
            others = max(0.0, mc - tc - hc)
            o.append(f"| {tname} | {desc} | {j['parameters']['queue_depth']} | {fmt(tot['iops'])} "
                     f"| {fmt(tot['mib_per_s'], 1)} | {fmt(tot['latency_us']['average'], 1)} "
                     f"| {fmt(tot['latency_us']['p99'], 1)} | {tc:.2f} | {hc:.2f} | {others:.2f} |")
    o.append("")
    o.append(f"I/O errors in all runs: {errors}. iperf3 retransmits (median run): {iperf_retr}.")
    others_avg = sum(max(0.0, cpu[n][1] - cpu[n][0] - perf[n]["process_cpu"]["cores_busy"]) for n in perf) / len(perf)
    if others_avg > 0.1:
        o.append("")
        o.append(f"**Caution:** other processes used {others_avg:.2f} of the {m['nproc']} CPUs on average during "
                 "the nvmf-perf runs (last column), competing with the target and the host for their cores: these "
                 "figures, the latency tails above all, understate what this machine does when idle.")
    o.append("")
    o.append("### Ratios")
    o.append("")
    for t, tname in TARGETS:
        j = perf[f"{t}-read-128k-qd16"]
        r = j["total"]["mib_per_s"] / tcp_mib if tcp_mib else 0
        o.append(f"- 128 KiB sequential read QD16 / raw TCP, {tname} namespace: "
                 f"{fmt(j['total']['mib_per_s'])} / {fmt(tcp_mib)} MiB/s = **{r:.2f}**")
    for t, tname in TARGETS:
        j = perf[f"{t}-randread-4k-qd128"]
        o.append(f"- 4 KiB random read QD128 per target core, {tname} namespace: {fmt(j['total']['iops'])} IOPS / "
                 f"{target_cores} target core = **{fmt(j['total']['iops'] / target_cores)} IOPS per core** "
                 "(\"per target core\" = total / cores given to nvmfd with -m)")
    o.append("")
    o.append("## Setup")
    o.append("")
    o.append(f"- Raw TCP: `iperf3 -s -1` pinned to core {m['host_cpu']} (receiver, like the host on reads), "
             f"`iperf3 -c 127.0.0.1 -l 1M -t {m['time_s']} -J` pinned to core {m['target_cpu']} (sender), three times; "
             "the figure is the median run's receiver rate, `end.sum_received.bits_per_second`.")
    o.append(f"- Transport (from `nvmf_get_transports`): in_capsule_data_size {tr.get('in_capsule_data_size')} "
             f"(4 KiB writes travel in the command capsule; larger ones after an R2T), max_io_size "
             f"{tr.get('max_io_size')} (MDTS: a 128 KiB read is one command), io_unit_size {tr.get('io_unit_size')}, "
             f"max_queue_depth {tr.get('max_queue_depth')} (the default 128 cannot hold QD 128: the host asks for a "
             f"queue of QD + 1 entries), c2h_success {json.dumps(tr.get('c2h_success'))} (but nvmfd sends a CapsuleResp after "
             "every read's C2HData all the same: SUCCESS needs SQ flow control disabled at Connect, which the host "
             "does not ask for). No header or data digests.")
    for name, kind, nqn in (("Null0", "null", "null0"), ("Malloc0", "RAM (malloc)", "malloc0")):
        b = bdevs[name]
        size = b["num_blocks"] * b["block_size"]
        o.append(f"- {kind} namespace: bdev {name}, {size // 2**30} GiB of {b['block_size']}-byte blocks, alone in "
                 f"subsystem nqn.2016-06.io.nvmfd:{nqn}.")
    o.append("  4096-byte blocks (rather than SPDK's customary 512) so that a 4 KiB I/O is one block, as on a "
             "4Kn-formatted SSD; the null bdev moves no data, the RAM bdev copies it.")
    filled = fill["total"]["ios"] * fill["parameters"]["io_size"]
    ram = bdevs["Malloc0"]["num_blocks"] * bdevs["Malloc0"]["block_size"]
    o.append(f"- The RAM namespace is written end to end first (sequential 128 KiB writes for "
             f"{fill['parameters']['time_s']:g} s: {fmt(filled / 2**20)} MiB, the {fmt(ram / 2**20)} MiB namespace "
             f"{filled / ram:.1f} times over), because never-written pages of an anonymous mapping read as the "
             "kernel's shared zero page, which is always in cache.")
    o.append("- CPU columns: target = nvmfd's CPU time over the run's wall time (connect and warm-up included); "
             "host = nvmf-perf's CPU time (getrusage) over warm-up and measurement; for iperf3, its own "
             "`cpu_utilization_percent` of the sender (core of the target) and the receiver (core of the host); "
             "others = all CPU time on the machine (`/proc/stat`) minus those two. 1.00 is one core fully busy.")
    o.extend(failover_section(work))
    o.extend(lvol_section(work))
    o.extend(tls_section(work))
    o.extend(reservations_section(work))
    o.extend(rbd_section(work))
    o.extend(compare_section(work))
    o.append("")
    o.append("## Commands")
    o.append("")
    o.append("As run (ports were free ones; build/bench/... is the result directory):")
    o.append("")
    o.append("```")
    o.extend(commands)
    o.append("```")
    o.append("")
    print("\n".join(o))


if __name__ == "__main__":
    main()

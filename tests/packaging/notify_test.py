#!/usr/bin/env python3
"""nvmfd's side of systemd's notify protocol (sd_notify(3)), against a NOTIFY_SOCKET this test
owns (a Unix datagram socket, as systemd's):
  - READY=1 comes once, and only when the RPC socket already answers (config loaded,
    listeners up: the test's config has a TCP listener, which must accept by then);
  - with WATCHDOG_USEC (and WATCHDOG_PID = nvmfd's PID) WATCHDOG=1 pings come at about half
    that interval; without WATCHDOG_USEC none come;
  - SIGHUP (ExecReload) changes nothing: no STOPPING, the RPC socket still answers, pings go on;
  - SIGTERM: STOPPING=1, then exit 0;
  - a config that fails to load: exit 1 and no READY=1.
Usage: notify_test.py BIN_DIR"""
import json, os, signal, socket, subprocess, sys, tempfile, time

BIN = sys.argv[1]


def fail(msg, out=None):
    print("FAIL:", msg)
    if out:
        print("--- nvmfd output ---")
        print(open(out).read())
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def rpc_answers(sock_path):
    r = subprocess.run([f"{BIN}/nvmfctl", "-s", sock_path, "-t", "5", "rpc_get_methods"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


class notify_socket:
    def __init__(self, path):
        self.path = path
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(path)

    def next(self, timeout):
        """The next datagram's KEY=VALUE lines as a dict, or None after timeout seconds."""
        self.s.settimeout(timeout)
        try:
            data = self.s.recv(4096).decode()
        except socket.timeout:
            return None
        return dict(l.split("=", 1) for l in data.splitlines() if "=" in l)

    def wait_for(self, key, timeout, seen):
        """Reads datagrams until one has key; returns it (or None). Appends all to seen."""
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            m = self.next(left)
            if m is None:
                return None
            seen.append(m)
            if key in m:
                return m
        return None


def start(work, config, env_extra):
    cfg = os.path.join(work, "config.json")
    with open(cfg, "w") as f:
        json.dump(config, f)
    out = os.path.join(work, "nvmfd.out")
    env = dict(os.environ, NOTIFY_SOCKET=os.path.join(work, "notify"), **env_extra)
    env.pop("WATCHDOG_PID", None)
    if "WATCHDOG_USEC" not in env_extra:
        env.pop("WATCHDOG_USEC", None)
    p = subprocess.Popen([f"{BIN}/nvmfd", "-c", cfg, "-r", os.path.join(work, "rpc.sock"), "-m", "0x1"],
                         env=env, stdout=open(out, "w"), stderr=subprocess.STDOUT)
    return p, out


def main():
    work = tempfile.mkdtemp(prefix="nvmfd-notify.")
    procs = []
    try:
        port = free_port()
        good = {"subsystems": [{"subsystem": "nvmf", "config": [
            {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
            {"method": "nvmf_create_subsystem", "params": {"nqn": "nqn.2016-06.io.nvmfd:notify", "allow_any_host": True}},
            {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "nqn.2016-06.io.nvmfd:notify", "listen_address": {
                "trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": str(port)}}}]}]}
        ns = notify_socket(os.path.join(work, "notify"))
        rpc = os.path.join(work, "rpc.sock")

        # 1. With the watchdog: 200 ms, so pings every ~100 ms. WATCHDOG_PID must name nvmfd,
        #    which is only known after the start: libsystemd accepts WATCHDOG_USEC alone.
        p, out = start(work, good, {"WATCHDOG_USEC": "200000"})
        procs.append(p)
        seen = []
        ready = ns.wait_for("READY", 20, seen)
        if ready is None or ready.get("READY") != "1":
            fail(f"no READY=1 within 20 s (got {seen})", out)
        if not rpc_answers(rpc):
            fail("READY=1 came before the RPC socket answers", out)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except OSError as e:
            fail(f"READY=1 came before the listener accepts: {e}", out)
        print("READY=1 with STATUS:", ready.get("STATUS"))
        t0 = time.monotonic()
        pings = 0
        while pings < 5:
            m = ns.wait_for("WATCHDOG", 2, seen)
            if m is None:
                fail(f"only {pings} WATCHDOG=1 ping(s) in 2 s windows (got {seen[-5:]})", out)
            if m.get("WATCHDOG") != "1":
                fail(f"unexpected {m}", out)
            pings += 1
        elapsed = time.monotonic() - t0
        print(f"5 watchdog pings in {elapsed:.2f} s")
        if elapsed > 2.0:
            fail(f"5 pings took {elapsed:.2f} s, want ~0.5 s at a 100 ms interval", out)

        # 2. SIGHUP: nothing changes.
        p.send_signal(signal.SIGHUP)
        m = ns.wait_for("WATCHDOG", 2, seen)
        if m is None or any("STOPPING" in x for x in seen):
            fail(f"after SIGHUP: no ping or a STOPPING ({seen[-5:]})", out)
        if p.poll() is not None or not rpc_answers(rpc):
            fail("nvmfd did not survive SIGHUP", out)

        # 3. SIGTERM: STOPPING=1, then a clean exit.
        p.send_signal(signal.SIGTERM)
        if ns.wait_for("STOPPING", 10, seen) is None:
            fail(f"no STOPPING=1 after SIGTERM ({seen[-5:]})", out)
        if p.wait(60) != 0:
            fail(f"exit status {p.returncode} after SIGTERM", out)
        print("STOPPING=1, exit 0")

        # 4. No WATCHDOG_USEC: READY, no pings.
        p, out = start(work, good, {})
        procs.append(p)
        seen = []
        if ns.wait_for("READY", 20, seen) is None:
            fail("no READY=1 without a watchdog", out)
        if ns.wait_for("WATCHDOG", 1, seen) is not None:
            fail("WATCHDOG=1 without WATCHDOG_USEC", out)
        p.send_signal(signal.SIGTERM)
        if p.wait(60) != 0:
            fail(f"exit status {p.returncode}", out)

        # 5. A config that does not load: exit 1, never READY.
        bad = {"subsystems": [{"subsystem": "bdev", "config": [{"method": "no_such_method", "params": {}}]}]}
        p, out = start(work, bad, {"WATCHDOG_USEC": "200000"})
        procs.append(p)
        if p.wait(30) != 1:
            fail(f"bad config: exit status {p.returncode}, want 1", out)
        seen = []
        if ns.wait_for("READY", 0.5, seen) is not None:
            fail("READY=1 for a config that failed to load", out)
        print("PASS")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["rm", "-rf", work])


main()

#!/usr/bin/env python3
"""bench_circle: circle delivery latency and sender CPU against circle size.

For each size N (default 4 8 16 32): N `kith run` processes on 127.0.0.1 form
one circle (member 1 creates it and invites the others); member 1 then sends M
messages (default 100) at a steady pace through `kith send '#c'`. For each
message, the time until all N-1 others hold it persisted is
max over receivers of ("received_ms" in the receiver's `log --json`) minus the
sender's "ts_ms" (or "ts") for it (one machine, one clock); p50 and p99 over the messages.
The sender's CPU per message is the utime+stime of its engine process
(/proc/PID/stat) across the sending and delivery, divided by M.

usage: bench_circle.py [--kith PATH] [-m M] [--interval-ms MS] [--keep] [N ...]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Member:
    def __init__(self, kith, root, name):
        self.kith, self.name = kith, name
        self.home = os.path.join(root, name)
        self.passfile = os.path.join(root, "pass")
        self.proc = None

    def cmd(self, *args, check=True, timeout=60):
        r = subprocess.run([self.kith, "--home", self.home, "--passphrase-file", self.passfile,
                            *args], capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError("%s %s: exit %d: %s" % (self.name, " ".join(args), r.returncode,
                                                      r.stderr.strip()))
        return r.stdout

    def json(self, *args):
        return json.loads(self.cmd(*args, "--json"))

    def start(self, env):
        err = open(self.home + ".err", "ab")
        self.proc = subprocess.Popen([self.kith, "--home", self.home, "--passphrase-file",
                                      self.passfile, "run"], stdout=subprocess.DEVNULL,
                                     stderr=err, env=env)
        err.close()
        wait_for(20, "engine %s up" % self.name,
                 lambda: json.loads(self.cmd("status", "--json", timeout=10))["online"])

    def cpu_s(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_for(secs, what, fn):
    end = time.monotonic() + secs
    while True:
        try:
            if fn():
                return
        except (RuntimeError, ValueError, subprocess.TimeoutExpired):
            pass
        if time.monotonic() > end:
            raise RuntimeError("timed out after %ds waiting for %s" % (secs, what))
        time.sleep(0.2)


def circle_of(m):
    for c in m.json("circles"):
        if c["name"] == "c":
            return c
    return None


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def run_size(args, n):
    root = tempfile.mkdtemp(prefix="kith-bench-circle-")
    # Test builds only: admit more than 10 invitee handshakes a minute (setup speed, not measured).
    env = dict(os.environ, KITH_KDF_COST="min", KITH_SYNC_IVL_MS=str(args.sync_ivl_ms),
               KITH_TEST_ZAP_PER_MIN="1000")
    os.environ["KITH_KDF_COST"] = "min"
    with open(os.path.join(root, "pass"), "w") as f:
        f.write("bench passphrase\n")
    members = [Member(args.kith, root, "m%d" % (i + 1)) for i in range(n)]
    t0 = time.monotonic()
    try:
        for m in members:
            m.cmd("init", "--name", m.name, "--listen", "tcp://127.0.0.1:*")
        for m in members:
            m.start(env)
        owner, others = members[0], members[1:]
        owner.cmd("circle", "create", "c")
        for m in others:
            code = owner.cmd("invite", "--circle", "c").strip().splitlines()[-1]
            m.cmd("accept", code, "--as", owner.name)
        for m in members:
            wait_for(60 + 10 * n, "%s to see %d members" % (m.name, n),
                     lambda m=m: (lambda c: c and c["members"] == n and c["state"] == "active")(
                         circle_of(m)))
        setup_s = time.monotonic() - t0

        cpu0 = owner.cpu_s()
        sent = []
        next_at = time.monotonic()
        for i in range(args.messages):
            next_at += args.interval_ms / 1000.0
            t_ms = time.time() * 1000.0
            mid = owner.cmd("send", "#c", "bench-%d" % i).strip().splitlines()[-1]
            sent.append((mid, t_ms))
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        for m in others:
            wait_for(120 + 5 * n, "%s to hold %d messages" % (m.name, args.messages),
                     lambda m=m: sum(1 for e in m.json("log", "#c")
                                     if e["text"].startswith("bench-")) >= args.messages)
        cpu_us = (owner.cpu_s() - cpu0) * 1e6 / args.messages

        own = {e["id"]: e for e in owner.json("log", "#c")}
        got = {}
        for m in others:
            for e in m.json("log", "#c"):
                got.setdefault(e["id"], []).append(e["received_ms"])
        lat, clock = [], "sender ts"
        for mid, t_ms in sent:
            ts = own[mid].get("ts_ms", own[mid]["ts"])
            if ts < 1e11:  # seconds, not ms: too coarse; take our own clock at send
                ts, clock = t_ms, "bench clock at send"
            rec = got.get(mid, [])
            if len(rec) != n - 1:
                raise RuntimeError("message %s held by %d of %d receivers" % (mid, len(rec), n - 1))
            lat.append(max(rec) - ts)
        lat.sort()
        return {"n": n, "p50": pct(lat, 50), "p99": pct(lat, 99), "cpu_us": cpu_us,
                "setup_s": setup_s, "clock": clock}
    finally:
        for m in members:
            m.stop()
        if args.keep:
            print("# kept %s" % root, file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[4, 8, 16, 32])
    ap.add_argument("--kith", default=os.environ.get("KITH", "build/kith"))
    ap.add_argument("-m", "--messages", type=int, default=100)
    ap.add_argument("--interval-ms", type=float, default=100.0,
                    help="pace of the sender (default 100 ms: 10 messages/s)")
    ap.add_argument("--sync-ivl-ms", type=int, default=1000, help="KITH_SYNC_IVL_MS")
    ap.add_argument("--keep", action="store_true", help="keep the profiles (and their logs)")
    args = ap.parse_args()
    args.kith = os.path.abspath(args.kith)
    rows = []
    print("%4s  %10s  %10s  %14s  %8s" % ("N", "p50 ms", "p99 ms", "cpu us/msg", "setup s"))
    for n in args.sizes:
        try:
            r = run_size(args, n)
        except RuntimeError as e:
            print("FAIL: N=%d: %s" % (n, e))
            return 1
        rows.append(r)
        print("%4d  %10.1f  %10.1f  %14.0f  %8.1f" % (r["n"], r["p50"], r["p99"], r["cpu_us"],
                                                     r["setup_s"]), flush=True)
    if rows:
        print("# latency from the sender's log ts to the last receiver's received_ms (%s);"
              " cpu: the sender's engine, utime+stime / messages" % rows[0]["clock"])
        if len(rows) > 1:
            a, b = rows[0], rows[-1]
            print("# from N=%d to N=%d: p50 x%.2f, p99 x%.2f, cpu/msg x%.2f"
                  % (a["n"], b["n"], b["p50"] / max(a["p50"], 1e-9), b["p99"] / max(a["p99"], 1e-9),
                     b["cpu_us"] / max(a["cpu_us"], 1e-9)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

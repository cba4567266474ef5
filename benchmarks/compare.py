#!/usr/bin/env python3
"""Runs tao's end-to-end benchmark matrix and writes a report.

    ./bazelw run -c opt //benchmarks:compare             # full, < 15 min
    ./bazelw run -c opt //benchmarks:compare -- --quick  # < 2 min

Every server under test speaks the same TLV echo protocol: tao with inline
handlers, tao with its worker pool, a textbook Asio server and a minimal
epoll server (the machine's ceiling). For each payload (32 B, 16 KiB),
connection count (1, 100, 1000) and depth (1, 16) the servers run in turn,
interleaved, repeated; the report gives medians. The server is pinned to CPU
0 and the load generator to CPU 1 (taskset). Then each server's memory per
idle connection: (VmRSS with N idle connections - VmRSS with none) / N;
its RSS after every connection echoed one 64 KiB message (peak, 1 s and 3 s
later); and (full runs) tao's and epoll's memory and accept time at
--max_connections (19,000: the most this machine's 20,000 open files per
process allow). The server's CPU time per echoed message is reported per
config.

Writes benchmarks/results/<date>.md (table, machine, ratios, targets),
<date>.svg (msgs/s by connection count per server) and <date>.json (every
run) into the workspace (or --out). Only loopback (127.0.0.1) is used.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))

SERVERS = {
    # name: (binary relative to the workspace root, flags, label)
    "tao_inline": ("benchmarks/load/tao_echo_server",
                   ["--io_threads=1", "--handler_threads=0"],
                   "tao inline"),
    "tao_pool": ("benchmarks/load/tao_echo_server",
                 ["--io_threads=1", "--handler_threads=1"],
                 "tao pool"),
    "asio": ("benchmarks/baselines/asio_echo", ["--threads=1"], "asio"),
    "epoll": ("benchmarks/baselines/epoll_echo", ["--threads=1"], "epoll"),
}
LOADGEN = "benchmarks/load/loadgen"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Runner:
    """Starts servers and load generator runs; knows paths and pinning."""

    def __init__(self, root, pin, tmp, nice, realtime):
        self.root = root
        self.pin = pin
        self.tmp = tmp
        self.nice = nice
        self.realtime = realtime
        self.live = set()

    def spawn(self, argv, **kwargs):
        """Popen; with --nice, in a session (so a scheduler autogroup) of its
        own whose nice is set too: with autogroups (Linux's default for
        desktops and many VMs) a task's own nice only ranks it within its
        session, so `nice` alone does not lift it above other sessions'
        builds."""
        proc = subprocess.Popen(argv, start_new_session=bool(self.nice),
                                **kwargs)
        if self.nice:
            try:
                with open("/proc/%d/autogroup" % proc.pid, "w") as f:
                    f.write(str(self.nice))
            except OSError:
                pass  # no autogroups here: plain nice is enough
        self.live = {p for p in self.live if p.poll() is None}
        self.live.add(proc)
        return proc

    def kill_all(self):
        """Kills every child still running (compare interrupted)."""
        for proc in self.live:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def _cmd(self, cpu, argv):
        if self.pin:
            argv = ["taskset", "-c", str(cpu)] + argv
        if self.nice:
            argv = ["nice", "-n", str(self.nice)] + argv
        if self.realtime:
            argv = ["chrt", "-f", "1"] + argv
        return argv

    def start_server(self, name, extra_flags=(), stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE):
        """Starts server `name` (flags from SERVERS, then `extra_flags`,
        which win) on CPU 0; returns (process, port) once it listens. A long
        run must send stderr to a file: nobody reads the pipe."""
        binary, flags, _ = SERVERS[name]
        port_file = os.path.join(self.tmp, "port.%s" % name)
        if os.path.exists(port_file):
            os.unlink(port_file)
        argv = [os.path.join(self.root, binary), "--address=127.0.0.1:0",
                "--port_file=" + port_file] + flags + list(extra_flags)
        proc = self.spawn(self._cmd(0, argv), stdout=stdout, stderr=stderr,
                          text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    return proc, int(text)
            if proc.poll() is not None:
                raise RuntimeError("%s exited early: %s" % (
                    name, proc.stderr.read() if proc.stderr else "see its log"))
            time.sleep(0.01)
        proc.kill()
        raise RuntimeError("%s wrote no port file" % name)

    @staticmethod
    def stop_server(proc):
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return proc.returncode

    def loadgen(self, server_pid, port, flags, warmup, timeout):
        """Runs loadgen; returns (its JSON result + server_cpu_percent,
        error text or None)."""
        out = os.path.join(self.tmp, "loadgen.json")
        if os.path.exists(out):
            os.unlink(out)
        argv = [os.path.join(self.root, LOADGEN),
                "--address=127.0.0.1:%d" % port, "--progress=false",
                "--json=" + out] + flags
        proc = self.spawn(self._cmd(1, argv), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        # The server's CPU time over (about) the measured part of the run.
        time.sleep(warmup)
        cpu_start = cpu_ticks(server_pid)
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return None, "loadgen timed out"
        cpu_end = cpu_ticks(server_pid)
        result = None
        if os.path.exists(out):
            with open(out) as f:
                result = json.load(f)
            if cpu_start is not None and cpu_end is not None:
                cpu_s = (cpu_end - cpu_start) / CLK_TCK
                result["server_cpu_percent"] = 100.0 * cpu_s / max(
                    result["seconds"], 1e-3)
                messages = result["msgs_per_s"] * result["seconds"]
                if messages > 0:
                    result["server_cpu_ns_per_msg"] = 1e9 * cpu_s / messages
        if proc.returncode != 0:
            return result, "loadgen exit %d: %s" % (
                proc.returncode, output.strip()[-400:])
        return result, None


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks (None if it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_sockets(pid):
    """How many sockets a process has open (other fds come and go)."""
    count = 0
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(
                        "socket:"):
                    count += 1
            except OSError:
                pass
    except OSError:
        pass
    return count


def measure_idle(runner, name, count, settle, burst=0, burst_after=(1.0, 3.0)):
    """Server RSS with `count` idle connections minus RSS with none, and how
    long they took to be accepted. With `burst` > 0, then every connection
    echoes one frame of `burst` payload bytes (loadgen --burst) and the RSS
    is sampled for a few seconds: the peak, after 1 s and after 3 s."""
    proc, port = runner.start_server(name)
    burst_result = None
    try:
        time.sleep(settle)
        before = rss_kib(proc.pid)
        fds_before = open_sockets(proc.pid)
        argv = [os.path.join(runner.root, LOADGEN),
                "--address=127.0.0.1:%d" % port, "--idle=%d" % count,
                "--seconds=0", "--connect_timeout=60"]
        if burst:
            argv.append("--burst=%d" % burst)
        t_connect = time.monotonic()
        gen = runner.spawn(runner._cmd(1, argv), stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        line = gen.stdout.readline()
        m = re.match(r"idle: (\d+) connections open \(([\d.]+) s", line)
        opened = int(m.group(1)) if m else 0
        connect_s = float(m.group(2)) if m else None
        # Wait until the server has accepted them all (its fd count), and
        # its RSS has settled.
        deadline = time.monotonic() + 30
        while (open_sockets(proc.pid) < fds_before + opened and
               time.monotonic() < deadline):
            time.sleep(0.01)
        accepted = open_sockets(proc.pid) - fds_before
        accept_s = time.monotonic() - t_connect
        time.sleep(settle)
        after = rss_kib(proc.pid)
        for _ in range(8):  # until it stops moving (bounded)
            time.sleep(settle)
            again = rss_kib(proc.pid)
            if again == after:
                break
            after = again
        if burst and opened:
            burst_result = run_burst(proc.pid, gen, burst_after)
        gen.send_signal(signal.SIGTERM)
        try:
            out, err = gen.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            gen.kill()
            out, err = gen.communicate()
        error = None
        if gen.returncode != 0 or opened != count:
            error = "loadgen --idle exit %d, %d of %d opened: %s" % (
                gen.returncode, opened, count, (out + err).strip()[-300:])
    finally:
        runner.stop_server(proc)
    if burst_result and burst_result.get("error") and not error:
        error = burst_result["error"]
    per_conn = (after - before) * 1024.0 / opened if opened else None
    return {"server": name, "requested": count, "opened": opened,
            "accepted": accepted, "rss_before_kib": before,
            "rss_after_kib": after, "bytes_per_connection": per_conn,
            "connect_s": connect_s, "accept_s": accept_s,
            "burst": burst_result, "error": error}


def run_burst(pid, gen, after=(1.0, 3.0)):
    """Tells an idle loadgen --burst to go; samples the server's RSS until
    the burst is echoed and at `after` seconds past it (reported as the
    "1 s" and "3 s" samples)."""
    import select
    peak = rss_kib(pid)
    gen.stdin.write("go\n")
    gen.stdin.flush()
    line = ""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        peak = max(peak, rss_kib(pid))
        ready, _, _ = select.select([gen.stdout], [], [], 0.02)
        if ready:
            line = gen.stdout.readline()
            break
    m = re.match(r"burst: (\d+) echoed \(([\d.]+) s\)", line)
    if not m:
        return {"error": "loadgen --burst did not finish: %r" % line}
    done = time.monotonic()
    samples = []
    for t in after:
        while time.monotonic() < done + t:
            peak = max(peak, rss_kib(pid))
            time.sleep(0.02)
        samples.append(rss_kib(pid))
    return {"echoed": int(m.group(1)), "seconds": float(m.group(2)),
            "peak_kib": peak, "after_1s_kib": samples[0],
            "after_3s_kib": samples[1], "error": None}


def machine_info():
    info = {"model": platform.processor() or "?", "kernel": platform.release(),
            "cpus": os.cpu_count(), "hypervisor": ""}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True,
                             check=False).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name":
                info["model"] = value.strip()
            elif key.strip() == "Hypervisor vendor":
                info["hypervisor"] = value.strip()
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
        info["memory_gib"] = round(kib / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    info["loadavg"] = " ".join(open("/proc/loadavg").read().split()[:3])
    return info


def git_revision(workspace):
    if not workspace:
        return "?"
    try:
        rev = subprocess.run(["git", "-C", workspace, "rev-parse", "--short",
                              "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", workspace, "status",
                                "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True,
                               check=False).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_rate(v):
    if v is None:
        return "err"
    if v >= 1e6:
        return "%.2fM" % (v / 1e6)
    if v >= 1e3:
        return "%.1fk" % (v / 1e3)
    return "%.0f" % v


def fmt_us(v):
    if v is None:
        return "err"
    if v >= 1000:
        return "%.2f ms" % (v / 1000)
    return "%.0f µs" % v if v >= 100 else "%.1f µs" % v


def config_name(c):
    payload = "16 KiB" if c["payload"] == 16384 else "%d B" % c["payload"]
    return payload, c["connections"], c["depth"]


def cells_of(runs):
    """{(server, payload, connections, depth): {rep: result or None}}; a
    failed run is None."""
    cells = {}
    for r in runs:
        key = (r["label"], r["payload"], r["connections"], r["depth"])
        cells.setdefault(key, {})[r["rep"]] = None if r.get("failed") else r
    return cells


def build_report(data, chart_name):
    """The Markdown report of one compare run (the dict saved as JSON)."""
    info, configs, servers = data["machine"], data["configs"], data["servers"]
    memory, cells = data["memory"], cells_of(data["runs"])
    lines = []
    date = data["started"][:16].replace("T", " ")
    mode = data["mode"]
    lines.append("# tao end-to-end benchmark: %s (%s)" % (date, mode))
    lines.append("")
    lines.append("- Machine: %s, %s CPUs%s, %s GiB RAM, Linux %s" % (
        info["model"], info["cpus"],
        " (%s guest)" % info["hypervisor"] if info["hypervisor"] else "",
        info.get("memory_gib", "?"), info["kernel"]))
    lines.append("- Pinning: %s" % (
        "server on CPU 0, loadgen on CPU 1 (taskset)" if data["pinned"] else
        "none (fewer than 2 CPUs available)"))
    lines.append("- Load average when started: %s%s%s" % (
        info["loadavg"],
        "; servers and loadgen ran under `nice -n %d`" % data["nice"]
        if data["nice"] else "",
        "; servers and loadgen ran SCHED_FIFO (`chrt -f 1`)"
        if data["realtime"] else ""))
    lines.append("- tao revision: %s" % data["revision"])
    lines.append("- Runs: %d repetition(s) of %.1f s after %.2f s warmup, "
                 "servers interleaved; medians. %.0f s in all." % (
                     data["reps"], data["seconds"], data["warmup"],
                     data["elapsed"]))
    lines.append("- Servers: tao inline = tao_echo_server --io_threads=1 "
                 "--handler_threads=0; tao pool = --io_threads=1 "
                 "--handler_threads=1; asio = asio_echo (one io_context, one "
                 "thread); epoll = epoll_echo (one thread). loadgen: one "
                 "thread, closed loop.")
    lines.append("")

    def runs_of(server, c):
        """{rep: result or None} of one server on one config."""
        return cells.get((server, c["payload"], c["connections"], c["depth"]),
                         {})

    def cell(server, c, key):
        return median([r.get(key) for r in runs_of(server, c).values()
                       if r is not None])

    def lat(server, c, key):
        return median([r["latency_us"][key]
                       for r in runs_of(server, c).values() if r is not None])

    def paired_all(a, b, c, get):
        """get(a's run) / get(b's run) for every repetition: each pair ran
        back to back, so noise that hits both cancels."""
        ra, rb = runs_of(a, c), runs_of(b, c)
        ratios = []
        for rep in ra:
            x, y = ra[rep], rb.get(rep)
            if (x is not None and y is not None and get(x) is not None and
                    get(y)):
                ratios.append(get(x) / get(y))
        return ratios

    def paired(a, b, c, get):
        return median(paired_all(a, b, c, get))

    def cpu_per_msg(run):
        return run.get("server_cpu_ns_per_msg")

    def rate_ratio(a, b, c):
        return paired(a, b, c, lambda r: r["msgs_per_s"])

    def spread(a, b, c, get, fmt):
        """" (per repetition: x–y)" when there were several."""
        ratios = paired_all(a, b, c, get)
        if len(ratios) < 2:
            return ""
        return " (per repetition %s–%s)" % (fmt % min(ratios),
                                             fmt % max(ratios))

    labels = [SERVERS[s][2] for s in servers]
    ratios = []
    if "tao_inline" in servers and "epoll" in servers:
        ratios.append(("tao/epoll", "tao_inline", "epoll"))
    if "tao_inline" in servers and "asio" in servers:
        ratios.append(("tao/asio", "tao_inline", "asio"))
    if "tao_pool" in servers and "epoll" in servers:
        ratios.append(("pool/epoll", "tao_pool", "epoll"))

    lines.append("## Throughput (msgs/s; MB/s of payload echoed)")
    lines.append("")
    lines.append("Absolute numbers are medians over the repetitions; each "
                 "ratio is the median of the per-repetition ratios (the two "
                 "servers ran back to back, so noise that hits both "
                 "cancels).")
    lines.append("")
    lines.append("| payload | conns | depth | " + " | ".join(labels) + " | " +
                 " | ".join(r[0] for r in ratios) + " |")
    lines.append("|---|--:|--:|" + "--:|" * (len(labels) + len(ratios)))
    for c in configs:
        payload, conns, depth = config_name(c)
        row = [payload, str(conns), str(depth)]
        for s in servers:
            v = cell(s, c, "msgs_per_s")
            mb = cell(s, c, "mb_per_s")
            if c["payload"] >= 1024 and v is not None:
                row.append("%s (%.0f MB/s)" % (fmt_rate(v), mb))
            else:
                row.append(fmt_rate(v))
        for _, a, b in ratios:
            ratio = rate_ratio(a, b, c)
            row.append("%.2fx" % ratio if ratio is not None else "–")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append("## Latency (p50 / p99 / p99.9, closed loop)")
    lines.append("")
    lines.append("| payload | conns | depth | " + " | ".join(labels) + " |")
    lines.append("|---|--:|--:|" + "--:|" * len(labels))
    for c in configs:
        payload, conns, depth = config_name(c)
        row = [payload, str(conns), str(depth)]
        for s in servers:
            row.append("%s / %s / %s" % (fmt_us(lat(s, c, "p50")),
                                         fmt_us(lat(s, c, "p99")),
                                         fmt_us(lat(s, c, "p999"))))
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")

    lines.append("## CPU use (server % / loadgen %, of one core)")
    lines.append("")
    lines.append("A side at ~100% is the bottleneck of that run; the "
                 "load generator must not be the one.")
    lines.append("")
    lines.append("| payload | conns | depth | " + " | ".join(labels) + " |")
    lines.append("|---|--:|--:|" + "--:|" * len(labels))
    for c in configs:
        payload, conns, depth = config_name(c)
        row = [payload, str(conns), str(depth)]
        for s in servers:
            sc, lc = cell(s, c, "server_cpu_percent"), cell(s, c, "cpu_percent")
            row.append("%s / %s" % ("%.0f" % sc if sc is not None else "?",
                                    "%.0f" % lc if lc is not None else "?"))
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append("## Server CPU per echoed message (ns of CPU time)")
    lines.append("")
    lines.append("The server process's user + system CPU time over the "
                 "measured part of the run, divided by the messages echoed; "
                 "it holds whichever side saturates.")
    lines.append("")
    lines.append("| payload | conns | depth | " + " | ".join(labels) +
                 " | tao/epoll |")
    lines.append("|---|--:|--:|" + "--:|" * (len(labels) + 1))
    for c in configs:
        payload, conns, depth = config_name(c)
        row = [payload, str(conns), str(depth)]
        for srv in servers:
            v = cell(srv, c, "server_cpu_ns_per_msg")
            row.append("%.0f" % v if v is not None else "?")
        r = paired("tao_inline", "epoll", c, cpu_per_msg)
        row.append("%.2fx" % r if r is not None else "–")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    busy = []
    for c in configs:
        for s in servers:
            lc = cell(s, c, "cpu_percent")
            if lc is not None and lc >= 90:
                payload, conns, depth = config_name(c)
                busy.append("%s at %s/%d conns/depth %d (%.0f%%)" % (
                    SERVERS[s][2], payload, conns, depth, lc))
    if busy:
        lines.append("The load generator was >= 90%% busy against: %s. The "
                     "kernel's share of an echo is the same on both sides, "
                     "so against the fastest servers the ceiling measured "
                     "is that of the pair; those numbers are lower bounds "
                     "of the server's." % "; ".join(busy))
        lines.append("")

    if memory:
        lines.append("## Memory per idle connection (user space, VmRSS)")
        lines.append("")
        lines.append("Accepted in: from the load generator's first connect "
                     "until the server holds every connection (its socket "
                     "count).")
        lines.append("")
        lines.append("| server | idle conns | RSS before | RSS with them | "
                     "per connection | accepted in |")
        lines.append("|---|--:|--:|--:|--:|--:|")
        for m in memory:
            per = m["bytes_per_connection"]
            lines.append("| %s | %d | %.1f MiB | %.1f MiB | %s | %s |" % (
                SERVERS[m["server"]][2], m["opened"],
                m["rss_before_kib"] / 1024, m["rss_after_kib"] / 1024,
                ("%.0f bytes" % per) if per is not None else "err",
                "%.2f s" % m["accept_s"] if m.get("accept_s") else "?"))
        lines.append("")
        bursts = [m for m in memory if (m.get("burst") or {}).get("peak_kib")]
        if bursts:
            lines.append("## After a burst (RSS)")
            lines.append("")
            lines.append("Every idle connection echoes one %d KiB message "
                         "(loadgen --burst, 1,000 connections at a time), "
                         "then all are idle again." % (BURST_PAYLOAD >> 10))
            lines.append("")
            lines.append("| server | conns | idle | peak | 1 s after | "
                         "3 s after | 3 s after / idle |")
            lines.append("|---|--:|--:|--:|--:|--:|--:|")
            for m in bursts:
                b = m["burst"]
                lines.append("| %s | %d | %.1f MiB | %.1f MiB | %.1f MiB | "
                             "%.1f MiB | %.2fx |" % (
                                 SERVERS[m["server"]][2], m["opened"],
                                 m["rss_after_kib"] / 1024,
                                 b["peak_kib"] / 1024,
                                 b["after_1s_kib"] / 1024,
                                 b["after_3s_kib"] / 1024,
                                 b["after_3s_kib"] / max(m["rss_after_kib"],
                                                         1)))
            lines.append("")
        if memory and memory[0]["requested"] < 10000:
            lines.append("(Fewer than 10,000 idle connections: %s.)" %
                         data["idle_reason"])
            lines.append("")

    # Targets from issue 13.
    lines.append("## Targets (issue 13)")
    lines.append("")
    lines.append("| target | measured | status |")
    lines.append("|---|---|---|")

    def find(payload, conns, depth):
        for c in configs:
            if (c["payload"], c["connections"], c["depth"]) == (
                    payload, conns, depth):
                return c
        return None

    def status(ok):
        if ok is None:
            return "not measured"
        return "met" if ok else "**missed**"

    def rate(r):
        return r["msgs_per_s"]

    def p99(run):
        return run["latency_us"].get("p99")

    targets = []

    def rate_target(server, at_least, shape):
        c = find(*shape)
        r = rate_ratio(server, "epoll", c) if c else None
        if r is None:
            return
        payload, conns, depth = config_name(c)
        targets.append(("%s >= %.1fx epoll msgs/s (%s, %d conns, depth %d)" % (
            SERVERS[server][2], at_least, payload, conns, depth),
            "%.2fx%s" % (r, spread(server, "epoll", c, rate, "%.2f")),
            r >= at_least))

    for shape in ((32, 100, 16), (32, 1000, 16), (16384, 1, 16),
                  (16384, 100, 16)):
        rate_target("tao_inline", 1.0, shape)
    for shape in ((32, 100, 16), (32, 1000, 16)):
        rate_target("tao_pool", 0.6, shape)
    c = find(32, 100, 16)
    if c:
        r = paired("tao_inline", "epoll", c, cpu_per_msg)
        if r is not None:
            targets.append(("tao inline server CPU per message <= 1.1x "
                            "epoll (32 B, 100 conns, depth 16)",
                            "%.2fx; medians %.0f vs %.0f ns" % (
                                r, cell("tao_inline", c,
                                        "server_cpu_ns_per_msg"),
                                cell("epoll", c, "server_cpu_ns_per_msg")),
                            r <= 1.1))
    for shape, at_most in (((32, 1, 1), 1.1), ((32, 1000, 16), 1.2)):
        c = find(*shape)
        r = paired("tao_inline", "epoll", c, p99) if c else None
        if r is None:
            continue
        payload, conns, depth = config_name(c)
        targets.append(("tao inline p99 <= %.1fx epoll (%s, %d conns, "
                        "depth %d)" % (at_most, payload, conns, depth),
                        "%.2fx%s; medians %s vs %s" % (
                            r, spread("tao_inline", "epoll", c, p99, "%.2f"),
                            fmt_us(lat("tao_inline", c, "p99")),
                            fmt_us(lat("epoll", c, "p99"))),
                        r <= at_most))
    for m in memory:
        if m["server"] != "tao_inline":
            continue
        per = m["bytes_per_connection"]
        if per and m["requested"] == data.get("idle_requested", 10000):
            targets.append(("tao <= 512 bytes per idle connection (%d)" %
                            m["opened"], "%.0f bytes" % per, per <= 512))
        b = m.get("burst") or {}
        if b.get("after_3s_kib"):
            ratio = b["after_3s_kib"] / max(m["rss_after_kib"], 1)
            targets.append(("tao RSS 3 s after a 64 KiB burst <= 1.5x idle",
                            "%.2fx (%.1f of %.1f MiB; peak %.1f MiB)" % (
                                ratio, b["after_3s_kib"] / 1024,
                                m["rss_after_kib"] / 1024,
                                b["peak_kib"] / 1024), ratio <= 1.5))
        if m["requested"] > data.get("idle_requested", 10000):
            targets.append(("tao holds %d idle connections" % m["requested"],
                            "%d accepted in %.2f s, %.0f bytes each" % (
                                m["accepted"], m["accept_s"], per or 0),
                            m["accepted"] >= m["requested"]))
    for name, measured, ok in targets:
        lines.append("| %s | %s | %s |" % (name, measured, status(ok)))
    lines.append("")
    if chart_name:
        lines.append("## msgs/s by connection count")
        lines.append("")
        lines.append("![msgs/s by connection count per server](%s)" %
                     chart_name)
        lines.append("")
    errors = [(k, r) for k, runs in cells.items() for r in runs.values()
              if r is not None and r.get("error_total")]
    failures = data["failures"]
    if errors or failures:
        lines.append("## Errors")
        lines.append("")
        for f in failures:
            lines.append("- %s" % f)
        for k, r in errors:
            lines.append("- %s %s: %s" % (k[0], k[1:], r["errors"]))
        lines.append("")
    lines.append("## Reproduce")
    lines.append("")
    lines.append("```")
    flags = (["--quick"] if mode == "quick" else []) + (
        ["--nice=%d" % data["nice"]] if data["nice"] else []) + (
            ["--realtime"] if data["realtime"] else [])
    lines.append("./bazelw run -c opt //benchmarks:compare%s" % (
        " -- " + " ".join(flags) if flags else ""))
    lines.append("```")
    lines.append("")
    lines.append("`--nice=-10` (root) runs the servers and the load generator "
                 "in a scheduler group of their own at a higher weight, so "
                 "other work on a shared machine disturbs them less.")
    lines.append("")
    lines.append("Single runs: start a server (e.g. `bazel-bin/benchmarks/"
                 "load/tao_echo_server --port_file=/tmp/p`) and drive it with "
                 "`bazel-bin/benchmarks/load/loadgen --address=127.0.0.1:$(cat "
                 "/tmp/p) --connections=100 --depth=16 --payload=32 "
                 "--seconds=10`.")
    return "\n".join(lines) + "\n", targets


# --- The chart: a small SVG line chart, no dependencies --------------------
# render_chart(series, title) takes {(payload, depth): {server label:
# [(connections, msgs_per_s or None), ...]}} and draws one panel per
# (payload, depth), the connection counts as evenly spaced categories.

COLORS = ["#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b"]
PANEL_W, PANEL_H = 360, 240
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 64, 16, 30, 36


def _fmt(v):
    if v >= 1e6:
        return "%gM" % (v / 1e6)
    if v >= 1e3:
        return "%gk" % (v / 1e3)
    return "%g" % v


def _panel(x0, y0, key, lines, colors):
    payload, depth = key
    out = []
    values = [v for pts in lines.values() for _, v in pts if v]
    conns = sorted({c for pts in lines.values() for c, _ in pts})
    w = PANEL_W - MARGIN_L - MARGIN_R
    h = PANEL_H - MARGIN_T - MARGIN_B
    left, top = x0 + MARGIN_L, y0 + MARGIN_T
    name = "16 KiB" if payload == 16384 else "%d B" % payload
    out.append('<text x="%d" y="%d" font-size="13" font-weight="bold">'
               'payload %s, depth %d</text>' % (left, y0 + 18, name, depth))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" '
               'stroke="#999"/>' % (left, top, w, h))
    if not values or not conns:
        return out
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    if hi <= lo:
        hi = lo * 10

    def y_of(v):
        return top + h - (math.log10(v) - math.log10(lo)) / (
            math.log10(hi) - math.log10(lo)) * h

    def x_of(c):
        i = conns.index(c)
        return left + (w * (i + 0.5) / len(conns))

    decade = lo
    while decade <= hi * 1.0001:
        for m in (1, 2, 5):
            v = decade * m
            if lo <= v <= hi:
                y = y_of(v)
                out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" '
                           'stroke="#eee"/>' % (left, y, left + w, y))
                out.append('<text x="%d" y="%.1f" font-size="10" '
                           'text-anchor="end">%s</text>' % (
                               left - 4, y + 3, _fmt(v)))
        decade *= 10
    for c in conns:
        out.append('<text x="%.1f" y="%d" font-size="10" text-anchor="middle">'
                   '%d</text>' % (x_of(c), top + h + 14, c))
    out.append('<text x="%.1f" y="%d" font-size="10" text-anchor="middle">'
               'connections</text>' % (left + w / 2, top + h + 28))
    for label, pts in lines.items():
        pts = [(c, v) for c, v in sorted(pts) if v]
        if not pts:
            continue
        color = colors[label]
        path = " ".join("%.1f,%.1f" % (x_of(c), y_of(v)) for c, v in pts)
        out.append('<polyline points="%s" fill="none" stroke="%s" '
                   'stroke-width="2"/>' % (path, color))
        for c, v in pts:
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>'
                       '%s, %d conns: %.0f msgs/s</title></circle>' % (
                           x_of(c), y_of(v), color, escape(label), c, v))
    return out


def render_chart(series, title):
    """SVG line chart: one panel per (payload, depth), log y axis."""
    keys = sorted(series)
    cols = 2
    rows = max(1, (len(keys) + cols - 1) // cols)
    labels = []
    for k in keys:
        for label in series[k]:
            if label not in labels:
                labels.append(label)
    colors = {l: COLORS[i % len(COLORS)] for i, l in enumerate(labels)}
    width = PANEL_W * cols
    height = PANEL_H * rows + 60
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="20" font-size="14" text-anchor="middle">%s '
           '(log scale)</text>' % (width // 2, escape(title))]
    for i, label in enumerate(labels):
        x = 20 + i * 130
        out.append('<rect x="%d" y="32" width="14" height="4" fill="%s"/>' %
                   (x, colors[label]))
        out.append('<text x="%d" y="38" font-size="12">%s</text>' %
                   (x + 18, escape(label)))
    for i, k in enumerate(keys):
        out.extend(_panel((i % cols) * PANEL_W, 50 + (i // cols) * PANEL_H, k,
                          series[k], colors))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def run_one(runner, args, server, c, rep):
    """One loadgen run against a fresh server; returns its result (with
    "failed" set when it did not complete cleanly)."""
    flags = ["--connections=%d" % c["connections"], "--depth=%d" % c["depth"],
             "--payload=%d" % c["payload"], "--seconds=%g" % args.seconds,
             "--warmup=%g" % args.warmup, "--threads=1", "--label=" + server]
    what = "%s payload=%d conns=%d depth=%d rep %d" % (
        server, c["payload"], c["connections"], c["depth"], rep)
    result, error = None, None
    try:
        proc, port = runner.start_server(server)
    except RuntimeError as e:
        error = str(e)
    else:
        result, error = runner.loadgen(proc.pid, port, flags, args.warmup,
                                       timeout=args.seconds + args.warmup + 90)
        rc = runner.stop_server(proc)
        if rc not in (0, None) and not error:
            error = "%s exited with status %d" % (server, rc)
    if error:
        args.failures.append("%s: %s" % (what, error))
        log("  %s: %s" % (what, error))
    if result is None:
        result = {"msgs_per_s": None, "latency_us": {}}
    result.update(label=server, rep=rep, payload=c["payload"],
                  connections=c["connections"], depth=c["depth"],
                  failed=bool(error))
    return result


def run_matrix(runner, args, configs, servers, t0):
    """Every config on every server, args.reps times, interleaved."""
    raw = []
    total = len(configs) * len(servers) * args.reps
    for rep in range(args.reps):
        for c in configs:
            # Rotate the order each repetition so no server always runs right
            # after the same neighbour.
            k = rep % len(servers)
            for server in servers[k:] + servers[:k]:
                result = run_one(runner, args, server, c, rep)
                raw.append(result)
                log("[%3d/%d %5.0fs] %-10s %6d B %4d conns depth %2d: "
                    "%s msgs/s p99 %s" % (
                        len(raw), total, time.monotonic() - t0, server,
                        c["payload"], c["connections"], c["depth"],
                        fmt_rate(result["msgs_per_s"]),
                        fmt_us(result["latency_us"].get("p99"))))
    return raw


BURST_PAYLOAD = 64 << 10


def measure_memory(runner, args, servers):
    """Memory per idle connection of every server, what each keeps after a
    burst, and (tao inline) the most connections the process may hold."""
    memory = []
    settle = 0.05 if args.smoke else 0.4
    plan = [(server, args.idle, BURST_PAYLOAD) for server in servers]
    if args.max_connections > args.idle:
        plan += [(server, args.max_connections, 0) for server in servers
                 if server in ("tao_inline", "epoll")]
    for server, count, burst in plan:
        try:
            # The smoke test only checks that the burst path works.
            m = measure_idle(runner, server, count, settle, burst,
                             (0.1, 0.2) if args.smoke else (1.0, 3.0))
        except RuntimeError as e:
            args.failures.append(str(e))
            continue
        if m["error"]:
            args.failures.append("%s idle: %s" % (server, m["error"]))
        memory.append(m)
        b = m.get("burst") or {}
        log("idle %-10s %d conns: %s bytes/conn, accepted in %.2f s%s" % (
            server, m["opened"], "%.0f" % m["bytes_per_connection"]
            if m["bytes_per_connection"] is not None else "err",
            m["accept_s"], "; burst peak %.0f MiB, after 3 s %.0f MiB" % (
                b["peak_kib"] / 1024, b["after_3s_kib"] / 1024)
            if b.get("peak_kib") else ""))
    return memory


def add_runner_args(parser):
    """--out, --bin_dir, --no_pin and --nice (what a Runner and the report
    need), shared with soak.py."""
    parser.add_argument("--out", default=None,
                        help="output directory (default: the workspace's "
                             "benchmarks/results)")
    parser.add_argument("--bin_dir", default=None,
                        help="directory holding benchmarks/... binaries "
                             "(default: this program's runfiles)")
    parser.add_argument("--no_pin", action="store_true",
                        help="do not pin server and loadgen to CPUs")
    parser.add_argument("--nice", type=int, default=0,
                        help="run servers and loadgen under `nice -n N` (e.g. "
                             "-10 as root, to keep other work on the machine "
                             "from disturbing the measurement)")


def output_dir(out, workspace):
    """Where reports go: `out`, else the workspace's benchmarks/results
    under `bazel run`, else the test's temporary directory; created."""
    if out is None and workspace:
        out = os.path.join(workspace, "benchmarks", "results")
    elif out is None and os.environ.get("TEST_TMPDIR"):
        out = os.path.join(os.environ["TEST_TMPDIR"], "results")
    elif out is None:
        out = "benchmarks/results"
    os.makedirs(out, exist_ok=True)
    return out


def check_binaries(prog, root, binaries):
    """Exits with a message when one of `binaries` is not under `root`."""
    for binary in binaries:
        if not os.access(os.path.join(root, binary), os.X_OK):
            sys.exit("%s: %s not found under %s (use bazel run, or "
                     "--bin_dir)" % (prog, binary, root))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="one repetition of 1 s each (< 2 minutes)")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds, one tiny config (for tests)")
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--warmup", type=float, default=None)
    parser.add_argument("--idle", type=int, default=None,
                        help="idle connections for the memory measurement")
    parser.add_argument("--max_connections", type=int, default=None,
                        help="also hold this many idle connections (tao "
                             "inline and epoll): memory and accept time")
    parser.add_argument("--servers", default=",".join(SERVERS),
                        help="comma-separated subset of " + ",".join(SERVERS))
    add_runner_args(parser)
    parser.add_argument("--realtime", action="store_true",
                        help="run servers and loadgen under `chrt -f 1` "
                             "(SCHED_FIFO, root only): other work on the "
                             "machine then cannot delay their wake-ups")
    parser.add_argument("--report_from", default=None,
                        help="rewrite the report from a saved <date>.json "
                             "instead of measuring")
    args = parser.parse_args()

    if args.smoke:
        defaults = dict(reps=1, seconds=0.3, warmup=0.1, idle=100,
                        max_connections=0)
        configs = [dict(payload=32, connections=4, depth=4)]
    elif args.quick:
        defaults = dict(reps=1, seconds=1.0, warmup=0.25, idle=10000,
                        max_connections=0)
        configs = None
    else:
        defaults = dict(reps=3, seconds=3.0, warmup=0.5, idle=10000,
                        max_connections=19000)
        configs = None
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if configs is None:
        configs = [dict(payload=p, connections=c, depth=d)
                   for p in (32, 16384) for c in (1, 100, 1000)
                   for d in (1, 16)]
    servers = [s for s in args.servers.split(",") if s]
    for s in servers:
        if s not in SERVERS:
            parser.error("unknown server %r" % s)

    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY", "")
    root = args.bin_dir or os.path.dirname(HERE)
    out_dir = output_dir(args.out, workspace)
    if args.report_from:
        path = args.report_from
        if not os.path.isabs(path) and workspace:
            path = os.path.join(workspace, path)
        with open(path) as f:
            write_report(json.load(f), out_dir)
        return 0
    check_binaries("compare", root, [LOADGEN] + [SERVERS[s][0]
                                                 for s in servers])

    # Idle connections need a file descriptor each in both processes; each
    # binary raises its own soft limit to the hard limit.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    args.idle_reason = ""
    if hard != resource.RLIM_INFINITY and args.idle > hard - 100:
        args.idle_reason = ("the hard RLIMIT_NOFILE (ulimit -Hn) is %d" % hard)
        args.idle = max(1, hard - 100)
    elif args.idle < 10000:
        args.idle_reason = "--idle=%d was asked for" % args.idle
    if hard != resource.RLIM_INFINITY and args.max_connections > hard - 100:
        args.max_connections = max(0, hard - 100)

    cpus = os.sched_getaffinity(0)
    pin = not args.no_pin and {0, 1} <= cpus
    info = machine_info()
    revision = git_revision(workspace)
    started = datetime.datetime.now()
    t0 = time.monotonic()
    log("compare: %d configs x %d servers x %d reps, %.1f s each; %s" % (
        len(configs), len(servers), args.reps, args.seconds,
        "pinned" if pin else "not pinned"))
    args.failures = []
    with tempfile.TemporaryDirectory(prefix="tao-compare-") as tmp:
        runner = Runner(root, pin, tmp, args.nice, args.realtime)
        try:
            raw = run_matrix(runner, args, configs, servers, t0)
            memory = []
            if args.idle > 0:
                memory = measure_memory(runner, args, servers)
        finally:
            runner.kill_all()

    mode = "quick" if args.quick else ("smoke" if args.smoke else "full")
    data = {"mode": mode, "machine": info, "revision": revision,
            "started": started.isoformat(timespec="seconds"), "pinned": pin,
            "nice": args.nice, "realtime": args.realtime, "reps": args.reps,
            "seconds": args.seconds, "warmup": args.warmup,
            "elapsed": time.monotonic() - t0, "configs": configs,
            "servers": servers, "runs": raw, "memory": memory,
            "idle_requested": args.idle,
            "idle_reason": args.idle_reason, "failures": args.failures}
    write_report(data, out_dir)
    return 1 if args.failures else 0


def write_report(data, out_dir):
    """Writes <date>[-mode].{md,svg,json} into out_dir."""
    stem = data["started"][:10]
    if data["mode"] != "full":
        stem += "-" + data["mode"]
    chart_name = stem + ".svg"
    cells = cells_of(data["runs"])
    series = {}
    for s in data["servers"]:
        for c in data["configs"]:
            runs = cells.get((s, c["payload"], c["connections"], c["depth"]),
                             {})
            v = median([r["msgs_per_s"] for r in runs.values()
                        if r is not None])
            series.setdefault((c["payload"], c["depth"]), {}).setdefault(
                SERVERS[s][2], []).append((c["connections"], v))
    with open(os.path.join(out_dir, chart_name), "w") as f:
        f.write(render_chart(series, title="echo msgs/s by connection count "
                             "(%s, %s)" % (data["machine"]["model"], stem)))
    report, _ = build_report(data, chart_name)
    with open(os.path.join(out_dir, stem + ".md"), "w") as f:
        f.write(report)
    with open(os.path.join(out_dir, stem + ".json"), "w") as f:
        json.dump(data, f, indent=1)
    print(report)
    log("compare: wrote %s (%.0f s)" % (os.path.join(out_dir, stem + ".md"),
                                        data["elapsed"]))


if __name__ == "__main__":
    sys.exit(main())

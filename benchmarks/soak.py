#!/usr/bin/env python3
"""The soak benchmark of issue 12 (not run in CI): tao under load and attack.

    ./bazelw run -c opt //benchmarks:soak                          # 10 min, inline
    ./bazelw run -c opt //benchmarks:soak -- --handler_threads=2   # worker pool
    ./bazelw run -c opt //benchmarks:soak -- --minutes=0.5         # to try it

Starts tao_echo_server (one I/O loop; handlers inline, or on a pool with
--handler_threads=N) pinned to CPU 0, then on CPU 1, all for --minutes:
  - loadgen: 1000 connections x depth 16, 32 B echo frames, closed loop; at
    the end it stops sending and waits for every echo still in flight (the
    missing ones are "lost");
  - hostile: slowloris, non-readers, garbage / oversized lengths / odd type
    ids, truncated frames with RST or half-close, connection churn, idle
    connections (see benchmarks/load/hostile.cc);
  - control: one connection sending an echo every 100 ms, its round trips
    in a histogram (the loop latency a well-behaved client sees).
Every --sample seconds it records the server's VmRSS, open fds and CPU, and
the server prints its stats (connections, queued output, counters).

Writes benchmarks/results/<date>-soak-<mode>.{md,json} into the workspace
(or --out); <mode> is "inline" or "pool<N>", prefixed "quick-" for a run
shorter than 10 minutes. Exits 1 when a good client (loadgen) lost a message
or saw any error, the control connection lost or mismatched a reply, or the
server crashed. The hostile clients' outcomes are reported, not judged.
Only loopback (127.0.0.1) is used; every process stops by itself.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402  (Runner, /proc readers, machine info, formats)

LOADGEN = compare.LOADGEN
HOSTILE = "benchmarks/load/hostile"
CONTROL = "benchmarks/load/control"
SMOKE_HOSTILE = ["--slowloris=5", "--non_readers=1", "--slow_non_readers=1",
                 "--garbage_rate=10", "--truncate_rate=10", "--churn_rate=20",
                 "--idle=10", "--reaction_timeout=0.3"]


def log(msg):
    compare.log("soak: " + msg)


def open_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def json_lines(path, prefix):
    """The JSON objects of lines "<prefix> {...}" in a log file."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    try:
                        out.append(json.loads(line[len(prefix):]))
                    except ValueError:
                        pass
    except OSError:
        pass
    return out


def loadgen_progress(path):
    """[(t seconds, msgs/s)] from loadgen's progress lines."""
    series = []
    pattern = re.compile(r"\[\s*([\d.]+)s\]\s+(?:warmup\s+)?([\d.]+) msgs/s")
    try:
        with open(path) as f:
            for line in f:
                m = pattern.match(line)
                if m:
                    series.append((float(m.group(1)), float(m.group(2))))
    except OSError:
        pass
    return series


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def tail(path, n=600):
    try:
        with open(path) as f:
            return f.read()[-n:].strip()
    except OSError:
        return ""


def run(args, root, tmp):
    """Runs one soak; returns the data dict saved as JSON."""
    runner = compare.Runner(root, args.pin, tmp, args.nice, False)
    seconds = args.minutes * 60
    logs = {k: os.path.join(tmp, k + ".log")
            for k in ("server", "server_err", "loadgen", "hostile", "control")}
    outs = {k: os.path.join(tmp, k + ".json")
            for k in ("loadgen", "hostile", "control")}
    samples = []
    procs = {}
    data = {"failures": []}
    with open(logs["server"], "w") as sout, \
            open(logs["server_err"], "w") as serr:
        server, port = runner.start_server(
            "tao_inline", ["--io_threads=%d" % args.io_threads,
                           "--handler_threads=%d" % args.handler_threads,
                           "--stats_interval=%g" % args.stats_interval],
            stdout=sout, stderr=serr)
    server_t0 = time.monotonic()  # its stats lines count from about here
    address = "--address=127.0.0.1:%d" % port
    try:
        time.sleep(min(1.0, seconds / 10))
        t0 = time.monotonic()
        data["server_stats_offset"] = t0 - server_t0
        ticks0 = compare.cpu_ticks(server.pid)
        samples.append({"t": 0.0, "rss_kib": compare.rss_kib(server.pid),
                        "fds": open_fds(server.pid), "cpu_percent": 0.0,
                        "before_clients": True})
        clients = {
            "loadgen": [os.path.join(root, LOADGEN), address,
                        "--connections=%d" % args.connections,
                        "--depth=%d" % args.depth,
                        "--payload=%d" % args.payload,
                        "--seconds=%g" % seconds, "--drain=%g" % args.drain,
                        "--connect_timeout=30", "--json=" + outs["loadgen"]],
            "control": [os.path.join(root, CONTROL), address,
                        "--seconds=%g" % seconds,
                        "--interval_ms=%d" % args.control_interval_ms,
                        "--window=%g" % args.window, "--drain=%g" % args.drain,
                        "--json=" + outs["control"]],
            "hostile": [os.path.join(root, HOSTILE), address,
                        "--seconds=%g" % seconds,
                        "--json=" + outs["hostile"]] + args.hostile_flags,
        }
        for name in ("loadgen", "control", "hostile"):
            with open(logs[name], "w") as f:
                procs[name] = runner.spawn(runner._cmd(1, clients[name]),
                                           stdout=f, stderr=subprocess.STDOUT)
            if name == "loadgen":
                time.sleep(min(1.0, seconds / 10))  # its connections first
        # Sample until every client is done (each stops by itself; the
        # deadline is a safety net).
        deadline = t0 + seconds + args.drain + 120
        next_sample = t0 + args.sample
        prev_ticks, prev_t = ticks0, t0
        while any(p.poll() is None for p in procs.values()):
            now = time.monotonic()
            if now > deadline:
                data["failures"].append("clients still running %.0f s after "
                                        "the end: killed" % (now - t0))
                for p in procs.values():
                    if p.poll() is None:
                        p.kill()
                break
            if server.poll() is not None:
                data["failures"].append(
                    "the server exited during the run (status %s) at %.0f s"
                    % (server.returncode, now - t0))
                break
            if now >= next_sample:
                ticks = compare.cpu_ticks(server.pid)
                cpu = None
                if ticks is not None and prev_ticks is not None:
                    cpu = 100.0 * (ticks - prev_ticks) / compare.CLK_TCK / (
                        now - prev_t)
                prev_ticks, prev_t = ticks, now
                samples.append({"t": round(now - t0, 1),
                                "rss_kib": compare.rss_kib(server.pid),
                                "fds": open_fds(server.pid),
                                "cpu_percent": cpu})
                s = samples[-1]
                log("%6.0f s  RSS %.1f MiB  fds %s  server CPU %s%%" % (
                    s["t"], s["rss_kib"] / 1024, s["fds"],
                    "%.0f" % cpu if cpu is not None else "?"))
                next_sample += args.sample
            time.sleep(0.2)
        for p in procs.values():
            p.wait()
        samples.append({"t": round(time.monotonic() - t0, 1),
                        "rss_kib": compare.rss_kib(server.pid)
                        if server.poll() is None else None,
                        "fds": open_fds(server.pid), "after_clients": True})
        data["elapsed"] = time.monotonic() - t0
    finally:
        server_rc = runner.stop_server(server) if server.poll() is None \
            else server.returncode
        runner.kill_all()
    data.update(
        samples=samples, server_rc=server_rc,
        server_stats=json_lines(logs["server"], "stats: "),
        server_final=(json_lines(logs["server"], "final: ") or [None])[-1],
        server_stderr_tail=tail(logs["server_err"]),
        throughput=loadgen_progress(logs["loadgen"]))
    for name in ("loadgen", "control", "hostile"):
        data[name] = read_json(outs[name])
        data[name + "_rc"] = procs[name].returncode if name in procs else None
        data[name + "_log_tail"] = tail(logs[name], 1500)
    return data


def verdict(data):
    """The failures that make the soak fail (good clients, control, server)."""
    failures = list(data["failures"])
    lg, ctl = data.get("loadgen"), data.get("control")
    if lg is None:
        failures.append("loadgen wrote no result (exit %s): %s" % (
            data.get("loadgen_rc"), data.get("loadgen_log_tail", "")[-300:]))
    else:
        if lg.get("lost", 0):
            failures.append("good clients lost %d messages" % lg["lost"])
        if lg["error_total"]:
            failures.append("good clients saw %d errors: %s" % (
                lg["error_total"], ", ".join(
                    "%s %d" % kv for kv in lg["errors"].items() if kv[1])))
        if data.get("loadgen_rc") != 0:
            failures.append("loadgen exited with %s" % data.get("loadgen_rc"))
    if ctl is None:
        failures.append("control wrote no result (exit %s): %s" % (
            data.get("control_rc"), data.get("control_log_tail", "")[-300:]))
    else:
        for key in ("lost", "mismatched"):
            if ctl[key]:
                failures.append("control: %d replies %s" % (ctl[key], key))
        if ctl["closed_by_server"]:
            failures.append("control: closed by the server (%s)" %
                            ctl["first_problem"])
        if data.get("control_rc") != 0:
            failures.append("control exited with %s" % data.get("control_rc"))
    if data.get("hostile") is None:
        failures.append("hostile wrote no result (exit %s): %s" % (
            data.get("hostile_rc"), data.get("hostile_log_tail", "")[-300:]))
    if data.get("server_rc") not in (0,):
        failures.append("the server exited with status %s: %s" % (
            data.get("server_rc"), data.get("server_stderr_tail", "")[-300:]))
    return failures


def mib(kib):
    return "%.1f" % (kib / 1024) if kib is not None else "–"


def stats_at(data, t):
    """The server's stats line nearest to `t` seconds into the run."""
    stats = data["server_stats"]
    if not stats:
        return None
    t += data.get("server_stats_offset", 0)
    return min(stats, key=lambda s: abs(s["t"] - t))


STALL_COUNTERS = ("accepted", "closed_with_error", "frame_timeouts",
                  "bad_frames", "closed_over_budget", "handled_after_close")


def stall_lines(data):
    """Report lines on the seconds in which the good clients' throughput fell
    below 10% of the run's median, with what the server's counters did
    around each (from 2 s before to 1 s after)."""
    rates = sorted(r for _, r in data["throughput"])
    if not rates:
        return []
    median = rates[len(rates) // 2]
    stalls = [(t, r) for t, r in data["throughput"] if r < 0.1 * median]
    lines = ["## Stalls (seconds below 10%% of the median %s msgs/s)" %
             compare.fmt_rate(median), ""]
    if not stalls:
        return lines + ["None.", ""]
    lines.append("| t (loadgen) | msgs/s | server counters from t-2 s to "
                 "t+1 s | queued output | connections |")
    lines.append("|--:|--:|---|--:|--:|")
    for t, r in stalls:
        before, after = stats_at(data, t - 2), stats_at(data, t + 1)
        moved = ", ".join("%s +%d" % (k, after[k] - before[k])
                          for k in STALL_COUNTERS
                          if before and after and after[k] != before[k])
        lines.append("| %.0f s | %s | %s | %s | %s |" % (
            t, compare.fmt_rate(r), moved or "–",
            "%.1f MiB" % (after["queued_output_bytes"] / 2**20)
            if after else "–", after["connections"] if after else "–"))
    return lines + [""]


def build_report(data):
    """The Markdown report of one soak (the dict saved as JSON)."""
    info, cfg = data["machine"], data["config"]
    lg, ctl, hostile = data.get("loadgen"), data.get("control"), data.get(
        "hostile")
    lines = ["# tao soak benchmark: %s (%s, %g min)" % (
        data["started"][:16].replace("T", " "), data["mode"], cfg["minutes"]),
        ""]
    lines.append("- Machine: %s, %s CPUs%s, %s GiB RAM, Linux %s; load "
                 "average when started %s" % (
                     info["model"], info["cpus"],
                     " (%s guest)" % info["hypervisor"]
                     if info["hypervisor"] else "",
                     info.get("memory_gib", "?"), info["kernel"],
                     info["loadavg"]))
    lines.append("- tao revision: %s" % data["revision"])
    lines.append("- Server: tao_echo_server --io_threads=%d "
                 "--handler_threads=%d (%s), max_connections and "
                 "max_connections_per_ip lifted (0), other options default "
                 "(frame_timeout 30 s, max_output_bytes 64 MiB, output "
                 "budget 1 GiB, no heartbeat)" % (
                     cfg["io_threads"], cfg["handler_threads"],
                     "inline handlers" if cfg["handler_threads"] == 0
                     else "worker pool"))
    lines.append("- Pinning: %s" % (
        "server on CPU 0; loadgen, hostile and control on CPU 1 (taskset)"
        if data["pinned"] else "none"))
    lines.append("- Good clients: loadgen %d connections x depth %d, %d B "
                 "payload, closed loop, then --drain=%g s. Control: one echo "
                 "every %d ms (depth 1). Hostile flags: %s" % (
                     cfg["connections"], cfg["depth"], cfg["payload"],
                     cfg["drain"], cfg["control_interval_ms"],
                     " ".join(cfg["hostile_flags"]) or "defaults"))
    lines.append("")
    failures = data["verdict"]
    lines.append("## Verdict: %s" % ("**FAIL**" if failures else "pass"))
    lines.append("")
    for f in failures:
        lines.append("- %s" % f)
    if failures:
        lines.append("")

    lines.append("## Good clients (loadgen)")
    lines.append("")
    if lg:
        lat = lg["latency_us"]
        lines.append("| messages echoed | msgs/s | lost | errors | drained "
                     "at end | p50 | p99 | p99.9 | max |")
        lines.append("|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        lines.append("| %d | %s | %d | %d | %d in %.2f s | %s | %s | %s | "
                     "%s |" % (
                         lg["messages"], compare.fmt_rate(lg["msgs_per_s"]),
                         lg.get("lost", 0), lg["error_total"],
                         lg.get("drained", 0), lg.get("drain_s", 0),
                         compare.fmt_us(lat["p50"]), compare.fmt_us(lat["p99"]),
                         compare.fmt_us(lat["p999"]),
                         compare.fmt_us(lat["max"])))
        lines.append("")
        lines.append("Errors by kind: " + ", ".join(
            "%s %d" % kv for kv in lg["errors"].items()) + ".")
    else:
        lines.append("No result.")
    lines.append("")

    lines.append("## Control connection (loop latency, round trip)")
    lines.append("")
    if ctl:
        lat = ctl["latency_us"]
        lines.append("Sent %d, received %d, lost %d, mismatched %d, ticks "
                     "skipped (previous echo later than %d ms) %d. Whole run: "
                     "p50 %s, p99 %s, p99.9 %s, max %s." % (
                         ctl["sent"], ctl["received"], ctl["lost"],
                         ctl["mismatched"], ctl["interval_ms"],
                         ctl["skipped_ticks"], compare.fmt_us(lat["p50"]),
                         compare.fmt_us(lat["p99"]),
                         compare.fmt_us(lat["p999"]),
                         compare.fmt_us(lat["max"])))
        lines.append("")
    else:
        lines.append("No result.")
        lines.append("")

    # Per window (minute): throughput, control latency, server state.
    window = cfg["window"]
    lines.append("## Per %s" % ("minute" if window == 60 else
                                "%g s" % window))
    lines.append("")
    lines.append("| window | good msgs/s | control n | control p50 | "
                 "control p99 | control max | RSS at end | fds | server "
                 "conns | queued output | held input |")
    lines.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    windows = ctl["windows"] if ctl else []
    for i, w in enumerate(windows):
        start, end = w["start_s"], w["start_s"] + window
        rates = [r for t, r in data["throughput"] if start < t <= end]
        rate = sum(rates) / len(rates) if rates else None
        sample = [s for s in data["samples"] if s["t"] <= end + 1e-6]
        s = sample[-1] if sample else None
        st = stats_at(data, end)
        lat = w["latency_us"]
        lines.append("| %g–%g s | %s | %d | %s | %s | %s | %s MiB | %s | %s "
                     "| %s | %s |" % (
                         start, end,
                         compare.fmt_rate(rate) if rate is not None else "–",
                         lat["count"],
                         compare.fmt_us(lat["p50"]), compare.fmt_us(lat["p99"]),
                         compare.fmt_us(lat["max"]),
                         mib(s["rss_kib"]) if s else "–",
                         s["fds"] if s else "–",
                         st["connections"] if st else "–",
                         "%.1f MiB" % (st["queued_output_bytes"] / 2**20)
                         if st else "–",
                         "%.0f KiB" % (st["held_input_bytes"] / 1024)
                         if st else "–"))
    lines.append("")

    lines.append("## Server RSS and fds over time (every %g s)" %
                 cfg["sample"])
    lines.append("")
    lines.append("| t | VmRSS | fds | server CPU | server conns | queued "
                 "output | accepted | closed with error |")
    lines.append("|--:|--:|--:|--:|--:|--:|--:|--:|")
    for s in data["samples"]:
        st = (data.get("server_final") if s.get("after_clients") else
              stats_at(data, s["t"]))
        note = (" (before clients)" if s.get("before_clients") else
                " (after clients)" if s.get("after_clients") else "")
        lines.append("| %.0f s%s | %s MiB | %s | %s | %s | %s | %s | %s |" % (
            s["t"], note, mib(s["rss_kib"]), s["fds"],
            "%.0f%%" % s["cpu_percent"] if s.get("cpu_percent") is not None
            else "–", st["connections"] if st else "–",
            "%.1f MiB" % (st["queued_output_bytes"] / 2**20) if st else "–",
            st["accepted"] if st else "–",
            st["closed_with_error"] if st else "–"))
    lines.append("")
    rss = [s["rss_kib"] for s in data["samples"]
           if s.get("rss_kib") is not None and not s.get("before_clients")]
    if rss:
        half = len(rss) // 2
        lines.append("RSS: %s MiB before the clients, peak %s MiB, last %s "
                     "MiB; peak of the first half %s MiB, of the second half "
                     "%s MiB." % (
                         mib(data["samples"][0]["rss_kib"]), mib(max(rss)),
                         mib(rss[-1]), mib(max(rss[:half] or rss)),
                         mib(max(rss[half:]))))
        lines.append("")

    lines.extend(stall_lines(data))
    lines.append("## Hostile clients and the server's reactions")
    lines.append("")
    if hostile:
        lines.append("Peak sockets held by the hostile process: %d (cap %d). "
                     "`<variant>.<reaction>`: closed = the server closed "
                     "(EOF), reset = ECONNRESET, open = still open when the "
                     "probe stopped waiting, echoed = the echo request sent "
                     "after the odd frame was answered; `*_ms_*` are "
                     "milliseconds, `*_mib_*` MiB sent before the close." % (
                         hostile["peak_sockets"], hostile["max_sockets"]))
        lines.append("")
        lines.append("Connections opened per second: " + ", ".join(
            "%s %.1f" % (kind, counts.get("opened", 0) / hostile["seconds"])
            for kind, counts in hostile["kinds"].items()) + ".")
        lines.append("")
        lines.append("| kind | counter | value |")
        lines.append("|---|---|--:|")
        for kind, counts in hostile["kinds"].items():
            for name, value in counts.items():
                lines.append("| %s | %s | %s |" % (kind, name, value))
    else:
        lines.append("No result.")
    lines.append("")

    final = data.get("server_final")
    if final:
        lines.append("## Server counters at the end")
        lines.append("")
        lines.append(", ".join("%s %s" % kv for kv in final.items()
                               if kv[0] != "t") + ".")
        lines.append("")
    lines.append("Rerun: `./bazelw run -c opt //benchmarks:soak -- "
                 "--minutes=%g --handler_threads=%d`." % (
                     cfg["minutes"], cfg["handler_threads"]))
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--handler_threads", type=int, default=0,
                        help="0: handlers inline on the I/O loop; N: a pool")
    parser.add_argument("--io_threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--depth", type=int, default=16)
    parser.add_argument("--payload", type=int, default=32)
    parser.add_argument("--drain", type=float, default=10,
                        help="seconds the good clients wait at the end for "
                             "the echoes still in flight")
    parser.add_argument("--control_interval_ms", type=int, default=100)
    parser.add_argument("--window", type=float, default=None,
                        help="seconds per latency window (default 60, or "
                             "1/10 of a shorter run)")
    parser.add_argument("--sample", type=float, default=None,
                        help="seconds between RSS samples (default 10)")
    parser.add_argument("--stats_interval", type=float, default=1,
                        help="seconds between the server's stats lines")
    parser.add_argument("--hostile_flag", action="append", default=[],
                        dest="hostile_flags",
                        help="a flag for hostile (repeatable), e.g. "
                             "--hostile_flag=--idle=500")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds, small counts (for tests)")
    compare.add_runner_args(parser)
    args = parser.parse_args()
    if args.smoke:
        args.minutes, args.connections, args.depth, args.drain = (
            0.05, 8, 4, 2)
        args.hostile_flags = SMOKE_HOSTILE + args.hostile_flags
    if args.window is None:
        args.window = min(60.0, args.minutes * 6)
    if args.sample is None:
        args.sample = min(10.0, args.minutes * 6)
    if args.minutes <= 0 or args.connections < 1 or args.depth < 1:
        parser.error("--minutes, --connections and --depth must be > 0")

    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY", "")
    root = args.bin_dir or os.path.dirname(HERE)
    out_dir = compare.output_dir(args.out, workspace)
    compare.check_binaries("soak", root, [
        LOADGEN, HOSTILE, CONTROL, compare.SERVERS["tao_inline"][0]])
    args.pin = not args.no_pin and {0, 1} <= os.sched_getaffinity(0)

    mode = "inline" if args.handler_threads == 0 else (
        "pool%d" % args.handler_threads)
    if args.smoke:
        mode = "smoke-" + mode
    elif args.minutes < 10:
        mode = "quick-" + mode
    started = datetime.datetime.now()
    log("%g min, %s, %d x %d, %s" % (args.minutes, mode, args.connections,
                                     args.depth,
                                     "pinned" if args.pin else "not pinned"))
    info = compare.machine_info()
    with tempfile.TemporaryDirectory(prefix="tao-soak-") as tmp:
        data = run(args, root, tmp)
    data.update(
        mode=mode, machine=info, revision=compare.git_revision(workspace),
        started=started.isoformat(timespec="seconds"), pinned=args.pin,
        config={k: getattr(args, k) for k in (
            "minutes", "handler_threads", "io_threads", "connections",
            "depth", "payload", "drain", "control_interval_ms", "window",
            "sample", "stats_interval", "hostile_flags")})
    data["verdict"] = verdict(data)
    stem = "%s-soak-%s" % (data["started"][:10], mode)
    report = build_report(data)
    with open(os.path.join(out_dir, stem + ".md"), "w") as f:
        f.write(report)
    with open(os.path.join(out_dir, stem + ".json"), "w") as f:
        json.dump(data, f, indent=1)
    print(report)
    log("wrote %s: %s" % (os.path.join(out_dir, stem + ".md"),
                          "FAIL: " + "; ".join(data["verdict"])
                          if data["verdict"] else "pass"))
    return 1 if data["verdict"] else 0


if __name__ == "__main__":
    sys.exit(main())

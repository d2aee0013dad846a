#!/usr/bin/env python3
"""B1: concurrent live recordings, native recorder vs streamlink, same local origin.

Standalone mode (default): for each stream count N, starts a local origin with N channels (2 s
segments, ~2.5 Mbps 720p), records all N channels for --seconds with the native recorder (one
process) and then with streamlink (one process per stream), and measures per-stream RSS and CPU
(from /proc samples and wait4 rusage) and missed segments. Writes the
"## B1 — concurrent recordings" section of docs/benchmarks.md (only that section).

Server mode (--mode server): N channels go live on the fake Twitch (`tapearr-fakes twitch
--realistic`), one `tapearr serve` records them all (added through its API), and N streamlink
processes record the same origin side by side in the same run. After start-up (all recordings
running, every streamlink writing, then --warmup seconds) it measures a steady window of
--seconds: RSS from 1 s /proc samples, CPU as the delta of utime+stime (/proc/PID/stat) over
the window, missed segments from the server's API (recordings' missed_segments and gaps) and
from streamlink's log. Writes the "## B1 — recording through `tapearr serve`" section.

Usage: run.py [--mode standalone|server] [--counts 1,10,100,200] [--seconds 60] [--warmup 15]
              [--streamlink PATH] [--bin-dir target/release] [--label TEXT]
"""
import argparse
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import server as server_mode

ROOT = Path(__file__).resolve().parents[2]
# A streamlink that has not exited this long after SIGINT is killed (one once hung for minutes).
STOP_GRACE_S = 20
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    """Resident set of a live process in KiB (0 when gone)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE // 1024
    except (OSError, IndexError, ValueError):
        return 0


def start_origin(bin_dir, n):
    proc = subprocess.Popen(
        [str(bin_dir / "tapearr-fakes"), "hls", "--channels", str(n), "--realistic", "--window", "6"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    ready = proc.stdout.readline()
    if not ready.startswith("READY"):
        raise SystemExit(f"origin failed to start: {ready!r}")
    urls = [proc.stdout.readline().strip() for _ in range(n)]
    return proc, urls


class Sampler:
    """Samples the summed RSS of a set of pids once a second."""

    def __init__(self):
        self.samples = []

    def sample(self, pids):
        self.samples.append(sum(rss_kb(p) for p in pids))

    def mean_kb(self):
        # Skip the first samples (start-up) when there are enough.
        s = self.samples[2:] if len(self.samples) > 4 else self.samples
        return sum(s) / len(s) if s else 0.0

    def peak_kb(self):
        return max(self.samples, default=0)


def wait_rusage(pid):
    _, status, ru = os.wait4(pid, 0)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def run_native(bin_dir, urls, seconds, out):
    cmd = [str(bin_dir / "tapearr-hls-record"), "--multi", "--duration", str(seconds),
           "--output", str(out / "native.ts"), *urls]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = Sampler()
    t0 = time.monotonic()
    while proc.poll() is None:
        sampler.sample([proc.pid])
        time.sleep(1)
        if time.monotonic() - t0 > seconds + 60:
            proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate()
    # poll() reaped it; CPU from /proc is gone, so use the children rusage delta instead.
    total = re.search(r"TOTAL streams=(\d+) written=(\d+) missed=(\d+)", stdout)
    if not total:
        raise SystemExit(f"native run failed: {stdout}\n{stderr}")
    return sampler, int(total.group(2)), int(total.group(3))


GAP = re.compile(r"Sequence gap of (\d+) segment")
FAIL = re.compile(r"Failed to fetch segment|Download of segment \d+ failed")


def run_streamlink(binary, urls, seconds, out):
    procs = []
    logs = []
    for i, url in enumerate(urls):
        log = open(out / f"sl-{i}.log", "w+")
        logs.append(log)
        procs.append(subprocess.Popen(
            [binary, "--loglevel", "info", "--hls-live-edge", "3", "--force",
             "--output", str(out / f"sl-{i}.ts"), url, "best"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))
    started = [time.monotonic()] * len(procs)
    sampler = Sampler()
    stopped = [False] * len(procs)
    while any(p.poll() is None for p in procs):
        now = time.monotonic()
        for i, p in enumerate(procs):
            # Each process records `seconds` after all were spawned, then gets SIGINT.
            if not stopped[i] and now - started[i] >= seconds:
                stopped[i] = True
                try:
                    os.killpg(p.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
        # Sample only the recording window: after the stop signal, stragglers that take long
        # to exit would otherwise drag the mean toward one process.
        if not any(stopped):
            sampler.sample([p.pid for p in procs if p.poll() is None])
        elif now - started[0] >= seconds + STOP_GRACE_S:
            for p in procs:
                if p.poll() is None:
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        time.sleep(1)
    missed = 0
    for log in logs:
        log.seek(0)
        text = log.read()
        missed += sum(int(m) for m in GAP.findall(text)) + len(FAIL.findall(text))
        log.close()
    return sampler, missed


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measure(args, bin_dir, n):
    origin, urls = start_origin(bin_dir, n)
    row = {"n": n}
    try:
        with tempfile.TemporaryDirectory(prefix="b1-", dir=args.work_dir) as tmp:
            out = Path(tmp)
            c0 = children_cpu()
            sampler, written, missed = run_native(bin_dir, urls, args.seconds, out)
            cpu = children_cpu() - c0
            row.update(native_rss_kb=sampler.mean_kb(), native_peak_kb=sampler.peak_kb(),
                       native_cpu_s=cpu, native_written=written, native_missed=missed)
            print(f"  native     N={n}: mean RSS {sampler.mean_kb()/1024:.1f} MiB, CPU {cpu:.1f} s, "
                  f"written {written}, missed {missed}", flush=True)
        if args.streamlink and n <= args.max_streamlink:
            with tempfile.TemporaryDirectory(prefix="b1-", dir=args.work_dir) as tmp:
                out = Path(tmp)
                c0 = children_cpu()
                t0 = time.monotonic()
                sampler, missed = run_streamlink(args.streamlink, urls, args.seconds, out)
                cpu = children_cpu() - c0
                row.update(sl_rss_kb=sampler.mean_kb(), sl_peak_kb=sampler.peak_kb(),
                           sl_cpu_s=cpu, sl_missed=missed, sl_wall=time.monotonic() - t0)
                print(f"  streamlink N={n}: mean RSS {sampler.mean_kb()/1024:.1f} MiB, CPU {cpu:.1f} s, "
                      f"missed {missed}", flush=True)
    finally:
        origin.stdin.close()
        origin.wait(timeout=10)
    return row


def fmt_table(rows, seconds):
    lines = [
        "| streams | native RSS total (peak) | native RSS/stream | native CPU/stream | native missed "
        "| streamlink RSS/stream | streamlink CPU/stream | streamlink missed | RSS ratio | CPU ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        n = r["n"]
        n_rss = r["native_rss_kb"] / n / 1024
        n_cpu = r["native_cpu_s"] / n / seconds * 100
        cells = [str(n), f"{r['native_rss_kb']/1024:.1f} MiB ({r['native_peak_kb']/1024:.1f})",
                 f"{n_rss:.2f} MiB", f"{n_cpu:.3f} %", str(r["native_missed"])]
        if "sl_rss_kb" in r:
            s_rss = r["sl_rss_kb"] / n / 1024
            s_cpu = r["sl_cpu_s"] / n / seconds * 100
            cells += [f"{s_rss:.1f} MiB", f"{s_cpu:.2f} %", str(r["sl_missed"]),
                      f"{s_rss / n_rss:.0f}×" if n_rss else "–", f"{s_cpu / n_cpu:.1f}×" if n_cpu else "–"]
        else:
            cells += ["not run", "not run", "–", "–", "–"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_section(path, body):
    header = "## B1 — concurrent recordings"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start = text.find(header)
    section = f"{header}\n\n{body.strip()}\n"
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        nxt = text.find("\n## ", start + len(header))
        text = text[:start] + section + ("\n" + text[nxt + 1:] if nxt >= 0 else "")
    path.write_text(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["standalone", "server"], default="standalone",
                    help="standalone: tapearr-hls-record --multi, then streamlink; server: one "
                    "`tapearr serve` on the fake Twitch beside streamlink in the same run")
    ap.add_argument("--counts", default="1,10,100,200")
    ap.add_argument("--warmup", type=int, default=15, help="server mode: seconds skipped after start-up")
    ap.add_argument("--label", default="", help="server mode: what this run measures (goes in the doc)")
    ap.add_argument("--keep", action="store_true", help="server mode: keep the run's folder")
    ap.add_argument("--perf", default=None, help="server mode: `perf record` the server over the window into this file")
    ap.add_argument("--no-doc", action="store_true", help="print the table only (trial runs)")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--streamlink", default=os.environ.get("TAPEARR_STREAMLINK")
                    or str(ROOT / "data/tools/venv/bin/streamlink"))
    ap.add_argument("--max-streamlink", type=int, default=200,
                    help="skip streamlink above this many streams")
    ap.add_argument("--bin-dir", default=str(ROOT / "target/release"))
    ap.add_argument("--work-dir", default=None, help="where recordings go (deleted after each run)")
    ap.add_argument("--out", default=str(ROOT / "docs/benchmarks.md"))
    args = ap.parse_args()
    if args.streamlink and not shutil.which(args.streamlink):
        print(f"streamlink not found at {args.streamlink}; native only", file=sys.stderr)
        args.streamlink = None
    bin_dir = Path(args.bin_dir)
    counts = [int(c) for c in args.counts.split(",") if c.strip()]
    if args.mode == "server":
        return main_server(args, bin_dir, counts)
    rows = []
    for n in counts:
        print(f"B1: {n} stream(s), {args.seconds} s each", flush=True)
        rows.append(measure(args, bin_dir, n))
    cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    sl_version = "not run"
    if args.streamlink:
        sl_version = subprocess.run([args.streamlink, "--version"], capture_output=True, text=True).stdout.strip()
    body = f"""
Native recorder (`tapearr-hls-record --multi`, one process, one shared HTTP client) vs {sl_version}
(one process per stream, `--hls-live-edge 3`, log level info), recording the same local origin
(`tapearr-fakes hls --realistic`: 720p, ~2.5 Mbps, 2 s TS segments, wall-clock live window).
Each recording runs {args.seconds} s; the runs are sequential, not concurrent. RSS is the mean of
1 s samples of the resident set summed over the recorder process(es), after start-up; CPU is
user+system time from `getrusage(RUSAGE_CHILDREN)` over the whole run (start-up included), per
stream as a percentage of one core. Missed segments: native from its exact accounting;
streamlink from its "Sequence gap" and "Failed to fetch/Download … failed" log lines.
Machine: {os.cpu_count()} CPU(s), {cpu_model}. Reproduce with `make bench-record`
(`BENCH_SECONDS`, `BENCH_COUNTS` to change the run).

{fmt_table(rows, args.seconds)}

Target (BENCHMARKS.md B1): per stream ≥ 30× less RSS and ≥ 5× less CPU than streamlink;
200 streams with 0 missed segments and total RSS < 300 MB.
"""
    write_section(Path(args.out), body)
    print(fmt_table(rows, args.seconds))


def main_server(args, bin_dir, counts):
    rows = []
    for n in counts:
        print(f"B1 (server): {n} channel(s), {args.warmup} s warm-up, {args.seconds} s window", flush=True)
        rows.append(server_mode.measure_server(args, bin_dir, n))
    table = server_mode.fmt_table(rows)
    print(table)
    cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    sl_version = "streamlink not run"
    if args.streamlink:
        sl_version = subprocess.run([args.streamlink, "--version"], capture_output=True, text=True).stdout.strip()
    head = "## B1 — recording through `tapearr serve`"
    counts_s = ",".join(str(c) for c in counts)
    run = f"""### {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC{' — ' + args.label if args.label else ''}

Command: `make bench-record BENCH_MODE=server BENCH_COUNTS={counts_s} BENCH_SECONDS={args.seconds}`
({sl_version}; {os.cpu_count()} CPU(s), {cpu_model}).

{table}
"""
    if args.no_doc:
        return
    path = Path(args.out)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    intro = f"""{head}

N channels go live on the fake Twitch (`tapearr-fakes twitch --realistic`: 720p, ~2.5 Mbps, 2 s TS
segments), one release `tapearr serve` (SQLite, default settings, 30 s Helix polling) records
them all, and N streamlink processes (`--hls-live-edge 3`) record the same origin in the same run.
After start-up (every recording running, every streamlink writing, then a warm-up) a steady window
is measured: RSS is the mean of 1 s samples of the resident set (the server's, the streamlink
processes' summed), CPU is the delta of utime+stime from `/proc/PID/stat` over the window, per
stream as a percentage of one core. Server missed segments and gaps are those added in the window,
from the API (`missed_segments`, `gaps`); streamlink's from its log. Each run below is kept; the
newest is last.
"""
    start = text.find(head)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + intro + "\n" + run
    else:
        nxt = text.find("\n## ", start + len(head))
        section = text[start:nxt + 1] if nxt >= 0 else text[start:]
        rest = text[nxt + 1:] if nxt >= 0 else ""
        # Keep the runs already written (and any reading added by hand); append this one.
        runs = section[section.find("### "):] if "### " in section else ""
        text = text[:start] + intro + "\n" + (runs.rstrip("\n") + "\n\n" if runs else "") + run \
            + ("\n" + rest if rest else "")
    path.write_text(text)


if __name__ == "__main__":
    main()

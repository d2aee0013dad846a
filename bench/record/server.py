"""B1 through the server: N channels live on the fake Twitch, one `tapearr serve` recording them
all, N streamlink processes on the same origin in the same run (see run.py --mode server)."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")
# Start-up (ffmpeg generating the origin's media the first time, N recordings and N streamlink
# processes starting on 2 cores) may take this long before the steady window.
STARTUP_TIMEOUT_S = 600
GAP = re.compile(r"Sequence gap of (\d+) segment")
FAIL = re.compile(r"Failed to fetch segment|Download of segment \d+ failed")


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE // 1024
    except (OSError, IndexError, ValueError):
        return 0


def cpu_ticks(pid):
    """utime+stime of a live process in clock ticks (None when gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The command name may hold spaces: fields count from after its closing paren.
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


class Api:
    """A tiny JSON client for the fake Twitch's control routes and Tapearr's API."""

    def __init__(self, base):
        self.base = base.rstrip("/")
        self.headers = {}
        self.cookie = None

    def call(self, method, path, body=None, ok=(200, 201, 204)):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("content-type", "application/json")
        for k, v in self.headers.items():
            req.add_header(k, v)
        if self.cookie:
            req.add_header("cookie", self.cookie)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, raw, headers = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, raw, headers = e.code, e.read(), e.headers
        for c in headers.get_all("set-cookie") or []:
            if c.startswith("tapearr_session="):
                self.cookie = c.split(";", 1)[0]
        text = raw.decode(errors="replace")
        if status not in ok:
            raise SystemExit(f"{method} {path}: {status} {text}")
        try:
            return json.loads(text) if text.strip() else None
        except ValueError:
            return text


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_twitch(bin_dir):
    proc = subprocess.Popen(
        [str(bin_dir / "tapearr-fakes"), "twitch", "--realistic", "--window", "6"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    ready, origin = proc.stdout.readline(), proc.stdout.readline()
    if not ready.startswith("READY ") or not origin.startswith("ORIGIN "):
        raise SystemExit(f"fake Twitch failed to start: {ready!r} {origin!r}")
    return proc, ready.split()[1].rstrip("/"), origin.split()[1].rstrip("/")


def start_server(bin_dir, data, twitch, log):
    port = free_port()
    (data / "library").mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "TAPEARR_LISTEN": f"127.0.0.1:{port}",
        "TAPEARR_TWITCH__CLIENT_ID": "fakeclientid0000000000000000000",
        "TAPEARR_TWITCH__CLIENT_SECRET": "fakeclientsecret00000000000000",
        "TAPEARR_TWITCH__HELIX_URL": f"{twitch}/helix/",
        "TAPEARR_TWITCH__ID_URL": f"{twitch}/",
        "TAPEARR_TWITCH__GQL_URL": f"{twitch}/gql",
        "TAPEARR_TWITCH__USHER_URL": f"{twitch}/",
        "TAPEARR_LIBRARY_ROOTS": str(data / "library"),
        "TAPEARR_DISK__LOW_FREE_GB": "0",
    }
    proc = subprocess.Popen([str(bin_dir / "tapearr"), "--data-dir", str(data / "data"), "serve"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    api = Api(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while True:
        try:
            api.call("GET", "/readyz")
            break
        except (OSError, SystemExit):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"tapearr serve did not start (see {log.name})")
            time.sleep(0.1)
    api.call("POST", "/api/v1/setup", {"username": "admin", "password": "correct horse battery"})
    r = api.call("POST", "/api/v1/auth/login", {"username": "admin", "password": "correct horse battery"})
    api.headers["x-csrf-token"] = r.get("csrf_token", "")
    key = api.call("POST", "/api/v1/apikeys", {"name": "bench"})["secret"]
    api.headers = {"x-api-key": key}
    api.cookie = None
    return proc, api


def recordings(api, status=None):
    out, offset = [], 0
    while True:
        q = f"/api/v1/recordings?limit=100&offset={offset}" + (f"&status={status}" if status else "")
        page = api.call("GET", q)
        out += page["items"]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return out


def wait_until(what, check, timeout=STARTUP_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while True:
        v = check()
        if v:
            return v
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(1)


def measure_server(args, bin_dir, n):
    """One side-by-side run with `n` channels; returns the row of the table."""
    twitch_proc, twitch, origin = start_twitch(bin_dir)
    control = Api(twitch)
    tmp = Path(tempfile.mkdtemp(prefix="b1s-", dir=args.work_dir))
    server = None
    sl = []
    logs = []
    try:
        logins = [f"b1ch{i:03}" for i in range(n)]
        for login in logins:
            control.call("POST", "/_control/users", {"login": login})
        t0 = time.monotonic()
        for login in logins:  # the first one generates the media set with ffmpeg (cached after)
            control.call("POST", f"/_control/live/{login}", {"title": "Bench", "game": "Chess"})
        print(f"  {n} channels live on the fake Twitch ({time.monotonic() - t0:.1f} s)", flush=True)
        server_log = open(tmp / "server.log", "w")
        server, api = start_server(bin_dir, tmp, twitch, server_log)
        for login in logins:
            api.call("POST", "/api/v1/channels", {"channel": login})
        sl_out = tmp / "streamlink"
        sl_out.mkdir()
        if args.streamlink:
            for i, login in enumerate(logins):
                log = open(sl_out / f"sl-{i}.log", "w+")
                logs.append(log)
                sl.append(subprocess.Popen(
                    [args.streamlink, "--loglevel", "info", "--hls-live-edge", "3", "--force",
                     "--output", str(sl_out / f"sl-{i}.ts"), f"{origin}/{login}/master.m3u8", "best"],
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                ))
        wait_until(f"{n} recordings running", lambda: len(recordings(api, "recording")) >= n)
        print(f"  server recording {n} channels ({time.monotonic() - t0:.1f} s)", flush=True)
        wait_until(f"{n} streamlink processes writing", lambda: all(
            (sl_out / f"sl-{i}.ts").exists() and (sl_out / f"sl-{i}.ts").stat().st_size > 0
            for i in range(len(sl))))
        print(f"  streamlink writing {len(sl)} streams ({time.monotonic() - t0:.1f} s); "
              f"warm-up {args.warmup} s", flush=True)
        time.sleep(args.warmup)
        before = {r["id"]: r for r in recordings(api, "recording")}
        gaps_before = {rid: len(api.call("GET", f"/api/v1/recordings/{rid}")["gaps"]) for rid in before}
        s_cpu0 = cpu_ticks(server.pid)
        sl_cpu0 = [cpu_ticks(p.pid) for p in sl]
        perf = None
        if args.perf:  # a profile of the server over the window (perf adds some CPU of its own)
            perf = subprocess.Popen(["perf", "record", "-F", "999", "--call-graph", "dwarf,16384", "-p", str(server.pid),
                                     "-o", args.perf, "--", "sleep", str(args.seconds)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        w0 = time.monotonic()
        s_rss, sl_rss = [], []
        while time.monotonic() - w0 < args.seconds:
            s_rss.append(rss_kb(server.pid))
            if sl:
                sl_rss.append(sum(rss_kb(p.pid) for p in sl))
            time.sleep(1)
        s_cpu1 = cpu_ticks(server.pid)
        sl_cpu1 = [cpu_ticks(p.pid) for p in sl]
        window = time.monotonic() - w0
        if perf is not None:
            perf.wait()
        if s_cpu0 is None or s_cpu1 is None:
            raise SystemExit(f"tapearr serve died during the window (see {tmp / 'server.log'})")
        sl_alive = sum(1 for a, b in zip(sl_cpu0, sl_cpu1) if a is not None and b is not None)
        sl_cpu = sum(b - a for a, b in zip(sl_cpu0, sl_cpu1) if a is not None and b is not None) / TICK
        after = {r["id"]: r for r in recordings(api)}
        missed = gaps = segments = 0
        for rid, r in after.items():
            missed += r["missed_segments"] - before.get(rid, {}).get("missed_segments", 0)
            segments += r["segments"] - before.get(rid, {}).get("segments", 0)
            gaps += len(api.call("GET", f"/api/v1/recordings/{rid}")["gaps"]) - gaps_before.get(rid, 0)
        still = sum(1 for r in after.values() if r["status"] == "recording")
        # Missed over the whole run too (start-up included): the target is 0 missed segments.
        missed_total = sum(r["missed_segments"] for r in after.values())
        gaps_total = sum(len(api.call("GET", f"/api/v1/recordings/{rid}")["gaps"]) for rid in after)
        for p in sl:
            try:
                os.killpg(p.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 20
        for p in sl:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        sl_missed = 0
        for log in logs:
            log.seek(0)
            text = log.read()
            sl_missed += sum(int(m) for m in GAP.findall(text)) + len(FAIL.findall(text))
        row = {
            "n": n, "window": window,
            "srv_rss_kb": sum(s_rss) / len(s_rss), "srv_peak_kb": max(s_rss),
            "srv_cpu_s": (s_cpu1 - s_cpu0) / TICK,
            "srv_missed": missed, "srv_gaps": gaps, "srv_segments": segments, "srv_running": still,
            "srv_missed_total": missed_total, "srv_gaps_total": gaps_total,
        }
        if sl:
            row.update(sl_rss_kb=sum(sl_rss) / len(sl_rss), sl_cpu_s=sl_cpu, sl_alive=sl_alive,
                       sl_missed=sl_missed)
        print(f"  server     N={n}: mean RSS {row['srv_rss_kb']/1024:.1f} MiB, CPU {row['srv_cpu_s']:.1f} s "
              f"in {window:.0f} s, {segments} segments, missed {missed} ({missed_total} in the run), "
              f"gaps {gaps} ({gaps_total}), {still} still recording", flush=True)
        if sl:
            print(f"  streamlink N={n}: mean RSS {row['sl_rss_kb']/1024:.1f} MiB, CPU {sl_cpu:.1f} s, "
                  f"{sl_alive} alive, missed {sl_missed}", flush=True)
        return row
    finally:
        for p in sl:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        twitch_proc.stdin.close()
        try:
            twitch_proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            twitch_proc.kill()
        if args.keep:
            print(f"  kept {tmp}", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def fmt_table(rows):
    lines = [
        "| streams | server RSS (peak) | server RSS/stream | server CPU/stream | server missed (gaps) "
        "| streamlink RSS/stream | streamlink CPU/stream | streamlink missed | RSS ratio | CPU ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        n, w = r["n"], r["window"]
        s_rss = r["srv_rss_kb"] / n / 1024
        s_cpu = r["srv_cpu_s"] / n / w * 100
        cells = [str(n), f"{r['srv_rss_kb']/1024:.1f} MiB ({r['srv_peak_kb']/1024:.1f})",
                 f"{s_rss:.2f} MiB", f"{s_cpu:.3f} %", f"{r['srv_missed']} ({r['srv_gaps']})"]
        if "sl_rss_kb" in r:
            l_rss = r["sl_rss_kb"] / n / 1024
            l_cpu = r["sl_cpu_s"] / n / w * 100
            cells += [f"{l_rss:.1f} MiB", f"{l_cpu:.3f} %", str(r["sl_missed"]),
                      f"{l_rss / s_rss:.0f}×" if s_rss else "–", f"{l_cpu / s_cpu:.1f}×" if s_cpu else "–"]
        else:
            cells += ["not run", "not run", "–", "–", "–"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)

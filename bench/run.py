"""data-hunter performance benchmark (issue 5).

    uv run python bench/run.py --rows 1000000
    uv run python bench/run.py --rows 1000000,10000000 --out ~/.cache/dh-bench --keep

For each row count it generates (or reuses) a deterministic ``records`` table (bench/gen.py),
then measures, against the floor scan ``SELECT sum(widget_views) FROM records`` of the same
process: (a) the daily series, (b) depth-3 attribution through the CLI and in-process (cube
build + ranking), (c) the naive one-GROUP-BY-per-combination plan and a cross-check that it
finds the same top segments, (d) lazy child expansion, (e) TUI cold start and import times,
(f) peak memory, (g) the 10M/1M scaling. It prints one markdown table plus the machine.

The in-process measurements run in a fresh worker process (this script with ``--worker``), so
its peak RSS is the engine's and not the generator's.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import re
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GEN = HERE / "gen.py"

METRIC = "widget_views"
JSON_TAG = "BENCH_JSON "


# --- helpers ----------------------------------------------------------------------------


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def pct(xs: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(-(-q * len(s) // 100)) - 1))
    return s[k]


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def rss_mb(kb: int) -> float:
    return kb / 1024.0  # Linux reports ru_maxrss in KiB


def hwm_mb() -> float:
    """This process's own peak RSS (VmHWM). ru_maxrss is not used for it: on Linux it also
    counts the parent's RSS at fork time, recorded when exec replaces the copied memory."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return rss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def run_measured(cmd: list[str], env: dict[str, str] | None = None,
                 out_path: Path | None = None) -> tuple[float, int, float, str, str]:  # fmt: skip
    """Run ``cmd`` with output to temp files, reaped with wait4 so we get its own peak RSS.
    Returns (wall s, exit code, peak RSS MiB, stdout, stderr)."""
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        return wall, p.returncode, rss_mb(usage.ru_maxrss), fo.read(), fe.read()


def data_hunter_cmd() -> list[str]:
    script = Path(sys.executable).with_name("data-hunter")
    return [str(script)] if script.exists() else [sys.executable, "-m", "data_hunter"]


def fmt_s(x: float | None) -> str:
    if x is None or x != x:
        return "n/a"
    if x < 1:
        return f"{x * 1000:.1f} ms"
    return f"{x:.2f} s"


def fmt_x(x: float | None, floor: float) -> str:
    if x is None or x != x or not floor:
        return ""
    return f"{x / floor:,.0f}x" if x / floor >= 10 else f"{x / floor:.1f}x"


# --- the worker: everything measured in one process -------------------------------------


def _naive(engine: Any, windows: Any, depth: int, keep: int) -> dict[int, list[tuple]]:
    """The naive plan: one sql.grouped_contribution query per combination, fetchall, top-n in
    Python. Returns per depth the ``keep`` largest (|contribution|, segment, actual, expected)."""
    import heapq

    from data_hunter import sql
    from data_hunter.segment import Segment

    rel = engine.schema.relation
    dims = engine.schema.dimensions
    con = engine.source.con
    a, b = windows.anomaly.bounds(), windows.baseline.bounds()
    out: dict[int, list[tuple]] = {}
    for k in range(1, depth + 1):
        cands: list[tuple] = []
        for combo in itertools.combinations(dims, k):
            q = sql.grouped_contribution(rel, METRIC, combo, a, b, windows.ratio)
            rows = con.execute(q.text, q.params).fetchall()
            best = heapq.nlargest(keep, rows, key=lambda r: abs(float(r[-2]) - float(r[-1])))
            for r in best:
                actual, expected = float(r[-2]), float(r[-1])
                seg = Segment(tuple(zip(combo, r[:-2], strict=True)))
                cands.append((abs(actual - expected), seg, actual, expected))
        cands.sort(key=lambda c: -c[0])
        out[k] = cands[:keep]
    return out


def _close(x: float, y: float, rel: float = 1e-6) -> bool:
    return abs(x - y) <= rel * max(1.0, abs(x), abs(y))


def _compare(fast: Any, naive: dict[int, list[tuple]], n: int) -> tuple[bool, str]:
    """Fast top-n per level vs the naive plan's: same segments (up to exact ties at the cut)
    and numbers within 1e-6 relative."""
    problems: list[str] = []
    compared = 0
    for level in fast.levels:
        theirs = {c[1]: c for c in naive[level.depth]}
        mine = level.segments[:n]
        for s in mine:
            c = theirs.get(s.segment)
            if c is None:
                problems.append(f"depth {level.depth}: {s.segment} missing from naive")
            elif not (_close(s.actual, c[2]) and _close(s.expected, c[3])):
                problems.append(f"depth {level.depth}: {s.segment} fast {s.actual}/{s.expected} "
                                f"naive {c[2]}/{c[3]}")  # fmt: skip
            compared += 1
        cut = abs(mine[-1].contribution) if mine else 0.0
        my_segs = {s.segment for s in mine}
        for c in naive[level.depth][:n]:
            if c[1] not in my_segs and not _close(c[0], cut, 1e-9):
                problems.append(f"depth {level.depth}: naive {c[1]} ({c[0]:.6g}) not in fast top")
    if problems:
        return False, f"FAIL ({len(problems)} problems): " + "; ".join(problems[:3])
    return True, f"PASS ({compared} segments over {len(fast.levels)} levels agree within 1e-6)"


def worker(args: argparse.Namespace) -> dict[str, Any]:
    r: dict[str, Any] = {}
    t0 = time.perf_counter()
    from data_hunter.engine import Engine
    from data_hunter.segment import ROOT

    r["import_engine_inproc"] = time.perf_counter() - t0
    # The window cache imports pyarrow on first use. Import it here so that no repetition of
    # (b) pays a one-off import: imports are the CLI row's business, not the plan's.
    t0 = time.perf_counter()
    import pyarrow.compute  # noqa: F401

    r["import_arrow_inproc"] = time.perf_counter() - t0
    db = args.worker
    t, engine = timed(Engine.open, db)
    r["open_first"] = t
    con = engine.source.con
    floor_q = f"SELECT sum({METRIC}) FROM records"
    con.execute(floor_q).fetchall()
    floors = [timed(lambda: con.execute(floor_q).fetchall())[0] for _ in range(args.floor_reps)]
    # anomaly = the last 7 days of the data, baseline = the 28 days before (the default)
    a1 = engine.schema.last_date
    a0 = a1 - dt.timedelta(days=6)
    r["anomaly"] = [a0.isoformat(), a1.isoformat()]
    windows = engine.windows("day", a0, a1)

    # (a) the daily series
    engine.series(METRIC, "day")
    r["series"] = median([timed(engine.series, METRIC, "day")[0] for _ in range(args.repeat)])

    # (b) in-process attribution, cold cube each time (a fresh Engine per repetition)
    opens, cubes, ranks, totals = [], [], [], []
    for _ in range(args.repeat):
        engine.close()
        t_open, engine = timed(Engine.open, db)
        t_cube, cube = timed(engine.cube, windows)
        t_rank, res = timed(engine.attribute, METRIC, windows, args.top_n, 3)
        opens.append(t_open)
        cubes.append(t_cube)
        ranks.append(t_rank)
        totals.append(t_cube + t_rank)
    r.update(open=median(opens), cube=median(cubes), rank=median(ranks), attr=median(totals),
             attr_all=totals, cube_first=cubes[0], window_rows=cube.rows,
             leaves=int(cube.codes.shape[0]), cube_mb=cube.nbytes() / 2**20)  # fmt: skip
    r["top"] = [[str(s.segment), s.contribution] for s in res.levels[0].segments[:3]]
    con = engine.source.con

    # (d) children of the top 20 depth-1 and depth-2 parents (cube already built)
    parents = engine.attribute(METRIC, windows, 20, 2)
    engine.children(METRIC, windows, ROOT)  # warm-up
    for lvl in parents.levels:
        times = []
        for _ in range(args.child_reps):
            for s in lvl.segments:
                times.append(timed(engine.children, METRIC, windows, s.segment)[0])
        r[f"children_d{lvl.depth}"] = {"p50": pct(times, 50), "p95": pct(times, 95),
                                       "n": len(times)}  # fmt: skip
    r["root_children"] = median([timed(engine.children, METRIC, windows, ROOT)[0]
                                 for _ in range(3)])  # fmt: skip
    # (b) explain: on the window cache already built (the TUI's root-cause node, or any
    # question after the first), and cold (a fresh Engine: the window scan included)
    r["explain_warm"] = median([timed(engine.explain, METRIC, windows)[0]
                                for _ in range(args.repeat)])  # fmt: skip
    cold = []
    for _ in range(args.repeat):
        fresh = Engine.open(db)
        t_explain, explained = timed(fresh.explain, METRIC, windows)
        cold.append(t_explain)
        fresh.close()
    r["explain_cold"] = median(cold)
    r["explain_causes"] = [str(c.segment) for c in explained.root_causes]
    r["maxrss_fast_mb"] = hwm_mb()

    # (c) the naive plan, and the cross-check
    check = engine.attribute(METRIC, windows, args.check_top, 3)
    if not args.skip_naive:
        t_naive, naive = timed(_naive, engine, windows, 3, args.check_top + 5)
        r["naive"] = t_naive
        r["naive_combos"] = sum(
            len(list(itertools.combinations(engine.schema.dimensions, k))) for k in (1, 2, 3)
        )
        r["check_ok"], r["check"] = _compare(check, naive, args.check_top)
        r["maxrss_naive_mb"] = hwm_mb()

    floors += [timed(lambda: con.execute(floor_q).fetchall())[0] for _ in range(args.floor_reps)]
    r["floor"] = median(floors)
    r["floor_all"] = floors

    if args.profile:
        import cProfile
        import io
        import pstats

        engine.close()
        engine = Engine.open(db)
        prof = cProfile.Profile()
        prof.enable()
        engine.attribute(METRIC, windows, args.top_n, 3)
        for s in parents.levels[1].segments[:10]:
            engine.children(METRIC, windows, s.segment)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(28)
        r["profile"] = buf.getvalue()
    engine.close()
    return r


# --- TUI cold start under a pseudo-terminal ---------------------------------------------

_ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]"
                   rb"|\x1bP[^\x1b]*\x1b\\|\x1b[@-Z\\-_=>78]")  # fmt: skip


def tui_available() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import importlib.util as u, sys; "
                            "sys.exit(0 if u.find_spec('data_hunter.tui') else 1)"],
                           capture_output=True)  # fmt: skip
    return probe.returncode == 0


def measure_tui(cmd: list[str], marker: str, timeout: float = 30.0) -> dict[str, Any]:
    """Spawn the TUI on a 120x36 pty; time from spawn to the first painted text and to the
    first appearance of ``marker`` (a regex) on screen, then quit it."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="36")
    env.pop("NO_COLOR", None)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env,
                         start_new_session=True, close_fds=True)  # fmt: skip
    os.close(slave)
    raw = b""
    first_paint = filled = None
    pattern = re.compile(marker.encode())
    try:
        while time.perf_counter() - t0 < timeout:
            ready, _, _ = select.select([master], [], [], 0.02)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                raw += chunk
                text = _ANSI.sub(b"", raw)
                now = time.perf_counter() - t0
                if first_paint is None and len(re.sub(rb"\s", b"", text)) >= 20:
                    first_paint = now
                if first_paint is not None and filled is None and pattern.search(text):
                    filled = now
                    break
            elif p.poll() is not None:
                break
    finally:
        with contextlib.suppress(OSError):
            os.write(master, b"\x11")  # ctrl+q
        try:
            p.wait(timeout=3)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, 15)  # the session we started for this child
            p.wait(timeout=5)
        os.close(master)
    words = _ANSI.sub(b" ", raw).decode(errors="replace").split()
    return {"first_paint": first_paint, "filled": filled, "exit": p.returncode,
            "tail": " ".join(words[-40:])}  # fmt: skip


def import_times(reps: int) -> dict[str, float]:
    py = sys.executable
    stmts = {
        "pass": "pass",
        "import data_hunter.engine": "import data_hunter.engine",
        "import textual": "import textual",
        "from textual.app import App": "from textual.app import App",
    }
    out = {}
    for name, stmt in stmts.items():
        subprocess.run([py, "-c", stmt], check=True)  # warm the page cache
        out[name] = median([timed(subprocess.run, [py, "-c", stmt], check=True)[0]
                            for _ in range(reps)])  # fmt: skip
    return out


# --- machine and report ----------------------------------------------------------------


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break

    def v(name: str) -> str:
        try:
            return version(name)
        except Exception:
            return "n/a"

    return {
        "nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "ram": ram,
        "python": platform.python_version(), "duckdb": v("duckdb"), "numpy": v("numpy"),
        "pyarrow": v("pyarrow"), "textual": v("textual"),
        "kernel": platform.release(),
    }  # fmt: skip


def label_rows(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def report(results: dict[int, dict[str, Any]], imports: dict[str, float] | None,
           info: dict[str, Any], load0: tuple, load1: tuple, cmdline: str) -> str:  # fmt: skip
    sizes = sorted(results)
    head = "| measurement | " + " | ".join(f"{label_rows(n)} | x floor" for n in sizes) + " |"
    sep = "|---|" + "---:|---:|" * len(sizes)
    lines = [head, sep]

    def row(name: str, get: Any, ratio: bool = True) -> None:
        cells = []
        for n in sizes:
            r = results[n]
            try:
                v = get(r)
            except (KeyError, TypeError):
                v = None
            if isinstance(v, str):
                cells += [v, ""]
            else:
                cells += [fmt_s(v), fmt_x(v, r["w"]["floor"]) if ratio else ""]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    def w(key: str) -> Any:
        return lambda r: r["w"][key]

    row("floor: `SELECT sum(widget_views)` (median)", w("floor"))
    row("window rows / leaves", lambda r: f"{r['w']['window_rows']:,} / {r['w']['leaves']:,}")
    row("(a) daily series `engine.series`", w("series"))
    row("(b) CLI `attribute --combo-depth 3`, whole process", lambda r: r["cli"])
    row("(b) in-process `Engine.open` (schema discovery)", w("open"))
    row("(b) in-process cube build (window scan -> leaves)", w("cube"))
    row("(b) in-process ranking, depth 1..3", w("rank"))
    row("(b) in-process attribution = cube + ranking", w("attr"))
    row("(c) naive: one GROUP BY per combination (92), fetch, top-n", w("naive"))
    row(
        "(c) speedup = naive / in-process attribution",
        lambda r: f"{r['w']['naive'] / r['w']['attr']:.1f}x",
    )
    row("(c) speedup = naive / CLI whole process", lambda r: f"{r['w']['naive'] / r['cli']:.1f}x")
    row("(c) naive == fast check", lambda r: "PASS" if r["w"]["check_ok"] else "FAIL")
    row("(b) CLI `explain`, whole process", lambda r: r["cli_explain"])
    row("(b) in-process `explain`, cold (window scan included)", w("explain_cold"))
    row("(b) in-process `explain` on the window cache", w("explain_warm"))
    row("(d) one-off cube build before expansion (first)", w("cube_first"))
    row("(d) children of 20 depth-1 parents, p50", lambda r: r["w"]["children_d1"]["p50"])
    row("(d) children of 20 depth-1 parents, p95", lambda r: r["w"]["children_d1"]["p95"])
    row("(d) children of 20 depth-2 parents, p50", lambda r: r["w"]["children_d2"]["p50"])
    row("(d) children of 20 depth-2 parents, p95", lambda r: r["w"]["children_d2"]["p95"])
    row("(d) children of the root", w("root_children"))
    row("(e) TUI cold start to first paint", lambda r: r["tui"]["first_paint"])
    row("(e) TUI cold start to root filled", lambda r: r["tui"]["filled"])
    row("(f) peak RSS, CLI process", lambda r: f"{r['cli_rss']:,.0f} MiB")
    row(
        "(f) peak RSS, in-process worker (fast path)",
        lambda r: f"{r['w']['maxrss_fast_mb']:,.0f} MiB",
    )
    row(
        "(f) peak RSS, in-process worker after naive",
        lambda r: f"{r['w']['maxrss_naive_mb']:,.0f} MiB",
    )
    row("generation (0 = cached)", lambda r: r["gen"], ratio=False)
    out = ["\n".join(lines)]
    if len(sizes) >= 2:
        small, big = sizes[0], sizes[-1]
        f = big / small
        parts = []
        for name, get in [("in-process attribution", lambda r: r["w"]["attr"]),
                          ("cube build", lambda r: r["w"]["cube"]),
                          ("ranking", lambda r: r["w"]["rank"]),
                          ("CLI whole process", lambda r: r["cli"]),
                          ("floor", lambda r: r["w"]["floor"])]:  # fmt: skip
            parts.append(f"{name} {get(results[big]) / get(results[small]):.1f}x")
        out.append(f"(g) scaling {label_rows(big)}/{label_rows(small)} ({f:.0f}x rows): "
                   + ", ".join(parts))  # fmt: skip
    if imports:
        base = imports["pass"]
        out.append(
            "(e) fresh-process import times (median; net of `python -c pass` "
            f"{fmt_s(base)}): "
            + ", ".join(f"`{k}` {fmt_s(v - base)}" for k, v in imports.items() if k != "pass")
        )
    for n in sizes:
        r = results[n]
        if "check" in r["w"]:
            out.append(f"check {label_rows(n)}: {r['w']['check']}")
        if r["tui"].get("note"):
            out.append(f"TUI {label_rows(n)}: {r['tui']['note']}")
        out.append(f"top depth-1 {label_rows(n)}: "
                   + "; ".join(f"{s} {c:+,.0f}" for s, c in r["w"]["top"]))  # fmt: skip
    out.append(
        f"machine: {info['nproc']} cores ({info['cpu']}), {info['ram']} RAM, Linux "
        f"{info['kernel']}; Python {info['python']}, duckdb {info['duckdb']}, numpy "
        f"{info['numpy']}, pyarrow {info['pyarrow']}, textual {info['textual']}"
    )
    out.append(f"load average before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, after "
               f"{load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")  # fmt: skip
    out.append(f"command: {cmdline}  ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)")
    return "\n\n".join(out)


def verdicts(results: dict[int, dict[str, Any]]) -> list[str]:
    """The issue-5 targets, judged on the largest size (and 1M where a target names it)."""
    out = []
    big = max(results)
    r = results[big]
    w = r["w"]
    if "naive" in w:
        sp = w["naive"] / w["attr"]
        out.append(
            f"{'MET ' if sp >= 10 else 'MISS'} attribution >= 10x naive "
            f"({label_rows(big)}): {sp:.1f}x in-process, "
            f"{w['naive'] / r['cli']:.1f}x counting the whole CLI process"
        )
    out.append(
        f"{'MET ' if r['cli'] < 3 else 'MISS'} attribution < 3 s ({label_rows(big)}): "
        f"CLI {fmt_s(r['cli'])}, in-process {fmt_s(w['attr'])}"
    )
    p50 = w["children_d1"]["p50"], w["children_d2"]["p50"]
    limit = 0.075 if big >= 5_000_000 else 0.020
    out.append(
        f"{'MET ' if max(p50) < limit else 'MISS'} child expansion p50 < "
        f"{fmt_s(limit)} ({label_rows(big)}): d1 {fmt_s(p50[0])}, d2 {fmt_s(p50[1])}"
    )
    for n in sorted(results):
        if n != big and n <= 1_000_000:
            q = results[n]["w"]
            p = max(q["children_d1"]["p50"], q["children_d2"]["p50"])
            out.append(
                f"{'MET ' if p < 0.020 else 'MISS'} child expansion p50 < 20 ms "
                f"({label_rows(n)}): {fmt_s(p)}"
            )
    t = r["tui"]
    if t.get("first_paint") is None and t.get("filled") is None:
        out.append(f"n/a  TUI first paint < 1.5 s, root filled < 3 s: {t.get('note', 'n/a')}")
    else:
        fp, fl = t.get("first_paint"), t.get("filled")
        ok = fp is not None and fp < 1.5 and fl is not None and fl < 3
        out.append(
            f"{'MET ' if ok else 'MISS'} TUI first paint < 1.5 s ({fmt_s(fp)}), "
            f"root filled < 3 s ({fmt_s(fl)})"
        )
    peak = max(r["cli_rss"], w["maxrss_fast_mb"])
    out.append(
        f"{'MET ' if peak < 2560 else 'MISS'} peak memory < 2.5 GB: CLI "
        f"{r['cli_rss']:,.0f} MiB, in-process {w['maxrss_fast_mb']:,.0f} MiB"
    )
    if len(results) >= 2:
        small = min(results)
        ratio = w["attr"] / results[small]["w"]["attr"]
        cli_ratio = r["cli"] / results[small]["cli"]
        allowed = 12 * (big / small) / 10
        out.append(
            f"{'MET ' if ratio <= allowed else 'MISS'} {label_rows(big)} costs <= ~12x "
            f"{label_rows(small)}: attribution {ratio:.1f}x, CLI {cli_ratio:.1f}x"
        )
    return out


# --- driver -----------------------------------------------------------------------------


def data_path(out: Path, rows: int, seed: int) -> Path:
    return out / f"records_r{rows}_s{seed}.duckdb"


def ensure_data(out: Path, rows: int, seed: int) -> float:
    """Generate the table for (rows, seed) in ``out`` unless it is cached there; seconds spent
    (0 when cached). Runs in a subprocess so that this driver stays small: a child's ru_maxrss
    on Linux starts from its parent's RSS at fork time."""
    path = data_path(out, rows, seed)
    if path.exists():
        return 0.0
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(GEN), str(path), "--rows", str(rows), "--seed",
                    str(seed)], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - t0


def bench_size(args: argparse.Namespace, rows: int, out: Path, gen_s: float) -> dict[str, Any]:
    r: dict[str, Any] = {"gen": gen_s}
    db = data_path(out, rows, args.seed)

    print(f"[{label_rows(rows)}] in-process worker ...", file=sys.stderr, flush=True)
    wcmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(db),
            "--repeat", str(args.repeat), "--floor-reps", str(args.floor_reps),
            "--child-reps", str(args.child_reps), "--top-n", str(args.top_n),
            "--check-top", str(args.check_top)]  # fmt: skip
    if args.skip_naive:
        wcmd.append("--skip-naive")
    if args.profile:
        wcmd.append("--profile")
    wall, code, peak, stdout, stderr = run_measured(wcmd)
    if code != 0:
        raise SystemExit(f"worker failed ({code}): {stderr.strip()[-2000:]}")
    line = [x for x in stdout.splitlines() if x.startswith(JSON_TAG)][-1]
    r["w"] = json.loads(line[len(JSON_TAG) :])
    r["worker_rss"] = peak
    a0, a1 = r["w"]["anomaly"]

    print(f"[{label_rows(rows)}] CLI ...", file=sys.stderr, flush=True)
    common = ["--db", str(db), "--metric", METRIC, "--time-dimension", "day",
              "--anomaly-date", a0, "--anomaly-end", a1]  # fmt: skip
    cli = [*data_hunter_cmd(), "attribute", *common, "--combo-depth", "3",
           "--top-n", str(args.top_n)]  # fmt: skip
    walls, peaks = [], []
    for _ in range(args.repeat):
        wall, code, peak, stdout, stderr = run_measured(cli)
        if code != 0:
            raise SystemExit(f"CLI failed ({code}): {stderr.strip()[-500:]}")
        walls.append(wall)
        peaks.append(peak)
    r["cli"], r["cli_all"], r["cli_rss"] = median(walls), walls, max(peaks)
    r["cli_cmd"] = " ".join(cli)
    explain = [*data_hunter_cmd(), "explain", *common]
    walls = []
    for _ in range(args.repeat):
        wall, code, peak, stdout, stderr = run_measured(explain)
        if code != 0:
            raise SystemExit(f"CLI explain failed ({code}): {stderr.strip()[-500:]}")
        walls.append(wall)
    r["cli_explain"], r["cli_explain_cmd"] = median(walls), " ".join(explain)

    if args.skip_tui:
        r["tui"] = {"note": "skipped (--skip-tui)"}
    elif not tui_available():
        r["tui"] = {"note": "n/a: data_hunter.tui does not exist on this branch"}
    else:
        print(f"[{label_rows(rows)}] TUI ...", file=sys.stderr, flush=True)
        seg = r["w"]["top"][0][0] if r["w"]["top"] else ""
        value = seg.split("=", 1)[-1].split(" & ")[0]
        marker = args.tui_marker or (r"(?<![\w.])" + re.escape(value) + r"(?![\w.])")
        extra = args.tui_args.split() if args.tui_args else [
            "--metric", METRIC, "--anomaly-date", a0]  # fmt: skip
        cmd = [*data_hunter_cmd(), "tui", str(db), *extra]
        runs = [measure_tui(cmd, marker) for _ in range(args.tui_reps)]
        fps = [x["first_paint"] for x in runs if x["first_paint"] is not None]
        fills = [x["filled"] for x in runs if x["filled"] is not None]
        r["tui"] = {"first_paint": median(fps) if fps else None,
                    "filled": median(fills) if fills else None,
                    "runs": runs, "marker": marker, "cmd": " ".join(cmd)}  # fmt: skip
        if not fills:
            r["tui"]["note"] = (
                f"marker {marker!r} never appeared within 30 s; exit "
                f"{runs[-1]['exit']}; screen tail: {runs[-1]['tail'][-160:]}"
            )
    return r


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="data-hunter performance benchmark (issue 5)")
    ap.add_argument(
        "--rows", default="1000000", help="row count(s), comma-separated, e.g. 1000000,10000000"
    )
    ap.add_argument("--seed", type=int, default=20240101)
    ap.add_argument(
        "--out",
        help="folder for the generated tables, cached by (rows, seed); "
        "default: a temporary folder removed at the end unless --keep",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    ap.add_argument("--repeat", type=int, default=5, help="repetitions of the timed operations")
    ap.add_argument("--floor-reps", type=int, default=7)
    ap.add_argument("--child-reps", type=int, default=2)
    ap.add_argument("--top-n", type=int, default=3, help="segments per level (CLI default 3)")
    ap.add_argument(
        "--check-top",
        type=int,
        default=10,
        help="segments per level compared between the fast and naive plans",
    )
    ap.add_argument("--skip-naive", action="store_true", help="skip the naive plan and check")
    ap.add_argument("--skip-tui", action="store_true")
    ap.add_argument(
        "--tui-args",
        help="arguments after `data-hunter tui DB` "
        "(default: --metric widget_views --anomaly-date <anomaly start>)",
    )
    ap.add_argument(
        "--tui-marker",
        help="regex that shows the root is filled (default: the top depth-1 segment's value)",
    )
    ap.add_argument("--tui-reps", type=int, default=3)
    ap.add_argument("--skip-imports", action="store_true")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="1 repetition, no TUI, no import timing (for the smoke test)",
    )
    ap.add_argument(
        "--profile",
        action="store_true",
        help="print a cProfile of one cold attribution + 10 child expansions",
    )
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat, args.floor_reps, args.child_reps = 1, 3, 1
        args.skip_tui = args.skip_imports = True
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(JSON_TAG + json.dumps(worker(args)), flush=True)
        return 0
    sizes = sorted({int(x.replace("_", "")) for x in args.rows.split(",") if x.strip()})
    temp = args.out is None
    out = Path(args.out).expanduser() if args.out else Path(tempfile.mkdtemp(prefix="dh-bench-"))
    info = machine()
    load0 = os.getloadavg()
    gen_s: dict[int, float] = {}
    try:
        for n in sizes:  # generate first, so the measurements are not interleaved with it
            print(f"[{label_rows(n)}] generating (or reusing) ...", file=sys.stderr, flush=True)
            gen_s[n] = ensure_data(out, n, args.seed)
        results = {n: bench_size(args, n, out, gen_s[n]) for n in sizes}
        imports = None if args.skip_imports else import_times(5)
    finally:
        if temp and not args.keep:
            shutil.rmtree(out, ignore_errors=True)
        elif temp:
            print(f"data kept in {out}", file=sys.stderr)
    load1 = os.getloadavg()
    cmdline = "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(report(results, imports, info, load0, load1, cmdline))
    print(f"\n(driver peak RSS {hwm_mb():.0f} MiB: the floor under the children's ru_maxrss)")
    print("\ntargets:\n" + "\n".join("  " + v for v in verdicts(results)))
    for n in sizes:
        if "profile" in results[n]["w"]:
            print(f"\ncProfile, {label_rows(n)}: one cold attribute(depth 3) + 10 children\n")
            print(results[n]["w"]["profile"])
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"machine": info, "results": results, "imports": imports}, indent=1, default=str
            )
        )
    ok = all(results[n]["w"].get("check_ok", True) for n in sizes)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Deterministic synthetic ``records`` table for the performance benchmark.

The shape follows ../shared/notes/duckdb-performance.md: 365 days (2024-01-01 .. 2024-12-30),
8 VARCHAR dimensions with cardinalities 4..200 (Zipf-skewed, some correlated), a daily volume
with a trend and a weekly cycle, ``widget_views`` = 1 + NegBin (heavy tail), ``revenue`` = 0 in
~96% of rows and lognormal otherwise, and an anomaly in the last 7 days:

* widget_views x0.3 for country=IN & device=android & app_version in the 3 newest versions;
* revenue x3 for channel=email.

Rows are written in i.i.d. order (each row draws its own day), so the table is **not** sorted by
date, which is the realistic and slower case for window scans. Generation is NumPy in chunks,
handed to DuckDB as Arrow; the same (rows, seed) always gives the same table.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import numpy as np

START = dt.date(2024, 1, 1)
DAYS = 365
CHUNK = 1_000_000

COUNTRIES = [
    "US", "IN", "BR", "GB", "DE", "FR", "JP", "CA", "MX", "ID", "ES", "IT", "KR", "AU", "NL",
    "TR", "PL", "SE", "AR", "CO", "NG", "ZA", "PH", "VN", "EG", "CL", "PT", "BE", "CH", "NZ",
    "AT", "DK", "FI", "NO", "IE", "IL", "SG", "MY", "TH", "PK", "BD", "KE", "MA", "PE", "VE",
    "UA", "RO", "CZ", "GR", "HU",
]  # fmt: skip
DEVICES = ["android", "ios", "web", "tablet"]
OS = ["android13", "android14", "ios17", "ios18", "windows", "macos", "linux", "ipados"]
BROWSERS = ["app", "chrome", "safari", "firefox", "edge", "samsung", "opera", "brave",
            "webview", "other"]  # fmt: skip
PLANS = ["free", "basic", "pro", "team", "enterprise"]
CHANNELS = ["organic", "paid_search", "social", "email", "referral", "partner", "display",
            "video", "affiliate", "push", "sms", "direct"]  # fmt: skip
APP_VERSIONS = [f"{4 + i // 10}.{i % 10}" for i in range(40)]  # 4.0 .. 7.9
N_REGIONS = 200

DIMENSIONS = ("country", "device", "browser", "plan", "channel", "app_version", "os", "region")
ANOMALY_DAYS = 7
BASELINE_DAYS = 28


def last_date() -> dt.date:
    return START + dt.timedelta(days=DAYS - 1)


def anomaly_start() -> dt.date:
    return last_date() - dt.timedelta(days=ANOMALY_DAYS - 1)


def _zipf(k: int, s: float) -> np.ndarray:
    p = 1.0 / np.arange(1, k + 1) ** s
    return p / p.sum()


def _draw(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """Category codes with probabilities ``p`` (vectorised inverse CDF)."""
    cdf = np.cumsum(p)
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int16)


def _draw_conditional(rng: np.random.Generator, table: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Codes drawn from row ``given[i]`` of the conditional probability ``table``."""
    cdf = np.cumsum(table, axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(len(given))
    rows = cdf[given]
    return (u[:, None] >= rows).sum(axis=1).astype(np.int16)


class _Model:
    """The fixed structure of the data (independent of the row count)."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng([seed, 0])
        # Regions: Zipf over 200; each belongs to one country, so country is correlated with
        # region. Assign regions to countries so that country popularity is also Zipf-ish.
        self.p_region = _zipf(N_REGIONS, 1.05)
        country_weight = _zipf(len(COUNTRIES), 1.1)
        owner = np.empty(N_REGIONS, dtype=np.int16)
        owner[: len(COUNTRIES)] = np.arange(len(COUNTRIES))  # every country has a region
        owner[len(COUNTRIES) :] = rng.choice(len(COUNTRIES), N_REGIONS - len(COUNTRIES),
                                             p=country_weight)  # fmt: skip
        self.region_country = owner
        counter: dict[int, int] = {}
        names = []
        for r in range(N_REGIONS):
            c = int(owner[r])
            counter[c] = counter.get(c, 0) + 1
            names.append(f"{COUNTRIES[c]}-{counter[c]:02d}")
        self.region_names = names
        self.p_device = np.array([0.44, 0.34, 0.17, 0.05])
        # os | device
        self.os_given_device = np.array([
            [0.45, 0.55, 0, 0, 0, 0, 0, 0],
            [0, 0, 0.35, 0.65, 0, 0, 0, 0],
            [0.02, 0.03, 0.02, 0.03, 0.6, 0.22, 0.08, 0],
            [0.2, 0.2, 0, 0, 0.05, 0, 0, 0.55],
        ])  # fmt: skip
        # browser | os: apps use "app"/"webview" mostly, desktops a browser mix
        b = np.zeros((len(OS), len(BROWSERS)))
        mobile = np.array([0.7, 0.08, 0.0, 0.01, 0.0, 0.06, 0.01, 0.01, 0.12, 0.01])
        apple = np.array([0.72, 0.05, 0.12, 0.01, 0.0, 0.0, 0.0, 0.0, 0.09, 0.01])
        desktop = np.array([0.0, 0.55, 0.0, 0.1, 0.2, 0.0, 0.04, 0.04, 0.0, 0.07])
        mac = np.array([0.0, 0.4, 0.45, 0.06, 0.03, 0.0, 0.02, 0.03, 0.0, 0.01])
        lin = np.array([0.0, 0.5, 0.0, 0.35, 0.02, 0.0, 0.03, 0.07, 0.0, 0.03])
        for i, row in enumerate([mobile, mobile, apple, apple, desktop, mac, lin, apple]):
            b[i] = row / row.sum()
        self.browser_given_os = b
        self.p_plan = _zipf(len(PLANS), 1.6)
        self.p_channel = _zipf(len(CHANNELS), 1.0)
        # Daily volume: trend + weekly cycle + a little noise.
        d = np.arange(DAYS)
        weekday = np.array([(START + dt.timedelta(days=int(i))).weekday() for i in d])
        weekly = np.where(weekday >= 5, 0.78, 1.0) * (1 + 0.04 * np.sin(2 * np.pi * weekday / 7))
        trend = 1.0 + 0.6 * d / DAYS
        noise = 1 + 0.03 * rng.standard_normal(DAYS)
        w = trend * weekly * noise
        self.p_day = w / w.sum()
        # App version: the newest available version drifts from 4.9 to 7.9 over the year.
        self.newest = np.minimum(9 + (d * 31) // DAYS, len(APP_VERSIONS) - 1).astype(np.int16)


def _chunk(model: _Model, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    day = _draw(rng, model.p_day, n)
    region = _draw(rng, model.p_region, n)
    country = model.region_country[region]
    device = _draw(rng, model.p_device, n)
    os_ = _draw_conditional(rng, model.os_given_device, device)
    browser = _draw_conditional(rng, model.browser_given_os, os_)
    plan = _draw(rng, model.p_plan, n)
    channel = _draw(rng, model.p_channel, n)
    lag = np.minimum(rng.geometric(0.35, n) - 1, 12).astype(np.int16)
    app_version = np.maximum(model.newest[day] - lag, 0).astype(np.int16)
    # widget_views: 1 + NegBin, more for paid plans and desktop.
    mean = 2.5 * (1 + 0.3 * (plan > 0)) * np.where(device == 2, 1.4, 1.0)
    r = 1.5
    views = 1 + rng.negative_binomial(r, r / (r + mean)).astype(np.float64)
    paying = rng.random(n) < np.where(plan > 0, 0.08, 0.03)
    revenue = np.where(paying, np.round(rng.lognormal(2.5, 1.0, n), 2), 0.0)
    # The anomaly: the last ANOMALY_DAYS days.
    late = day >= DAYS - ANOMALY_DAYS
    hit = (
        late
        & (country == COUNTRIES.index("IN"))
        & (device == DEVICES.index("android"))
        & (app_version >= model.newest[day] - 2)
    )
    views = np.where(hit, np.maximum(np.round(views * 0.3), 0), views)
    revenue = np.where(late & (channel == CHANNELS.index("email")), revenue * 3, revenue)
    return {
        "day": day, "country": country, "device": device, "browser": browser, "plan": plan,
        "channel": channel, "app_version": app_version, "os": os_, "region": region,
        "widget_views": views.astype(np.int64), "revenue": revenue,
    }  # fmt: skip


def generate(path: str | os.PathLike[str], rows: int, seed: int, verbose: bool = True) -> float:
    """Write ``records`` with ``rows`` rows to the DuckDB file ``path``; returns seconds."""
    import duckdb
    import pyarrow as pa

    t0 = time.perf_counter()
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    for p in (tmp, Path(str(tmp) + ".wal")):
        if p.exists():
            p.unlink()
    model = _Model(seed)
    labels = {
        "country": COUNTRIES, "device": DEVICES, "browser": BROWSERS, "plan": PLANS,
        "channel": CHANNELS, "app_version": APP_VERSIONS, "os": OS,
        "region": model.region_names,
    }  # fmt: skip
    dictionaries = {k: pa.array(v, type=pa.string()) for k, v in labels.items()}
    con = duckdb.connect(str(tmp))
    dims_sql = ", ".join(f"{d} VARCHAR" for d in DIMENSIONS)
    con.execute(
        f"CREATE TABLE records (session_date DATE, {dims_sql}, widget_views BIGINT, revenue DOUBLE)"
    )
    start = np.datetime64(START.isoformat(), "D")
    done = 0
    index = 0
    while done < rows:
        n = min(CHUNK, rows - done)
        rng = np.random.default_rng([seed, 1, index])
        c = _chunk(model, rng, n)
        cols = {"session_date": pa.array(start + c["day"].astype("timedelta64[D]"))}
        for d in DIMENSIONS:
            cols[d] = pa.DictionaryArray.from_arrays(pa.array(c[d].astype(np.int32)),
                                                     dictionaries[d])  # fmt: skip
        cols["widget_views"] = pa.array(c["widget_views"])
        cols["revenue"] = pa.array(c["revenue"])
        chunk = pa.table(cols)  # noqa: F841  (read by DuckDB's replacement scan)
        casts = ", ".join(f"CAST({d} AS VARCHAR)" for d in DIMENSIONS)
        con.execute(
            f"INSERT INTO records SELECT session_date, {casts}, widget_views, revenue FROM chunk"
        )
        done += n
        index += 1
        if verbose:
            print(f"  generated {done:,}/{rows:,} rows", flush=True)
    con.execute("CHECKPOINT")
    con.close()
    os.replace(tmp, path)
    return time.perf_counter() - t0


def cached(
    out: str | os.PathLike[str], rows: int, seed: int, verbose: bool = True
) -> tuple[Path, float]:
    """The table for (rows, seed) in ``out``, generated only when missing. Returns
    (path, generation seconds; 0.0 when it was cached)."""
    path = Path(out) / f"records_r{rows}_s{seed}.duckdb"
    if path.exists():
        return path, 0.0
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, generate(path, rows, seed, verbose)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20240101)
    a = ap.parse_args()
    print(f"{generate(a.path, a.rows, a.seed):.1f} s")

"""The built-in demo: a year of product analytics with anomalies planted on known days.

It exists so that a new user sees the tool find something real within a minute, and so that
tests can check that each planted cause comes out on top. The data has the texture of real
product data (a trend, a weekly cycle, skewed dimensions, correlated columns, an app release
cycle, noise), generated with NumPy from a fixed seed, so every run writes the same table.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_hunter.errors import DataHunterError

DEMO_VERSION = 2  # bump whenever the generated data changes: it names the cached file
START = dt.date(2025, 1, 1)
DAYS = 365
ROWS_PER_DAY = 1500
SEED = 20250101

COUNTRIES = [
    ("US", 0.24), ("IN", 0.2), ("BR", 0.09), ("GB", 0.06), ("DE", 0.06), ("FR", 0.05),
    ("JP", 0.04), ("CA", 0.035), ("MX", 0.03), ("ID", 0.03), ("ES", 0.025), ("IT", 0.025),
    ("KR", 0.02), ("AU", 0.02), ("NL", 0.015), ("TR", 0.015), ("PL", 0.012), ("SE", 0.01),
    ("AR", 0.01), ("CO", 0.01), ("NG", 0.01), ("ZA", 0.008), ("PH", 0.008), ("VN", 0.008),
    ("EG", 0.006), ("CL", 0.006), ("PT", 0.005), ("BE", 0.005), ("CH", 0.004), ("NZ", 0.004),
]  # fmt: skip
DEVICES = [("ios", 0.36), ("android", 0.44), ("web", 0.20)]
CHANNELS = [
    ("organic", 0.34), ("paid_search", 0.18), ("social", 0.16), ("email", 0.2),
    ("referral", 0.07), ("partner", 0.05),
]  # fmt: skip
PLANS = [("free", 0.7), ("paid", 0.3)]
VERSIONS = ["3.8", "3.9", "4.0", "4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "4.9"]
# Release day of each version (day 0 = START), spaced so no release ramps inside a planted
# anomaly's window or its baseline: the planted causes should be the story of their day.
RELEASE_DAYS = [-220, -160, -100, -40, 95, 148, 200, 230, 252, 326, 345, 362]
REGIONS_TOTAL = 200


@dataclass(frozen=True)
class PlantedAnomaly:
    """A cause planted in the demo: what, when, in which metric, and where."""

    name: str
    kind: str
    start: dt.date
    end: dt.date
    metric: str
    segment: dict[str, str]
    description: str


def _d(month: int, day: int) -> dt.date:
    return dt.date(2025, month, day)


PLANTED: tuple[PlantedAnomaly, ...] = (
    PlantedAnomaly("br-spike", "single-value spike", _d(3, 18), _d(3, 18), "sessions",
                   {"country": "BR"}, "a TV campaign in Brazil: BR sessions x6 for one day"),
    PlantedAnomaly("ios-4.2-dip", "2-way combination dip", _d(5, 20), _d(5, 22), "sessions",
                   {"device": "ios", "app_version": "4.2"},
                   "a crashing build: iOS on app 4.2 loses 90% of sessions for three days"),
    PlantedAnomaly("us-email-paid-revenue", "3-way combination spike", _d(7, 8), _d(7, 8),
                   "revenue", {"country": "US", "channel": "email", "plan": "paid"},
                   "a mispriced email offer: US paid users from email spend x12 for one day"),
    PlantedAnomaly("tiktok-appears", "a value that appears", _d(10, 14), _d(10, 16), "sessions",
                   {"channel": "tiktok"}, "new channel tiktok brings extra sessions for 3 days"),
    PlantedAnomaly("india-vanishes", "a value that vanishes", _d(11, 18), _d(11, 19), "sessions",
                   {"country": "IN"}, "a tracking outage: no rows from India for two days"),
)  # fmt: skip


def _pick(rng: np.random.Generator, pairs: list[tuple[str, float]], n: int) -> np.ndarray:
    names = np.array([p[0] for p in pairs], dtype=object)
    probs = np.array([p[1] for p in pairs], dtype=np.float64)
    return names[rng.choice(len(pairs), size=n, p=probs / probs.sum())]


def _regions(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Regions belong to one country; bigger countries have more of them (~200 in all)."""
    weights = dict(COUNTRIES)
    total = sum(weights.values())
    out = np.empty(len(country), dtype=object)
    for name, w in COUNTRIES:
        k = max(1, round(REGIONS_TOTAL * w / total))
        idx = np.nonzero(country == name)[0]
        zipf = 1.0 / np.arange(1, k + 1) ** 0.8
        pick = rng.choice(k, size=len(idx), p=zipf / zipf.sum())
        out[idx] = np.char.add(f"{name}-", np.char.zfill(pick.astype(str), 2))
    return out


def _versions(rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
    """App versions follow a release cycle: each new release ramps up, older ones decay."""
    release = np.array(RELEASE_DAYS)
    age = day[:, None] - release[None, :]
    weight = 1 / (1 + np.exp(-age / 2.5)) * np.exp(-np.maximum(age, 0) / 75.0)
    weight = weight / weight.sum(axis=1, keepdims=True)
    cum = weight.cumsum(axis=1)
    u = rng.random(len(day))[:, None]
    idx = np.minimum((u > cum).sum(axis=1), len(VERSIONS) - 1)
    return np.array(VERSIONS, dtype=object)[idx]


def generate(seed: int = SEED, rows_per_day: int = ROWS_PER_DAY) -> dict[str, np.ndarray]:
    """The demo table as columns (before planting is applied inside)."""
    rng = np.random.default_rng(seed)
    t = np.arange(DAYS)
    dates = np.array([START + dt.timedelta(days=int(i)) for i in t])
    weekday = np.array([d.weekday() for d in dates])
    level = (1 + 0.3 * t / DAYS) * np.where(weekday >= 5, 0.85, 1.0)
    level *= rng.normal(1.0, 0.015, DAYS)
    counts = rng.poisson(rows_per_day * level)
    day = np.repeat(t, counts)
    n = len(day)
    country = _pick(rng, COUNTRIES, n)
    device = _pick(rng, DEVICES, n)
    # Desktop web skews to organic search; mobile skews to social.
    channel = _pick(rng, CHANNELS, n)
    social_web = (device == "web") & (channel == "social") & (rng.random(n) < 0.5)
    channel[social_web] = "organic"
    plan = _pick(rng, PLANS, n)
    version = _versions(rng, day)
    version[device == "web"] = "web"
    region = _regions(rng, country)
    sessions = 1 + rng.poisson(3.0, n)
    paid = plan == "paid"
    revenue = np.where(paid, sessions * rng.lognormal(1.2, 0.6, n), 0.0)
    revenue = np.where(~paid & (rng.random(n) < 0.02), rng.lognormal(1.5, 0.5, n), revenue)
    errors = rng.binomial(sessions, np.where(device == "android", 0.03, 0.015))

    columns: dict[str, np.ndarray] = {
        "day": day, "country": country, "region": region, "device": device,
        "app_version": version, "channel": channel, "plan": plan,
        "sessions": sessions.astype(np.int64), "revenue": np.round(revenue, 2),
        "errors": errors.astype(np.int64),
    }  # fmt: skip
    return _plant(rng, columns)


def _in_window(day: np.ndarray, a: PlantedAnomaly) -> np.ndarray:
    lo, hi = (a.start - START).days, (a.end - START).days
    return (day >= lo) & (day <= hi)


def _plant(rng: np.random.Generator, c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    by_name = {a.name: a for a in PLANTED}
    day = c["day"]

    a = by_name["br-spike"]
    m = _in_window(day, a) & (c["country"] == "BR")
    for metric in ("sessions", "errors"):
        c[metric] = np.where(m, c[metric] * 6, c[metric])
    c["revenue"] = np.where(m, np.round(c["revenue"] * 6, 2), c["revenue"])

    a = by_name["ios-4.2-dip"]
    m = _in_window(day, a) & (c["device"] == "ios") & (c["app_version"] == "4.2")
    keep = ~m | (rng.random(len(day)) < 0.1)
    c = {k: v[keep] for k, v in c.items()}
    day = c["day"]

    a = by_name["us-email-paid-revenue"]
    m = (_in_window(day, a) & (c["country"] == "US") & (c["channel"] == "email")
         & (c["plan"] == "paid"))  # fmt: skip
    c["revenue"] = np.where(m, np.round(c["revenue"] * 12, 2), c["revenue"])

    a = by_name["tiktok-appears"]
    m = _in_window(day, a) & (rng.random(len(day)) < 0.3)
    extra = {k: v[m].copy() for k, v in c.items()}
    extra["channel"][:] = "tiktok"
    c = {k: np.concatenate([v, extra[k]]) for k, v in c.items()}
    day = c["day"]

    a = by_name["india-vanishes"]
    keep = ~(_in_window(day, a) & (c["country"] == "IN"))
    return {k: v[keep] for k, v in c.items()}


def write_demo(path: str | os.PathLike[str], force: bool = False) -> int:
    """Write the demo database to ``path`` (a new file); returns the number of rows."""
    import duckdb
    import pyarrow as pa

    target = Path(path)
    if target.exists() and not force:
        raise DataHunterError(f"{target} already exists; pass --force to overwrite it")
    if target.parent and not target.parent.exists():
        raise DataHunterError(f"folder {target.parent} does not exist")
    c = generate()
    order = np.argsort(c["day"], kind="stable")
    dates = np.datetime64(START.isoformat()) + c["day"][order].astype("timedelta64[D]")
    table = pa.table({
        "session_date": pa.array(dates, type=pa.date32()),
        **{k: pa.array(c[k][order].astype(str)) for k in
           ("country", "region", "device", "app_version", "channel", "plan")},
        "sessions": pa.array(c["sessions"][order]),
        "revenue": pa.array(c["revenue"][order]),
        "errors": pa.array(c["errors"][order]),
    })  # fmt: skip
    # Write to a temporary file first so an interrupted run never leaves a half-written demo.
    fd, tmp = tempfile.mkstemp(suffix=".db", dir=target.parent or ".")
    os.close(fd)
    os.unlink(tmp)
    try:
        con = duckdb.connect(tmp)
        try:
            con.register("demo_rows", table)
            con.execute("CREATE TABLE records AS SELECT * FROM demo_rows")
            con.unregister("demo_rows")
        finally:
            con.close()
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, tmp + ".wal"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return int(table.num_rows)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "data-hunter"


def demo_path() -> Path:
    """Where the built-in demo database lives (in the user's cache)."""
    return cache_dir() / f"demo-v{DEMO_VERSION}.db"


def ensure_demo() -> Path:
    """The built-in demo database, written to the user's cache on first use."""
    path = demo_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_demo(path)
    return path


def describe_planted() -> list[str]:
    lines = []
    for a in PLANTED:
        when = str(a.start) if a.start == a.end else f"{a.start} .. {a.end}"
        seg = " & ".join(f"{k}={v}" for k, v in a.segment.items())
        lines.append(f"{when:<24} {a.metric:<9} {a.kind:<26} {seg}  ({a.description})")
    return lines

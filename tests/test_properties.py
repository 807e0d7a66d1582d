"""Properties that must hold on any table: additivity per dimension, row-order independence,
and agreement between the window cache and the plain SQL GROUP BY it replaces."""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_hunter import sql
from data_hunter.engine import Engine
from data_hunter.render import render_attribution
from data_hunter.segment import ROOT

from .conftest import write_table

START = dt.date(2024, 3, 1)
DIMS = ("a", "b", "c")
values = st.sampled_from(["x", "y", "z", "ü [/b]", None])
rows_strategy = st.lists(
    st.tuples(
        st.integers(0, 9),  # day offset
        values, values, values,
        st.one_of(st.none(), st.integers(-50, 1000)),
    ),
    min_size=1,
    max_size=60,
)  # fmt: skip
COLUMNS = [("session_date", "DATE"), ("a", "VARCHAR"), ("b", "VARCHAR"), ("c", "VARCHAR"),
           ("m", "BIGINT")]  # fmt: skip


def _rows(raw):
    # Pin both ends of the date range so the windows are the same for every example.
    rows = [(START + dt.timedelta(days=o), a, b, c, m) for o, a, b, c, m in raw]
    return [(START, "x", "x", "x", 0), *rows, (START + dt.timedelta(days=9), "x", "x", "x", 0)]


def _engine(rows) -> tuple[Engine, Path]:
    folder = Path(tempfile.mkdtemp())
    path = write_table(folder / "p.db", rows, COLUMNS)
    return Engine.open(str(path)), path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy, st.integers(6, 9))
def test_each_dimension_adds_up_to_the_total(raw, anomaly_day) -> None:
    eng, _ = _engine(_rows(raw))
    try:
        w = eng.windows("day", START + dt.timedelta(days=anomaly_day), START + dt.timedelta(days=9))
        result = eng.attribute("m", w, top_n=1000)
        total = result.total.contribution
        for dim, stats in eng.children("m", w, ROOT).items():
            assert sum(s.contribution for s in stats) == pytest.approx(total, abs=1e-6), dim
            assert sum(s.actual for s in stats) == pytest.approx(result.total.actual, abs=1e-6)
        for level in result.levels:  # every level partitions the scope too
            for combo in itertools.combinations(DIMS, level.depth):
                part = [s for s in level.segments if s.segment.dimensions == combo]
                assert sum(s.contribution for s in part) == pytest.approx(total, abs=1e-6)
    finally:
        eng.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy, st.randoms(use_true_random=False))
def test_row_order_changes_nothing(raw, rnd) -> None:
    rows = _rows(raw)
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    outputs = []
    for version in (rows, shuffled):
        eng, _ = _engine(version)
        try:
            w = eng.windows("day", START + dt.timedelta(days=8))
            outputs.append(render_attribution(eng.attribute("m", w, top_n=5), "json"))
        finally:
            eng.close()
    assert outputs[0] == outputs[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy)
def test_window_cache_matches_plain_sql_group_by(raw) -> None:
    eng, path = _engine(_rows(raw))
    try:
        w = eng.windows("day", START + dt.timedelta(days=7), START + dt.timedelta(days=8))
        leaves = eng.cube(w).leaves("m")
        con = duckdb.connect(str(path), read_only=True)
        for depth in (1, 2, 3):
            for combo in itertools.combinations(range(3), depth):
                names = [DIMS[i] for i in combo]
                q = sql.grouped_contribution(
                    eng.schema.relation,
                    "m",
                    names,
                    w.anomaly.bounds(),
                    w.baseline.bounds(),
                    w.ratio,
                )
                expected = {tuple(r[:depth]): (r[depth], r[depth + 1])
                            for r in con.execute(q.text, q.params).fetchall()}  # fmt: skip
                keys, act, exp = leaves.group(combo)
                got = {tuple(leaves.labels[c][k] for c, k in zip(combo, row, strict=True)):
                       (a, e) for row, a, e in zip(keys, act, exp, strict=True)}  # fmt: skip
                assert got.keys() == expected.keys()
                for key, (a, e) in expected.items():
                    assert got[key][0] == pytest.approx(a) and got[key][1] == pytest.approx(e)
        con.close()
    finally:
        eng.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy, st.sampled_from(["same-weekday", "previous"]))
def test_a_cube_summed_from_a_wider_one_equals_a_fresh_scan(raw, kind) -> None:
    rows = _rows(raw)
    eng, path = _engine(rows)
    fresh = Engine.open(str(path))
    try:
        w = eng.windows("day", START + dt.timedelta(days=8), kind=kind)
        wide = eng.cube(w)
        for depth in (1, 2):
            for names in itertools.combinations(DIMS, depth):
                got = eng.cube(w, names)
                assert got is not wide
                want = fresh.cube(w, names)
                assert (got.dimensions, got.labels) == (want.dimensions, want.labels)
                assert (got.rows, got.anomaly_rows, got.nonfinite) == (
                    want.rows, want.anomaly_rows, want.nonfinite)  # fmt: skip
                assert np.array_equal(got.codes, want.codes)
                np.testing.assert_allclose(got.actual["m"], want.actual["m"], atol=1e-9)
                np.testing.assert_allclose(got.expected["m"], want.expected["m"], atol=1e-9)
    finally:
        eng.close()
        fresh.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy, st.integers(1, 9))
def test_explain_never_raises_and_causes_do_not_overlap(raw, anomaly_day) -> None:
    eng, _ = _engine(_rows(raw))
    try:
        w = eng.windows("day", START + dt.timedelta(days=anomaly_day))
        result = eng.explain("m", w)
        leaves = eng.cube(w).leaves("m")
        masks = [leaves.mask(c.segment) for c in result.root_causes]
        for i, a in enumerate(masks):
            assert a.any()
            for b in masks[i + 1 :]:
                assert not (a & b).any()  # no leaf is claimed by two causes
        total = result.total.contribution
        for c in result.root_causes:
            assert c.contribution == pytest.approx(c.actual - c.expected)
            if total != 0:
                assert c.share == pytest.approx(c.contribution / total)
    finally:
        eng.close()

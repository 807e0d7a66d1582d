"""``data-hunter tui``: flags are checked before the app starts; Textual is imported lazily."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

import pytest

from data_hunter import cli
from data_hunter.demo import write_demo
from data_hunter.tui.app import DataHunterApp


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli") / "demo.db"
    write_demo(path)
    return str(path)


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace ``App.run`` so tests see what would have started."""
    calls: list[dict[str, Any]] = []

    def fake_run(self: DataHunterApp, **kwargs: Any) -> None:
        calls.append({"app": self, **kwargs})

    monkeypatch.setattr(DataHunterApp, "run", fake_run)
    return calls


def test_help_lists_the_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["tui", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--metric", "--time-dimension", "--anomaly-date", "--anomaly-end",
                 "--baseline-start", "--baseline-end", "--table", "--date-column",
                 "--dimensions", "--no-mouse", "--baseline", "auto", "examples:"):  # fmt: skip
        assert flag in out


def test_flags_reach_the_app(db: str, runs: list[dict[str, Any]]) -> None:
    code = cli.main(["tui", db, "--metric", "revenue", "--time-dimension", "week",
                     "--anomaly-date", "2025-07-08", "--dimensions", "country,plan",
                     "--no-mouse"])  # fmt: skip
    assert code == 0
    (call,) = runs
    app = call["app"]
    assert call["mouse"] is False
    assert app.metric == "revenue" and app.granularity == "week"
    assert app.anomaly == (dt.date(2025, 7, 8), dt.date(2025, 7, 8))
    assert app.engine.schema.dimensions == ("country", "plan")
    assert app.options.triage


def test_anomaly_date_auto_and_baseline_reach_the_app(db: str, runs: list[dict[str, Any]]) -> None:
    assert cli.main(["tui", db, "--anomaly-date", "auto", "--baseline", "same-weekday"]) == 0
    (call,) = runs
    app = call["app"]
    assert app.anomaly is None and app.auto  # the detector chooses once the app runs
    assert not app.options.triage
    assert app.options.baseline_kind == "same-weekday"
    assert app.baseline_kind == "same-weekday"
    app.anomaly = (dt.date(2025, 3, 18), dt.date(2025, 3, 18))
    assert app._resolve().kind == "same-weekday"
    app.granularity = "week"  # g: same-weekday only applies to days
    assert app._resolve().kind == "previous"


def test_without_a_database_opens_the_demo(
    db: str, runs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import data_hunter.demo

    monkeypatch.setattr(data_hunter.demo, "ensure_demo", lambda: db)
    assert cli.main(["tui"]) == 0
    (call,) = runs
    assert call["mouse"] is True
    assert call["app"].options.db == db
    assert not call["app"].options.triage


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--metric", "nope"], "no column 'nope'"),
        (["--metric", "country"], "not a number"),
        (["--time-dimension", "hour"], "unknown time dimension"),
        (["--anomaly-date", "2025-13-01"], "cannot read --anomaly-date"),
        (["--anomaly-date", "2025-01-01"], "no baseline data"),
        (["--anomaly-date", "2030-01-01"], "outside the data"),
        (["--anomaly-end", "2025-03-01"], "need --anomaly-date"),
        (["--dimensions", " , "], "--dimensions is empty"),
        (["--dimensions", "nope"], "nope"),
        (["--anomaly-date", "auto", "--anomaly-end", "2025-03-01"], "need --anomaly-date"),
        (["--baseline", "same-weekday", "--time-dimension", "week"], "needs --time-dimension day"),
        (
            [
                "--anomaly-date",
                "2025-03-18",
                "--baseline",
                "same-weekday",
                "--baseline-start",
                "2025-03-01",
            ],
            "not both",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    db: str, runs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str],
    argv: list[str], message: str,
) -> None:  # fmt: skip
    assert cli.main(["tui", db, *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and err.startswith("data-hunter: error: ")
    assert runs == []  # the app never started


def test_missing_database(runs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["tui", "/nonexistent/x.db"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert runs == []


def test_other_commands_do_not_import_textual() -> None:
    code = (
        "import sys; from data_hunter import cli; "
        "cli.build_parser().parse_args(['attribute', '--metric', 'm', '--time-dimension', 'day',"
        " '--anomaly-date', '2025-01-01']); "
        "import data_hunter.engine, data_hunter.tui.launch; "
        "assert 'textual' not in sys.modules, 'textual imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

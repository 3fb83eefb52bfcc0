"""Stored values at the edge of what a float holds: the analytics stay finite and every screen,
`liftoff summary` and `liftoff export` still answer (issue 16: a peak traffic of 1e308, accepted
by the importer, ended the overview for every user and the CLI in OverflowError)."""

import json
import math
from datetime import date, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from conftest import EDITOR, PROJECT_ROOT, texts
from liftoff import cli, ingest
from liftoff.evidence import rules

APP = str(PROJECT_ROOT / "app.py")
CLAIMS = "Claims triage assistant"


def _huge_traffic(engine) -> None:
    today = date.today()
    rows = "".join(
        f"{CLAIMS},{today - timedelta(days=d)},{v}\n"
        for d, v in ((3, "1e308"), (2, "1e308"), (1, "1.7e308"))
    )
    ingest.import_file(engine, EDITOR, f"initiative,date,peak_rps\n{rows}".encode(), "huge.csv")


def test_trend_runway_and_correlation_stay_finite_on_the_largest_floats():
    days = [date(2026, 1, d) for d in (1, 8, 15, 22)]
    points = list(zip(days, [1e308, 1.5e308, 1.7e308, 1.79e308], strict=True))
    fit = rules.fit_trend(points)
    assert fit is not None and math.isfinite(fit.a) and math.isfinite(fit.r_squared)
    assert rules.runway(points, 800.0).already_over
    assert rules.runway([(d, v / 1e300) for d, v in points], 1e307).days is None  # not in sight
    assert rules.pearson([1e308, -1e308, 5e307], [1, 2, 3]) == pytest.approx(
        rules.pearson([1, -1, 0.5], [1, 2, 3])
    )
    assert rules.runway_at_growth(date(2026, 1, 1), 1e-300, 0.01, 1e300) == (None, None)


@pytest.mark.parametrize(
    "page", ["screens/overview.py", "screens/scalability.py", "screens/steering.py"]
)
def test_screens_answer_with_a_peak_of_1e308(use_database, demo_url, demo_engine, page):
    use_database(demo_url)
    _huge_traffic(demo_engine)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["initiative"] = CLAIMS
    at.run()
    at = at.switch_page(page).run()
    assert not at.exception, at.exception
    assert "Traceback" not in texts(at)


def test_summary_and_export_answer_with_a_peak_of_1e308(
    demo_url, demo_engine, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", demo_url)
    _huge_traffic(demo_engine)
    assert cli.main(["summary", "--initiative", CLAIMS, "--json"]) == 0
    json.loads(capsys.readouterr().out)
    for fmt in ("html", "csv"):
        out = tmp_path / f"pack.{fmt}"
        assert cli.main(["export", "--initiative", CLAIMS, "--format", fmt, "-o", str(out)]) == 0
        assert out.stat().st_size > 0


def test_a_chart_that_cannot_be_computed_says_so_instead_of_failing_the_screen(
    use_database, demo_url, monkeypatch
):
    from liftoff import charts

    def overflow(*args):
        raise OverflowError("math range error")

    monkeypatch.setattr(charts, "headroom_bars", overflow)
    use_database(demo_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    specs = " ".join(chart.proto.spec for chart in at.get("plotly_chart"))
    assert "This chart cannot be drawn from the stored figures" in specs

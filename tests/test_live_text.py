"""Nothing live in what Liftoff shows or exports (issue 16): a metric named like a link stays
text in every plotly figure (the Model versus business chart, slide 3, the HTML pack)."""

import json

import pandas as pd
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from conftest import EDITOR, PROJECT_ROOT, sign_in_as
from liftoff import charts, cli, ingest
from liftoff.db.models import Metric
from liftoff.evidence import initiative as evidence
from liftoff.meeting import pack as steering_pack

APP = str(PROJECT_ROOT / "app.py")
CHURN = "Churn early-warning"
LINK = '<a href="https://evil.example/">click</a>'


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(node, list | tuple):
        for v in node:
            yield from _strings(v)


def _live(figure_json) -> list[str]:
    return [s for s in _strings(figure_json) if "<a " in s.lower() or 'evil.example/">' in s]


def _hostile_names(engine) -> None:
    with engine.begin() as conn:
        for key in ("churn_auc", "retention_rate_90d"):
            conn.execute(update(Metric).where(Metric.key == key).values(display_name=LINK))


def test_the_model_versus_business_chart_keeps_a_link_as_text(demo_engine):
    _hostile_names(demo_engine)
    ev = evidence.for_initiative(demo_engine, CHURN)
    fig = charts.model_and_kpi(ev, "churn_auc", "retention_rate_90d")
    shown = fig.to_plotly_json()
    assert _live(shown) == []
    texts = list(_strings(shown))
    assert any("&lt;a href" in t and "target" in t for t in texts), (
        "the target note names the metric"
    )
    assert any("&lt;a href" in t and "<extra>" in t for t in texts), "so does the hover label"
    for draw in (charts.model_kpi_scatter,):
        assert _live(draw(ev, "churn_auc", "retention_rate_90d").to_plotly_json()) == []


def test_slide_3_and_the_html_pack_keep_a_link_as_text(
    demo_url, demo_engine, monkeypatch, tmp_path
):
    _hostile_names(demo_engine)
    pack = steering_pack.build(demo_engine, CHURN)
    charted = [s for s in pack["slides"] if s["chart"]]
    model = next(s for s in pack["slides"] if s["key"] == "model_vs_kpi")
    assert _live(json.loads(model["chart"])) == []
    for s in charted:
        assert _live(json.loads(s["chart"])) == [], s["key"]
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", demo_url)
    out = tmp_path / "pack.html"
    assert cli.main(["export", "--initiative", CHURN, "--format", "html", "-o", str(out)]) == 0
    page = out.read_text()
    assert "evil.example" in page  # the name is there, as text
    assert '<a href="https://evil.example/' not in page
    assert "\\u003ca href" not in page.lower()


def test_the_model_versus_business_screen_keeps_a_link_as_text(use_database, demo_url, demo_engine):
    _hostile_names(demo_engine)
    use_database(demo_url)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["initiative"] = CHURN
    at.run()
    at = at.switch_page("screens/model_business.py").run()
    assert not at.exception
    for chart in at.get("plotly_chart"):
        assert _live(json.loads(chart.proto.spec)) == []


# ----------------------------------------------------------------------------- tables


FORMULAS = [
    '=HYPERLINK("https://evil.example/","click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
]


def test_tables_neutralise_formulas_and_keep_plain_figures():
    from liftoff import export, tables

    frame = pd.DataFrame(
        {"text": [*FORMULAS, "+15.4 pts", "-3%", "fine"], "n": [1, -2, 3, 4, 5, 6, 7]}
    )
    shown = tables.arrow(frame).to_pandas()
    assert shown["text"].tolist() == [
        *("'" + f for f in FORMULAS),
        "+15.4 pts",
        "-3%",
        "fine",
    ]
    assert shown["n"].tolist() == [1, -2, 3, 4, 5, 6, 7]
    plain = pd.DataFrame({"a": ["x"]})
    assert export.shown_frame(plain) is plain  # nothing to change, no copy


def test_no_screen_sends_a_table_around_the_neutralising_helper():
    for screen in (PROJECT_ROOT / "screens").glob("*.py"):
        assert "st.dataframe(" not in screen.read_text(), screen.name


def test_the_concerns_screen_and_import_history_show_formulas_neutralised(
    use_database, demo_url, demo_engine
):
    rows = "".join(
        f'RISK-{i},"{f.replace(chr(34), chr(34) * 2)}",High,Real-world data gaps,Open,Lea\n'
        for i, f in enumerate(FORMULAS)
    )
    data = ("Key,Title,Severity,Category,Status,Owner\n" + rows).encode()
    ingest.import_file(
        demo_engine,
        EDITOR,
        data,
        "=cmd.csv",
        ingest.Options(initiative=CHURN),
    )
    use_database(demo_url)
    for page in ("screens/concerns.py", "screens/imports.py"):
        at = AppTest.from_file(APP, default_timeout=60)
        sign_in_as(at, "editor")
        at.query_params["initiative"] = CHURN
        at.run()
        at = at.switch_page(page).run()
        assert not at.exception
        cells = [
            str(v)
            for table in at.dataframe
            for column in table.value.columns
            for v in table.value[column]
        ]
        live = [c for c in cells if c.startswith(("=", "+", "@")) or c.startswith("-2+")]
        assert live == [], (page, live)
        assert any(c.startswith("'=") for c in cells), page

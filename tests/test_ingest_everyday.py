"""The everyday-files corpus in tests/data/everyday: files as product managers have them
(risk registers from other tools without our categories, dates under a dozen header
spellings, load tests with a column missing), each through `liftoff import --json` with its
expected outcome next to it (NAME.expect.json), on SQLite and PostgreSQL."""

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import table_checksums
from liftoff import cli
from liftoff.db.models import Metric, Observation

CORPUS = Path(__file__).parent / "data" / "everyday"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_file() and not p.name.endswith(".expect.json"))


def expectation(path: Path) -> dict:
    return json.loads((CORPUS / (path.stem + ".expect.json")).read_text())


def test_the_corpus_covers_registers_dates_and_load_tests():
    names = [p.name for p in CASES]
    assert sum(n.startswith("dates_") for n in names) >= 12
    assert sum(n.startswith("register_") for n in names) >= 3
    assert sum(n.startswith("loadtest_without") or "without_p95" in n for n in names) >= 3


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_everyday_file(path, demo_url, demo_engine, monkeypatch, capsys):
    expect = expectation(path)
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", demo_url)
    before = table_checksums(demo_engine)
    args = ["import", str(path), "--json", *expect.get("args", [])]
    if expect["outcome"] == "rejected":
        with pytest.raises(SystemExit):
            cli.main(args)
    else:
        assert cli.main(args) == 0
    out = json.loads(capsys.readouterr().out)
    messages = " | ".join(e["message"] for e in out["errors"])
    for fragment in expect.get("errors", []):
        assert fragment in messages, f"{fragment!r} not in {messages!r}"
    for fragment in expect.get("warnings", []):
        assert any(fragment in w for w in out["warnings"]), out["warnings"]
    if expect["outcome"] == "rejected":
        assert out["batch_id"] is None and out["errors"]
        assert table_checksums(demo_engine) == before, "a rejected file changed the database"
        return
    assert out["errors"] == [], messages
    assert (out["kind"], out["rows_accepted"]) == (expect["kind"], expect["rows_accepted"])
    with demo_engine.connect() as conn:
        stored = dict(
            conn.execute(
                select(Metric.key, Observation.value)
                .join(Metric, Metric.id == Observation.metric_id)
                .where(Observation.batch_id == out["batch_id"])
                .order_by(Observation.recorded_at, Observation.id)
            ).all()
        )
        # A date column is never read as a metric, whatever its header.
        assert not any(k in stored for k in ("as_of", "week_ending", "period", "measured"))
        if out["kind"] == "metrics":
            dated = conn.execute(
                select(Observation.recorded_at).where(Observation.batch_id == out["batch_id"])
            ).scalars()
            assert all(d is not None for d in dated)
    for key, value in expect.get("values", {}).items():
        assert stored[key] == pytest.approx(value), key


def test_a_wide_file_counts_its_values_apart_from_its_rows(
    demo_url, demo_engine, monkeypatch, capsys
):
    # Regression: "Metrics: 2 rows read, 4 ready to import", then "Imported 4 rows" and
    # `liftoff batches` saying "4 of 2 rows": a wide file gives one value per metric column.
    from liftoff import ingest
    from liftoff.access import auth

    data = (CORPUS / "dates_week_ending.csv").read_bytes()
    options = ingest.Options(initiative="Churn early-warning")
    prepared = ingest.prepare(demo_engine, data, "dates_week_ending.csv", options)
    assert ingest.describe(prepared).title == "Metrics: 2 rows read, 4 values ready to import"
    _, batch = ingest.import_file(demo_engine, auth.SYSTEM, data, "dates_week_ending.csv", options)
    assert ingest.describe_success(prepared, batch).startswith(
        "Imported 4 values (2 rows) of metrics"
    )
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", demo_url)
    capsys.readouterr()
    cli.main(["batches"])
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith(
        "'dates_week_ending.csv' for Churn early-warning: 4 values from 2 rows, committed"
    ), first


def test_a_file_whose_values_will_not_show_says_so_before_import(demo_engine):
    # Regression (a new user's walk): metrics imported for iteration 6 changed nothing on the
    # screens (the headline shows the chosen candidate's own AUC, and newer retention values
    # were stored already) and nothing said so.
    from liftoff import ingest

    data = (CORPUS / "dates_week_ending.csv").read_bytes()
    prepared = ingest.prepare(
        demo_engine, data, "w.csv", ingest.Options(initiative="Churn early-warning")
    )
    text = " ".join(prepared.warnings)
    assert "shows the values of its candidate lgbm-offers" in text and "Churn model AUC" in text
    assert "already has newer values of 90-day customer retention" in text
    # A file with a candidate column for that candidate is not warned about the candidate.
    own = b"iteration,candidate,metric,value\n6,lgbm-offers,churn_auc,0.86\n"
    again = ingest.prepare(
        demo_engine, own, "c.csv", ingest.Options(initiative="Churn early-warning")
    )
    assert not [w for w in again.warnings if "its candidate" in w]


def test_the_import_message_says_which_iteration_it_created(demo_engine):
    """The check said iteration 7 would be created and become the latest; the message after
    the import said only "Imported 2 rows", and the new iteration was found on the overview."""
    from liftoff import ingest
    from liftoff.access import auth

    data = b"iteration,metric,value\n7,churn_auc,0.851\n7,retention_rate_90d,0.879\n"
    options = ingest.Options(initiative="Churn early-warning")
    prepared = ingest.prepare(demo_engine, data, "next.csv", options)
    assert prepared.ok, prepared.problems.items
    _, batch = ingest.import_file(demo_engine, auth.SYSTEM, data, "next.csv", options)
    assert ingest.describe_success(prepared, batch) == (
        f"Imported 2 rows of metrics from next.csv as batch #{batch}. "
        "It created iteration 7 of Churn early-warning."
    )

"""Every file of the corpus in tests/data/ingest through `liftoff import --json`, with the
expected outcome stored next to it (NAME.expect.json), on SQLite and PostgreSQL."""

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import table_checksums
from liftoff import cli
from liftoff.db.models import ImportBatch, Metric, Observation
from liftoff.evidence import reads as evidence_reads

CORPUS = Path(__file__).parent / "data" / "ingest"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_file() and not p.name.endswith(".expect.json"))


def expectation(path: Path) -> dict:
    return json.loads((CORPUS / (path.stem + ".expect.json")).read_text())


def test_every_corpus_file_has_an_expectation_and_both_outcomes_are_covered():
    assert len(CASES) >= 40
    outcomes = {expectation(p)["outcome"] for p in CASES}
    assert outcomes == {"imported", "rejected"}


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_corpus_file(path, demo_url, demo_engine, monkeypatch, capsys):
    expect = expectation(path)
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", demo_url)
    before = table_checksums(demo_engine)
    with pytest.raises(SystemExit) if expect["outcome"] == "rejected" else _nothing():
        code = cli.main(["import", str(path), "--json", *expect.get("args", [])])
        assert code == 0
    out = json.loads(capsys.readouterr().out)
    messages = " | ".join(
        f"row {e['row']} column {e['column']!r} value {e['value']!r} {e['message']}"
        for e in out["errors"]
    )
    for fragment in expect.get("errors", []):
        assert fragment in messages, f"{fragment!r} not in {messages!r}"
    for fragment in expect.get("warnings", []):
        assert any(fragment in w for w in out["warnings"]), out["warnings"]
    if expect["outcome"] == "rejected":
        assert out["errors"] and out["batch_id"] is None and out["rows_accepted"] == 0
        # Every problem says where and how to fix it.
        assert all(e["message"].strip() for e in out["errors"])
        assert table_checksums(demo_engine) == before, "a rejected file changed the database"
        return
    assert out["errors"] == []
    assert out["kind"] == expect["kind"]
    assert out["rows_accepted"] == expect["rows_accepted"]
    with demo_engine.connect() as conn:
        batch = conn.execute(select(ImportBatch).where(ImportBatch.id == out["batch_id"])).one()
        assert batch.status == "committed"
        assert evidence_reads.original_file(demo_engine, batch.id) == path.read_bytes()
        for key, value in expect.get("values", {}).items():
            stored = (
                conn.execute(
                    select(Observation.value)
                    .join(Metric, Metric.id == Observation.metric_id)
                    .where(
                        Observation.batch_id == out["batch_id"],
                        Metric.key == key,
                        Observation.segment.is_(None),
                    )
                    .order_by(Observation.id.desc())
                )
                .scalars()
                .first()
            )
            assert stored == pytest.approx(value), key


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

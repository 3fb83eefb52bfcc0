"""The hostile files of tests/hostile_files.py (written for this run, not committed) through
`liftoff import --json`, by glob, on SQLite and PostgreSQL: each is refused with a clear message
or imported correctly, and none ends in a traceback or changes the database when refused.
Time and peak memory per file: benchmarks/hostile_files.py."""

import atexit
import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

import hostile_files
from conftest import table_checksums
from liftoff import cli
from liftoff.db.models import Initiative, Metric

FOLDER = Path(tempfile.mkdtemp(prefix="liftoff-hostile-"))
atexit.register(shutil.rmtree, FOLDER, ignore_errors=True)  # about 60 MB of files each run
hostile_files.build(FOLDER)
CASES = sorted(p for p in FOLDER.iterdir() if not p.name.endswith(".expect.json"))


def test_the_hostile_corpus_covers_both_outcomes():
    outcomes = {
        json.loads((FOLDER / (p.stem + ".expect.json")).read_text())["outcome"] for p in CASES
    }
    assert len(CASES) >= 20 and outcomes == {"imported", "rejected"}


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_hostile_file(path, demo_url, demo_engine, monkeypatch, capsys):
    expect = json.loads((FOLDER / (path.stem + ".expect.json")).read_text())
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", demo_url)
    before = table_checksums(demo_engine)
    with demo_engine.connect() as conn:
        before_initiatives = conn.execute(select(func.count()).select_from(Initiative)).scalar()
    start = time.perf_counter()
    # Anything but a clean exit (0 imported, SystemExit rejected) is a traceback and fails here.
    try:
        code = cli.main(["import", str(path), "--json", *expect.get("args", [])])
    except SystemExit as exc:
        code = exc.code
    elapsed = time.perf_counter() - start
    out = json.loads(capsys.readouterr().out)
    print(f"{path.name}: {expect['outcome']} in {elapsed:.2f} s")
    messages = " | ".join(
        f"row {e['row']} column {e['column']!r} value {e['value']!r} {e['message']}"
        for e in out["errors"]
    )
    for fragment in expect.get("errors", []):
        assert fragment in messages, f"{fragment!r} not in {messages!r}"
    if expect["outcome"] == "rejected":
        assert code not in (0, None) and out["errors"] and out["batch_id"] is None
        # A message a page can show: the 400 MB cell once made a 419 MB message.
        assert len(messages) < 2_000
        assert table_checksums(demo_engine) == before, "a refused file changed the database"
    else:
        assert code == 0 and out["errors"] == [], messages
        assert out["rows_accepted"] == expect["rows_accepted"]
        for fragment in expect.get("warnings", []):
            assert any(fragment in w for w in out["warnings"]), out["warnings"]
        with demo_engine.connect() as conn:
            if "initiatives_created" in expect:
                count = conn.execute(select(func.count()).select_from(Initiative)).scalar()
                assert count - before_initiatives == expect["initiatives_created"]
            if "metric_keys" in expect:
                keys = set(conn.execute(select(Metric.key)).scalars())
                assert set(expect["metric_keys"]) <= keys

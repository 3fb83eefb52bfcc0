"""Migrations, the schema check, configuration and the data-version stamp, on every backend."""

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text

from conftest import EDITOR
from liftoff import config, db, errors, ingest
from liftoff.db.models import Base, Observation
from liftoff.evidence import reads as evidence_reads
from liftoff.evidence import writes as evidence_writes

CORPUS = Path(__file__).parent / "data" / "ingest"


def test_upgrade_to_head_and_downgrade_to_base(blank_url):
    engine = db.make_engine(blank_url)
    assert db.current_revision(engine) is None
    db.migrate(engine)
    assert db.current_revision(engine) == db.head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert db.data_version(engine) == 0
    db.downgrade(engine)
    assert db.current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    db.migrate(engine)  # and back up again, as a fresh install would
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


def test_original_files_move_between_schema_versions_and_the_data_stays(blank_url):
    # 0007 moved each batch's file out of import_batches.raw; both directions keep the bytes,
    # and rebuilding the batch table never empties the tables that point at it.
    engine = db.make_engine(blank_url)
    db.migrate(engine)
    evidence_writes.set_initiative(engine, EDITOR, "Churn early-warning", create=True)
    data = (CORPUS / "metrics_long.csv").read_bytes()
    _, batch = ingest.import_file(
        engine, EDITOR, data, "metrics_long.csv", ingest.Options(create=True)
    )
    observations = select(func.count()).select_from(Observation)
    with engine.connect() as conn:
        stored = conn.execute(observations).scalar()
    assert stored > 0

    db.downgrade(engine, "0006")
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT raw FROM import_batches WHERE id = :b"), {"b": batch})
        assert raw.scalar() == data
        assert conn.execute(observations).scalar() == stored
    db.migrate(engine)
    assert evidence_reads.original_file(engine, batch) == data
    assert evidence_reads.import_batch(engine, batch)["file_size"] == len(data)
    with engine.connect() as conn:
        assert conn.execute(observations).scalar() == stored
    engine.dispose()


def test_batches_stored_before_0015_name_the_initiatives_the_importer_now_records(demo_engine):
    # The demo holds every kind of import (metrics, MLflow runs, load tests, traffic, criteria,
    # feedback, concerns, stakeholders, governance): migration 0015 fills in, from the rows
    # each batch holds, what the importer records as it imports.
    recorded = {b["id"]: b["initiatives"] for b in evidence_reads.import_batches(demo_engine)}
    assert recorded and all(recorded.values())
    db.downgrade(demo_engine, "0014")
    db.migrate(demo_engine)
    filled = {b["id"]: b["initiatives"] for b in evidence_reads.import_batches(demo_engine)}
    assert filled == recorded


def test_models_and_migrations_do_not_drift(engine):
    # `alembic check` raises when autogenerate would emit any operation.
    command.check(db.alembic_config(engine))


def test_app_refuses_a_database_that_is_behind(blank_url):
    engine = db.make_engine(blank_url)
    with pytest.raises(db.DatabaseBehind, match="Run `liftoff migrate`"):
        db.require_current_schema(engine)
    db.migrate(engine)
    db.require_current_schema(engine)
    engine.dispose()


def test_an_old_app_process_on_an_upgraded_database_says_to_restart_it(db_url):
    """During an upgrade of several app processes, the ones not restarted yet meet a schema
    newer than they know: they say so, rather than asking to migrate what is already newer."""
    engine = db.make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with pytest.raises(db.DatabaseBehind, match="this app process is an older Liftoff") as exc:
        db.checked_data_version(engine)
    assert "Run `liftoff migrate`" not in str(exc.value)
    engine.dispose()


def test_a_running_app_knows_its_migrations_as_they_were_when_it_started(db_url, monkeypatch):
    # A newer Liftoff installed under a running process brings migration 0016's file: the
    # running process read its head (0015) at start but the list of migrations later, from
    # the disk, took 0016 for its own and asked to run `liftoff migrate` on a database newer
    # than itself (helper-26 met it). Both are one snapshot now.
    db.head_revision()
    from alembic.script import ScriptDirectory

    def newer_files_on_disk(*args, **kwargs):
        raise AssertionError("read the migrations from disk again")

    monkeypatch.setattr(ScriptDirectory, "from_config", newer_files_on_disk)
    engine = db.make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0016_installed_meanwhile'"))
    with pytest.raises(db.DatabaseBehind, match="this app process is an older Liftoff"):
        db.checked_data_version(engine)
    engine.dispose()


def test_every_write_bumps_the_data_version(engine):
    before = db.data_version(engine)
    evidence_writes.set_initiative(engine, EDITOR, "Fraud screening", create=True, stage="poc")
    evidence_writes.set_initiative(engine, EDITOR, "Fraud screening", stage="pilot")
    assert db.data_version(engine) == before + 2


def test_a_failed_write_leaves_the_data_version_alone(engine):
    before = db.data_version(engine)
    with pytest.raises(errors.InvalidValue):
        evidence_writes.set_initiative(engine, EDITOR, "Unknown initiative", stage="pilot")
    assert db.data_version(engine) == before


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "LIFTOFF_DATABASE_URL is not a database URL"),
        ("postgresql+psycopg://liftoff:secret@127.0.0.1:1/liftoff", "Cannot reach the database"),
        ("nosuchdb://x/y", "No driver for"),
    ],
)
def test_bad_database_url_gives_one_clear_message(url, message):
    with pytest.raises(db.DatabaseUnavailable, match=message) as info:
        db.make_engine(url)
    assert "secret" not in str(info.value)  # passwords never reach a message


def test_default_database_is_under_the_project_root_wherever_we_run(tmp_path, monkeypatch):
    monkeypatch.delenv("LIFTOFF_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    expected = f"sqlite:///{config.PROJECT_ROOT / 'data' / 'liftoff.db'}"
    assert config.database_url() == expected
    out = subprocess.run(
        [sys.executable, "-c", "from liftoff.config import database_url; print(database_url())"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == expected


def test_database_url_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert config.database_url() == "postgresql+psycopg://u@h/db"

"""Demo load speed: `liftoff demo` and `liftoff demo --reset` on a fresh database, against the
import of the same ten files through the importer alone, in the same run.

    .venv/bin/python benchmarks/demo.py [--repeat N] [--postgres URL]

The baseline is the part of the demo that is an upload; the ratio says what the rest costs
(metric definitions, initiative settings, iterations, decisions, alert rules and readiness
scores through the editors' write path, one transaction each). Prints medians in seconds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from liftoff import db, ingest
from liftoff.access.auth import SYSTEM
from liftoff.demo import builder, story
from liftoff.evidence import writes


def _fresh(url: str | None, folder: Path):
    if url is None:
        return db.make_engine(f"sqlite:///{folder / f'{uuid.uuid4().hex}.db'}"), None
    name = f"liftoff_bench_demo_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    target = make_url(url).set(database=name).render_as_string(hide_password=False)
    return db.make_engine(target), (admin, name)


def _drop(engine, handle) -> None:
    engine.dispose()
    if handle is not None:
        admin, name = handle
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}"'))
        admin.dispose()


def _files_only(engine) -> None:
    for key, (name, category, unit, direction) in story.METRICS.items():
        writes.define_metric(
            engine,
            SYSTEM,
            key,
            display_name=name,
            category=category,
            unit=unit,
            direction=direction,
        )
    for name, kind, asked in story.FILES:
        ingest.import_file(
            engine,
            SYSTEM,
            builder.demo_file(name, story.ANCHOR),
            name,
            ingest.Options(kind=kind, create=True, force=True, **asked),
        )


def _timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def run(url: str | None, repeat: int) -> None:
    """Print the medians of `repeat` runs of each job on fresh databases."""
    results: dict[str, list[float]] = {"files": [], "load": [], "reset": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            engine, handle = _fresh(url, Path(tmp))
            db.migrate(engine)
            results["files"].append(_timed(_files_only, engine))
            _drop(engine, handle)
            engine, handle = _fresh(url, Path(tmp))
            db.migrate(engine)
            results["load"].append(_timed(builder.load_demo, engine, today=story.ANCHOR))
            results["reset"].append(
                _timed(builder.load_demo, engine, reset=True, today=story.ANCHOR)
            )
            _drop(engine, handle)
    base = statistics.median(results["files"])
    where = "PostgreSQL" if url else "SQLite"
    print(f"{where}, medians of {repeat}:")
    print(f"  the ten files through the importer alone  {base:6.2f} s  1.00x")
    for job, label in (("load", "liftoff demo"), ("reset", "liftoff demo --reset")):
        t = statistics.median(results[job])
        print(f"  {label:<43}{t:6.2f} s  {t / base:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", help="a server URL; a scratch database is made and dropped")
    args = parser.parse_args()
    run(None, args.repeat)
    if args.postgres:
        run(args.postgres, args.repeat)


if __name__ == "__main__":
    main()

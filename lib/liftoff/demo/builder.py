"""Loading the demo portfolio: its files through the importer, the rest through the write path.

The demo is not a writer of its own. Everything a product manager would upload (metrics, an
MLflow runs export, load tests, traffic, the risk register, criteria, feedback, stakeholders,
governance) is a file in data/demo, imported with `ingest.load_file` exactly as the Upload page
imports it, so every load of the demo proves the importer. What an editor types instead
(metric definitions, initiative settings, iteration names, dates, hypotheses and decisions,
alert rules, readiness scores; see `story`) goes through the functions the screens call.

The files hold real dates as of `story.ANCHOR`, so each of them is an honest upload on its own.
On loading, every date moves by the same number of days, so that the anchor falls on the day of
loading: a load on the same day gives the same data, and `--reset` restores it (only the
times at which the load itself wrote its rows, such as upload times, differ).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, delete, func, or_, select

from liftoff import config, db, ingest
from liftoff.access import audit
from liftoff.access.auth import SYSTEM, Actor, require
from liftoff.db.models import ImportBatch, Initiative
from liftoff.demo import story
from liftoff.demo.story import DEMO_INITIATIVES, DEMO_NAMES
from liftoff.evidence import writes as evidence_writes
from liftoff.notify import outbox as notify
from liftoff.readiness import writes as readiness_writes

__all__ = ["DEMO_DIR", "DEMO_NAMES", "database_empty", "demo_file", "load_demo", "shift_dates"]

DEMO_DIR = config.DATA_DIR / "demo"
# Batches of the demo are named after their file, so `--reset` finds exactly them.
_BATCH_PREFIX = "data/demo/"
# The builder before the demo went through the importer wrote batches of this kind.
_LEGACY_KIND = "demo"
_ISO_DATE = re.compile(rb"(?<![0-9])(\d{4})-(\d{2})-(\d{2})(?![0-9])")


def database_empty(engine: Engine) -> bool:
    """Whether the database holds no initiative at all."""
    with engine.connect() as conn:
        return not conn.execute(select(func.count()).select_from(Initiative)).scalar()


def shift_dates(data: bytes, days: int) -> bytes:
    """The file with every ISO date (YYYY-MM-DD, alone or starting a timestamp) moved by `days`.
    (Locust's unix timestamps stay: a load-test step has no date, only their differences count.)"""
    if not days:
        return data

    def moved(match: re.Match) -> bytes:
        day = date(int(match[1]), int(match[2]), int(match[3])) + timedelta(days=days)
        return day.isoformat().encode()

    return _ISO_DATE.sub(moved, data)


def demo_file(name: str, today: date | None = None) -> bytes:
    """The demo file `name` (in data/demo) with its dates moved so that the anchor is `today`."""
    days = ((today or date.today()) - story.ANCHOR).days
    return shift_dates((DEMO_DIR / name).read_bytes(), days)


def _remove_demo(conn, initiative_ids: list[int]) -> None:
    """The demo's initiatives (with everything recorded under them) and the demo's batches."""
    conn.execute(
        delete(ImportBatch).where(
            or_(
                ImportBatch.file_name.in_([_BATCH_PREFIX + name for name, _, _ in story.FILES]),
                ImportBatch.kind == _LEGACY_KIND,
            )
        )
    )
    conn.execute(delete(Initiative).where(Initiative.id.in_(initiative_ids)))


def load_demo(
    engine: Engine, reset: bool = False, today: date | None = None, actor: Actor = SYSTEM
) -> str:
    """Load the demo portfolio; returns what was done, in a sentence.

    Without `reset`, an already loaded demo is left as it is (no duplicates). With `reset`, the
    demo initiatives, everything recorded under them and the demo's import batches are removed
    and loaded afresh.
    """
    require(actor, "upload")
    today = today or date.today()
    days = (today - story.ANCHOR).days
    shift = timedelta(days=days)
    with db.write(engine) as conn:
        present = (
            conn.execute(select(Initiative.id).where(Initiative.name.in_(DEMO_NAMES)))
            .scalars()
            .all()
        )
        if present and not reset:
            return (
                "The demo portfolio is already loaded; nothing changed. Use --reset to restore it."
            )
        if present:
            _remove_demo(conn, present)

    for key, (name, category, unit, direction) in story.METRICS.items():
        evidence_writes.define_metric(
            engine,
            actor,
            key,
            display_name=name,
            category=category,
            unit=unit,
            direction=direction,
        )
    for spec in DEMO_INITIATIVES:
        evidence_writes.set_initiative(
            engine,
            actor,
            spec.name,
            create=True,
            stage=spec.stage,
            slo_p95_ms=spec.slo_p95_ms,
            max_error_rate=spec.max_error_rate,
            primary_metric=spec.primary_metric,
            business_goal=spec.goal,
            owner=spec.owner,
        )
    # `create`: the files name the iterations; `force`: the same file (same day) may have been
    # imported before, by an earlier load of the demo.
    for name, kind, asked in story.FILES:
        on_disk = (DEMO_DIR / name).read_bytes()
        ingest.load_file(
            engine,
            actor,
            shift_dates(on_disk, days),
            _BATCH_PREFIX + name,
            ingest.Options(kind=kind, create=True, force=True, **asked),
            # Known by the file on disk: uploading data/demo/... again is then "already
            # imported as batch #N", not its rows a second time.
            sha256=hashlib.sha256(on_disk).hexdigest(),
        )
    for spec in DEMO_INITIATIVES:
        _describe(engine, actor, spec.name, shift)

    with db.write(engine) as conn:
        # The alerts firing now are the baseline, not news (as of the demo's day, as the rest).
        notify.evaluate(conn, now=datetime.combine(today, time(8, 0)))
        audit.record(
            conn,
            actor,
            "demo",
            ("Reloaded" if present else "Loaded") + " the demo portfolio: " + ", ".join(DEMO_NAMES),
            target="initiative",
        )
    return f"Loaded the demo portfolio: {', '.join(DEMO_NAMES)}."


def _describe(engine: Engine, actor: Actor, initiative: str, shift: timedelta) -> None:
    """What the editor of `initiative` typed: iterations and decisions, alert rules, readiness."""
    for it in story.ITERATIONS[initiative]:
        evidence_writes.describe_iteration(
            engine,
            actor,
            initiative,
            it.number,
            label=it.label,
            start_date=it.start + shift,
            end_date=it.end + shift,
            hypothesis=it.hypothesis,
        )
        if it.decision != "pending":
            evidence_writes.record_decision(
                engine,
                actor,
                initiative,
                it.number,
                decision=it.decision,
                rationale=it.rationale,
                decided_by=it.decided_by,
                decided_at=_moved(it.decided_at, shift),
            )
    evidence_writes.add_alert_rules(
        engine,
        actor,
        initiative,
        [
            dict(
                metric=metric,
                comparator=comparator,
                threshold=threshold,
                severity=severity,
                stages=list(stages),
            )
            for metric, comparator, threshold, severity, stages in story.ALERT_RULES[initiative]
        ],
    )
    # Scored by the team member the story names; "(demo)" keeps the audit log honest.
    scorer = replace(actor, name=f"{story.SCORED_BY[initiative]} (demo)", email=None)
    for item, score, note in story.READINESS[initiative]:
        readiness_writes.score_readiness(engine, scorer, initiative, item, score=score, note=note)


def _moved(when: datetime | None, shift: timedelta) -> datetime | None:
    return when + shift if when is not None else None

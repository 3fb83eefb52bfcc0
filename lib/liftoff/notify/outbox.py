"""Evaluation after a write and the outbox: what changed is written as messages in the same
transaction as the change, so a message exists exactly when the change was committed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import Connection, insert, select, text, update

from liftoff import config
from liftoff.db.models import (
    AlertRule,
    AlertState,
    Criterion,
    CriterionState,
    Iteration,
    NotificationChannel,
    NotifyEvent,
    Observation,
    OutboxMessage,
    Silence,
)
from liftoff.evidence import initiative as evidence
from liftoff.evidence import reads as evidence_reads
from liftoff.evidence.initiative import InitiativeEvidence
from liftoff.evidence.rules import AlertStatus
from liftoff.notify import rules

# Any number: the key of the PostgreSQL advisory lock that serialises evaluations, so two
# imports committing at once cannot both announce the same change.
_EVALUATION_LOCK = 7_212_019


def link(screen: str, initiative: str, iteration: int | None) -> str:
    """An address of a screen for an initiative and iteration, from LIFTOFF_BASE_URL."""
    base = (config.value("LIFTOFF_BASE_URL") or "").rstrip("/")
    params = {"initiative": initiative}
    if iteration is not None:
        params["iteration"] = iteration
    return f"{base}/{screen}?{urlencode(params)}"


def enqueue(
    conn: Connection,
    *,
    kind: str,
    subject: str,
    payload: dict,
    channel_id: int | None = None,
    address: str | None = None,
    initiative_id: int | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> int:
    """Add one message to the outbox in the caller's transaction; returns its id."""
    now = now or datetime.now()
    return conn.execute(
        insert(OutboxMessage)
        .values(
            channel_id=channel_id,
            address=address,
            kind=kind,
            initiative_id=initiative_id,
            dedupe_key=dedupe_key,
            subject=subject[:500],
            payload=json.dumps(payload, ensure_ascii=False, default=str),
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
        .returning(OutboxMessage.id)
    ).scalar_one()


def initiatives_of_batch(conn: Connection, batch_id: int) -> set[int]:
    """The initiatives whose observations or criteria a batch holds."""
    ids = set()
    for model in (Observation, Criterion):
        stmt = (
            select(Iteration.initiative_id)
            .where(Iteration.id.in_(select(model.iteration_id).where(model.batch_id == batch_id)))
            .distinct()
        )
        ids.update(conn.execute(stmt).scalars())
    return ids


def _lock(conn: Connection) -> None:
    # SQLite has one writer at a time already; PostgreSQL writers wait here for each other.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EVALUATION_LOCK})


def _alert_item(ev: InitiativeEvidence, a, state: str, since: datetime | None) -> dict:
    meta = ev.catalog.get(a.metric, {})
    return {
        "rule": f"{a.metric} {a.comparator} {a.threshold:g}",
        "rule_id": a.rule_id,
        "metric": a.metric,
        "metric_name": meta.get("display_name") or a.metric,
        "unit": meta.get("unit"),
        "value": a.value,
        "threshold": a.threshold,
        "comparator": a.comparator,
        "severity": a.severity,
        "state": state,
        "iteration": a.iteration,
        "since_iteration": a.since_iteration,
        "since": since.isoformat(timespec="seconds") if since else None,
    }


def alert_payload(ev: InitiativeEvidence, items: list[dict]) -> dict:
    """The webhook body for one initiative's changes of one evaluation."""
    name = ev.initiative["name"]
    number = ev.latest.number if ev.latest else None
    firing = [i for i in items if i["state"] in ("firing", "repeat")]
    return {
        "initiative": name,
        "iteration": number,
        "state": "firing" if firing else "resolved",
        "alerts": items,
        "link": link("monitoring", name, number),
    }


def alert_subject(payload: dict) -> str:
    """'Churn early-warning: 2 alerts firing, 1 resolved' (for emails and chat)."""
    firing = sum(1 for a in payload["alerts"] if a["state"] in ("firing", "repeat"))
    resolved = len(payload["alerts"]) - firing
    parts = []
    if firing:
        parts.append(f"{firing} alert{'s' if firing != 1 else ''} firing")
    if resolved:
        parts.append(f"{resolved} resolved")
    return f"Liftoff · {payload['initiative']}: " + ", ".join(parts)


def evaluate(
    conn: Connection, initiative_ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Evaluate the alert rules and criteria of some initiatives (None: all) inside the caller's
    write, record what changed, and queue one message per initiative and channel for the
    alerts that started or stopped firing. Returns the number of messages queued."""
    now = now or datetime.now()
    _lock(conn)
    # The reads take the write's own connection: they must see the rows it is about to commit.
    source = conn
    wanted = None if initiative_ids is None else set(initiative_ids)
    if wanted is not None and not wanted:
        return 0
    inis = [i for i in evidence_reads.initiatives(source) if wanted is None or i["id"] in wanted]
    watched = _watched(conn, [i["id"] for i in inis])
    # Reading an initiative's evidence costs what its Monitoring screen's first view does: only
    # for initiatives with something to watch.
    inis = [i for i in inis if i["id"] in watched]
    if not inis:
        return 0
    ids = [i["id"] for i in inis]
    evs = evidence.collect(source, inis)
    seen = {
        (r["rule_id"], r["initiative_id"]): dict(r)
        for r in conn.execute(
            select(AlertState.__table__).where(AlertState.initiative_id.in_(ids))
        ).mappings()
    }
    silences = [
        dict(r)
        for r in conn.execute(select(Silence.__table__).where(Silence.until > now)).mappings()
    ]
    channels = [
        dict(r) for r in conn.execute(select(NotificationChannel.__table__)).mappings().all()
    ]
    queued = 0
    for ev in evs:
        ini_id = ev.initiative["id"]
        items = _alert_changes(conn, ev, seen, silences, now)
        _criterion_changes(conn, ev, now)
        if not items:
            continue
        for ch in channels:
            if ch["initiative_id"] not in (None, ini_id):
                continue
            chosen = [i for i in items if rules.at_least(i["severity"], ch["min_severity"])]
            if not chosen:
                continue
            payload = alert_payload(ev, chosen)
            enqueue(
                conn,
                kind="alert",
                subject=alert_subject(payload),
                payload=payload,
                channel_id=ch["id"],
                initiative_id=ini_id,
                now=now,
            )
            queued += 1
    return queued


def _watched(conn: Connection, ids: list[int]) -> set[int]:
    """Of these initiatives, those with an alert rule (of their own or for every initiative),
    a recorded alert state or a criterion: the others have nothing to notify or flip."""
    if not ids:
        return set()
    if conn.execute(select(AlertRule.id).where(AlertRule.initiative_id.is_(None)).limit(1)).first():
        return set(ids)
    found = set(
        conn.execute(
            select(AlertRule.initiative_id).where(AlertRule.initiative_id.in_(ids)).distinct()
        ).scalars()
    )
    found.update(
        conn.execute(
            select(AlertState.initiative_id).where(AlertState.initiative_id.in_(ids)).distinct()
        ).scalars()
    )
    found.update(
        conn.execute(
            select(Iteration.initiative_id)
            .where(
                Iteration.initiative_id.in_(ids),
                Iteration.id.in_(select(Criterion.iteration_id)),
            )
            .distinct()
        ).scalars()
    )
    return found


def _alert_changes(conn, ev: InitiativeEvidence, seen: dict, silences: list, now) -> list[dict]:
    ini_id = ev.initiative["id"]
    repeat = {r["id"]: r.get("repeat_minutes") for r in ev.rules}
    statuses = {a.rule_id: a for a in ev.alerts}
    # A rule switched off (or gone from this stage) while firing resolves.
    for (rule_id, init), row in seen.items():
        if init == ini_id and rule_id not in statuses and row["firing"]:
            rule = next((r for r in ev.rules if r["id"] == rule_id), None)
            if rule is not None:
                statuses[rule_id] = _quiet(rule)
    items = []
    for rule_id, a in statuses.items():
        row = seen.get((rule_id, ini_id))
        prev = (
            rules.Seen(
                row["firing"],
                row["notified"],
                row["last_sent_at"],
                row["acknowledged_at"] is not None,
            )
            if row
            else None
        )
        silenced = rules.silence_for(silences, rule_id, ini_id, now) is not None
        what = rules.change(
            prev,
            a.firing,
            silenced,
            severity=a.severity,
            repeat_minutes=repeat.get(rule_id),
            now=now,
        )
        started = prev is None or not prev.firing
        values: dict = {"value": a.value, "iteration": a.iteration}
        if a.firing and started:
            values.update(
                firing=True,
                since_iteration=a.since_iteration,
                changed_at=now,
                notified=what == "firing",
                last_sent_at=now if what else None,
                acknowledged_by=None,
                acknowledged_at=None,
            )
        elif not a.firing and prev is not None and prev.firing:
            values.update(
                firing=False,
                since_iteration=None,
                changed_at=now,
                notified=False,
                acknowledged_by=None,
                acknowledged_at=None,
            )
        elif a.firing and what:
            values.update(notified=True, last_sent_at=now)
        elif prev is None:
            continue  # never fired: nothing worth keeping
        if a.firing != (prev is not None and prev.firing):
            _event(conn, ini_id, "alert", "firing" if a.firing else "resolved", now, ev, a)
        if row is None:
            conn.execute(
                insert(AlertState).values(
                    rule_id=rule_id,
                    initiative_id=ini_id,
                    **{"notified": False, "changed_at": now, "firing": False, **values},
                )
            )
        else:
            conn.execute(update(AlertState).where(AlertState.id == row["id"]).values(**values))
        if what:
            since = now if started else row["changed_at"]
            items.append(_alert_item(ev, a, what, since if a.firing else None))
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    return sorted(items, key=lambda i: (i["state"] == "resolved", order.get(i["severity"], 9)))


def _quiet(rule: dict) -> AlertStatus:
    return AlertStatus(
        rule["id"],
        rule["metric"],
        rule["comparator"],
        rule["threshold"],
        rule["severity"],
        False,
        None,
        None,
        False,
        None,
    )


def _event(conn, ini_id: int, kind: str, state: str, now, ev, a=None, **detail) -> None:
    previous = detail.pop("previous", None)
    if a is not None:
        meta = ev.catalog.get(a.metric, {})
        detail = {
            "metric": a.metric,
            "metric_name": meta.get("display_name") or a.metric,
            "unit": meta.get("unit"),
            "value": a.value,
            "comparator": a.comparator,
            "threshold": a.threshold,
            "severity": a.severity,
            "iteration": a.iteration,
        }
        previous = "resolved" if state == "firing" else "firing"
    conn.execute(
        insert(NotifyEvent).values(
            at=now,
            initiative_id=ini_id,
            kind=kind,
            state=state,
            previous=previous,
            detail=json.dumps(detail, ensure_ascii=False, default=str),
        )
    )


def _criterion_changes(conn, ev: InitiativeEvidence, now) -> None:
    criteria = {c["id"]: (it, c) for it in ev.iterations for c in it.criteria}
    if not criteria:
        return
    known = dict(
        conn.execute(
            select(CriterionState.criterion_id, CriterionState.status).where(
                CriterionState.criterion_id.in_(list(criteria))
            )
        ).all()
    )
    for cid, (it, c) in criteria.items():
        before = known.get(cid)
        if before == c["status"]:
            continue
        if before is None:
            conn.execute(
                insert(CriterionState).values(criterion_id=cid, status=c["status"], changed_at=now)
            )
            continue  # first seen: a new criterion, not a flip
        conn.execute(
            update(CriterionState)
            .where(CriterionState.criterion_id == cid)
            .values(status=c["status"], changed_at=now)
        )
        meta = ev.catalog.get(c["metric"] or "", {})
        _event(
            conn,
            ev.initiative["id"],
            "criterion",
            c["status"],
            now,
            ev,
            previous=before,
            iteration=it.number,
            description=c.get("description"),
            metric=c["metric"],
            metric_name=meta.get("display_name") or c["metric"],
            unit=meta.get("unit"),
            comparator=c["comparator"],
            target=c["target"],
            value=c["value"],
        )

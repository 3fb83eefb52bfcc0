"""The digest: what changed for an initiative since a date, for the steering group, by email.
Decisions, criteria that flipped, alerts fired and resolved, concerns opened and closed, and
headroom and runway now, with a link to the steering pack."""

from __future__ import annotations

import html
import json
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, and_, or_, select

from liftoff import config, db
from liftoff.access.auth import Actor, require
from liftoff.db.models import (
    Concern,
    Initiative,
    Iteration,
    NotificationChannel,
    NotifyEvent,
    OutboxMessage,
)
from liftoff.evidence import initiative as evidence
from liftoff.evidence import reads as evidence_reads
from liftoff.evidence.portfolio import runway_sentence
from liftoff.formatting import format_date, format_percent, format_value
from liftoff.notify import messages, outbox, rules
from liftoff.notify.writes import InvalidSetting, check_target

_DECISION_WORDS = {"go": "Go", "no-go": "No-go", "pivot": "Pivot", "extend": "Extend"}
_STATUS_WORDS = {"met": "met", "not_met": "not met", "no_evidence": "no evidence"}


def build(engine: Engine, initiative: str, since: date, today: date | None = None) -> dict:
    """The digest of one initiative since `since` (a day, included), as plain data."""
    today = today or date.today()
    ev = evidence.for_initiative(engine, initiative)
    ini_id = ev.initiative["id"]
    start = datetime.combine(since, datetime.min.time())
    with engine.connect() as conn:
        decided = conn.execute(
            select(Iteration.__table__)
            .where(
                Iteration.initiative_id == ini_id,
                Iteration.decided_at >= start,
                Iteration.decision != "pending",
            )
            .order_by(Iteration.decided_at)
        ).mappings()
        decisions = [
            {
                "iteration": d["number"],
                "label": d["label"],
                "decision": _DECISION_WORDS.get(d["decision"], d["decision"]),
                "rationale": d["rationale"],
                "decided_by": d["decided_by"],
                "decided_at": format_date(d["decided_at"]),
            }
            for d in decided
        ]
        events = conn.execute(
            select(NotifyEvent.__table__)
            .where(NotifyEvent.initiative_id == ini_id, NotifyEvent.at >= start)
            .order_by(NotifyEvent.id)
        ).mappings()
        criteria, alerts = [], []
        for e in events:
            d = json.loads(e["detail"])
            if e["kind"] == "criterion":
                criteria.append(
                    {
                        "iteration": d.get("iteration"),
                        "what": d.get("description") or d.get("metric_name") or "A criterion",
                        "from": _STATUS_WORDS.get(e["previous"], e["previous"]),
                        "to": _STATUS_WORDS.get(e["state"], e["state"]),
                        "value": format_value(d.get("value"), d.get("unit")),
                        "target": f"{d.get('comparator') or ''} {format_value(d.get('target'), d.get('unit'))}".strip(),
                        "at": format_date(e["at"]),
                    }
                )
            else:
                alerts.append(
                    {
                        "state": "fired" if e["state"] == "firing" else "resolved",
                        "metric_name": d.get("metric_name"),
                        "severity": d.get("severity"),
                        "value": format_value(d.get("value"), d.get("unit")),
                        "threshold": f"{d.get('comparator')} {format_value(d.get('threshold'), d.get('unit'))}",
                        "at": format_date(e["at"]),
                    }
                )
        concerns = conn.execute(
            select(Concern.__table__)
            .where(
                Concern.initiative_id == ini_id,
                or_(
                    Concern.raised_at >= since,
                    and_(Concern.resolved_at.is_not(None), Concern.resolved_at >= since),
                ),
            )
            .order_by(Concern.raised_at, Concern.id)
        ).mappings()
        opened, closed = [], []
        for c in concerns:
            item = {
                "title": c["title"],
                "severity": c["severity"],
                "raised_by": c["raised_by"],
                "owner": c["owner"],
                "status": c["status"],
                "raised_at": format_date(c["raised_at"]),
                "resolved_at": format_date(c["resolved_at"]),
                "resolution": c["resolution"],
            }
            if c["raised_at"] >= since:
                opened.append(item)
            if c["resolved_at"] is not None and c["resolved_at"] >= since:
                closed.append(item)
    latest = ev.latest
    name = ev.initiative["name"]
    return {
        "initiative": name,
        "since": format_date(since),
        "until": format_date(today),
        "decisions": decisions,
        "criteria": criteria,
        "alerts": alerts,
        "concerns_opened": opened,
        "concerns_closed": closed,
        "headroom": format_percent(ev.headroom) if ev.headroom is not None else None,
        "runway": runway_sentence(ev),
        "link": outbox.link("steering", name, latest.number if latest else None),
    }


def subject(payload: dict) -> str:
    """'Liftoff digest · Churn early-warning, 16 Nov 2026 to 23 Nov 2026'."""
    return f"Liftoff digest · {payload['initiative']}, {payload['since']} to {payload['until']}"


def _sections(p: dict) -> list[tuple[str, list[str], str]]:
    """(heading, plain lines, what to say when empty) per section, shared by both forms."""
    return [
        (
            "Decisions",
            [
                f"Iteration {d['iteration']}: {d['decision']}"
                + (f" — {d['rationale']}" if d["rationale"] else "")
                + (f" ({d['decided_by']}, {d['decided_at']})" if d["decided_by"] else "")
                for d in p["decisions"]
            ],
            "No decision recorded.",
        ),
        (
            "Criteria that changed",
            [
                f"Iteration {c['iteration']}: {c['what']} went from {c['from']} to {c['to']}"
                f" ({c['value']}, target {c['target']})"
                for c in p["criteria"]
            ],
            "No criterion changed.",
        ),
        (
            "Alerts",
            [
                f"{a['metric_name']} {a['state']} ({a['severity']}): {a['value']}, alert when "
                f"{a['threshold']}, {a['at']}"
                for a in p["alerts"]
            ],
            "No alert fired or resolved.",
        ),
        (
            "Concerns opened",
            [
                f"{c['title']} ({c['severity']}"
                + (f", raised by {c['raised_by']}" if c["raised_by"] else "")
                + f", {c['raised_at']})"
                for c in p["concerns_opened"]
            ],
            "No concern opened.",
        ),
        (
            "Concerns closed",
            [
                f"{c['title']} ({c['status']}, {c['resolved_at']})"
                + (f": {c['resolution']}" if c["resolution"] else "")
                for c in p["concerns_closed"]
            ],
            "No concern closed.",
        ),
    ]


def render(p: dict) -> tuple[str, str]:
    """(plain text, HTML) of a digest; every piece of user text is escaped in the HTML."""
    e = html.escape
    head = f"What changed for {p['initiative']} from {p['since']} to {p['until']}"
    capacity = (
        f"Headroom now: {p['headroom']}. {p['runway']}"
        if p["headroom"]
        else f"Headroom now: not measured yet. {p['runway']}"
    )
    text = [head, ""]
    inner = [
        "<div class='tiles'>"
        f"<div class='tile'>Headroom now<b>{e(p['headroom'] or '—')}</b></div>"
        f"<div class='tile'>Runway<b style='font-size:15px'>{e(p['runway'])}</b></div></div>"
    ]
    for heading, lines, empty in _sections(p):
        text += [heading, *(f"- {x}" for x in lines or [empty]), ""]
        items = "".join(f"<li>{e(x)}</li>" for x in lines)
        inner.append(
            f"<h2>{e(heading)}</h2>"
            + (f"<ul>{items}</ul>" if lines else f"<p class='none'>{e(empty)}</p>")
        )
    text += [capacity, "", f"The steering pack: {p['link']}"]
    inner.append(
        f"<p style='margin-top:24px'><a class='button' href='{e(p['link'], quote=True)}'>"
        "Open the steering pack</a></p>"
    )
    return "\n".join(text), messages.page(
        f"Liftoff digest · {p['initiative']}", head, "".join(inner)
    )


def queue(
    engine: Engine,
    actor: Actor,
    initiative: str,
    since: date,
    to: str | None = None,
    today: date | None = None,
) -> list[int]:
    """Queue the digest for `to` (an address) or, without it, for every email channel that
    takes this initiative; returns the message ids (the worker, or the caller, sends them)."""
    require(actor, "read")
    payload = build(engine, initiative, since, today)
    with db.write(engine) as conn:
        ini_id = conn.execute(select(Initiative.id).where(Initiative.name == initiative)).scalar()
        if to is not None:
            return [
                outbox.enqueue(
                    conn,
                    kind="digest",
                    subject=subject(payload),
                    payload=payload,
                    address=check_target("email", to),
                    initiative_id=ini_id,
                )
            ]
        ids = [
            outbox.enqueue(
                conn,
                kind="digest",
                subject=subject(payload),
                payload=payload,
                channel_id=ch_id,
                initiative_id=ini_id,
            )
            for ch_id in _email_channels(conn, ini_id)
        ]
        if not ids:
            raise InvalidSetting(
                f"No email channel takes {initiative}: add one with `liftoff channels add NAME "
                "--kind email --target ADDRESS`, or give --to ADDRESS."
            )
        return ids


def _email_channels(conn, ini_id: int) -> list[int]:
    return list(
        conn.execute(
            select(NotificationChannel.id).where(
                NotificationChannel.kind == "email",
                or_(
                    NotificationChannel.initiative_id.is_(None),
                    NotificationChannel.initiative_id == ini_id,
                ),
            )
        ).scalars()
    )


def queue_scheduled(engine: Engine, now: datetime | None = None) -> int:
    """With LIFTOFF_DIGEST_SCHEDULE set ('mon 08:00'), queue the week's digest of every
    initiative to every email channel that takes it, once per slot whichever process gets
    there first; a slot more than a day old is skipped (a server that was down does not
    send last week's news). Returns the number of messages queued."""
    slot_of = config.parse_schedule(config.value("LIFTOFF_DIGEST_SCHEDULE"))
    if slot_of is None:
        return 0
    now = now or datetime.now()
    slot = rules.last_slot(now, *slot_of)
    if now - slot > timedelta(days=1):
        return 0
    prefix = f"digest:{slot:%Y-%m-%dT%H:%M}:"
    with engine.connect() as conn:
        done = conn.execute(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key.like(prefix + "%")).limit(1)
        ).scalar()
        if done is not None:
            return 0
        channels = conn.execute(
            select(NotificationChannel.id, NotificationChannel.initiative_id).where(
                NotificationChannel.kind == "email"
            )
        ).all()
    if not channels:
        return 0
    queued = 0
    for ini in evidence_reads.initiatives(engine):
        payload = build(engine, ini["name"], (slot - timedelta(days=7)).date(), slot.date())
        with db.write(engine) as conn:
            for ch_id, ch_ini in channels:
                if ch_ini not in (None, ini["id"]):
                    continue
                key = f"{prefix}{ch_id}:{ini['id']}"
                if conn.execute(
                    select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
                ).scalar():
                    continue
                outbox.enqueue(
                    conn,
                    kind="digest",
                    subject=subject(payload),
                    payload=payload,
                    channel_id=ch_id,
                    initiative_id=ini["id"],
                    dedupe_key=key,
                )
                queued += 1
    return queued

"""What the screens show of notifications: alerts marked silenced or acknowledged, channels
with their delivery health, recent messages."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine

from liftoff.evidence import views as evidence_views
from liftoff.evidence.initiative import InitiativeEvidence
from liftoff.formatting import format_date
from liftoff.notify import reads, rules


def _when(value: datetime | None) -> str:
    return "never" if value is None else f"{format_date(value)} {value:%H:%M}"


def alert_marks(engine: Engine, ev: InitiativeEvidence, now: datetime | None = None) -> dict:
    """Per firing rule id: how notifications treat it ("Silenced until …", "Acknowledged by
    …, …", both, or "—")."""
    now = now or datetime.now()
    ini_id = ev.initiative["id"]
    states = reads.alert_states(engine, ini_id)
    silences = reads.silences(engine, now)
    marks = {}
    for a in ev.firing:
        silence = rules.silence_for(silences, a.rule_id, ini_id, now)
        state = states.get(a.rule_id, {})
        parts = []
        if silence:
            # Short, so the table fits a 1440-pixel screen: who and why are in the silences table.
            parts.append(f"Silenced until {_when(silence['until'])}")
        if state.get("acknowledged_at"):
            parts.append(
                f"Acknowledged by {state['acknowledged_by']}, {_when(state['acknowledged_at'])}"
            )
        marks[a.rule_id] = "; ".join(parts) or "—"
    return marks


def firing_table(engine: Engine, ev: InitiativeEvidence) -> pd.DataFrame:
    """The firing alerts as the Monitoring screen lists them, with how notifications treat
    each (silenced, acknowledged)."""
    frame = evidence_views.firing_table(ev)
    marks = alert_marks(engine, ev)
    frame["Notifications"] = [marks.get(a.rule_id, "") for a in ev.firing]
    return frame


def firing_choices(engine: Engine, ev: InitiativeEvidence) -> dict[int, str]:
    """Firing rules nobody acknowledged yet, by rule id, as the acknowledge picker names them."""
    states = reads.alert_states(engine, ev.initiative["id"])
    return {
        a.rule_id: f"#{a.rule_id} {evidence_views.label(ev, a.metric)} ({a.severity})"
        for a in ev.firing
        if not states.get(a.rule_id, {}).get("acknowledged_at")
    }


def silences_table(engine: Engine, initiative_id: int | None = None) -> pd.DataFrame:
    """Silences in force (of one initiative and of every initiative, when given)."""
    rows = []
    for s in reads.silences(engine):
        if initiative_id is not None and s["initiative_id"] not in (None, initiative_id):
            continue
        rows.append(
            {
                "Silence": f"#{s['id']}",
                "What": (f"rule #{s['rule_id']}" if s["rule_id"] else "every rule")
                + (f" of {s['initiative']}" if s["initiative"] else " of every initiative"),
                "Until": _when(s["until"]),
                "Why": s["reason"],
                "By": s["created_by"],
            }
        )
    return pd.DataFrame(rows, columns=["Silence", "What", "Until", "Why", "By"])


def channels_table(engine: Engine) -> pd.DataFrame:
    """Channels with their filters and delivery health."""
    rows = []
    for c in reads.channels(engine):
        health = (
            f"Error {_when(c['last_error_at'])}: {c['last_error']}"
            if c["last_error"]
            and (c["last_success_at"] is None or c["last_error_at"] > c["last_success_at"])
            else "Working"
        )
        rows.append(
            {
                "Channel": c["name"],
                "Kind": "Webhook"
                + (f" ({c['format'].capitalize()})" if c["format"] != "json" else "")
                if c["kind"] == "webhook"
                else "Email",
                "Sends to": c["target"],
                "For": c["initiative"] or "every initiative",
                "From severity": c["min_severity"],
                "Signed": "yes" if c["has_secret"] else "—",
                "Last sent": _when(c["last_success_at"]),
                "State": health if c["last_success_at"] or c["last_error"] else "Nothing sent yet",
                "Waiting": f"{c['waiting']:,} messages" if c["waiting"] else "none",
            }
        )
    return pd.DataFrame(rows)


def messages_table(engine: Engine) -> pd.DataFrame:
    """The newest messages and whether they were sent."""
    rows = []
    for m in reads.recent_messages(engine):
        if m["sent_at"]:
            state = f"Sent {_when(m['sent_at'])}"
        elif m["attempts"] >= rules.MAX_ATTEMPTS:
            state = f"Given up after {m['attempts']} attempts: {m['last_error']}"
        elif m["last_error"]:
            state = f"Retrying ({m['attempts']} failed): {m['last_error']}"
        else:
            state = "Waiting to be sent"
        rows.append(
            {
                "Queued": _when(m["created_at"]),
                "To": m["channel"] or m["address"] or "a removed channel",
                "What": m["subject"],
                "State": state,
            }
        )
    return pd.DataFrame(rows, columns=["Queued", "To", "What", "State"])

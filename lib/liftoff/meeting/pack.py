"""The steering pack: one iteration's evidence as slides, frozen as snapshots, exported as a
self-contained HTML file or a ZIP of CSVs.

A pack is plain JSON-able data (sentences, tables, plotly figure JSON), built once from the
evidence; the screen, the snapshots and both exports all render that same data, so a frozen
pack shows exactly the figures it was frozen with.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import plotly.io as pio
from sqlalchemy import Engine

from liftoff import charts
from liftoff.errors import InvalidValue  # raised here, caught by the screen
from liftoff.evidence import initiative as evidence
from liftoff.evidence import views
from liftoff.evidence.initiative import InitiativeEvidence
from liftoff.formatting import (
    DECISION_LABELS,
    STAGE_LABELS,
    STAGE_WORDS,
    count,
    format_date,
    format_moment,
)
from liftoff.meeting import reads as meeting_reads
from liftoff.people import reads as people_reads
from liftoff.people import rules as people_rules
from liftoff.people import views as people_views
from liftoff.readiness import views as readiness_views

PACK_VERSION = 1
# The style of presentation mode (large type, one slide per screen, no page chrome).
PRESENT_CSS = Path(__file__).with_name("present.css")
SLIDES = (
    ("ask", "The ask"),
    ("criteria", "Criteria met and missed"),
    ("model_vs_kpi", "Model versus business KPI"),
    ("scalability", "Scalability headroom and runway"),
    ("feedback", "The feedback loop"),
    ("concerns", "Open concerns"),
    ("governance", "Governance and the readiness gate"),
    ("decision", "Decision"),
)


def _table(frame: pd.DataFrame | list[dict] | None) -> dict | None:
    if frame is None:
        return None
    df = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    if df.empty:
        return None
    df = df.astype(object).where(pd.notna(df), None)
    rows = [[_cell(v) for v in row] for row in df.itertuples(index=False)]
    return {"columns": [str(c) for c in df.columns], "rows": rows}


def _cell(v):
    # Days and times written as on every screen: "27 Oct 2026", "27 Oct 2026, 14:05".
    if isinstance(v, (datetime, pd.Timestamp)):
        return format_moment(v)
    if isinstance(v, date):
        return format_date(v)
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v


def _chart(fig) -> str | None:
    return None if fig is None else pio.to_json(fig, validate=False, engine="json")


def _slide(key, sentence, table=None, chart=None, missing=None, data=None) -> dict:
    """One slide; `data` is its table with numbers as numbers, for the CSV export (the shown
    table when there is none)."""
    title = dict(SLIDES)[key]
    return {
        "key": key,
        "title": title,
        "sentence": sentence,
        "table": _table(table),
        "data": _table(data),
        "chart": _chart(chart),
        "missing": missing,
    }


# Columns a slide's table shows on the projector, where the room reads it from across the table
# (the screen, the snapshot and the exports keep every column).
PROJECTOR_COLUMNS = {
    "criteria": ["Criterion", "Target", "Value", "Status", "Change from previous iteration"],
}


def projector_table(slide: dict) -> dict | None:
    """A slide's table as the projector shows it: the columns that matter in the room, every
    cell as text ("—" for an empty one), and each column's share of the width."""
    table = slide["table"]
    if not table:
        return None
    wanted = PROJECTOR_COLUMNS.get(slide["key"])
    keep = [k for k, c in enumerate(table["columns"]) if wanted is None or c in wanted]
    columns = [table["columns"][k] for k in keep]
    rows = [
        ["—" if row[k] is None or row[k] == "" else str(row[k]) for k in keep]
        for row in table["rows"]
    ]
    # Wider columns for longer text, within bounds so a short column stays legible: at least
    # 9 characters' share, or "87.4%" and "177 ms" broke from their units at projector size.
    widths = [
        min(max(max(len(c), *(len(r[k]) for r in rows)), 9), 48) for k, c in enumerate(columns)
    ]
    # The ask is a list of facts (name, value): a header row would only say "Value".
    return {"columns": columns, "rows": rows, "widths": widths, "head": slide["key"] != "ask"}


# ----------------------------------------------------------------------------- reads for the pack


def decision_table(records: list[dict]) -> pd.DataFrame:
    """Decision records for the iterations screen: when, what, who decided, who was there."""
    return pd.DataFrame(
        [
            {
                "Recorded": r["recorded_at"],
                "Decision": DECISION_LABELS.get(r["decision"], r["decision"]),
                "Decided by": r["decided_by"] or "",
                "Attendees": ", ".join(a for a in (r["attendees"] or "").splitlines() if a.strip()),
                "Rationale": r["rationale"] or "",
                "Recorded by": r["recorded_by"],
                "Action items": len(r["actions"]),
            }
            for r in records
        ]
    )


def action_table(items: list[dict], today: date | None = None) -> pd.DataFrame:
    today = today or date.today()
    return pd.DataFrame(
        [
            {
                "Action": i["title"],
                "Owner": i["owner"] or "",
                "Due": i["due"],
                "Status": "Done"
                if i["status"] == "done"
                else ("Overdue" if i["due"] and i["due"] < today else "Open"),
            }
            for i in items
        ],
        columns=["Action", "Owner", "Due", "Status"],
    )


# ----------------------------------------------------------------------------- the pack


def build(
    engine: Engine, initiative: str, number: int | None = None, today: date | None = None
) -> dict:
    """The steering pack of an iteration (default: the latest) as plain data."""
    return pack_of(engine, evidence.for_initiative(engine, initiative), number, today)


def pack_of(
    engine: Engine, ev: InitiativeEvidence, number: int | None = None, today: date | None = None
) -> dict:
    """The steering pack from an initiative's evidence already read (see build)."""
    today = today or date.today()
    initiative = ev.initiative["name"]
    if not ev.iterations:
        raise LookupError(f"{initiative} has no iterations yet: import metrics first.")
    it = ev.iteration(number) if number is not None else ev.latest
    if it is None:
        known = ", ".join(str(i.number) for i in ev.iterations)
        raise LookupError(f"{initiative} has no iteration {number}; it has {known}.")
    # The pack of iteration N is read on N's evidence alone: later iterations' figures,
    # traffic and feedback stay out of its trends and sentences (and so of its snapshot and
    # exports, which render this same data).
    ev = ev.as_of(it.number)
    ini = ev.initiative
    gov = readiness_views.governance_view(engine, ev, it.number)
    view = views.iteration_view(ev, it.number)
    slides = []

    decision_label = DECISION_LABELS.get(it.decision, it.decision)
    ask = (
        f"{ini['name']} ({STAGE_WORDS.get(ini['stage'], ini['stage'])}), {it.title}: "
        "the room is asked to decide go, no-go, pivot or extend. "
        + (
            "No decision yet."
            if it.decision == "pending"
            else f"Recorded so far: {decision_label.lower()}."
        )
        + (
            " The readiness gate holds."
            if gov.gate.ready
            else " The readiness gate does not hold yet."
        )
    )
    facts = [
        {"": "Business goal", "Value": ini["business_goal"] or "—"},
        {"": "Owner", "Value": ini["owner"] or "—"},
        {"": "Stage", "Value": STAGE_LABELS.get(ini["stage"], ini["stage"])},
        {"": "Iteration", "Value": it.title},
        {
            "": "Dates",
            "Value": f"{format_date(it.start_date)} to {format_date(it.end_date)}"
            if it.start_date and it.end_date
            else "Not set yet",
        },
        {"": "Hypothesis", "Value": it.hypothesis or "—"},
        {"": "Readiness gate", "Value": gov.gate.sentence},
    ]
    slides.append(_slide("ask", ask, facts))

    if it.criteria:
        slides.append(
            _slide("criteria", view.headline, view.criteria.frame, data=view.criteria_raw)
        )
    else:
        slides.append(
            _slide("criteria", view.headline, missing="No criteria set for this iteration yet.")
        )

    model, kpi = ini["primary_metric"], ev.lead_kpi
    if model and kpi and len(ev.history(model)) and len(ev.history(kpi)):
        sentence, warning = views.model_business_sentence(ev, model, kpi)
        slides.append(
            _slide(
                "model_vs_kpi",
                sentence + (f" {warning}" if warning else ""),
                chart=charts.model_and_kpi(ev, model, kpi),
            )
        )
    else:
        slides.append(
            _slide(
                "model_vs_kpi",
                "No model metric and business KPI reported together yet.",
                missing="Import the primary model metric and a business KPI per iteration.",
            )
        )

    if ev.capacity_rps is not None:
        slides.append(
            _slide("scalability", views.scalability_sentence(ev), chart=charts.runway(ev))
        )
    else:
        slides.append(
            _slide(
                "scalability",
                views.scalability_sentence(ev),
                missing="Import load-test results and peak traffic to see headroom and runway.",
            )
        )

    fb = people_views.feedback_view(engine, ev)
    if fb.totals["count"]:
        slides.append(_slide("feedback", fb.headline, chart=charts.feedback_volume(fb.rows)))
    else:
        slides.append(
            _slide("feedback", fb.headline, missing="Import user feedback to close the loop.")
        )

    # A past iteration's pack lists the concerns open at its end, aged as of then; the latest
    # lists those open now.
    concerns_day = ev.through_day if ev.through is not None else None
    aged_on = concerns_day or today
    severe = people_reads.most_severe_open(engine, ini["id"], limit=8, as_of=concerns_day)
    cv_sentence = people_views.concerns_headline(
        severe,
        people_reads.open_concern_count(engine, ini["id"], as_of=concerns_day),
        aged_on,
        mitigating=people_reads.open_concern_count(
            engine, ini["id"], as_of=concerns_day, status="mitigating"
        ),
    )
    slides.append(
        _slide(
            "concerns",
            cv_sentence,
            [
                {
                    "Concern": c["title"],
                    "Severity": c["severity"].capitalize(),
                    "Status": people_views.CONCERN_STATUS_LABELS[c["status"]],
                    "Owner": c["owner"] or "",
                    "Open (days)": people_rules.age_days(c["raised_at"], aged_on),
                }
                for c in severe
            ],
            missing=None if severe else "No open concerns.",
        )
    )

    slides.append(
        _slide(
            "governance",
            # The failing conditions are the slide's table: the sentence counts them rather
            # than listing them a second time.
            (
                f"Not ready: {count(len(gov.gate.reasons), 'gate condition')} "
                f"{'fails' if len(gov.gate.reasons) == 1 else 'fail'}, listed here. "
                if gov.gate.reasons
                else gov.gate.sentence + " "
            )
            + readiness_views.readiness_sentence(gov),
            [{"Condition failing": r.text[0].upper() + r.text[1:]} for r in gov.gate.reasons],
            chart=charts.rubric_sections(
                gov.readiness.sections, readiness_views.rubric_maxima(), gov.floor_readiness
            ),
        )
    )

    records = meeting_reads.decisions(engine, it.id)
    if records:
        last = records[0]
        attendees = ", ".join(a for a in (last["attendees"] or "").splitlines() if a.strip())
        sentence = (
            # "Decided: extend by pm@…" read like an amount: the decision, then who took it.
            f"Decision: {DECISION_LABELS.get(last['decision'], last['decision']).lower()},"
            f" taken by {last['decided_by'] or 'the meeting'} on {format_date(last['recorded_at'])}"
            + (f", with {attendees}" if attendees else "")
            + f". Rationale: {last['rationale'] or '—'}"
        )
        table = (
            action_table(last["actions"], today)
            if last["actions"]
            else decision_table(records)[["Recorded", "Decision", "Decided by", "Attendees"]]
        )
        missing = None
    else:
        sentence = (
            "No decision recorded yet for this iteration: record it here before the meeting ends."
        )
        table, missing = None, "Nothing recorded yet: no decision, attendees or action items."
    slides.append(_slide("decision", sentence, table, missing=missing))

    metrics_raw = view.metrics_raw
    return {
        "version": PACK_VERSION,
        "initiative": {k: ini[k] for k in ("name", "stage", "owner", "business_goal")},
        "iteration": {"number": it.number, "title": it.title, "decision": it.decision},
        "iterations": [i.number for i in ev.iterations],
        "later_iterations": list(ev.later),
        "built_at": datetime.now().isoformat(timespec="seconds"),
        "snapshot": None,
        "slides": slides,
        "metrics": _table(metrics_raw),
    }


# ----------------------------------------------------------------------------- snapshots


def as_of(pack: dict) -> str | None:
    """ "as of <date and time>" for a frozen pack, None for a live one."""
    snap = pack.get("snapshot")
    if not snap:
        return None
    when = datetime.fromisoformat(snap["created_at"])
    return f"Snapshot #{snap['id']}, as of {format_moment(when)}, frozen by {snap['created_by']}"


# ----------------------------------------------------------------------------- decisions in meetings


def parse_actions(text: str) -> list[dict]:
    """Action items typed one per line as `what; owner; due` (due optional, YYYY-MM-DD)."""
    out = []
    for k, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) < 2 or not parts[1]:
            raise InvalidValue(
                f"Action item line {k} (“{line.strip()}”) needs an owner: write what; owner; due."
            )
        if len(parts) > 3:
            raise InvalidValue(
                f"Action item line {k} has more than three parts; write what; owner; due."
            )
        due = None
        if len(parts) == 3 and parts[2]:
            try:
                due = date.fromisoformat(parts[2])
            except ValueError:
                raise InvalidValue(
                    f"Action item line {k}: the due date “{parts[2]}” is not a date like 2026-12-10."
                ) from None
        out.append({"title": parts[0], "owner": parts[1], "due": due})
    return out


# ----------------------------------------------------------------------------- exports

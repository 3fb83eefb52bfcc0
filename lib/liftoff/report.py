"""The steering pack: one iteration's evidence as slides, frozen as snapshots, exported as a
self-contained HTML file or a ZIP of CSVs.

A pack is plain JSON-able data (sentences, tables, plotly figure JSON), built once from the
evidence; the screen, the snapshots and both exports all render that same data, so a frozen
pack shows exactly the figures it was frozen with.
"""

from __future__ import annotations

import html
import io
import json
import zipfile
from datetime import date, datetime

import pandas as pd
import plotly.io as pio
from sqlalchemy import Engine, insert, select

from liftoff import audit, charts, db, evidence, manage, people, people_db, people_views, views
from liftoff.auth import Actor, require
from liftoff.evidence import InitiativeEvidence
from liftoff.export import safe_csv
from liftoff.formatting import DECISION_LABELS, STAGE_LABELS, format_date
from liftoff.manage import InvalidValue  # raised here, caught by the screen
from liftoff.models import ActionItem, DecisionRecord, Initiative, Iteration, Snapshot

PACK_VERSION = 1
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


class SnapshotNotFound(LookupError):
    """No snapshot has that id; the message says where to find the list."""


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
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M")
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v


def _chart(fig) -> str | None:
    return None if fig is None else pio.to_json(fig, validate=False, engine="json")


def _slide(key, sentence, table=None, chart=None, missing=None) -> dict:
    title = dict(SLIDES)[key]
    return {
        "key": key,
        "title": title,
        "sentence": sentence,
        "table": _table(table),
        "chart": _chart(chart),
        "missing": missing,
    }


# ----------------------------------------------------------------------------- reads for the pack


def decisions(engine: Engine, iteration_id: int) -> list[dict]:
    """Decision records of an iteration, newest first, with their action items."""
    with engine.connect() as conn:
        recs = [
            dict(r)
            for r in conn.execute(
                select(DecisionRecord.__table__)
                .where(DecisionRecord.iteration_id == iteration_id)
                .order_by(DecisionRecord.recorded_at.desc(), DecisionRecord.id.desc())
            ).mappings()
        ]
        ids = [r["id"] for r in recs]
        items = (
            [
                dict(r)
                for r in conn.execute(
                    select(ActionItem.__table__)
                    .where(ActionItem.decision_id.in_(ids))
                    .order_by(ActionItem.id)
                ).mappings()
            ]
            if ids
            else []
        )
    for r in recs:
        r["actions"] = [i for i in items if i["decision_id"] == r["id"]]
    return recs


def open_actions(engine: Engine, initiative_ids: list[int]) -> dict[int, list[dict]]:
    """Open action items per initiative, soonest due first."""
    out: dict[int, list[dict]] = {i: [] for i in initiative_ids}
    if not initiative_ids:
        return out
    with engine.connect() as conn:
        for r in conn.execute(
            select(ActionItem.__table__)
            .where(ActionItem.initiative_id.in_(initiative_ids), ActionItem.status == "open")
            .order_by(ActionItem.due.is_(None), ActionItem.due, ActionItem.id)
        ).mappings():
            out[r["initiative_id"]].append(dict(r))
    return out


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
    ini = ev.initiative
    gov = people_views.governance_view(engine, ev, it.number)
    view = views.iteration_view(ev, it.number)
    slides = []

    decision_label = DECISION_LABELS.get(it.decision, it.decision)
    ask = (
        f"{ini['name']} ({STAGE_LABELS.get(ini['stage'], ini['stage']).lower()}), {it.title}: "
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
        slides.append(_slide("criteria", view.headline, view.criteria.frame))
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

    severe = people_db.most_severe_open(engine, ini["id"], limit=8)
    cv_sentence = people_views.concerns_headline(
        severe,
        sum(
            people_db.concern_summary(engine, [ini["id"]], today)[ini["id"]]["by_severity"].values()
        ),
        today,
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
                    "Open (days)": people.age_days(c["raised_at"], today),
                }
                for c in severe
            ],
            missing=None if severe else "No open concerns.",
        )
    )

    slides.append(
        _slide(
            "governance",
            gov.gate.sentence + " " + people_views.readiness_sentence(gov),
            [{"Condition failing": r.text[0].upper() + r.text[1:]} for r in gov.gate.reasons],
            chart=charts.rubric_sections(
                gov.readiness.sections, people_views.rubric_maxima(), gov.floor_readiness
            ),
        )
    )

    records = decisions(engine, it.id)
    if records:
        last = records[0]
        attendees = ", ".join(a for a in (last["attendees"] or "").splitlines() if a.strip())
        sentence = (
            f"Decided: {DECISION_LABELS.get(last['decision'], last['decision']).lower()}"
            f" by {last['decided_by'] or 'the meeting'} on {last['recorded_at']:%Y-%m-%d}"
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
        "built_at": datetime.now().isoformat(timespec="seconds"),
        "snapshot": None,
        "slides": slides,
        "metrics": _table(metrics_raw),
    }


# ----------------------------------------------------------------------------- snapshots


def freeze(
    engine: Engine,
    actor: Actor,
    initiative: str,
    number: int | None = None,
    note: str | None = None,
) -> int:
    """Store the pack as it is now; returns the snapshot id (`?snapshot=ID`)."""
    require(actor, "edit")
    pack = build(engine, initiative, number)
    with db.write(engine) as conn:
        init_id = conn.execute(
            select(Initiative.id).where(Initiative.name == initiative)
        ).scalar_one()
        now = datetime.now()
        snap_id = conn.execute(
            insert(Snapshot)
            .values(
                initiative_id=init_id,
                iteration_number=pack["iteration"]["number"],
                created_by=actor.label,
                created_at=now,
                note=(note or "").strip() or None,
                pack=json.dumps(pack, ensure_ascii=False),
            )
            .returning(Snapshot.id)
        ).scalar_one()
        audit.record(
            conn,
            actor,
            "snapshot",
            f"Froze the steering pack of {initiative} iteration {pack['iteration']['number']} as snapshot #{snap_id}",
            target="snapshot",
            target_id=snap_id,
        )
    return snap_id


def snapshot(engine: Engine, snapshot_id: int) -> dict:
    """A frozen pack, labelled with when and by whom it was frozen."""
    with engine.connect() as conn:
        row = conn.execute(
            select(
                Snapshot.id, Snapshot.created_at, Snapshot.created_by, Snapshot.note, Snapshot.pack
            ).where(Snapshot.id == snapshot_id)
        ).first()
    if row is None:
        raise SnapshotNotFound(
            f"There is no snapshot #{snapshot_id}. The Steering pack page lists the snapshots of each initiative."
        )
    pack = json.loads(row.pack)
    pack["snapshot"] = {
        "id": row.id,
        "created_at": row.created_at.isoformat(timespec="seconds"),
        "created_by": row.created_by,
        "note": row.note,
    }
    return pack


def snapshots(engine: Engine, initiative: str) -> list[dict]:
    """The snapshots of an initiative, newest first (without their packs)."""
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(
                    Snapshot.id,
                    Snapshot.iteration_number,
                    Snapshot.created_at,
                    Snapshot.created_by,
                    Snapshot.note,
                )
                .join(Initiative, Initiative.id == Snapshot.initiative_id)
                .where(Initiative.name == initiative)
                .order_by(Snapshot.id.desc())
            ).mappings()
        ]


def as_of(pack: dict) -> str | None:
    """ "as of <date and time>" for a frozen pack, None for a live one."""
    snap = pack.get("snapshot")
    if not snap:
        return None
    when = datetime.fromisoformat(snap["created_at"])
    return f"Snapshot #{snap['id']}, as of {when:%Y-%m-%d %H:%M}, frozen by {snap['created_by']}"


# ----------------------------------------------------------------------------- decisions in meetings


def record_meeting_decision(
    engine: Engine,
    actor: Actor,
    initiative: str,
    number: int,
    *,
    decision: str,
    rationale: str,
    decided_by: str,
    attendees: list[str],
    actions: list[dict],
) -> int:
    """Record the decision taken in the meeting with who was there and the action items
    (title, owner, due); it becomes the iteration's decision. Returns the record id."""
    require(actor, "edit")
    if decision not in ("go", "no-go", "pivot", "extend"):
        raise InvalidValue("Choose the decision: go, no-go, pivot or extend.")
    clean_actions = []
    for k, a in enumerate(actions, start=1):
        title = (a.get("title") or "").strip()
        if not title and not (a.get("owner") or "").strip() and not a.get("due"):
            continue  # a blank entry
        if not title:
            raise InvalidValue(f"Action item {k} needs a description of what to do.")
        if not (a.get("owner") or "").strip():
            raise InvalidValue(f"Action item {k} (“{title}”) needs an owner.")
        due = a.get("due")
        due = due.date() if isinstance(due, datetime) else due  # a date, or a datetime's day
        clean_actions.append({"title": title, "owner": a["owner"].strip(), "due": due})
    manage.record_decision(
        engine,
        actor,
        initiative,
        number,
        decision=decision,
        rationale=rationale,
        decided_by=decided_by,
    )
    with db.write(engine) as conn:
        it = conn.execute(
            select(Iteration.id, Iteration.initiative_id)
            .join(Initiative, Initiative.id == Iteration.initiative_id)
            .where(Initiative.name == initiative, Iteration.number == number)
        ).one()
        now = datetime.now()
        rec = conn.execute(
            insert(DecisionRecord)
            .values(
                iteration_id=it.id,
                decision=decision,
                rationale=rationale.strip(),
                decided_by=decided_by.strip(),
                attendees="\n".join(a.strip() for a in attendees if a.strip()) or None,
                recorded_by=actor.label,
                recorded_at=now,
            )
            .returning(DecisionRecord.id)
        ).scalar_one()
        for a in clean_actions:
            conn.execute(
                insert(ActionItem).values(
                    initiative_id=it.initiative_id,
                    decision_id=rec,
                    status="open",
                    created_by=actor.label,
                    created_at=now,
                    **a,
                )
            )
            audit.record(
                conn,
                actor,
                "action_item.add",
                f"Action for {a['owner']}: {a['title']}",
                target="action_item",
                after=a,
            )
    return rec


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


def set_action_done(engine: Engine, actor: Actor, action_id: int, done: bool = True) -> None:
    """Mark an action item done (or open again)."""
    require(actor, "edit")
    with db.write(engine) as conn:
        before = audit.row(conn, ActionItem, action_id)
        if before is None:
            raise InvalidValue(f"There is no action item #{action_id}.")
        audit.change(
            conn,
            actor,
            ActionItem,
            action_id,
            dict(status="done" if done else "open", done_at=datetime.now() if done else None),
            before=before,
            action="action_item.update",
            summary=f"Action “{before['title']}” marked {'done' if done else 'open'}",
            target="action_item",
        )


# ----------------------------------------------------------------------------- exports


def to_csv_zip(pack: dict) -> bytes:
    """A ZIP of CSVs: one per slide table, the metrics across iterations, and the sentences."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        sentences = pd.DataFrame(
            [
                {"Slide": s["title"], "Sentence": s["sentence"], "Missing": s["missing"] or ""}
                for s in pack["slides"]
            ]
        )
        z.writestr("00-summary.csv", safe_csv(sentences))
        for k, s in enumerate(pack["slides"], start=1):
            if s["table"]:
                z.writestr(f"{k:02d}-{s['key']}.csv", safe_csv(frame_of(s["table"])))
        if pack.get("metrics"):
            z.writestr("metrics-across-iterations.csv", safe_csv(frame_of(pack["metrics"])))
    return buf.getvalue()


def _script_json(text: str) -> str:
    """JSON safe inside a <script> element: no `</script>`, no HTML comment openers."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_CSS = """
body { font-family: "Source Sans Pro", "Segoe UI", Helvetica, Arial, sans-serif; color: #1d1d1f;
       margin: 0; background: #fafafa; }
header { padding: 24px 48px 8px; }
header h1 { margin: 0 0 4px; font-size: 30px; }
header p { margin: 0; color: #555; }
.asof { display: inline-block; margin-top: 8px; padding: 4px 10px; border-radius: 6px;
        background: #fff3cd; color: #6b4e00; font-weight: 600; }
section { background: #fff; margin: 16px 48px; padding: 24px 32px; border-radius: 10px;
          box-shadow: 0 1px 3px rgba(0,0,0,.08); }
section h2 { margin: 0 0 8px; font-size: 24px; }
section .n { color: #888; font-weight: 400; font-size: 16px; margin-left: 8px; }
section p.sentence { font-size: 18px; line-height: 1.45; margin: 0 0 16px; }
section p.missing { color: #8a6d00; font-style: italic; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }
.chart { width: 100%; }
footer { color: #888; font-size: 12px; margin: 16px 48px 32px; }
@media print {
  body { background: #fff; }
  section { box-shadow: none; margin: 0; page-break-after: always; break-after: page; }
  header { padding: 0 0 8px; }
}
"""


def frame_of(table: dict) -> pd.DataFrame:
    """A pack table ({"columns": [...], "rows": [[...], ...]}) as a DataFrame."""
    return pd.DataFrame(table["rows"], columns=table["columns"])


def to_html(pack: dict) -> str:
    """A self-contained HTML file of the pack: plotly inlined once, no network needed, user text
    escaped, one printed page per slide."""
    from plotly.offline import get_plotlyjs

    e = html.escape
    ini, it = pack["initiative"], pack["iteration"]
    stamp = as_of(pack)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(ini['name'])} · steering pack · iteration {it['number']}</title>",
        f"<style>{_CSS}</style>",
        f"<script>{get_plotlyjs()}</script>",
        "</head><body>",
        f"<header><h1>{e(ini['name'])}: steering pack</h1>",
        f"<p>{e(it['title'])} · {e(STAGE_LABELS.get(ini['stage'], ini['stage']))}"
        f" · built {e(pack['built_at'].replace('T', ' '))}</p>",
    ]
    if stamp:
        parts.append(f'<p class="asof">{e(stamp)}</p>')
    parts.append("</header>")
    total = len(pack["slides"])
    for k, s in enumerate(pack["slides"], start=1):
        parts.append(f'<section id="slide-{k}" data-slide="{e(s["key"])}">')
        parts.append(f'<h2>{e(s["title"])}<span class="n">{k} of {total}</span></h2>')
        parts.append(f'<p class="sentence">{e(s["sentence"])}</p>')
        if s["missing"]:
            parts.append(f'<p class="missing">{e(s["missing"])}</p>')
        if s["chart"]:
            parts.append(f'<div class="chart" id="chart-{k}"></div>')
            parts.append(
                "<script>(function(){var f="
                + _script_json(s["chart"])
                + f';Plotly.newPlot("chart-{k}",f.data,f.layout,{{displayModeBar:false,responsive:true}});}})();</script>'
            )
        if s["table"]:
            head = "".join(f"<th>{e(str(c))}</th>" for c in s["table"]["columns"])
            body = "".join(
                "<tr>"
                + "".join(f"<td>{e('' if v is None else str(v))}</td>" for v in row)
                + "</tr>"
                for row in s["table"]["rows"]
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        parts.append("</section>")
    parts.append(
        "<footer>Made with Liftoff. Figures as stored when the pack was built; "
        "every number traces to an import batch in Liftoff's import history.</footer>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def values_of(pack: dict) -> dict:
    """Sentences and table cells of a pack, to compare two packs' figures."""
    return {
        s["key"]: {"sentence": s["sentence"], "table": s["table"], "chart": s["chart"]}
        for s in pack["slides"]
    }

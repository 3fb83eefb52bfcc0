"""What the Governance and readiness screen shows: the gate, the checklist, the rubric."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine

from liftoff.evidence.initiative import InitiativeEvidence
from liftoff.formatting import STAGE_WORDS, capitalised, format_date
from liftoff.ingest.columns import GOVERNANCE_DEFAULT_STAGE
from liftoff.people import reads as people_reads
from liftoff.readiness import reads as readiness_reads
from liftoff.readiness import rules as readiness_rules
from liftoff.tables import arrow

GOVERNANCE_LABELS = {
    "data_sources": "Data sources",
    "pii_consent": "PII and consent",
    "access_control": "Access control",
    "retention": "Data retention",
    "lineage": "Lineage",
    "model_card": "Model card",
    "fairness": "Fairness",
    "monitoring": "Monitoring",
    "runbook_oncall": "Runbook and on-call",
    "rollback_plan": "Rollback plan",
}


GOVERNANCE_STATUS_LABELS = {
    "missing": "Missing",
    "in_progress": "In progress",
    "done": "Done",
    "not_applicable": "Not applicable",
}


@dataclass
class GovernanceView:
    items: list[dict]
    score: readiness_rules.GovernanceScore
    readiness: readiness_rules.Readiness
    floor_readiness: float
    floor_headroom: float
    gate: readiness_rules.Gate
    checklist: pa.Table  # governance_table, for display
    rubric_tables: dict[str, pa.Table]  # rubric_table of each section
    # When the gate's concerns, alerts and headroom are from ("as of now", or an iteration's end).
    as_of_line: str = ""


def governance_view(engine: Engine, ev: InitiativeEvidence, number: int | None) -> GovernanceView:
    """The Governance screen of iteration `number` (None: the latest): its gate is judged on
    the evidence as of that iteration (headroom and alerts then, not after)."""
    if number is not None:
        ev = ev.as_of(number)
    init_id = ev.initiative["id"]
    if ev.through is not None and ev.through_day is not None:
        # The concerns open at the iteration's end, as its steering pack lists them (the gate
        # of iteration 6 counted those open now, beside its headroom and alerts of then).
        ev = replace(
            ev,
            open_concerns=people_reads.open_concerns_by_severity(
                engine, [init_id], as_of=ev.through_day
            ).get(init_id, {}),
        )
    items = readiness_reads.governance_items(engine, [init_id]).get(init_id, [])
    rubric = readiness_reads.readiness_for(engine, [ev])[init_id]
    floor_h, floor_r = readiness_rules.floors(ev.initiative)
    return GovernanceView(
        checklist=arrow(governance_table(items, ev.initiative["stage"])),
        rubric_tables={s: arrow(rubric_table(rubric, s)) for s in readiness_rules.SECTION_LABELS},
        items=items,
        score=readiness_rules.governance_score(items, ev.initiative["stage"]),
        readiness=rubric,
        floor_readiness=floor_r,
        floor_headroom=floor_h,
        gate=readiness_rules.gate(ev, number, rubric),
        as_of_line=(
            f"Concerns, alerts and headroom are as they stood at the end of iteration "
            f"{ev.through} ({format_date(ev.through_day)})."
            if ev.through is not None and ev.through_day is not None
            else "Concerns, alerts and headroom are as of now."
        ),
    )


def governance_table(items: list[dict], stage: str) -> pd.DataFrame:
    """The checklist: every area, whether the stage requires it, status, evidence, owner."""
    by_area = {i["area"]: i for i in items}
    out = []
    for area, label in GOVERNANCE_LABELS.items():
        item = by_area.get(area)
        required_from = item["required_from"] if item else GOVERNANCE_DEFAULT_STAGE[area]
        required = readiness_rules.governance_required(stage, required_from)
        status = item["status"] if item else "missing"
        out.append(
            {
                # What an executive scans first comes first; the long evidence text last.
                "Area": label,
                "Status": GOVERNANCE_STATUS_LABELS.get(status, status),
                # Not "Missing" beside a status "In progress": the gap is that it is not done.
                "Gap": "Not done yet" if required and status in ("missing", "in_progress") else "",
                "Required from": capitalised(STAGE_WORDS.get(required_from, required_from)),
                "Required now": "Yes" if required else "Not yet",
                "Owner": (item or {}).get("owner") or "",
                "Updated": (item or {}).get("updated_at"),
                "Evidence": (item or {}).get("evidence") or "",
            }
        )
    # Essentials first, as the screen says: what the stage requires now, then what comes later
    # (a pilot's Monitoring sat below production's lineage, model card and fairness).
    # Within each, in the order the stages require them (a production initiative's pilot
    # item Monitoring sat after the production items).
    order = {label: i for i, label in enumerate(GOVERNANCE_LABELS.values())}
    stage_rank = {capitalised(STAGE_WORDS[s]): i for i, s in enumerate(("poc", "pilot"))}
    out.sort(
        key=lambda row: (
            row["Required now"] != "Yes",
            stage_rank.get(row["Required from"], 2),
            order[row["Area"]],
        )
    )
    return pd.DataFrame(out)


def rubric_table(readiness: readiness_rules.Readiness, section: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Test": i.text,
                "Score": readiness_rules.SCORE_LABELS[i.score],
                "Scored by": {
                    "liftoff": "Liftoff, from its data",
                    "unscored": "not scored yet",
                }.get(i.source, i.updated_by or "an editor"),
                "Note": _short_note(i.note),
            }
            for i in readiness.items
            if i.section == section
        ]
    )


NOTE_CELL = 60  # characters of a note the rubric's table shows; a longer one is cut there


def _short_note(note: str | None) -> str:
    """A note as its table cell: a grid cell does not wrap, so a long note is cut and given in
    full under the table (rubric_long_notes), not hidden past the table's right edge."""
    note = _one_line(note)
    if len(note) <= NOTE_CELL:
        return note
    more = "… (in full below)"
    cut = note[: NOTE_CELL - len(more) + 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut[:-1]).rstrip(" ,;:") + more


def rubric_long_notes(readiness: readiness_rules.Readiness, section: str) -> list[str]:
    """The notes of a section too long for their cell, each with its test: shown in full."""
    return [
        f"{i.text}: {note}"
        for i in readiness.items
        if i.section == section and len(note := _one_line(i.note)) > NOTE_CELL
    ]


def _one_line(note: str | None) -> str:
    """A note with its line breaks and runs of spaces made single spaces."""
    return " ".join((note or "").split())


def rubric_maxima() -> dict[str, int]:
    return {s: len(items) for s, items in readiness_rules.RUBRIC.items()}


def readiness_sentence(view: GovernanceView) -> str:
    r = view.readiness
    weakest = readiness_rules.SECTION_LABELS[r.weakest].lower()
    return (
        # Out of the same maximum as the Governance screen's readiness card: one denominator.
        f"Readiness score {r.score:g} of {min(rubric_maxima().values())} points (the lowest section, "
        f"{weakest}; the gate needs {view.floor_readiness:g}): "
        f"{readiness_rules.score_meaning(r.score)}. Governance: {view.score.done} of {view.score.required} "
        "items required at this stage are done"
        + (f"; not done yet: {not_done_words(view)}." if view.score.missing else ".")
    )


def not_done_words(view: GovernanceView) -> str:
    """The required areas not done, each with its status as the checklist shows it:
    "fairness (in progress), rollback plan (missing)" (the sentence used to call an item
    "missing" that the table beside it says is in progress)."""
    status = {i["area"]: i["status"] for i in view.items}
    return ", ".join(
        f"{_in_sentence(GOVERNANCE_LABELS[a])} "
        f"({GOVERNANCE_STATUS_LABELS[status.get(a, 'missing')].lower()})"
        for a in view.score.missing
    )


def _in_sentence(label: str) -> str:
    """A label inside a sentence: lower case, but for acronyms ("PII and consent")."""
    return " ".join(w if w.isupper() else w.lower() for w in label.split())

"""The portfolio overview: one card per initiative and a sentence for the whole portfolio."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pandas as pd

from liftoff.evidence import initiative as evidence
from liftoff.evidence import rules as evidence_rules
from liftoff.evidence.initiative import InitiativeEvidence
from liftoff.formatting import (
    DECISION_COLOURS,
    DECISION_LABELS,
    STAGE_LABELS,
    capitalised,
    count,
    format_date,
    format_delta,
    format_percent,
    format_value,
    listed,
    shown_unit,
    time_left,
)
from liftoff.meeting import reads as meeting_reads
from liftoff.readiness import reads as readiness_reads

# Below this share of free capacity an initiative needs attention.
HEADROOM_WARNING = 0.25
# A runway shorter than this many days needs attention.
RUNWAY_WARNING_DAYS = 60
# Up to this many initiatives the overview opens as cards; a larger portfolio opens as one
# table (twenty cards are a long scroll, and hundreds of elements to draw on every rerun).
CARDS_UP_TO = 6


@dataclass(frozen=True)
class MetricTile:
    """One metric on a card: its value, change from the previous iteration and trend."""

    label: str
    value: str
    delta: str | None
    lower_is_better: bool
    trend: list[float]
    raw: float | None


@dataclass(frozen=True)
class OverviewCard:
    name: str
    stage: str
    owner: str | None
    goal: str | None
    latest_iteration: str
    decision: str
    criteria: str
    criteria_met: int
    criteria_total: int
    model: MetricTile | None
    kpi: MetricTile | None
    open_severe_concerns: int
    headroom: float | None
    headroom_text: str
    runway_text: str
    candidate: str | None
    attention: list[str]
    firing_alerts: int = 0
    decision_colour: str = "gray"
    ready: bool | None = None
    gate_text: str = ""
    open_actions: tuple[str, ...] = ()
    # When the latest iteration has no decision yet: the last one taken, and when.
    last_decision: str | None = None
    # Why a tile is empty, for its help.
    model_missing: str = "No value yet: upload metrics for this initiative."
    kpi_missing: str = "No business KPI yet: upload metrics with category business_kpi."
    # How urgent its attention items are, to compare initiatives (larger: more urgent):
    # capacity running out (the sooner, the more), then critical concerns, then how many
    # things need attention, then alerts firing.
    urgency: tuple = ()
    runway_short: str = ""


def candidate_line(candidate: str, metric: str | None) -> str:
    """Whose figures the model metrics are when an iteration tried several models."""
    return (
        f"This iteration tried several models; the model figures are those of the best on "
        f"{metric or 'the primary metric'}, {candidate}."
    )


def severe_concerns_words(severe: int, critical: int) -> str:
    """The open high and critical concerns in words that add up to the card's "Severe
    concerns" figure: "2 severe concerns open (1 critical)", "1 critical concern open"."""
    if critical == severe:
        return count(critical, "critical concern", "critical concerns") + " open"
    if not critical:
        return count(severe, "high-severity concern", "high-severity concerns") + " open"
    return count(severe, "severe concern", "severe concerns") + f" open ({critical} critical)"


def _tile(ev: InitiativeEvidence, key: str | None) -> MetricTile | None:
    if not key or ev.latest is None:
        return None
    meta = ev.catalog.get(key, {"display_name": key, "unit": None, "direction": "higher"})
    current = ev.latest.metrics.get(key)
    previous = ev.previous.metrics.get(key) if ev.previous else None
    trend = [it.metrics[key] for it in ev.iterations if key in it.metrics]
    return MetricTile(
        label=meta["display_name"],
        value=format_value(current, shown_unit(meta)),
        delta=format_delta(evidence_rules.delta(current, previous), shown_unit(meta)),
        lower_is_better=meta["direction"] == "lower",
        trend=trend,
        raw=current,
    )


# Each state of the runway in a sentence and in a table cell, side by side so the two never
# disagree: (sentence, cell), with {when} the day capacity is reached and {left} the time to it.
_RUNWAY_WORDS = {
    "no load test": (
        "No load test yet: upload load-test results to see capacity.",
        "No load test yet",
    ),
    "no traffic": ("No traffic yet: upload peak traffic to see the runway.", "No traffic yet"),
    "over": ("Peak traffic is already above capacity.", "Already over capacity"),
    "not growing": ("Traffic is not growing toward capacity.", "Not growing toward capacity"),
    # The trend got there on or before the day the evidence is read on.
    "reached": (
        "At the current trend capacity was reached around {when}.",
        "Reached around {when}",
    ),
    "runs out": (
        "At the current trend capacity runs out around {when} ({left}).",
        "{when} ({left})",
    ),
}


def _runway_words(ev: InitiativeEvidence, cell: bool) -> str:
    rw = ev.runway
    if ev.capacity_rps is None:
        state = "no load test"
    elif not ev.traffic:
        state = "no traffic"
    elif rw.already_over:
        state = "over"
    elif rw.crossing is None:
        state = "not growing"
    else:
        state = "reached" if rw.days == 0 else "runs out"
    return _RUNWAY_WORDS[state][cell].format(
        when=format_date(rw.crossing) if rw.crossing else "",
        left=time_left(rw.days) if state == "runs out" else "",
    )


def runway_sentence(ev: InitiativeEvidence) -> str:
    """Plain words for the runway: when capacity runs out at the current trend."""
    return _runway_words(ev, cell=False)


def runway_short(ev: InitiativeEvidence) -> str:
    """The runway in a table cell: "19 Dec 2026 (16 days)" (the sentence was cut to "At the
    current trend capacity runs o…")."""
    return _runway_words(ev, cell=True)


def last_decision(ev: InitiativeEvidence) -> str | None:
    """ "Last decision: go on iteration 7, 12 Nov 2026" when the latest iteration is still
    pending (None when it is decided, or nothing was ever decided)."""
    latest = ev.latest
    if latest is None or latest.decision != "pending":
        return None
    decided = [it for it in ev.iterations if it.decision != "pending"]
    if not decided:
        return "No decision taken on any iteration yet."
    it = decided[-1]
    when = f", {format_date(it.decided_at)}" if it.decided_at else ""
    label = DECISION_LABELS.get(it.decision, it.decision).lower()
    return f"Last decision: {label} on iteration {it.number}{when}."


def card(ev: InitiativeEvidence, gate=None, actions: list[dict] | None = None) -> OverviewCard:
    """The overview card of one initiative (with its readiness gate, when given)."""
    ini = ev.initiative
    latest = ev.latest
    severe = ev.open_concerns.get("high", 0) + ev.open_concerns.get("critical", 0)
    attention = []
    if latest is not None:
        missed = [c for c in latest.criteria if c["status"] == evidence_rules.NOT_MET]
        if missed:
            attention.append(count(len(missed), "criterion", "criteria") + " not met")
    if severe:
        attention.append(severe_concerns_words(severe, ev.open_concerns.get("critical", 0)))
    if ev.headroom is not None and ev.headroom < HEADROOM_WARNING:
        attention.append(f"only {format_percent(ev.headroom)} capacity headroom")
    if ev.runway.days is not None and ev.runway.days < RUNWAY_WARNING_DAYS:
        days = ev.runway.days
        attention.append(
            "peak traffic is at capacity"
            if ev.runway.already_over
            else "the traffic trend has reached capacity"
            if days == 0
            else f"capacity runs out in {time_left(days)}"
        )
    if ev.firing:
        attention.append(count(len(ev.firing), "alert", "alerts") + " firing")
    running_out = ev.runway.days is not None and ev.runway.days < RUNWAY_WARNING_DAYS
    urgency = (
        running_out,
        -ev.runway.days if running_out else 0,
        ev.open_concerns.get("critical", 0),
        len(attention),
        len(ev.firing),
    )
    return OverviewCard(
        name=ini["name"],
        stage=STAGE_LABELS.get(ini["stage"], ini["stage"]),
        owner=ini["owner"],
        goal=ini["business_goal"],
        latest_iteration=f"Figures of {latest.title}" if latest else "No iterations yet",
        last_decision=last_decision(ev),
        decision=DECISION_LABELS.get(latest.decision, latest.decision) if latest else "—",
        criteria=f"{latest.criteria_met} of {len(latest.criteria)}"
        if latest and latest.criteria
        else "—",
        criteria_met=latest.criteria_met if latest else 0,
        criteria_total=len(latest.criteria) if latest else 0,
        model=_tile(ev, ini["primary_metric"]),
        model_missing=(
            "No primary model metric chosen yet: editors choose it under Initiative settings "
            "on the Iterations and decision screen."
            if not ini["primary_metric"]
            else f"No value of {ini['primary_metric']} yet: upload metrics for this initiative."
        ),
        kpi=_tile(ev, ev.lead_kpi),
        open_severe_concerns=severe,
        headroom=ev.headroom,
        headroom_text=format_percent(ev.headroom),
        runway_text=runway_sentence(ev),
        runway_short=runway_short(ev),
        candidate=latest.candidate if latest else None,
        attention=attention,
        urgency=urgency,
        firing_alerts=len(ev.firing),
        decision_colour=DECISION_COLOURS.get(latest.decision, ("gray",))[0] if latest else "gray",
        ready=gate.ready if gate is not None else None,
        gate_text=gate.sentence if gate is not None else "",
        open_actions=tuple(
            f"{a['title']} — {a['owner'] or 'no owner'}"
            + (f", due {a['due']:%d %b %Y}" if a["due"] else "")
            for a in actions or []
        ),
    )


def headline(cards: list[OverviewCard]) -> str:
    """One sentence about the whole portfolio."""
    if not cards:
        return "No initiatives yet."
    by_stage: dict[str, int] = {}
    for c in cards:
        by_stage[c.stage] = by_stage.get(c.stage, 0) + 1
    stages = ", ".join(f"{n} {stage.lower()}" for stage, n in by_stage.items())
    pending = sum(1 for c in cards if c.decision == "Pending")
    noun = "initiative" if len(cards) == 1 else "initiatives"
    text = f"{len(cards)} {noun} ({stages}); {pending} waiting for a decision."
    flagged = [c for c in cards if c.attention]
    if not flagged:
        return text + " Nothing needs attention."
    # The most urgent first and in full, so it is read in seconds; the others by name (each
    # card and table row says what theirs need).
    first = max(flagged, key=lambda c: c.urgency)
    others = [c.name for c in flagged if c is not first]
    lead = "Most urgent" if others else "Needs attention"
    text += f" {lead}: {first.name} — {listed(first.attention)}."
    if others:
        verb = "needs" if len(others) == 1 else "need"
        text += f" {listed(others)} {verb} attention too."
    return text


def overview(engine) -> list[OverviewCard]:
    """Cards for every initiative, the most urgent first (as the headline names it), then by
    name: in order of name, the one the headline called most urgent came second."""
    evs = evidence.portfolio(engine)

    gates = readiness_reads.gates(engine, evs)
    actions = meeting_reads.open_actions(engine, [ev.initiative["id"] for ev in evs])
    cards = [
        card(ev, gates.get(ev.initiative["id"]), actions.get(ev.initiative["id"])) for ev in evs
    ]
    return sorted(cards, key=lambda c: (tuple(-x for x in c.urgency), c.name))


def tile_text(t: MetricTile | None) -> str:
    """A metric tile in one phrase: "Triage accuracy 90.5% (+0.4 pts)"."""
    if t is None:
        return "—"
    return f"{t.label} {t.value}" + (f" ({t.delta})" if t.delta else "")


def decision_and_gate(c: OverviewCard) -> str:
    """The decision and the readiness gate in one cell, as the card's two badges say them:
    "Pending · not ready" ("Pending" alone when the initiative has no gate)."""
    if c.ready is None:
        return c.decision
    return f"{c.decision} · {'ready' if c.ready else 'not ready'}"


def table(cards: list[OverviewCard]) -> pd.DataFrame:
    """The overview as one row per initiative, with the same figures as the cards: the
    decision and the evidence an executive compares first, each figure beside its trend, then
    the concerns, alerts and headroom (all of them fit at 1440 px), the context after."""
    return pd.DataFrame(
        [
            {
                "Initiative": c.name,
                "Open": f"iterations?initiative={quote(c.name, safe='')}",
                "Decision": decision_and_gate(c),
                "Criteria met": c.criteria,
                "Model metric": tile_text(c.model),
                "Model trend": [float(v) for v in c.model.trend] if c.model else [],
                "Business KPI": tile_text(c.kpi),
                "KPI trend": [float(v) for v in c.kpi.trend] if c.kpi else [],
                "Severe concerns": c.open_severe_concerns,
                "Alerts firing": c.firing_alerts,
                "Headroom": c.headroom_text,
                "Runway": c.runway_short,
                "Needs attention": "; ".join(c.attention) or "Nothing",
                "Stage": c.stage,
                "Iteration": c.latest_iteration.removeprefix("Figures of "),
                "Last decision": capitalised(
                    (c.last_decision or "—").removeprefix("Last decision: ").rstrip(".")
                ),
            }
            for c in cards
        ]
    )

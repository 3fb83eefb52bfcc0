"""What the people screens show: sentences, tables and the figures behind them, built from the
reads in people.reads and the rules in people.rules. Screens only lay these out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine

from liftoff.evidence.initiative import InitiativeEvidence
from liftoff.formatting import (
    RATING_DIGITS,
    comparator_words,
    count,
    format_date,
    format_rating,
    format_rating_change,
    format_value,
    shown_unit,
)
from liftoff.people import reads as people_reads
from liftoff.people import rules as people_rules
from liftoff.tables import Table, arrow

FEEDBACK_STATUS_LABELS = {
    "new": "New",
    "triaged": "Triaged",
    "actioned": "Actioned",
    "wont_fix": "Won't fix",
}
SOURCE_LABELS = {"end_user": "End user", "stakeholder": "Stakeholder", "support": "Support"}
CATEGORY_LABELS = {
    "unclear_criteria": "Unclear production criteria",
    "scalability": "Scalability blind spots",
    "data_gaps": "Real-world data gaps",
    "misalignment": "Stakeholder misalignment",
    "operations": "Operational underestimation",
}
# A concern imported from a register without our categories, waiting for triage.
UNCATEGORISED = "not_categorised"
UNCATEGORISED_LABEL = "Not categorised yet"


def category_label(category: str | None) -> str:
    """A failure category in words; an empty one is "Not categorised yet"."""
    return CATEGORY_LABELS.get(category, category) if category else UNCATEGORISED_LABEL


CONCERN_STATUS_LABELS = {
    "open": "Open",
    "mitigating": "Mitigating",
    "resolved": "Resolved",
    "accepted": "Accepted",
}


@dataclass
class TablePage:
    """One page of a long table: how many rows match, the page's rows, and the page as a
    table to show and download."""

    total: int
    rows: list[dict]
    table: Table


# ----------------------------------------------------------------------------- feedback


@dataclass
class FeedbackView:
    rows: list[dict]  # per iteration, from people_reads.feedback_by_iteration
    themes: dict
    totals: dict
    headline: str
    loop: Table  # the closed loop, iteration by iteration
    engagement_keys: list[str]


def _rating_text(mean: float | None) -> str:
    return "no ratings" if mean is None else f"mean rating {format_rating(mean)}"


def feedback_view(
    engine: Engine, ev: InitiativeEvidence, number: int | None = None
) -> FeedbackView:
    """Everything the feedback screen shows above its table, for one initiative (as of
    iteration `number` when given: later iterations' feedback left out)."""
    if number is not None:
        ev = ev.as_of(number)
    init_id = ev.initiative["id"]
    rows = people_reads.feedback_by_iteration(engine, init_id)
    themes = people_reads.feedback_themes(engine, init_id, through=ev.through)
    if ev.through is None:
        totals = people_reads.feedback_counts(engine, [init_id]).get(init_id, _totals([]))
    else:
        # Evidence as of an earlier iteration: the feedback of later ones (and the feedback no
        # iteration places in time) stays out of its counts, ratings and themes.
        rows = [r for r in rows if r["iteration"] is not None and r["iteration"] <= ev.through]
        totals = _totals(rows)
    per_it = [r for r in rows if r["iteration"] is not None]
    engagement_keys = sorted(
        {
            k
            for it in ev.iterations
            for k in it.metrics
            if ev.catalog.get(k, {}).get("category") == "engagement"
        }
    )
    loop = closed_loop(per_it, ev, engagement_keys)
    return FeedbackView(
        rows=rows,
        themes=themes,
        totals=totals,
        headline=_feedback_headline(per_it, totals, themes),
        loop=Table.of(loop),
        engagement_keys=engagement_keys,
    )


def _totals(rows: list[dict]) -> dict:
    """The feedback totals (as people_reads.feedback_counts gives them) of per-iteration rows."""
    given = sum(r["count"] for r in rows)
    rated = sum(r["rated"] for r in rows)
    actioned = sum(r["status"]["actioned"] for r in rows)
    return {
        "count": given,
        "mean_rating": sum(r["mean_rating"] * r["rated"] for r in rows if r["rated"]) / rated
        if rated
        else None,
        "actioned": actioned,
        "actioned_share": actioned / given if given else None,
        "handled": given - sum(r["status"]["new"] for r in rows),
    }


def _feedback_headline(per_it: list[dict], totals: dict, themes: dict) -> str:
    if not totals["count"]:
        return "No feedback yet."
    text = f"{count(totals['count'], 'comment')} so far, {_rating_text(totals['mean_rating'])}"
    if per_it:
        last = per_it[-1]
        text += f"; iteration {last['iteration']}: {count(last['count'], 'comment')}, {_rating_text(last['mean_rating'])}"
        if (
            len(per_it) > 1
            and last["mean_rating"] is not None
            and per_it[-2]["mean_rating"] is not None
        ):
            change = last["mean_rating"] - per_it[-2]["mean_rating"]
            text += f" ({'up' if change >= 0 else 'down'} {abs(change):.{RATING_DIGITS}f} from iteration {per_it[-2]['iteration']})"
    text += "."
    # Of all the comments, said so: after the latest iteration's count, "6 of them" read as 6
    # of that iteration's 7.
    text += (
        f" Of all {totals['count']:,}, {totals['actioned']:,} "
        f"({totals['actioned_share']:.0%}) acted on, "
        f"{totals['count'] - totals['handled']:,} waiting for triage."
    )
    # A catch-all theme says nothing to the room ("Most mentioned: general, …"; helper-26).
    latest_themes = themes["by_iteration"].get(per_it[-1]["iteration"], []) if per_it else []
    named = [t for t, _ in latest_themes if str(t).strip().casefold() not in CATCH_ALL_THEMES]
    if named:
        what = "Most mentioned" if themes["source"] == "themes" else "Most distinctive words"
        text += f" {what} in iteration {per_it[-1]['iteration']}: {', '.join(named[:3])}."
    return text


# Themes that name no topic, left out of the sentence's "most mentioned" (the chart keeps them).
CATCH_ALL_THEMES = frozenset({"general", "other", "others", "misc", "miscellaneous", "none", "n/a"})


def closed_loop(
    per_it: list[dict], ev: InitiativeEvidence, engagement_keys: list[str]
) -> pd.DataFrame:
    """Feedback actioned in iteration N and how rating and engagement moved in N+1. Headers
    short enough to read whole at 1440 px ("Weekly active users: this → next" was cut): an
    engagement metric's column is headed by its name, its cells read "18 users → 26 users"."""
    out = []
    for cur, nxt in zip(per_it, per_it[1:], strict=False):
        row = {
            "Iteration": cur["iteration"],
            "Actioned": cur["status"]["actioned"],
            "Comments": cur["count"],
            "Mean rating": _fmt_rating(cur["mean_rating"]),
            "Next iteration": _fmt_rating(nxt["mean_rating"]),
            "Change": (
                format_rating_change(nxt["mean_rating"] - cur["mean_rating"])
                if cur["mean_rating"] is not None and nxt["mean_rating"] is not None
                else "—"
            ),
        }
        a, b = ev.iteration(cur["iteration"]), ev.iteration(nxt["iteration"])
        for key in engagement_keys:
            meta = ev.catalog.get(key, {})
            before = a.metrics.get(key) if a else None
            after = b.metrics.get(key) if b else None
            label = meta.get("display_name", key)
            row[label] = (
                f"{format_value(before, shown_unit(meta))} → {format_value(after, shown_unit(meta))}"
            )
        out.append(row)
    return pd.DataFrame(out)


def _fmt_rating(value: float | None) -> str:
    return "—" if value is None else format_rating(value)


def feedback_table(rows: list[dict]) -> pd.DataFrame:
    """One page of comments as plain text columns."""
    return pd.DataFrame(
        [
            {
                "#": r["id"],
                "Received": r["received_at"],
                "Iteration": r["iteration"],
                "Source": SOURCE_LABELS.get(r["source"], r["source"]),
                "Rating": r["rating"],
                "Comment": r["text"],
                "Theme": r["theme"] or r["tags"] or "",
                "Status": FEEDBACK_STATUS_LABELS.get(r["status"], r["status"]),
                "Action taken": r["action_taken"] or "",
            }
            for r in rows
        ],
        columns=[
            "#",
            "Received",
            "Iteration",
            "Source",
            "Rating",
            "Comment",
            "Theme",
            "Status",
            "Action taken",
        ],
    )


def comments_page(
    engine: Engine, ev: InitiativeEvidence, flt: people_reads.FeedbackFilter, page: int
) -> TablePage:
    """One page of the comments that match `flt`, newest first."""
    total, rows = people_reads.feedback_page(engine, ev.initiative["id"], flt, page)
    return TablePage(total, rows, Table.of(feedback_table(rows)))


# ----------------------------------------------------------------------------- concerns


@dataclass
class ConcernsView:
    headline: str
    facets: dict
    severe: list[dict]
    burndown: list[dict]
    summary: dict
    metrics: dict  # open, severe, overdue, oldest age
    people: list[dict]  # stakeholders with their stances and concerns
    numbers: list[int]  # the initiative's iterations, for the stances across them
    buy_in: str  # who still needs winning over
    stakeholder_table: pa.Table


def concerns_view(engine: Engine, ev: InitiativeEvidence, today: date) -> ConcernsView:
    init_id = ev.initiative["id"]
    numbers = [it.number for it in ev.iterations]
    stakeholders = people_reads.stakeholders(engine, init_id)
    facets = people_reads.concern_facets(engine, init_id)
    severe = people_reads.most_severe_open(engine, init_id)
    summary = people_reads.concern_summary(engine, [init_id], today)[init_id]
    overdue = people_reads.overdue_count(engine, init_id, today)
    open_total = sum(summary["by_severity"].values())
    return ConcernsView(
        headline=concerns_headline(
            severe,
            open_total,
            today,
            summary["by_category"].get(None, 0),
            people_reads.open_concern_count(engine, init_id, status="mitigating"),
        ),
        facets=facets,
        severe=severe,
        burndown=people_reads.open_concerns_over_time(engine, init_id, today),
        summary=summary,
        metrics={
            "open": open_total,
            "severe": summary["by_severity"].get("critical", 0)
            + summary["by_severity"].get("high", 0),
            "overdue": overdue,
            "oldest_days": summary["oldest"]["age_days"] if summary["oldest"] else None,
        },
        people=stakeholders,
        numbers=numbers,
        buy_in=buy_in_headline(stakeholders, numbers),
        stakeholder_table=arrow(stakeholder_table(stakeholders, numbers)),
    )


def register_order_line(total: int) -> str:
    """The line above the register: how many concerns the filters match, and their order."""
    verb = "matches" if total == 1 else "match"
    return (
        f"{count(total, 'concern')} {verb}; open or being mitigated first, most severe first, "
        "oldest first."
    )


def concerns_headline(
    severe: list[dict],
    open_total: int,
    today: date,
    uncategorised: int = 0,
    mitigating: int = 0,
) -> str:
    """Open concerns (how many of them are being mitigated: the register's Status says
    "Mitigating" for those), the most severe ones, and how many wait for a failure category."""
    if not open_total:
        return "No open concerns: every concern raised so far is resolved or accepted."
    parts = [
        f"“{c['title']}” ({c['severity']}, open {count(people_rules.age_days(c['raised_at'], today), 'day')})"
        for c in severe[:2]
    ]
    being = ""
    if mitigating:
        being = (
            " (all being mitigated)"
            if mitigating == open_total
            else (f" ({mitigating:,} being mitigated)")
        )
    text = f"{count(open_total, 'open concern')}{being}. Most severe: " + "; ".join(parts) + "."
    if uncategorised:
        verb = "is" if uncategorised == 1 else "are"
        text += (
            f" {uncategorised:,} {verb} not categorised yet: give "
            f"{'it' if uncategorised == 1 else 'them'} a failure category in the register."
        )
    return text


# The register's columns on screen, in order (the CSV has every column of register_table).
REGISTER_SHOWN = (
    "Key",
    "Title",
    "Severity",
    "Status",
    "Failure category",
    "Owner",
    "Raised",
    "Overdue",
    "Evidence",
)


def concern_choice(row: dict) -> str:
    """How a concern is named in the "One concern" picker: its key (or number), severity and
    title, e.g. "CHN-4 · Critical · Model gains not reaching the business KPI"."""
    key = row.get("external_key") or f"#{row['id']}"
    return f"{key} · {row['severity'].capitalize()} · {row['title'][:90]}"


def register_table(rows: list[dict], ev: InitiativeEvidence, today: date) -> pd.DataFrame:
    """One page of the register, with age, overdue flag and what the evidence suggests."""
    latest = ev.latest.metrics if ev.latest else {}
    out = []
    for r in rows:
        value = latest.get(r["metric"]) if r["metric"] else None
        suggestion = ""
        if r["status"] in ("open", "mitigating") and people_rules.clears(
            value, r["comparator"], r["threshold"]
        ):
            meta = ev.catalog.get(r["metric"], {})
            # Short enough for its column at 1440 px (it stopped at "… p95 latency is 1,142"),
            # the condition in words as everywhere else.
            unit = shown_unit(meta)
            suggestion = (
                f"Can be resolved: {meta.get('display_name', r['metric'])} "
                f"{format_value(value, unit)}, {comparator_words(r['comparator'])} "
                f"{format_value(r['threshold'], unit)}"
            )
        out.append(
            {
                "#": r["id"],
                "Key": r["external_key"] or "",
                "Title": r["title"],
                "Severity": r["severity"].capitalize(),
                "Status": CONCERN_STATUS_LABELS.get(r["status"], r["status"]),
                "Failure category": category_label(r["failure_category"]),
                "Group": r["stakeholder_group"] or "",
                "Raised by": r["raised_by"] or "",
                "Owner": r["owner"] or "",
                "Raised": r["raised_at"],
                "Age (days)": people_rules.age_days(r["raised_at"], today, r["resolved_at"]),
                # No due day reads empty (a date column's gap would read "None").
                "Due": format_date(r["due"]) if r["due"] else "",
                "Overdue": "Overdue" if people_rules.overdue(r["due"], r["status"], today) else "",
                "Evidence": suggestion,
            }
        )
    return pd.DataFrame(
        out,
        columns=[
            "#",
            "Key",
            "Title",
            "Severity",
            "Status",
            "Failure category",
            "Group",
            "Raised by",
            "Owner",
            "Raised",
            "Age (days)",
            "Due",
            "Overdue",
            "Evidence",
        ],
    )


def register_page(
    engine: Engine, ev: InitiativeEvidence, flt: people_reads.ConcernFilter, page: int, today: date
) -> TablePage:
    """One page of the register that matches `flt`: open first, most severe, oldest."""
    total, rows = people_reads.concerns_page(engine, ev.initiative["id"], flt, page)
    return TablePage(total, rows, Table.of(register_table(rows, ev, today)))


@dataclass
class ConcernDetail:
    item: dict
    history: pa.Table  # every status change, oldest first


def concern_detail(engine: Engine, concern_id: int) -> ConcernDetail:
    """One concern with its status history."""
    return ConcernDetail(
        people_reads.concern(engine, concern_id),
        arrow(history_table(people_reads.concern_history(engine, concern_id))),
    )


def history_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "When": r["changed_at"],
                "Who": r["changed_by"] or "",
                "From": CONCERN_STATUS_LABELS.get(r["from_status"], "—")
                if r["from_status"]
                else "—",
                "To": CONCERN_STATUS_LABELS.get(r["to_status"], r["to_status"]),
                "Note": r["note"] or "",
            }
            for r in rows
        ],
        columns=["When", "Who", "From", "To", "Note"],
    )


# ----------------------------------------------------------------------------- stakeholders


def buy_in_headline(people_rows: list[dict], numbers: list[int]) -> str:
    if not people_rows:
        return "No stakeholders recorded yet."
    latest = {p["name"]: _latest_stance(p) for p in people_rows}
    to_win = sorted(
        (p for p in people_rows if latest[p["name"]] in ("blocker", "skeptic", "neutral")),
        key=lambda p: (people_rules.STANCE_VALUE[latest[p["name"]]], -p["influence"]),
    )
    won = [
        p["name"]
        for p in people_rows
        if people_rules.won_over([p["stances"][n] for n in sorted(p["stances"])])
    ]
    supportive = sum(1 for s in latest.values() if s in people_rules.SUPPORTIVE)
    text = f"{supportive} of {len(people_rows)} stakeholders support the initiative now"
    if won:
        text += f"; won over so far: {', '.join(won)}"
    text += "."
    if to_win:
        names = ", ".join(
            f"{p['name']} ({latest[p['name']]}, influence {p['influence']})" for p in to_win[:3]
        )
        text += f" Still to win over: {names}."
    else:
        text += " Nobody is left to win over."
    return text


def _latest_stance(p: dict) -> str | None:
    return p["stances"][max(p["stances"])] if p["stances"] else None


def stakeholder_table(people_rows: list[dict], numbers: list[int]) -> pd.DataFrame:
    """Who each stakeholder is, the concerns they raised, and their stance at each iteration,
    the newest first: with eight iterations the table ran past the page, and what was cut was
    the concerns column and the stance now."""
    out = []
    for p in people_rows:
        open_ = [c for c in p["concerns"] if c["status"] in ("open", "mitigating")]
        row = {
            "Name": p["name"],
            "Group": p["group"] or "",
            "Influence (1–5)": p["influence"],
            "Concerns raised": (
                f"{len(p['concerns'])} ({len(open_)} open)" if p["concerns"] else "No concerns"
            ),
        }
        for n in reversed(numbers):
            row[f"It. {n}"] = (p["stances"].get(n) or "").capitalize()
        out.append(row)
    return pd.DataFrame(out)


# ----------------------------------------------------------------------------- governance and readiness


# Lists used by the filters of the screens.

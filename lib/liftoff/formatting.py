"""Numbers in plain words with their units, the same on every screen and export."""

from __future__ import annotations

import math
import re
from datetime import date, datetime

# Each decision's colour: its badge on the screens (a Streamlit colour name) and its bars in
# charts (the same hue, as plotly needs it).
DECISION_COLOURS = {
    "go": ("green", "#2e7d32"),
    "no-go": ("red", "#c62828"),
    "pivot": ("orange", "#ef6c00"),
    "extend": ("blue", "#1565c0"),
    "pending": ("gray", "#9e9e9e"),
}
DECISION_LABELS = {
    "pending": "Pending",
    "go": "Go",
    "no-go": "No-go",
    "pivot": "Pivot",
    "extend": "Extend",
}
STAGE_LABELS = {
    "poc": "Proof of concept",
    "pilot": "Pilot",
    "production": "Production",
    "paused": "Paused",
    "retired": "Retired",
}
# The same in a sentence: "a proof of concept", "Stage: pilot".
STAGE_WORDS = {stage: label.lower() for stage, label in STAGE_LABELS.items()}

#: A metric's category as the screens write it.
CATEGORY_LABELS = {
    "model": "Model",
    "business_kpi": "Business KPI",
    "system": "System",
    "engagement": "Engagement",
    "data_quality": "Data quality",
}
STATUS_LABELS = {"met": "Met", "not_met": "Not met", "no_evidence": "No evidence"}
KIND_LABELS = {
    "innovation": "Innovation goal",
    "learning": "Learning objective",
    "production": "Production criterion",
}
#: What each kind of import file is called on the screens (ingest.columns.KIND_LABELS).
IMPORT_KIND_LABELS = {
    "metrics": "Metrics",
    "feedback": "User feedback",
    "concerns": "Stakeholder concerns",
    "loadtest": "Load-test results",
    "traffic": "Peak traffic",
    "criteria": "Iteration criteria",
    "governance": "Governance checklist",
    "stakeholders": "Stakeholders and their stance",
    "mlflow-runs": "MLflow runs (search_runs export)",
    "mlflow-history": "MLflow metric history",
    "locust": "Locust results (_stats.csv or _stats_history.csv)",
}

# Units counted in whole numbers.
WHOLE_UNITS = {"users", "count"}
UNIT_SUFFIX = {
    "ms": " ms",
    "s": " s",
    "rps": " req/s",
    "min": " min",
    "h": " h",
    "EUR": " €",
    "kEUR": " k€",
    "USD": " $",
    "users": " users",
    "count": "",
    "score": "",
}


# Fractions read as a score, not as a share of something: AUC 0.842, F1 0.871 (accuracy and
# rates read as percentages: 84.2%).
_SCORE_FRACTION = re.compile(
    r"(?:^|[^a-z0-9])(auc|roc|f1|f-1|f-score|gini|r2|r²|ndcg|map|mrr|bleu|rouge|kappa|mcc)(?:$|[^a-z0-9])",
    re.IGNORECASE,
)
# Digits of a fraction shown as a decimal.
FRACTION_DIGITS = 3


def shown_unit(meta: dict | None) -> str | None:
    """How a metric is written, from its definition: its unit, except that a fraction whose
    key or name says it is a score (AUC, F1, …) is written as a decimal ("fraction") rather
    than as a percentage ("ratio"). Criteria, values, tiles, charts and the pack all use it."""
    meta = meta or {}
    unit = meta.get("unit")
    if unit == "ratio" and (
        _SCORE_FRACTION.search(meta.get("key") or "")
        or _SCORE_FRACTION.search(meta.get("display_name") or "")
    ):
        return "fraction"
    return unit


def capitalised(words: str) -> str:
    """ "proof of concept" → "Proof of concept" (a table cell or a sentence starts with a
    capital; str.capitalize would lower the rest)."""
    return words[:1].upper() + words[1:]


def count(n: int, one: str, many: str | None = None) -> str:
    """A count in words that agree with it: "1 row", "2 rows", "1,204 values"."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def listed(items) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def time_left(days: int) -> str:
    """A runway's length as every screen says it: "1 day", "12 days", "about 35 weeks" (the
    headline said weeks while the what-if under it said "247 days" of the same date)."""
    if days == 1:
        return "1 day"
    return f"{days} days" if days < 21 else f"about {days / 7:.0f} weeks"


# What one stored record of each kind of file is (singular, plural when not just + "s").
RECORD_NOUNS = {
    "metrics": ("value", None),
    "mlflow-runs": ("value", None),
    "mlflow-history": ("value", None),
    "traffic": ("value", None),
    "loadtest": ("load-test step", None),
    "locust": ("load-test step", None),
    "feedback": ("comment", None),
    "concerns": ("concern", None),
    "criteria": ("criterion", "criteria"),
    "governance": ("checklist item", None),
    "stakeholders": ("stakeholder", None),
}


def stored_words(kind: str, accepted: int, read: int) -> str:
    """What an import stored, in words: "252 values"; "39 values from 13 rows" for a wide file
    (an MLflow export has a value per metric and row); "7 load-test steps from 22 rows" for a
    Locust history (a step per user count). Two bare numbers, 13 read and 39 accepted, left
    that unexplained."""
    stored = count(accepted, *RECORD_NOUNS.get(kind, ("record", None)))
    return stored if accepted == read else f"{stored} from {count(read, 'row')}"


def format_value(value: float | None, unit: str | None, digits: int | None = None) -> str:
    """`0.875, "ratio"` → "87.5%"; `0.842, "fraction"` → "0.842"; `312, "ms"` → "312 ms";
    None → "—"."""
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value * 100:.{1 if digits is None else digits}f}%"
    if unit == "fraction":
        return f"{value:.{FRACTION_DIGITS if digits is None else digits}f}"
    if digits is None:
        size = abs(value)
        if unit in WHOLE_UNITS or (_counted(unit) and float(value).is_integer()):
            digits = 0
        elif 0 < size < 0.01:
            # Two significant digits: a cost of 0.0012 € a request read "0.00", as if free.
            digits = _two_significant(size)
        else:
            digits = _decimals(size)
    suffix = UNIT_SUFFIX.get(unit or "", f" {unit}" if unit else "")
    if digits > 8:  # a millionth and less: its two digits and its power of ten
        return f"{value:.1e}{suffix}"
    return f"{value:,.{digits}f}{suffix}"


def shared_digits(values, unit: str | None) -> int | None:
    """One count of decimals for several values of one metric side by side: the count
    format_value gives the largest ("11.5 h", "7.5 h", "2.0 h"; a row read "7.50 h" beside
    "11.5 h"). None where format_value's own count is the same for every value."""
    values = [abs(v) for v in values if v is not None]
    if not values or unit in ("ratio", "fraction") or unit in WHOLE_UNITS:
        return None
    if _counted(unit) and all(float(v).is_integer() for v in values):
        return 0
    digits = _decimals(max(values))
    # Never so few that a small value reads as nothing (0.0012 beside 0.5 as "0.00").
    least = min((v for v in values if v > 0), default=0)
    if least and round(least, digits) == 0:
        digits = _two_significant(least)
    return min(digits, 8)


def _counted(unit: str | None) -> bool:
    """A unit of the file's own ("messages", "tickets") or none: its whole numbers are counts
    and read "42 messages", not "42.0 messages"; the known units keep their decimals
    ("50.0 req/s" beside "49.5 req/s")."""
    return unit not in UNIT_SUFFIX and unit not in ("ratio", "fraction")


def _decimals(size: float) -> int:
    """The decimals of a number of this size: "312", "98.9", "3.40"."""
    return 0 if size >= 100 else 1 if size >= 10 else 2


def _two_significant(size: float) -> int:
    """The decimals that keep two significant digits of a positive number under 1: 0.0012."""
    return 1 - math.floor(math.log10(size))


#: How a change of nothing is written (a tile shows it without an arrow).
NO_CHANGE = "no change"


def format_delta(delta: float | None, unit: str | None) -> str | None:
    """The change from the previous iteration: percentage points for ratios."""
    if delta is None:
        return None
    if unit == "ratio":
        # A change under a twentieth of a point keeps its second digit ("+0.03 pts", not a
        # "+0.0 pts" that reads as a change of nothing).
        points = delta * 100
        if abs(points) < 0.005:  # not "-0.0 pts" nor "+0.0 pts" for a change of nothing
            return NO_CHANGE
        return f"{points:+.{2 if abs(points) < 0.05 else 1}f} pts"
    if unit == "fraction":
        return f"{delta:+.{FRACTION_DIGITS}f}".replace("+-", "-")
    # A change of 1 or more keeps one decimal, as the value beside it does ("11.5 h", "+4.0 h";
    # it read "+4.00 h"); a smaller one keeps two ("-0.03 min").
    size = abs(delta)
    digits = None if unit in WHOLE_UNITS or size >= 100 else (1 if size >= 1 else 2)
    text = format_value(size, unit, digits)
    # An ASCII minus: st.metric reads the sign to colour the arrow.
    return ("+" if delta >= 0 else "-") + text


def judged_delta(delta: float | None, unit: str | None, direction: str | None) -> str | None:
    """A change with whether it is good news, by the metric's direction: "-1.3 min, better"
    for a handling time, "+6.6 ms, worse" for a latency (a bare "-1.3 min" left the reader to
    know which way is better; helper-27). "no change" and None as format_delta gives them."""
    text = format_delta(delta, unit)
    if delta is None or text in (None, NO_CHANGE):
        return text
    better = (delta > 0) == (direction != "lower")
    return f"{text}, {'better' if better else 'worse'}"


def format_percent(fraction: float | None) -> str:
    """A share as a whole percentage: 0.234 → "23%"."""
    return "—" if fraction is None else f"{fraction * 100:.0f}%"


def format_date(value: date | datetime | None) -> str:
    """ "12 Mar 2026", or "—"."""
    if value is None:
        return "—"
    return f"{value.day} {value:%b %Y}"


def format_moment(value: datetime | None) -> str:
    """ "12 Mar 2026, 14:05" (a day and a time, as tables show them), or "—"."""
    if value is None:
        return "—"
    return f"{format_date(value)}, {value:%H:%M}"


# Ratings (1-5) have one precision on every screen, slide and export.
RATING_DIGITS = 1


def format_rating(mean: float | None) -> str:
    """A mean rating: "4.1 of 5", or "—"."""
    return "—" if mean is None else f"{mean:.{RATING_DIGITS}f} of 5"


def format_rating_change(change: float | None) -> str:
    """A change of mean rating: "+0.3", "-0.1", or "—"."""
    return "—" if change is None else f"{change:+.{RATING_DIGITS}f}"


def format_bytes(size: int) -> str:
    """A file size: "812 bytes", "14 KB", "43.0 MB"."""
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:,.0f} KB"
    return f"{size / 1024 / 1024:,.1f} MB"


def comparator_words(comparator: str) -> str:
    return {">=": "at least", ">": "above", "<=": "at most", "<": "below", "==": "exactly"}[
        comparator
    ]

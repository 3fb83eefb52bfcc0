"""Pure rules of the people screens: concern ages, buy-in, distinctive feedback terms. No database and no streamlit here."""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import date

# ----------------------------------------------------------------------------- concerns


def age_days(raised_at: date, today: date, resolved_at: date | None = None) -> int:
    """Days a concern has been open (until it was resolved, if it was)."""
    end = resolved_at or today
    return max((end - raised_at).days, 0)


def overdue(due: date | None, status: str, today: date) -> bool:
    return due is not None and status in ("open", "mitigating") and due < today


def clears(value: float | None, comparator: str | None, threshold: float | None) -> bool:
    """Whether a metric value meets a concern's threshold (the condition that would resolve it)."""
    if value is None or comparator is None or threshold is None:
        return False
    return {
        ">=": value >= threshold,
        ">": value > threshold,
        "<=": value <= threshold,
        "<": value < threshold,
        "==": math.isclose(value, threshold),
    }[comparator]


# ----------------------------------------------------------------------------- buy-in

STANCE_VALUE = {"blocker": -2, "skeptic": -1, "neutral": 0, "supporter": 1, "advocate": 2}
SUPPORTIVE = ("supporter", "advocate")


def won_over(stances: list[str]) -> bool:
    """Whether a stakeholder moved from skeptic or blocker to supporter or advocate."""
    return (
        bool(stances)
        and any(s in ("blocker", "skeptic") for s in stances[:-1])
        and (stances[-1] in SUPPORTIVE)
    )


# ----------------------------------------------------------------------------- themes

_WORD = re.compile(r"[a-zà-ÿ][a-zà-ÿ'-]{2,}")
STOPWORDS = frozenset(
    """the and for that this with was are but not you have has had they them their there
    what when which who will would could should can cannot from into than then too very
    just also our your its it's i'm i've don't doesn't didn't isn't wasn't about after again
    all any been before being both each few more most other some such only own same so
    how why where while does did doing were here out off over under until up down once
    get got one two now new use used using make made like really still even much many
    well way lot lots need needs want wants thing things time times day days week weeks""".split()
)


def terms(text: str) -> list[str]:
    return [w.strip("'-") for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def distinctive_terms(texts_by_group: dict, top: int = 5, min_count: int = 2) -> dict:
    """The most distinctive words of each group of texts (an iteration's comments) against the
    others: log-odds with an informative Dirichlet prior (Monroe et al., 2008), z-scored.
    Returns group → [(term, count)] of up to `top` terms used at least `min_count` times."""
    counts = {
        g: Counter(t for text in texts for t in set(terms(text)))
        for g, texts in texts_by_group.items()
    }
    total = Counter()
    for c in counts.values():
        total.update(c)
    n_all = sum(total.values())
    alpha0 = max(n_all, 1) * 0.01
    out = {}
    for g, c in counts.items():
        n_g = sum(c.values())
        n_rest = n_all - n_g
        scored = []
        for term, k in c.items():
            if k < min_count:
                continue
            a = alpha0 * total[term] / max(n_all, 1)
            rest = total[term] - k
            delta = math.log((k + a) / (n_g + alpha0 - k - a)) - math.log(
                (rest + a) / (max(n_rest, 0) + alpha0 - rest - a)
            )
            var = 1 / (k + a) + 1 / (rest + a)
            scored.append((delta / math.sqrt(var), term, k))
        scored.sort(key=lambda x: (-x[0], x[1]))
        out[g] = [(term, k) for z, term, k in scored[:top] if z > 0]
    return out

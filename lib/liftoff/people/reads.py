"""Reads behind the people screens: feedback, concerns, stakeholders, governance, readiness.

Counts, means and distributions are computed in SQL; tables come back one page at a time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, and_, case, func, literal, or_, select

from liftoff import db
from liftoff.db.models import (
    SEVERITY_RANK,
    Concern,
    ConcernStatusChange,
    Feedback,
    Iteration,
    Metric,
    Stakeholder,
    StakeholderStance,
    name_of,
)
from liftoff.people import rules as people_rules

PAGE = 50
# Comments read per iteration to find distinctive terms when the file had no themes or tags.
TERM_SAMPLE = 1500


# ----------------------------------------------------------------------------- feedback


def feedback_by_iteration(engine: Engine, initiative_id: int) -> list[dict]:
    """Per iteration (None: feedback without one): volume, mean rating and sentiment, status
    counts, rating distribution."""
    f = Feedback
    stmt = (
        select(
            f.iteration_id,
            Iteration.number,
            func.count(),
            func.avg(f.rating),
            func.count(f.rating),
            func.avg(f.sentiment),
            func.count(f.sentiment),
            *[
                func.sum(case((f.status == s, 1), else_=0))
                for s in ("new", "triaged", "actioned", "wont_fix")
            ],
        )
        .select_from(f)
        .outerjoin(Iteration, Iteration.id == f.iteration_id)
        .where(f.initiative_id == initiative_id)
        .group_by(f.iteration_id, Iteration.number)
    )
    hist = (
        select(f.iteration_id, func.round(f.rating), func.count())
        .where(f.initiative_id == initiative_id, f.rating.is_not(None))
        .group_by(f.iteration_id, func.round(f.rating))
    )
    with db.reading(engine) as conn:
        rows = conn.execute(stmt).all()
        dist: dict = defaultdict(dict)
        for it_id, rating, n in conn.execute(hist):
            dist[it_id][int(rating)] = dist[it_id].get(int(rating), 0) + n
    out = []
    for (
        it_id,
        number,
        n,
        mean,
        rated,
        sentiment,
        with_sentiment,
        new,
        triaged,
        actioned,
        wont,
    ) in rows:
        out.append(
            {
                "iteration_id": it_id,
                "iteration": number,
                "count": n,
                "mean_rating": float(mean) if mean is not None else None,
                "rated": rated,
                "mean_sentiment": float(sentiment) if sentiment is not None else None,
                "with_sentiment": with_sentiment,
                "status": {
                    "new": new or 0,
                    "triaged": triaged or 0,
                    "actioned": actioned or 0,
                    "wont_fix": wont or 0,
                },
                "ratings": dist.get(it_id, {}),
            }
        )
    out.sort(key=lambda r: (r["iteration"] is None, r["iteration"] or 0))
    return out


def feedback_themes(
    engine: Engine, initiative_id: int, top: int = 5, through: int | None = None
) -> dict:
    """Themes per iteration number (up to iteration `through` when given), from the theme
    column (or tags) where given:
    {"source": "themes" | "terms" | None, "by_iteration": {number: [(theme, count)]}}."""
    f = Feedback
    label = func.coalesce(f.theme, f.tags)
    stmt = (
        select(Iteration.number, label, func.count())
        .join(Iteration, Iteration.id == f.iteration_id)
        .where(f.initiative_id == initiative_id, label.is_not(None), label != "")
        .group_by(Iteration.number, label)
    )
    if through is not None:
        stmt = stmt.where(Iteration.number <= through)
    with db.reading(engine) as conn:
        rows = conn.execute(stmt).all()
    if rows:
        grouped: dict = defaultdict(list)
        for number, theme, n in rows:
            grouped[number].append((theme, n))
        return {
            "source": "themes",
            "by_iteration": {
                k: sorted(v, key=lambda x: (-x[1], x[0]))[:top] for k, v in sorted(grouped.items())
            },
        }
    # Words are distinctive against the other iterations' comments: as of an iteration, only
    # the comments up to it take part.
    texts = feedback_texts_sample(engine, initiative_id, through=through)
    if not texts:
        return {"source": None, "by_iteration": {}}
    return {
        "source": "terms",
        "by_iteration": dict(sorted(people_rules.distinctive_terms(texts, top).items())),
    }


def feedback_texts_sample(
    engine: Engine, initiative_id: int, per_iteration: int = TERM_SAMPLE, through: int | None = None
) -> dict:
    """The newest comments of each iteration (at most `per_iteration`; up to iteration
    `through` when given), for term extraction."""
    f = Feedback
    rank = (
        func.row_number()
        .over(partition_by=f.iteration_id, order_by=f.received_at.desc())
        .label("r")
    )
    inner = (
        select(Iteration.number.label("n"), f.text.label("text"), rank)
        .join(Iteration, Iteration.id == f.iteration_id)
        .where(f.initiative_id == initiative_id)
    )
    if through is not None:
        inner = inner.where(Iteration.number <= through)
    inner = inner.subquery()
    out: dict = defaultdict(list)
    with db.reading(engine) as conn:
        for n, text in conn.execute(
            select(inner.c.n, inner.c.text).where(inner.c.r <= per_iteration)
        ):
            out[n].append(text)
    return dict(out)


@dataclass(frozen=True)
class FeedbackFilter:
    iteration: int | None = None  # iteration number
    statuses: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    ratings: tuple[int, ...] = ()
    theme: str = ""
    search: str = ""


def _feedback_where(initiative_id: int, flt: FeedbackFilter):
    f = Feedback
    conds = [f.initiative_id == initiative_id]
    if flt.iteration is not None:
        conds.append(Iteration.number == flt.iteration)
    if flt.statuses:
        conds.append(f.status.in_(flt.statuses))
    if flt.sources:
        conds.append(f.source.in_(flt.sources))
    if flt.ratings:
        conds.append(func.round(f.rating).in_(flt.ratings))
    if flt.theme.strip():
        conds.append(
            or_(
                func.lower(f.theme) == flt.theme.strip().lower(),
                func.lower(f.tags).like(db.contains(flt.theme), escape="!"),
            )
        )
    if flt.search.strip():
        pattern = db.contains(flt.search)
        conds.append(
            or_(
                func.lower(f.text).like(pattern, escape="!"),
                func.lower(func.coalesce(f.action_taken, "")).like(pattern, escape="!"),
            )
        )
    return and_(*conds)


def feedback_page(
    engine: Engine, initiative_id: int, flt: FeedbackFilter, page: int = 1, size: int = PAGE
) -> tuple[int, list[dict]]:
    """(matching count, one page of feedback rows newest first)."""
    f = Feedback
    where = _feedback_where(initiative_id, flt)
    base = select(f).outerjoin(Iteration, Iteration.id == f.iteration_id).where(where)
    rows_stmt = (
        select(
            f.id,
            Iteration.number.label("iteration"),
            f.received_at,
            f.source,
            f.rating,
            f.sentiment,
            f.text,
            f.theme,
            f.tags,
            f.status,
            f.action_taken,
            f.updated_by,
            f.updated_at,
        )
        .select_from(f)
        .outerjoin(Iteration, Iteration.id == f.iteration_id)
        .where(where)
        .order_by(f.received_at.desc(), f.id.desc())
        .limit(size)
        .offset((max(page, 1) - 1) * size)
    )
    with db.reading(engine) as conn:
        total = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        rows = [dict(r) for r in conn.execute(rows_stmt).mappings()]
    return total, rows


def feedback_counts(engine: Engine, initiative_ids: list[int]) -> dict[int, dict]:
    """Per initiative: count, mean rating, actioned (and its share of all), handled (not new)."""
    f = Feedback
    stmt = (
        select(
            f.initiative_id,
            func.count(),
            func.avg(f.rating),
            func.sum(case((f.status == "actioned", 1), else_=0)),
            func.sum(case((f.status != "new", 1), else_=0)),
        )
        .where(f.initiative_id.in_(initiative_ids))
        .group_by(f.initiative_id)
    )
    out = {}
    with db.reading(engine) as conn:
        for init_id, n, mean, actioned, handled in conn.execute(stmt):
            out[init_id] = {
                "count": n,
                "mean_rating": float(mean) if mean is not None else None,
                "actioned": actioned or 0,
                "actioned_share": (actioned or 0) / n if n else None,
                "handled": handled or 0,
            }
    return out


# ----------------------------------------------------------------------------- concerns


@dataclass(frozen=True)
class ConcernFilter:
    statuses: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    iteration: int | None = None  # iteration raised, by number
    search: str = ""


def _concern_where(initiative_id: int, flt: ConcernFilter):
    c = Concern
    conds = [c.initiative_id == initiative_id]
    for col, values in (
        (c.status, flt.statuses),
        (c.severity, flt.severities),
        (c.stakeholder_group, flt.groups),
        (c.owner, flt.owners),
    ):
        if values:
            conds.append(col.in_(values))
    if flt.categories:
        # "not_categorised" stands for the concerns without a category (NULL).
        named = [v for v in flt.categories if v != "not_categorised"]
        either = [c.failure_category.in_(named)] if named else []
        if len(named) < len(flt.categories):
            either.append(c.failure_category.is_(None))
        conds.append(or_(*either))
    if flt.iteration is not None:
        conds.append(Iteration.number == flt.iteration)
    if flt.search.strip():
        pattern = db.contains(flt.search)
        conds.append(
            or_(
                *[
                    func.lower(func.coalesce(col, "")).like(pattern, escape="!")
                    for col in (
                        c.title,
                        c.description,
                        c.raised_by,
                        c.owner,
                        c.external_key,
                        c.resolution,
                    )
                ]
            )
        )
    return and_(*conds)


_SEVERITY_RANK = case(SEVERITY_RANK, value=Concern.severity, else_=9)
_STATUS_RANK = case(
    {"open": 0, "mitigating": 1, "resolved": 2, "accepted": 3}, value=Concern.status, else_=9
)
# Open and mitigating concerns are both still open: the register puts them together, most
# severe first, in the order of the steering pack's concerns slide (most_severe_open), which
# had the critical one being mitigated first where the register had it below a medium open one.
_STILL_OPEN_RANK = case(
    {"open": 0, "mitigating": 0, "resolved": 1, "accepted": 2}, value=Concern.status, else_=9
)


def concerns_page(
    engine: Engine, initiative_id: int, flt: ConcernFilter, page: int = 1, size: int = PAGE
) -> tuple[int, list[dict]]:
    """(matching count, one page of concerns: still open (open or mitigating) first, most
    severe first, oldest first)."""
    c = Concern
    where = _concern_where(initiative_id, flt)
    stmt = (
        select(
            c.id,
            c.external_key,
            c.title,
            c.description,
            c.raised_by,
            c.stakeholder_group,
            c.failure_category,
            c.severity,
            c.status,
            c.owner,
            c.raised_at,
            c.due,
            c.resolved_at,
            c.resolution,
            Metric.key.label("metric"),
            c.comparator,
            c.threshold,
            Iteration.number.label("iteration"),
        )
        .select_from(c)
        .outerjoin(Iteration, Iteration.id == c.iteration_id)
        .outerjoin(Metric, Metric.id == c.metric_id)
        .where(where)
        .order_by(_STILL_OPEN_RANK, _SEVERITY_RANK, c.raised_at, c.id)
        .limit(size)
        .offset((max(page, 1) - 1) * size)
    )
    count = (
        select(func.count(c.id))
        .select_from(c)
        .outerjoin(Iteration, Iteration.id == c.iteration_id)
        .where(where)
    )
    with db.reading(engine) as conn:
        total = conn.execute(count).scalar_one()
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    return total, rows


def concern_facets(engine: Engine, initiative_id: int) -> dict:
    """Values to filter by, and the open-concern matrix of failure category against severity."""
    c = Concern
    with db.reading(engine) as conn:
        groups = [
            g
            for (g,) in conn.execute(
                select(c.stakeholder_group)
                .where(c.initiative_id == initiative_id, c.stakeholder_group.is_not(None))
                .distinct()
                .order_by(c.stakeholder_group)
            )
        ]
        owners = [
            o
            for (o,) in conn.execute(
                select(c.owner)
                .where(c.initiative_id == initiative_id, c.owner.is_not(None))
                .distinct()
                .order_by(c.owner)
            )
        ]
        matrix = conn.execute(
            select(c.failure_category, c.severity, func.count())
            .where(c.initiative_id == initiative_id, c.status.in_(("open", "mitigating")))
            .group_by(c.failure_category, c.severity)
        ).all()
        total = conn.execute(
            select(func.count()).where(c.initiative_id == initiative_id)
        ).scalar_one()
    return {"groups": groups, "owners": owners, "matrix": matrix, "total": total}


def overdue_count(engine: Engine, initiative_id: int, today: date) -> int:
    """Open or mitigating concerns past their due date."""
    c = Concern
    with db.reading(engine) as conn:
        return conn.execute(
            select(func.count()).where(
                c.initiative_id == initiative_id,
                c.status.in_(("open", "mitigating")),
                c.due < today,
            )
        ).scalar_one()


OPEN_STATUSES = ("open", "mitigating")


def _open_on(day):
    """Concerns open (or being mitigated) at the end of `day`: raised by then and not resolved
    by then (a concern resolved later was still open; one closed without a date is taken as
    closed already). `day` is a date or a SQL expression."""
    c = Concern
    return and_(
        c.raised_at <= day,
        or_(c.resolved_at > day, and_(c.resolved_at.is_(None), c.status.in_(OPEN_STATUSES))),
    )


def _status_on(day: date):
    """A concern's status at the end of `day`: the last recorded change by then; "open" for
    one whose changes all came later."""
    h = ConcernStatusChange
    last = (
        select(h.to_status)
        .where(h.concern_id == Concern.id, func.date(h.changed_at) <= day)
        .order_by(h.changed_at.desc(), h.id.desc())
        .limit(1)
        .correlate(Concern)
        .scalar_subquery()
    )
    return case(
        (Concern.status.in_(OPEN_STATUSES), Concern.status),
        (last.in_(OPEN_STATUSES), last),
        else_=literal("open"),
    )


def most_severe_open(
    engine: Engine, initiative_id: int, limit: int = 3, as_of: date | None = None
) -> list[dict]:
    """The most severe open concerns, oldest first within a severity; with `as_of`, those open
    at the end of that day, with the status they had then (a past iteration's pack)."""
    c = Concern
    if as_of is None:
        stmt = select(c.id, c.title, c.severity, c.raised_at, c.status, c.owner).where(
            c.initiative_id == initiative_id, c.status.in_(OPEN_STATUSES)
        )
    else:
        stmt = select(
            c.id, c.title, c.severity, c.raised_at, _status_on(as_of).label("status"), c.owner
        ).where(c.initiative_id == initiative_id, _open_on(as_of))
    stmt = stmt.order_by(_SEVERITY_RANK, c.raised_at, c.id).limit(limit)
    with db.reading(engine) as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def open_concern_count(
    engine: Engine, initiative_id: int, as_of: date | None = None, status: str | None = None
) -> int:
    """How many concerns are open now, or were open at the end of `as_of`; with `status`, how
    many of them had that status ("mitigating": being mitigated)."""
    c = Concern
    where = _open_on(as_of) if as_of is not None else c.status.in_(OPEN_STATUSES)
    if status is not None:
        where = and_(where, (_status_on(as_of) if as_of is not None else c.status) == status)
    stmt = select(func.count()).where(c.initiative_id == initiative_id, where)
    with db.reading(engine) as conn:
        return conn.execute(stmt).scalar_one()


def open_concerns_over_time(engine: Engine, initiative_id: int, today: date) -> list[dict]:
    """Open concerns at the end of each iteration (the burn-down), counted in SQL."""
    c, it = Concern, Iteration
    # An iteration still running (or planned to end later) counts as of today: its planned end
    # is in the future, and no concern can be known open then.
    end = case(
        (or_(it.end_date.is_(None), it.end_date > literal(today)), literal(today)),
        else_=it.end_date,
    )
    stmt = (
        select(
            it.number,
            end.label("end"),
            func.count(c.id),
            func.sum(case((c.severity.in_(("critical", "high")), 1), else_=0)),
        )
        .select_from(it)
        .outerjoin(c, and_(c.initiative_id == it.initiative_id, _open_on(end)))
        .where(it.initiative_id == initiative_id)
        .group_by(it.number, end)
        .order_by(it.number)
    )
    with db.reading(engine) as conn:
        return [
            {"iteration": n, "date": d, "so_far": d == today, "open": total, "severe": severe or 0}
            for n, d, total, severe in conn.execute(stmt)
        ]


def concern_history(engine: Engine, concern_id: int) -> list[dict]:
    h = ConcernStatusChange
    with db.reading(engine) as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(
                    h.changed_at,
                    name_of(h.changed_by).label("changed_by"),
                    h.from_status,
                    h.to_status,
                    h.note,
                )
                .where(h.concern_id == concern_id)
                .order_by(h.changed_at, h.id)
            ).mappings()
        ]


def concern(engine: Engine, concern_id: int) -> dict | None:
    c = Concern
    with db.reading(engine) as conn:
        row = (
            conn.execute(
                select(c.__table__, Metric.key.label("metric"))
                .outerjoin(Metric, Metric.id == c.metric_id)
                .where(c.id == concern_id)
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


def open_concerns_by_severity(
    engine: Engine, initiative_ids: list[int], as_of: date | None = None
) -> dict[int, dict[str, int]]:
    """Count of open or mitigating concerns per initiative and severity: now, or at the end of
    `as_of` (a past iteration's gate)."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    if not initiative_ids:
        return out
    still_open = (
        _open_on(as_of) if as_of is not None else Concern.status.in_(("open", "mitigating"))
    )
    stmt = (
        select(Concern.initiative_id, Concern.severity, func.count())
        .where(Concern.initiative_id.in_(initiative_ids), still_open)
        .group_by(Concern.initiative_id, Concern.severity)
    )
    with db.reading(engine) as conn:
        for init_id, severity, n in conn.execute(stmt):
            out[init_id][severity] = n
    return out


def concern_summary(engine: Engine, initiative_ids: list[int], today: date) -> dict[int, dict]:
    """Per initiative: open concerns by severity and category, and the oldest open one."""
    c = Concern
    out: dict[int, dict] = {
        i: {"by_severity": {}, "by_category": {}, "oldest": None} for i in initiative_ids
    }
    if not initiative_ids:
        return out
    open_ = and_(c.initiative_id.in_(initiative_ids), c.status.in_(("open", "mitigating")))
    with db.reading(engine) as conn:
        for init_id, counts in open_concerns_by_severity(conn, initiative_ids).items():
            out[init_id]["by_severity"] = counts
        for init_id, cat, n in conn.execute(
            select(c.initiative_id, c.failure_category, func.count())
            .where(open_)
            .group_by(c.initiative_id, c.failure_category)
        ):
            out[init_id]["by_category"][cat] = n
        rank = (
            func.row_number()
            .over(partition_by=c.initiative_id, order_by=(c.raised_at, c.id))
            .label("r")
        )
        inner = (
            select(c.initiative_id, c.title, c.raised_at, c.severity, rank).where(open_).subquery()
        )
        for init_id, title, raised, sev, _ in conn.execute(select(inner).where(inner.c.r == 1)):
            out[init_id]["oldest"] = {
                "title": title,
                "raised_at": raised,
                "severity": sev,
                "age_days": (today - raised).days,
            }
    return out


# ----------------------------------------------------------------------------- stakeholders


def stakeholders(engine: Engine, initiative_id: int) -> list[dict]:
    """Stakeholders with their stance per iteration number and the concerns they raised."""
    s, st_ = Stakeholder, StakeholderStance
    with db.reading(engine) as conn:
        people = [
            dict(r)
            for r in conn.execute(
                select(s.id, s.name, s.group.label("group"), s.influence)
                .where(s.initiative_id == initiative_id)
                .order_by(s.influence.desc(), s.name)
            ).mappings()
        ]
        stances = conn.execute(
            select(st_.stakeholder_id, Iteration.number, st_.stance, st_.note)
            .join(Iteration, Iteration.id == st_.iteration_id)
            .join(s, s.id == st_.stakeholder_id)
            .where(s.initiative_id == initiative_id)
            .order_by(Iteration.number)
        ).all()
        raised = conn.execute(
            select(Concern.raised_by, Concern.status, Concern.severity, Concern.title)
            .where(Concern.initiative_id == initiative_id, Concern.raised_by.is_not(None))
            .order_by(_STATUS_RANK, _SEVERITY_RANK)
        ).all()
    by_person: dict = defaultdict(dict)
    notes: dict = defaultdict(dict)
    for sid, number, stance, note in stances:
        by_person[sid][number] = stance
        if note:
            notes[sid][number] = note
    concerns_by: dict = defaultdict(list)
    for who, status, severity, title in raised:
        concerns_by[who.strip().lower()].append(
            {"status": status, "severity": severity, "title": title}
        )
    for p in people:
        p["stances"] = by_person.get(p["id"], {})
        p["notes"] = notes.get(p["id"], {})
        p["concerns"] = concerns_by.get(p["name"].strip().lower(), [])
    return people


def stance_counts(engine: Engine, initiative_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per initiative: stakeholders by their latest stance."""
    s, st_ = Stakeholder, StakeholderStance
    rank = (
        func.row_number()
        .over(partition_by=st_.stakeholder_id, order_by=Iteration.number.desc())
        .label("r")
    )
    inner = (
        select(s.initiative_id.label("i"), st_.stance.label("stance"), rank)
        .join(s, s.id == st_.stakeholder_id)
        .join(Iteration, Iteration.id == st_.iteration_id)
        .where(s.initiative_id.in_(initiative_ids))
        .subquery()
    )
    out: dict = defaultdict(dict)
    with db.reading(engine) as conn:
        for i, stance, n in conn.execute(
            select(inner.c.i, inner.c.stance, func.count())
            .where(inner.c.r == 1)
            .group_by(inner.c.i, inner.c.stance)
        ):
            out[i][stance] = n
    return out


# ----------------------------------------------------------------------------- assembled

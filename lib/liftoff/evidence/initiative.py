"""The evidence behind each initiative, assembled once for the screens and `liftoff summary`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import Connection, Engine

from liftoff import db
from liftoff.db.models import SEVERITY_RANK
from liftoff.evidence import reads as evidence_reads
from liftoff.evidence import rules as evidence_rules
from liftoff.evidence.rules import AlertStatus, Capacity, ModelVersusKpi, Runway
from liftoff.people import reads as people_reads


@dataclass
class IterationEvidence:
    """One iteration: its decision, headline metrics, criteria and capacity."""

    id: int
    number: int
    label: str | None
    start_date: date | None
    end_date: date | None
    hypothesis: str | None
    decision: str
    rationale: str | None
    decided_by: str | None
    decided_at: object
    candidate: str | None
    metrics: dict[str, float]
    metric_batches: dict[str, int]
    criteria: list[dict]
    capacity: Capacity
    # Every metric key the iteration has observations of (segments and other candidates too).
    reported: frozenset[str] = frozenset()

    @property
    def criteria_met(self) -> int:
        return sum(1 for c in self.criteria if c["status"] == evidence_rules.MET)

    @property
    def title(self) -> str:
        return f"Iteration {self.number}" + (f" · {self.label}" if self.label else "")


@dataclass
class InitiativeEvidence:
    """One initiative with every iteration's evidence and the initiative-wide figures."""

    initiative: dict
    iterations: list[IterationEvidence]
    catalog: dict[str, dict]
    lead_kpi: str | None
    traffic: list[tuple[date, float]]
    peak_rps: float | None
    capacity_rps: float | None
    capacity_iteration: int | None
    headroom: float | None
    runway: Runway
    open_concerns: dict[str, int] = field(default_factory=dict)
    feedback: dict = field(default_factory=dict)
    alerts: list[AlertStatus] = field(default_factory=list)
    rules: list[dict] = field(default_factory=list)
    model_vs_kpi: ModelVersusKpi | None = None
    # Set by as_of: the iteration the evidence stops at, the last day it covers (None when the
    # iterations have no dates), and the numbers of the later iterations it leaves out.
    through: int | None = None
    through_day: date | None = None
    later: tuple[int, ...] = ()

    @property
    def reference_day(self) -> date:
        """The day the evidence is read on, from which runway days count: today, for a past
        iteration too (its decision is taken today, on its evidence), so a pack reads the same
        before and after a later iteration arrives."""
        return date.today()

    @property
    def firing(self) -> list[AlertStatus]:
        return sorted(
            (a for a in self.alerts if a.firing), key=lambda a: SEVERITY_RANK.get(a.severity, 9)
        )

    def history(self, key: str) -> list[tuple[int, float]]:
        """(iteration number, headline value) of a metric, oldest first."""
        return [(it.number, it.metrics[key]) for it in self.iterations if key in it.metrics]

    @property
    def latest(self) -> IterationEvidence | None:
        return self.iterations[-1] if self.iterations else None

    @property
    def previous(self) -> IterationEvidence | None:
        return self.iterations[-2] if len(self.iterations) > 1 else None

    @property
    def dated(self) -> list[IterationEvidence]:
        """The iterations with a first and a last day: those a calendar can place."""
        return [it for it in self.iterations if it.start_date and it.end_date]

    def iteration(self, number: int) -> IterationEvidence | None:
        return next((it for it in self.iterations if it.number == number), None)

    def last_day(self, number: int) -> date | None:
        """The last day of an iteration: its end date, else the day before the next one starts."""
        it = self.iteration(number)
        if it is None:
            return None
        if it.end_date:
            return it.end_date
        nxt = next((i for i in self.iterations if i.number > number), None)
        return nxt.start_date - timedelta(days=1) if nxt and nxt.start_date else None

    def as_of(self, number: int) -> InitiativeEvidence:
        """The evidence as it stood at iteration `number`: the iterations up to it, traffic up
        to its last day, and capacity, headroom, runway, alerts and the model-versus-KPI
        comparison from those alone. The latest iteration's evidence is returned as it is.

        A decision on iteration 6 is taken on iteration 6's evidence: once iteration 7 is
        imported, its figures must not leak into the trends, the runway or the sentences."""
        if self.latest is None or number >= self.latest.number:
            return self
        its = [it for it in self.iterations if it.number <= number]
        day = self.last_day(number)
        series = [p for p in self.traffic if day is None or p[0] <= day]
        out = replace(
            self,
            iterations=its,
            traffic=series,
            through=number,
            through_day=day,
            later=tuple(it.number for it in self.iterations if it.number > number),
        )
        _figures(out)
        return out


def collect(engine: Engine | Connection, initiatives: list[dict]) -> list[InitiativeEvidence]:
    """Evidence for the given initiatives (rows of `evidence_reads.initiatives`), in a few queries that
    all read one snapshot of the database (db.snapshot)."""
    with db.snapshot(engine) as conn:
        return _collect(conn, initiatives)


def _collect(engine: Connection, initiatives: list[dict]) -> list[InitiativeEvidence]:
    ids = [i["id"] for i in initiatives]
    catalog = evidence_reads.metric_catalog(engine)
    directions = {k: m["direction"] for k, m in catalog.items()}
    its = evidence_reads.iterations(engine, ids)
    latest = evidence_reads.latest_values(engine, ids)
    crits = evidence_reads.criteria(engine, ids)
    steps = evidence_reads.load_steps(engine, ids)
    traffic = evidence_reads.traffic(engine, ids)
    concerns = people_reads.open_concerns_by_severity(engine, ids)
    feedback = people_reads.feedback_counts(engine, ids)
    rules = evidence_reads.alert_rules(engine, ids)

    out = []
    for ini in initiatives:
        evidence_rows = {it["id"]: latest.get(it["id"], []) for it in its.get(ini["id"], [])}
        iteration_list = []
        for it in its.get(ini["id"], []):
            head = evidence_rules.headline(
                evidence_rows[it["id"]], ini["primary_metric"], directions
            )
            criteria = []
            for c in crits.get(it["id"], []):
                value = head.values.get(c["metric"]) if c["metric"] else None
                status = evidence_rules.criterion_status(
                    value, c["comparator"], c["target"], c["manual_status"], c["metric"] is not None
                )
                criteria.append(
                    {
                        **c,
                        "value": value,
                        "status": status,
                        "batch_id": head.batches.get(c["metric"]),
                    }
                )
            iteration_list.append(
                IterationEvidence(
                    id=it["id"],
                    number=it["number"],
                    label=it["label"],
                    start_date=it["start_date"],
                    end_date=it["end_date"],
                    hypothesis=it["hypothesis"],
                    decision=it["decision"],
                    rationale=it["rationale"],
                    decided_by=it["decided_by"],
                    decided_at=it["decided_at"],
                    candidate=head.candidate,
                    metrics=head.values,
                    metric_batches=head.batches,
                    criteria=criteria,
                    capacity=evidence_rules.capacity(
                        steps.get(it["id"], []), ini["slo_p95_ms"], ini["max_error_rate"]
                    ),
                    reported=frozenset(r.metric_key for r in evidence_rows[it["id"]]),
                )
            )
        ev = InitiativeEvidence(
            initiative=ini,
            iterations=iteration_list,
            catalog=catalog,
            lead_kpi=None,
            traffic=traffic.get(ini["id"], []),
            peak_rps=None,
            capacity_rps=None,
            capacity_iteration=None,
            headroom=None,
            runway=evidence_rules.runway([], None),
            open_concerns=concerns.get(ini["id"], {}),
            feedback=feedback.get(ini["id"], {"count": 0, "mean_rating": None}),
            rules=rules.get(ini["id"], []),
        )
        _figures(ev)
        out.append(ev)
    return out


def _figures(ev: InitiativeEvidence) -> None:
    """The initiative-wide figures from its iterations and traffic: lead KPI, capacity,
    headroom, runway, alerts and the model-versus-KPI comparison (one place for collect and
    as_of, so a past iteration's figures are computed as the latest's are)."""
    ini = ev.initiative
    keys = {k for it in ev.iterations for k in it.reported}
    kpis = [k for k in keys if ev.catalog.get(k, {}).get("category") == "business_kpi"]
    # The initiative's first business KPI: the one defined earliest among those it reports.
    ev.lead_kpi = min(kpis, key=lambda k: ev.catalog[k]["id"], default=None)
    tested = [it for it in ev.iterations if it.capacity.capacity_rps is not None]
    cap_it = tested[-1] if tested else None
    ev.capacity_rps = cap_it.capacity.capacity_rps if cap_it else None
    ev.capacity_iteration = cap_it.number if cap_it else None
    ev.peak_rps = ev.traffic[-1][1] if ev.traffic else None
    ev.headroom = evidence_rules.headroom(ev.peak_rps, ev.capacity_rps)
    ev.runway = evidence_rules.runway(ev.traffic, ev.capacity_rps, ev.reference_day)
    ev.alerts = [
        evidence_rules.evaluate_alert(
            r["id"],
            r["metric"],
            r["comparator"],
            r["threshold"],
            r["severity"],
            [s.strip() for s in r["stages"].split(",")],
            ini["stage"],
            ev.history(r["metric"]),
        )
        for r in ev.rules
        if r["enabled"]
    ]
    ev.model_vs_kpi = compare_model_and_kpi(ev, ini["primary_metric"], ev.lead_kpi)


def compare_model_and_kpi(
    ev: InitiativeEvidence, model: str | None, kpi: str | None
) -> ModelVersusKpi | None:
    """Model metric against business KPI across the iterations that report both."""
    if not model or not kpi:
        return None
    pairs = [
        (it.metrics[model], it.metrics[kpi])
        for it in ev.iterations
        if model in it.metrics and kpi in it.metrics
    ]
    meta_m = ev.catalog.get(model, {})
    meta_k = ev.catalog.get(kpi, {})
    return evidence_rules.model_versus_kpi(
        model,
        kpi,
        pairs,
        meta_m.get("direction") == "lower",
        meta_k.get("direction") == "lower",
        meta_k.get("unit") == "ratio",
    )


def for_initiative(engine: Engine, name: str) -> InitiativeEvidence:
    """Evidence of one initiative by name (NotFound lists the names that exist)."""
    with db.snapshot(engine) as conn:
        return collect(conn, [evidence_reads.initiative_by_name(conn, name)])[0]


def portfolio(engine: Engine) -> list[InitiativeEvidence]:
    """Evidence of every initiative, by name."""
    with db.snapshot(engine) as conn:
        return collect(conn, evidence_reads.initiatives(conn))

"""Writes that manage initiatives (the importer owns data writes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from liftoff import db
from liftoff.models import STAGES, Initiative


class InvalidValue(ValueError):
    """A value the user gave is not allowed; the message says which values are."""


def set_initiative(
    engine: Engine,
    name: str,
    *,
    create: bool = False,
    stage: str | None = None,
    slo_p95_ms: float | None = None,
    max_error_rate: float | None = None,
    primary_metric: str | None = None,
    business_goal: str | None = None,
    owner: str | None = None,
) -> str:
    """Change an initiative's settings (or create it with `create`); returns what happened."""
    name = name.strip()
    if not name:
        raise InvalidValue("The initiative needs a name.")
    if stage is not None and stage not in STAGES:
        raise InvalidValue(f"Stage {stage!r} is not one of: {', '.join(STAGES)}.")
    if slo_p95_ms is not None and not slo_p95_ms > 0:
        raise InvalidValue(
            f"The latency SLO must be a positive number of milliseconds, not {slo_p95_ms}."
        )
    if max_error_rate is not None and not 0 <= max_error_rate <= 1:
        raise InvalidValue(
            f"The maximum error rate is a fraction between 0 and 1 (1% is 0.01), not {max_error_rate}."
        )
    values = {
        k: v
        for k, v in dict(
            stage=stage,
            slo_p95_ms=slo_p95_ms,
            max_error_rate=max_error_rate,
            primary_metric_key=primary_metric,
            business_goal=business_goal,
            owner=owner,
        ).items()
        if v is not None
    }
    with db.write(engine) as conn:
        existing = conn.execute(select(Initiative.id).where(Initiative.name == name)).scalar()
        if existing is None:
            if not create:
                raise InvalidValue(
                    f"No initiative is named {name!r}. Add --create to create it, "
                    "or see `liftoff initiative list`."
                )
            conn.execute(insert(Initiative).values(name=name, created_at=datetime.now(), **values))
            return f"Created initiative {name!r}."
        if not values:
            return f"Nothing to change for {name!r}: give --stage, --slo-p95-ms, --max-error-rate or --primary-metric."
        conn.execute(update(Initiative).where(Initiative.id == existing).values(**values))
        return (
            f"Updated initiative {name!r}: "
            + ", ".join(f"{k}={v}" for k, v in values.items())
            + "."
        )

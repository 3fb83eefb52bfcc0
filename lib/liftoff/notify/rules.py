"""Pure rules of notification: severities, transitions, silences, signatures, backoff."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
# After this many failed attempts a message is given up (about a day of backoff at 30 s).
MAX_ATTEMPTS = 12
MAX_BACKOFF_S = 3600.0
SIGNATURE_HEADER = "X-Liftoff-Signature"
TIMESTAMP_HEADER = "X-Liftoff-Timestamp"


@dataclass(frozen=True)
class Seen:
    """What was last recorded of a rule for an initiative."""

    firing: bool
    notified: bool
    last_sent_at: datetime | None
    acknowledged: bool


def at_least(severity: str, minimum: str) -> bool:
    """Whether `severity` is `minimum` or more severe."""
    return SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK.get(minimum, 0)


def change(
    seen: Seen | None,
    firing: bool,
    silenced: bool,
    *,
    severity: str,
    repeat_minutes: int | None,
    now: datetime,
) -> str | None:
    """What to send for one rule now: "firing", "resolved", "repeat" or nothing (None).

    Only changes of state are sent, never the same state twice. A firing that was silenced is
    not sent, and then neither is its resolve; when the silence ends while it still fires, it is
    sent then. A critical rule with a repeat interval is sent again while it keeps firing,
    unless someone acknowledged it."""
    was = seen is not None and seen.firing
    if firing and not was:
        return None if silenced else "firing"
    if was and not firing:
        return "resolved" if seen.notified else None
    if not firing or silenced:
        return None
    if not seen.notified:
        return "firing"  # silenced when it started; the silence is over
    if (
        severity == "critical"
        and repeat_minutes
        and not seen.acknowledged
        and seen.last_sent_at is not None
        and now - seen.last_sent_at >= timedelta(minutes=repeat_minutes)
    ):
        return "repeat"
    return None


def silence_for(silences: list[dict], rule_id: int, initiative_id: int, now: datetime):
    """The silence in force over a rule of an initiative (the one lasting longest), or None.
    A silence names a rule, an initiative, or both (that rule for that initiative)."""
    found = [
        s
        for s in silences
        if s["until"] > now
        and s["rule_id"] in (None, rule_id)
        and s["initiative_id"] in (None, initiative_id)
    ]
    return max(found, key=lambda s: s["until"], default=None)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 of "TIMESTAMP." + body with the channel's
    secret, as "sha256=HEX". The timestamp is signed too, so an old message replayed later
    does not verify as new."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """Whether a received body carries the signature `secret` gives (for receivers and tests)."""
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def backoff(attempts: int, base_s: float) -> float:
    """Seconds to wait after the `attempts`-th failure: doubling from `base_s`, capped."""
    return min(base_s * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S)


def last_slot(now: datetime, weekday: int, hour: int, minute: int) -> datetime:
    """The latest weekly slot (weekday 0 = Monday, at hour:minute) at or before `now`."""
    slot = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    slot -= timedelta(days=(slot.weekday() - weekday) % 7)
    if slot > now:
        slot -= timedelta(days=7)
    return slot

"""API tokens: bearer secrets for pipelines, stored as their SHA-256, shown once.

A token is 32 random bytes, so a plain SHA-256 is enough to keep the stored value useless to a
thief (there is no dictionary to try, unlike passwords, which need scrypt); it also lets every
request find its token with one indexed lookup. A token carries a role (viewer or editor, never
admin), optionally the one initiative it may write to, an expiry, and when it was revoked and
last used. Every write made with it is in the audit log under "token NAME".
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from liftoff import db
from liftoff.access import audit
from liftoff.access.auth import Actor, require
from liftoff.db.models import TOKEN_ROLES, ApiToken, Initiative
from liftoff.errors import LiftoffError

PREFIX = "lft_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")
# last_used_at is written at most this often per token: a pipeline posting every second should
# not turn every read into a write.
_TOUCH_EVERY = timedelta(seconds=60)


class TokenError(LiftoffError, ValueError):
    """A token request that cannot be done (bad name, unknown token); the message says why."""


class TokenRefused(Exception):
    """The presented token does not allow the request: `status` is 401 or 403."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Token:
    """A valid token as the API sees it: who it is and what it may do."""

    id: int
    name: str
    role: str
    initiative: str | None
    expires_at: datetime | None

    @property
    def actor(self) -> Actor:
        """The actor its writes are recorded under in the audit log."""
        return Actor(email=None, role=self.role, via="token", name=f"token {self.name}")


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not _NAME.match(name):
        raise TokenError(
            f"{name!r} cannot name a token: use 1 to 100 letters, digits, spaces, dots, dashes "
            "or underscores, starting with a letter or digit (for example 'training-pipeline')."
        )
    return name


def create(
    engine: Engine,
    actor: Actor,
    name: str,
    role: str,
    initiative: str | None = None,
    expires_days: float | None = None,
) -> str:
    """Create a token and return it: the only time it is seen; only its hash is stored."""
    require(actor, "manage_users")
    name = _check_name(name)
    if role not in TOKEN_ROLES:
        raise TokenError(
            f"A token's role is viewer or editor, not {role!r}: admin work is done signed in "
            "or at the command line."
        )
    if expires_days is not None and not expires_days > 0:
        raise TokenError(f"--expires is {expires_days}; give a positive number of days.")
    token = PREFIX + secrets.token_urlsafe(32)
    now = datetime.now()
    expires_at = now + timedelta(days=expires_days) if expires_days else None
    try:
        with db.write(engine) as conn:
            initiative_id = None
            if initiative:
                initiative_id = conn.execute(
                    select(Initiative.id).where(Initiative.name == initiative)
                ).scalar()
                if initiative_id is None:
                    raise TokenError(
                        f"There is no initiative named {initiative!r}; see `liftoff initiative list`."
                    )
            token_id = conn.execute(
                insert(ApiToken)
                .values(
                    name=name,
                    token_hash=hash_token(token),
                    role=role,
                    initiative_id=initiative_id,
                    created_at=now,
                    created_by=actor.label,
                    expires_at=expires_at,
                )
                .returning(ApiToken.id)
            ).scalar_one()
            audit.record(
                conn,
                actor,
                "token.create",
                f"Created API token {name!r} ({role}"
                + (f", {initiative} only" if initiative else "")
                + (f", expires {expires_at:%Y-%m-%d}" if expires_at else "")
                + ")",
                target="api_token",
                target_id=token_id,
                after={
                    "name": name,
                    "role": role,
                    "initiative": initiative,
                    "expires_at": expires_at,
                },
            )
    except IntegrityError:
        raise TokenError(
            f"A token named {name!r} exists already; choose another name, or revoke it first "
            "(`liftoff tokens revoke NAME`)."
        ) from None
    return token


def revoke(engine: Engine, actor: Actor, name: str) -> None:
    """Revoke a token by name: from the next request on it gives 403."""
    require(actor, "manage_users")
    with db.write(engine) as conn:
        found = conn.execute(
            select(ApiToken.id, ApiToken.revoked_at).where(ApiToken.name == name)
        ).one_or_none()
        if found is None:
            raise TokenError(f"There is no token named {name!r}; see `liftoff tokens list`.")
        if found.revoked_at is not None:
            raise TokenError(
                f"The token {name!r} was revoked already ({found.revoked_at:%Y-%m-%d %H:%M})."
            )
        now = datetime.now()
        conn.execute(update(ApiToken).where(ApiToken.id == found.id).values(revoked_at=now))
        audit.record(
            conn,
            actor,
            "token.revoke",
            f"Revoked API token {name!r}",
            target="api_token",
            target_id=found.id,
            before={"revoked_at": None},
            after={"revoked_at": now},
        )


def list_tokens(engine: Engine) -> list[dict]:
    """Every token, newest first, with its state (never the token itself)."""
    now = datetime.now()
    query = (
        select(
            ApiToken.name,
            ApiToken.role,
            Initiative.name.label("initiative"),
            ApiToken.created_at,
            ApiToken.created_by,
            ApiToken.expires_at,
            ApiToken.revoked_at,
            ApiToken.last_used_at,
        )
        .outerjoin(Initiative, Initiative.id == ApiToken.initiative_id)
        .order_by(ApiToken.id.desc())
    )
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for r in rows:
        r["state"] = (
            "revoked"
            if r["revoked_at"]
            else "expired"
            if r["expires_at"] and r["expires_at"] <= now
            else "active"
        )
    return rows


def authenticate(engine: Engine, authorization: str | None) -> Token:
    """The token of an `Authorization: Bearer …` header, or TokenRefused (401 without a token or
    with one Liftoff does not know, 403 when it is revoked or expired)."""
    if not authorization:
        raise TokenRefused(
            401, "This needs an API token: send the header 'Authorization: Bearer <token>'."
        )
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise TokenRefused(
            401, "The Authorization header must read 'Bearer <token>' (a token from an admin)."
        )
    now = datetime.now()
    with engine.connect() as conn:
        row = conn.execute(
            select(
                ApiToken.id,
                ApiToken.name,
                ApiToken.role,
                ApiToken.expires_at,
                ApiToken.revoked_at,
                ApiToken.last_used_at,
                Initiative.name.label("initiative"),
            )
            .outerjoin(Initiative, Initiative.id == ApiToken.initiative_id)
            .where(ApiToken.token_hash == hash_token(value))
        ).one_or_none()
    if row is None:
        raise TokenRefused(401, "This API token is not known; ask an admin for a token.")
    if row.revoked_at is not None:
        raise TokenRefused(
            403, f"The API token {row.name!r} was revoked; ask an admin for a new one."
        )
    if row.expires_at is not None and row.expires_at <= now:
        raise TokenRefused(
            403,
            f"The API token {row.name!r} expired on {row.expires_at:%Y-%m-%d %H:%M}; "
            "ask an admin for a new one.",
        )
    if row.last_used_at is None or now - row.last_used_at >= _TOUCH_EVERY:
        # Not a write of evidence: no data-version bump, so the app's caches stay warm.
        with engine.begin() as conn:
            conn.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return Token(row.id, row.name, row.role, row.initiative, row.expires_at)


class RateLimiter:
    """At most `per_minute` requests per token in any 60 seconds, in this process (a sliding
    window of request times). `hit` returns 0 when the request may go on, or the seconds to
    wait before the next one would be let through."""

    def __init__(self, per_minute: int, window: float = 60.0):
        self.per_minute = per_minute
        self.window = window
        self._hits: dict[int, list[float]] = {}
        self._lock = threading.Lock()

    def hit(self, token_id: int, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = [t for t in self._hits.get(token_id, ()) if now - t < self.window]
            if len(hits) >= self.per_minute:
                self._hits[token_id] = hits
                return max(1, int(hits[0] + self.window - now + 0.999))
            hits.append(now)
            self._hits[token_id] = hits
            return 0

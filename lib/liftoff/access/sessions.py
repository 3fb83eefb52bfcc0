"""Signed-in browsers: sessions in the database behind a signed, HttpOnly cookie.

The cookie holds a random id and its HMAC; the database holds only the id's SHA-256, so
neither a copy of the database nor a forged cookie signs anybody in. Every page run looks the
session up again (one indexed read), so sign-out, "sign out everywhere", expiry, a role change
or a removed account count at once, in every app process that shares the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from liftoff.access.auth import Actor
from liftoff.db.models import ServerSecret, SignInSession, User

#: The session cookie's name (HttpOnly, SameSite=Lax, signed).
COOKIE = "liftoff_session"
#: How often a session's "last seen" is written (a page run reads it on every rerun).
LAST_SEEN_EVERY = timedelta(minutes=1)
_TOKEN_BYTES = 32
_SIGNING_KEY_NAME = "session_signing_key"
_keys: dict[str, bytes] = {}
_keys_lock = threading.Lock()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def signing_key(engine: Engine) -> bytes:
    """The key that signs session cookies: LIFTOFF_SECRET_KEY when set, else one made once
    and kept in the database, so every app process on it signs and checks alike."""
    configured = os.environ.get("LIFTOFF_SECRET_KEY", "").strip()
    if configured:
        return configured.encode()
    url = engine.url.render_as_string(hide_password=False)
    with _keys_lock:
        if url in _keys:
            return _keys[url]
    with engine.connect() as conn:
        value = conn.execute(
            select(ServerSecret.value).where(ServerSecret.name == _SIGNING_KEY_NAME)
        ).scalar()
    if value is None:
        try:
            with engine.begin() as conn:
                conn.execute(
                    insert(ServerSecret).values(
                        name=_SIGNING_KEY_NAME,
                        value=secrets.token_urlsafe(48),
                        created_at=datetime.now(),
                    )
                )
        except IntegrityError:  # another process made it first: use theirs
            pass
        with engine.connect() as conn:
            value = conn.execute(
                select(ServerSecret.value).where(ServerSecret.name == _SIGNING_KEY_NAME)
            ).scalar_one()
    with _keys_lock:
        _keys[url] = value.encode()
    return _keys[url]


def _signature(key: bytes, token: str) -> str:
    digest = hmac.new(key, token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _unsign(key: bytes, value: str | None) -> str | None:
    """The session id inside a cookie value, or None when the value is not one we signed."""
    if not value or len(value) > 200 or value.count(".") != 1:
        return None
    token, signature = value.split(".")
    if not token or not hmac.compare_digest(signature, _signature(key, token)):
        return None
    return token


def create(engine: Engine, user_id: int, hours: float, now: datetime | None = None) -> str:
    """Start a session for `user_id` lasting `hours`; returns the cookie value to set."""
    now = now or datetime.now()
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    with engine.begin() as conn:
        conn.execute(
            insert(SignInSession).values(
                token_hash=_hash(token),
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
    return f"{token}.{_signature(signing_key(engine), token)}"


def lookup(engine: Engine, cookie: str | None, now: datetime | None = None) -> Actor | None:
    """The signed-in person a cookie value stands for, with their role as it is now; None for
    a missing, forged, expired or revoked session, or a removed account."""
    token = _unsign(signing_key(engine), cookie) if cookie else None
    if token is None:
        return None
    now = now or datetime.now()
    with engine.connect() as conn:
        found = conn.execute(
            select(
                SignInSession.id,
                SignInSession.last_seen_at,
                User.email,
                User.role,
                User.display_name,
            )
            .join(User, User.id == SignInSession.user_id)
            .where(
                SignInSession.token_hash == _hash(token),
                SignInSession.revoked_at.is_(None),
                SignInSession.expires_at > now,
            )
        ).first()
    if found is None:
        return None
    if now - found.last_seen_at > LAST_SEEN_EVERY:
        with engine.begin() as conn:
            conn.execute(
                update(SignInSession).where(SignInSession.id == found.id).values(last_seen_at=now)
            )
    return Actor(email=found.email, role=found.role, via="password", name=found.display_name)


def expired(engine: Engine, cookie: str | None, now: datetime | None = None) -> bool:
    """Whether a cookie stands for a session that ran out of time (not one the person ended
    by signing out, and not a forged or unknown cookie): the only case worth telling them."""
    token = _unsign(signing_key(engine), cookie) if cookie else None
    if token is None:
        return False
    with engine.connect() as conn:
        row = conn.execute(
            select(SignInSession.expires_at, SignInSession.revoked_at).where(
                SignInSession.token_hash == _hash(token)
            )
        ).first()
    return row is not None and row.revoked_at is None and row.expires_at <= (now or datetime.now())


def from_cookies(engine: Engine, cookies: Mapping[str, str] | None) -> Actor | None:
    """The signed-in person of a request's cookies (see lookup)."""
    return lookup(engine, (cookies or {}).get(COOKIE))


def revoke(engine: Engine, cookie: str | None, now: datetime | None = None) -> bool:
    """End the session of a cookie value; whether there was a live one."""
    token = _unsign(signing_key(engine), cookie) if cookie else None
    if token is None:
        return False
    with engine.begin() as conn:
        ended = conn.execute(
            update(SignInSession)
            .where(SignInSession.token_hash == _hash(token), SignInSession.revoked_at.is_(None))
            .values(revoked_at=now or datetime.now())
        ).rowcount
    return bool(ended)


def revoke_all(engine: Engine, email: str, keep: str | None = None) -> int:
    """End every live session of `email` (all but the cookie `keep`); how many ended."""
    kept = _unsign(signing_key(engine), keep) if keep else None
    with engine.begin() as conn:
        user_id = conn.execute(select(User.id).where(User.email == email)).scalar()
        if user_id is None:
            return 0
        query = update(SignInSession).where(
            SignInSession.user_id == user_id, SignInSession.revoked_at.is_(None)
        )
        if kept is not None:
            query = query.where(SignInSession.token_hash != _hash(kept))
        return conn.execute(query.values(revoked_at=datetime.now())).rowcount


def live_sessions(engine: Engine, email: str, now: datetime | None = None) -> int:
    """How many browsers are signed in as `email` now."""
    now = now or datetime.now()
    with engine.connect() as conn:
        return len(
            conn.execute(
                select(SignInSession.id)
                .join(User, User.id == SignInSession.user_id)
                .where(
                    User.email == email,
                    SignInSession.revoked_at.is_(None),
                    SignInSession.expires_at > now,
                )
            ).all()
        )

"""Who may do what: roles, the screens and actions each allows, accounts and sign-in.

Every write function in Liftoff takes an `Actor` and calls `require` before it writes, so no
screen, callback or command can write without the role for it. Passwords are hashed with
scrypt (memory-hard, in the standard library); there is no default password.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, case, delete, func, insert, or_, select, update

from liftoff import db
from liftoff.access import audit
from liftoff.config import Settings
from liftoff.db.models import ROLES, SignInSession, SignInThrottle, User
from liftoff.errors import LiftoffError

RANK = {None: 0, "none": 0, "viewer": 1, "editor": 2, "admin": 3}

#: Each action and the least role that may do it, with what it means (README's matrix).
ACTIONS: dict[str, tuple[str, str]] = {
    "read": ("viewer", "read every evidence, people and meeting screen"),
    "export": ("viewer", "download steering packs, tables and the summary"),
    "upload": ("editor", "upload files (Upload data page, `liftoff import`)"),
    "rollback": ("editor", "roll back an import batch"),
    "edit": (
        "editor",
        "edit criteria, decisions, concerns, feedback status, stakeholders, governance, "
        "readiness, alert rules; freeze steering packs",
    ),
    "manage_users": ("admin", "add, remove and change users; see settings"),
    "audit": ("admin", "see, filter and export the audit log"),
}

#: Each screen (router key → section, title) and the least role it is registered for.
SCREENS: dict[str, tuple[str, str, str]] = {
    "overview": ("Portfolio", "Overview", "viewer"),
    "iterations": ("Initiative", "Iterations and decision", "viewer"),
    "model_business": ("Initiative", "Model versus business", "viewer"),
    "scalability": ("Initiative", "Scalability", "viewer"),
    "monitoring": ("Initiative", "Monitoring and alerts", "viewer"),
    "feedback": ("People", "User feedback", "viewer"),
    "concerns": ("People", "Stakeholders and concerns", "viewer"),
    "governance": ("People", "Governance and readiness", "viewer"),
    "steering": ("Meeting", "Steering pack", "viewer"),
    "upload": ("Data", "Upload data", "editor"),
    "imports": ("Data", "Import history", "viewer"),
    "notifications": ("Data", "Notifications", "editor"),
    "users": ("Admin", "Users and settings", "admin"),
    "audit": ("Admin", "Audit log", "admin"),
}

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
#: zxcvbn's score (0-4) a new password needs: 3 is "safely unguessable" to an online attack.
MIN_PASSWORD_SCORE = 3
#: The longest email address SMTP allows (RFC 5321: 254 characters in a path).
MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART = 64
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# scrypt parameters: 2**15 x 8 x 1 uses 32 MiB per hash and ~0.1 s on one core.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024


class PermissionDenied(LiftoffError):
    """The actor's role does not allow the action; the message says who may."""


class AccountError(LiftoffError, ValueError):
    """A user-management request that cannot be done; the message says why and what to do."""


class SignInFailed(LiftoffError):
    """Wrong email or password, or a locked account; the message is safe to show."""


@dataclass(frozen=True)
class Actor:
    """Who is acting: an email (or a name for the CLI and the system), a role and how they came."""

    email: str | None
    role: str | None
    via: str  # password, oidc, anonymous, cli, system
    name: str | None = None

    @property
    def label(self) -> str:
        if self.email:
            return self.email
        return "anonymous visitor" if self.via == "anonymous" else (self.name or self.via)

    @property
    def display(self) -> str:
        return self.name or self.label

    def can(self, action: str) -> bool:
        return RANK.get(self.role, 0) >= RANK[ACTIONS[action][0]]

    def sees(self, screen: str) -> bool:
        return RANK.get(self.role, 0) >= RANK[SCREENS[screen][2]]


#: Loads the demo portfolio and migrations: Liftoff itself.
SYSTEM = Actor(email=None, role="admin", via="system", name="Liftoff")


def anonymous(settings: Settings) -> Actor:
    """A visitor who has not signed in, with the role LIFTOFF_ANONYMOUS_ROLE gives."""
    role = settings.anonymous_role
    return Actor(email=None, role=None if role == "none" else role, via="anonymous")


def cli_actor() -> Actor:
    """The person at the command line. Whoever can run `liftoff` against the database holds its
    credentials already, so the CLI acts as an admin, recorded under the operating-system user."""
    try:
        user = getpass.getuser()
    except OSError:
        user = "unknown"
    return Actor(email=None, role="admin", via="cli", name=f"{user} (command line)")


def require(actor: Actor | None, action: str) -> None:
    """Raise PermissionDenied unless `actor` may do `action`."""
    if actor is not None and actor.can(action):
        return
    least, meaning = ACTIONS[action]
    who = (
        "Visitors who have not signed in"
        if actor is None or actor.role is None
        else (f"{actor.label} ({actor.role})")
    )
    raise PermissionDenied(
        f"{who} may not {meaning.split(';')[0].split(' (')[0]}: that needs the {least} role. "
        "Sign in with an account that has it, or ask an admin."
    )


def matrix() -> str:
    """The role matrix (role × screen and action) as a markdown table, as in the README."""
    lines = ["| screen or action | viewer | editor | admin |", "| --- | --- | --- | --- |"]
    for _, (section, title, least) in SCREENS.items():
        marks = ["yes" if RANK[r] >= RANK[least] else "—" for r in ROLES]
        lines.append(f"| screen: {section} › {title} | " + " | ".join(marks) + " |")
    for action, (least, meaning) in ACTIONS.items():
        marks = ["yes" if RANK[r] >= RANK[least] else "—" for r in ROLES]
        lines.append(f"| {action}: {meaning} | " + " | ".join(marks) + " |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- passwords


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_password(password: str) -> str:
    """A salted scrypt hash: `scrypt$N$r$p$salt$hash`."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=_SCRYPT_MAXMEM
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches `stored` (always spends a hash's time, even without one)."""
    try:
        scheme, n, r, p, salt, digest = (stored or "").split("$")
        if scheme != "scrypt":
            raise ValueError
        n_, r_, p_ = int(n), int(r), int(p)
        salt_b, digest_b = base64.b64decode(salt), base64.b64decode(digest)
    except ValueError:
        n_, r_, p_, salt_b, digest_b = _SCRYPT_N, _SCRYPT_R, _SCRYPT_P, b"0" * 16, b""
    got = hashlib.scrypt(
        password.encode(), salt=salt_b, n=n_, r=r_, p=p_, maxmem=_SCRYPT_MAXMEM, dklen=64
    )
    return bool(digest_b) and hmac.compare_digest(got, digest_b)


def password_problem(password: str | None, email: str | None = None) -> str | None:
    """Why `password` may not be used, in plain words, or None when it is good enough.

    Strength is judged by zxcvbn, which knows common passwords, names, words, repeats,
    sequences and keyboard patterns; the email's own parts count as guessable too."""
    if password is None or len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters "
            "(a few unrelated words work well)."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Choose a password of at most {MAX_PASSWORD_LENGTH:,} characters."
    from zxcvbn import zxcvbn

    hints = [p for p in re.split(r"[@.+_-]", email or "") if p]
    # zxcvbn's time grows with the length; the first 100 characters decide guessability.
    verdict = zxcvbn(password[:100], user_inputs=hints)
    if verdict["score"] >= MIN_PASSWORD_SCORE:
        return None
    feedback = verdict.get("feedback") or {}
    reasons = " ".join(
        part
        for part in [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
        if part
    )
    return "This password is too easy to guess. " + (
        reasons or "Add another word or two; uncommon words are better."
    )


def _check_password(password: str | None, email: str | None = None) -> str:
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem)
    return password


# ----------------------------------------------------------------------------- users


def valid_email(email: str | None) -> str:
    """`email` trimmed and in lower case, or AccountError saying what is wrong with it; the
    message never repeats what was typed (it may be a password typed in the wrong field)."""
    email = (email or "").strip().lower()
    if not email:
        raise AccountError("Type the email address of your account (name@example.org).")
    if len(email) > MAX_EMAIL_LENGTH:
        raise AccountError(
            f"That is longer than any email address ({MAX_EMAIL_LENGTH} characters at most)."
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in email):
        raise AccountError(
            "That email address holds invisible or control characters; type it again."
        )
    if not _EMAIL.match(email):
        raise AccountError("That is not an email address: type it as name@example.org.")
    if len(email.split("@")[0]) > MAX_LOCAL_PART:
        raise AccountError(
            f"The part before @ is longer than any email address's ({MAX_LOCAL_PART} characters)."
        )
    return email


def _normal_email(email: str) -> str:
    return valid_email(email)


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"Role {role!r} is not one of: {', '.join(ROLES)}.")
    return role


def _public(user: dict | None) -> dict | None:
    if user is None:
        return None
    return {k: v for k, v in user.items() if k != "password_hash"} | {
        "has_password": bool(user.get("password_hash"))
    }


def list_users(engine: Engine) -> list[dict]:
    """Every user (without password hashes), by email."""
    with engine.connect() as conn:
        rows = conn.execute(select(User.__table__).order_by(User.email)).mappings().all()
    return [_public(dict(r)) for r in rows]


def add_user(
    engine: Engine,
    actor: Actor,
    email: str,
    role: str,
    password: str | None = None,
    display_name: str | None = None,
) -> int:
    """Add a user. Without a password the account can only sign in through single sign-on."""
    require(actor, "manage_users")
    email, role = _normal_email(email), _check_role(role)
    hashed = hash_password(_check_password(password, email)) if password is not None else None
    with db.write(engine) as conn:
        if conn.execute(select(User.id).where(User.email == email)).scalar() is not None:
            raise AccountError(
                f"{email} already has an account; change it with `liftoff users set-role`."
            )
        user_id = conn.execute(
            insert(User)
            .values(
                email=email,
                display_name=(display_name or "").strip() or None,
                role=role,
                password_hash=hashed,
                created_at=datetime.now(),
                failed_sign_ins=0,
            )
            .returning(User.id)
        ).scalar_one()
        audit.record(
            conn,
            actor,
            "user.add",
            f"Added {email} as {role}",
            target="user",
            target_id=email,
            after=_public(audit.row(conn, User, user_id)),
        )
    return user_id


def _user_row(conn, email: str) -> dict:
    found = conn.execute(select(User.__table__).where(User.email == email)).mappings().first()
    if found is None:
        raise AccountError(f"There is no user {email}. See `liftoff users list`.")
    return dict(found)


def _admins_left(conn, without: str) -> int:
    return conn.execute(
        select(func.count(User.id)).where(User.role == "admin", User.email != without)
    ).scalar_one()


def _change_user(conn, actor: Actor, email: str, before: dict, summary: str, **values) -> None:
    """Update one user's row and record the change with the row before and after."""
    conn.execute(update(User).where(User.email == email).values(**values))
    audit.record(
        conn,
        actor,
        "user.update",
        summary,
        target="user",
        target_id=email,
        before=_public(before),
        after=_public(_user_row(conn, email)),
    )


def set_role(engine: Engine, actor: Actor, email: str, role: str) -> None:
    """Change a user's role (the last admin keeps theirs, so someone can always manage users)."""
    require(actor, "manage_users")
    email, role = _normal_email(email), _check_role(role)
    with db.write(engine) as conn:
        before = _user_row(conn, email)
        if before["role"] == "admin" and role != "admin" and not _admins_left(conn, email):
            raise AccountError(f"{email} is the last admin; make someone else admin first.")
        summary = f"Changed {email}'s role from {before['role']} to {role}"
        _change_user(conn, actor, email, before, summary, role=role)


def set_password(engine: Engine, actor: Actor, email: str, password: str) -> None:
    """Set a user's password (admins for anyone; a signed-in user for themselves)."""
    email = _normal_email(email)
    if actor.email != email:
        require(actor, "manage_users")
    hashed = hash_password(_check_password(password, email))
    with db.write(engine) as conn:
        if actor.email != email:
            # A password set by an admin signs its owner out everywhere (whoever knew the old
            # one keeps no session either); ui.change_password keeps the owner's own browser.
            target = select(User.id).where(User.email == email).scalar_subquery()
            conn.execute(
                update(SignInSession)
                .where(SignInSession.user_id == target, SignInSession.revoked_at.is_(None))
                .values(revoked_at=datetime.now())
            )
        _change_user(
            conn,
            actor,
            email,
            _user_row(conn, email),
            f"Set a new password for {email}",
            password_hash=hashed,
            failed_sign_ins=0,
            locked_until=None,
        )


def unlock(engine: Engine, actor: Actor, email: str) -> None:
    """Lift a lock-out before it ends."""
    require(actor, "manage_users")
    email = _normal_email(email)
    with db.write(engine) as conn:
        _change_user(
            conn,
            actor,
            email,
            _user_row(conn, email),
            f"Unlocked {email}",
            failed_sign_ins=0,
            locked_until=None,
        )
        # Every client's count on this account goes too, not only the account's own.
        conn.execute(
            delete(SignInThrottle).where(
                or_(
                    SignInThrottle.key == f"account:{email}",
                    SignInThrottle.key.startswith(f"account:{email}|", autoescape=True),
                )
            )
        )


def remove_user(engine: Engine, actor: Actor, email: str) -> None:
    """Remove a user (not the last admin)."""
    require(actor, "manage_users")
    email = _normal_email(email)
    with db.write(engine) as conn:
        before = _user_row(conn, email)
        if before["role"] == "admin" and not _admins_left(conn, email):
            raise AccountError(f"{email} is the last admin; make someone else admin first.")
        conn.execute(delete(User).where(User.email == email))
        audit.record(
            conn,
            actor,
            "user.remove",
            f"Removed {email} ({before['role']})",
            target="user",
            target_id=email,
            before=_public(before),
        )


def role_of(engine: Engine, email: str | None) -> str | None:
    """The role Liftoff's users table gives `email`, or None when it is not there."""
    if not email:
        return None
    with engine.connect() as conn:
        return conn.execute(select(User.role).where(User.email == email.strip().lower())).scalar()


def user_actor(engine: Engine, email: str, via: str, default_role: str | None = None) -> Actor:
    """The actor for a signed-in email: its role from the users table, else `default_role`."""
    email = email.strip().lower()
    with engine.connect() as conn:
        found = conn.execute(
            select(User.role, User.display_name).where(User.email == email)
        ).first()
    if found is None:
        role = None if default_role in (None, "none") else default_role
        return Actor(email=email, role=role, via=via)
    return Actor(email=email, role=found.role, via=via, name=found.display_name)


def _event(engine: Engine, actor: Actor, action: str, summary: str, **changes) -> None:
    """A sign-in event: recorded, with the user row's counters, without bumping the data
    version (nothing on the screens changes when someone signs in)."""
    with engine.begin() as conn:
        if changes:
            conn.execute(update(User).where(User.email == actor.email).values(**changes))
        audit.record(conn, actor, action, summary, target="user", target_id=actor.email)


#: Failed sign-ins from one client address (to any accounts) that throttle it, as a multiple
#: of LIFTOFF_MAX_SIGN_IN_FAILURES; and failures on one account from all addresses together
#: that lock the account itself (a stranger's few tries lock only the stranger out).
ADDRESS_FACTOR = 4
ACCOUNT_FACTOR = 4


def _upsert(conn):
    """INSERT … ON CONFLICT for the connection's dialect (SQLite and PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert


def _count_failure(conn, key: str, limit: int, lock: timedelta, now: datetime):
    """Count one more attempt against `key` in one statement (concurrent attempts each get
    their own count); returns (count, locked_until). A lock that has ended, or failures older
    than the lock's length, start the count again."""
    t = SignInThrottle.__table__.c
    stale = or_(
        and_(t.locked_until.is_not(None), t.locked_until <= now),
        and_(t.locked_until.is_(None), t.updated_at < now - lock),
    )
    count = case((stale, 1), else_=t.failures + 1)
    still_locked = and_(t.locked_until.is_not(None), t.locked_until > now)
    statement = (
        _upsert(conn)(SignInThrottle)
        .values(
            key=key, failures=1, locked_until=now + lock if limit <= 1 else None, updated_at=now
        )
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "failures": count,
                "locked_until": case(
                    (still_locked, t.locked_until), (count >= limit, now + lock), else_=None
                ),
                "updated_at": now,
            },
        )
        .returning(t.failures, t.locked_until)
    )
    return tuple(conn.execute(statement).one())


def _clear_failures(conn, key: str) -> None:
    conn.execute(delete(SignInThrottle).where(SignInThrottle.key == key))


def _throttle_keys(email: str, address: str) -> tuple[str, str]:
    return f"address:{address}", f"account:{email}|address:{address}"


class SignInThrottled(SignInFailed):
    """Too many failed sign-ins from this client (for this account or any): try again later."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class BadSignInInput(SignInFailed):
    """The sign-in form holds something that is no email address; nothing was stored."""


def sign_in(
    engine: Engine,
    settings: Settings,
    email: str,
    password: str,
    address: str = "unknown",
    now=None,
) -> Actor:
    """Check an email and password from client `address`; returns the actor or raises
    SignInFailed (wrong email or password, one message for both), SignInThrottled (too many
    failures from this client) or BadSignInInput (no email address: nothing stored).

    Every attempt is counted before its password is checked, in one statement per counter, so
    of any number of concurrent wrong passwords at most LIFTOFF_MAX_SIGN_IN_FAILURES are
    checked for one account from one address. An account with too many failures from all
    addresses together is locked; it answers exactly like a wrong password (after as long a
    check), so a guesser learns nothing from it. Every failure is in the audit log.
    """
    now = now or datetime.now()
    try:
        email = valid_email(email)
    except AccountError as exc:
        raise BadSignInInput(str(exc)) from None
    password = password or ""
    address = (address or "unknown")[:100]
    limit = settings.max_sign_in_failures
    lock = timedelta(minutes=settings.lockout_minutes)
    attempt = Actor(email=email, role=None, via="password")
    wrong = SignInFailed("Wrong email or password.")

    with engine.begin() as conn:
        by_address, by_pair = _throttle_keys(email, address)
        counted = [
            _count_failure(conn, by_address, limit * ADDRESS_FACTOR, lock, now),
            _count_failure(conn, by_pair, limit, lock, now),
        ]
    over = [
        until
        for (count, until), most in zip(counted, (limit * ADDRESS_FACTOR, limit), strict=True)
        if count > most and until is not None
    ]
    if over:
        wait = max(1, int((max(over) - now).total_seconds()) + 1)
        minutes = max(1, round(wait / 60))
        _event(
            engine,
            attempt,
            "sign_in.failed",
            f"Sign-in refused for {email} from {address}: too many failed sign-ins",
        )
        raise SignInThrottled(
            f"Too many failed sign-ins from here. Try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}, or ask an admin to unlock the account.",
            retry_after=wait,
        )

    with engine.begin() as conn:
        user = conn.execute(select(User.__table__).where(User.email == email)).mappings().first()
        locked = False
        if user is not None and user["password_hash"]:
            # The account's own count, across every address, in the same single-statement way.
            failures, until = _count_failure(
                conn, f"account:{email}", limit * ACCOUNT_FACTOR, lock, now
            )
            locked = failures > limit * ACCOUNT_FACTOR and until is not None
            conn.execute(
                update(User)
                .where(User.id == user["id"])
                .values(failed_sign_ins=failures, locked_until=until)
            )
    if user is None or not user["password_hash"] or locked or len(password) > MAX_PASSWORD_LENGTH:
        verify_password("", None)  # as long as a real check
        reason = (
            "no such account"
            if user is None or not user["password_hash"]
            else "account locked"
            if locked
            else "password too long"
        )
        _event(engine, attempt, "sign_in.failed", f"Failed sign-in for {email}: {reason}")
        raise wrong
    if not verify_password(password, user["password_hash"]):
        _event(engine, attempt, "sign_in.failed", f"Wrong password for {email} from {address}")
        raise wrong
    actor = Actor(email=email, role=user["role"], via="password", name=user["display_name"])
    with engine.begin() as conn:
        _clear_failures(conn, by_pair)
        _clear_failures(conn, f"account:{email}")
        # This attempt was counted against the address before its check: a success takes it
        # back (an office behind one address signs in many times a day).
        conn.execute(
            update(SignInThrottle)
            .where(SignInThrottle.key == by_address, SignInThrottle.failures > 0)
            .values(failures=SignInThrottle.failures - 1)
        )
        conn.execute(
            update(User)
            .where(User.id == user["id"])
            .values(failed_sign_ins=0, locked_until=None, last_sign_in_at=now)
        )
        audit.record(conn, actor, "sign_in", f"{email} signed in", target="user", target_id=email)
    return actor


def user_id(engine: Engine, email: str) -> int | None:
    """The id of the user `email`, or None."""
    with engine.connect() as conn:
        return conn.execute(select(User.id).where(User.email == email)).scalar()


def change_own_password(engine: Engine, actor: Actor, current: str, new: str) -> None:
    """A signed-in person changes their own password, giving the current one first (someone at
    an unattended browser cannot take the account over)."""
    if not actor.email:
        raise AccountError("Sign in first.")
    with engine.connect() as conn:
        stored = conn.execute(select(User.password_hash).where(User.email == actor.email)).scalar()
    if len(current or "") > MAX_PASSWORD_LENGTH or not verify_password(current or "", stored):
        raise AccountError("The current password is not right; nothing was changed.")
    set_password(engine, actor, actor.email, new)

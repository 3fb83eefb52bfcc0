"""Settings from the environment: one source for the app, the CLI and Alembic."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from liftoff.errors import LiftoffError

# lib/liftoff/config.py -> the project root is two folders above the package.
PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_DATABASE_PATH = DATA_DIR / "liftoff.db"

#: Every setting Liftoff reads, with its default and what it is for (README lists the same).
SETTINGS: dict[str, tuple[str, str]] = {
    "LIFTOFF_DATABASE_URL": (
        f"sqlite:///{DEFAULT_DATABASE_PATH}",
        "Any SQLAlchemy URL. Default: the SQLite file data/liftoff.db under the project root. "
        "Use postgresql+psycopg://user:password@host/db for teams and several app replicas.",
    ),
    "LIFTOFF_ANONYMOUS_ROLE": (
        "none",
        "What a visitor who has not signed in may do: viewer (read every screen and export) or "
        "none (only the sign-in page). `make run` sets viewer so the demo opens at once.",
    ),
    "LIFTOFF_OIDC_DEFAULT_ROLE": (
        "none",
        "With single sign-on ([auth] in .streamlit/secrets.toml): the role of a signed-in person "
        "whose email is not in Liftoff's users table: none, viewer or editor.",
    ),
    "LIFTOFF_SESSION_HOURS": (
        "8",
        "Hours a password sign-in lasts before Liftoff asks for the password again.",
    ),
    "LIFTOFF_MAX_SIGN_IN_FAILURES": (
        "5",
        "Wrong passwords in a row, for one account from one client address, that throttle that "
        "client; four times as many from one address (any accounts) throttle the address, and "
        "four times as many on one account from all addresses lock the account.",
    ),
    "LIFTOFF_LOCKOUT_MINUTES": (
        "15",
        "Minutes a client stays throttled (and an account locked) after too many wrong passwords.",
    ),
    "LIFTOFF_SECRET_KEY": (
        "",
        "The key that signs session cookies. Empty: a random key made once and kept in the "
        "database, shared by every app process on it. Changing it signs everybody out.",
    ),
    "LIFTOFF_MLFLOW_URIS": (
        "",
        "The MLflow tracking servers Liftoff may pull from, comma-separated http(s) URLs. Empty: "
        "any http(s) address an editor gives (set it where editors must not make the server "
        "reach other hosts).",
    ),
    "LIFTOFF_API_RATE_LIMIT": (
        "120",
        "Requests a minute one API token may make (per app process); past it the API answers "
        "429 with Retry-After.",
    ),
    "LIFTOFF_BASE_URL": (
        "http://localhost:8501",
        "The address people open Liftoff at; links in notifications and digests start with it.",
    ),
    "LIFTOFF_SMTP_URL": (
        "",
        "The mail server for email channels and digests, e.g. smtp://user:password@host:587 "
        "(STARTTLS when the server offers it) or smtps://user:password@host:465. Empty: no email.",
    ),
    "LIFTOFF_SMTP_FROM": (
        "liftoff@localhost",
        "The sender address of notification and digest emails.",
    ),
    "LIFTOFF_DIGEST_SCHEDULE": (
        "off",
        "When the weekly digest goes to every email channel, e.g. mon 08:00 (server time), or off.",
    ),
    "LIFTOFF_REFRESH_SECONDS": (
        "10",
        "How often an open screen asks whether anything was written elsewhere (another browser, "
        "app process, the CLI or the API) and redraws itself if so; 0 turns this off.",
    ),
    "LIFTOFF_NOTIFY_WORKER": (
        "on",
        "on: the app server started by `liftoff run` sends notifications from a background "
        "thread; off: run `liftoff notify run` as a service of its own instead.",
    ),
}


class SettingError(LiftoffError, ValueError):
    """A setting in the environment has a value Liftoff cannot use; the message says which."""


def _choice(env, name: str, allowed: tuple[str, ...]) -> str:
    value = (env.get(name, "").strip() or SETTINGS[name][0]).lower()
    if value not in allowed:
        raise SettingError(f"{name} is {value!r}; use one of: {', '.join(allowed)}.")
    return value


def _positive(env, name: str) -> float:
    raw = env.get(name, "").strip() or SETTINGS[name][0]
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise SettingError(f"{name} is {raw!r}; use a positive number.")
    return value


def _text(env, name: str) -> str:
    return env.get(name, "").strip() or SETTINGS[name][0]


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _schedule(env, name: str) -> str:
    value = _text(env, name).lower()
    if value == "off" or parse_schedule(value) is not None:
        return value
    raise SettingError(
        f"{name} is {value!r}; use a weekday and a time such as 'mon 08:00', or off."
    )


def parse_schedule(value: str) -> tuple[int, int, int] | None:
    """'mon 08:00' as (weekday 0-6, hour, minute); None when it is not one."""
    parts = value.strip().lower().split()
    if len(parts) != 2 or parts[0][:3] not in WEEKDAYS:
        return None
    hour, _, minute = parts[1].partition(":")
    if not (hour.isdigit() and minute.isdigit()):
        return None
    h, m = int(hour), int(minute)
    if not (0 <= h < 24 and 0 <= m < 60):
        return None
    return WEEKDAYS.index(parts[0][:3]), h, m


@dataclass(frozen=True)
class Settings:
    """The settings in force, read from the environment."""

    database_url: str
    anonymous_role: str = "none"
    oidc_default_role: str = "none"
    session_hours: float = 8.0
    max_sign_in_failures: int = 5
    lockout_minutes: float = 15.0
    api_rate_limit: int = 120
    base_url: str = "http://localhost:8501"
    smtp_url: str = ""
    smtp_from: str = "liftoff@localhost"
    digest_schedule: str = "off"
    notify_worker: str = "on"
    mlflow_uris: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read the settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        url = env.get("LIFTOFF_DATABASE_URL", "").strip() or SETTINGS["LIFTOFF_DATABASE_URL"][0]
        return cls(
            database_url=url,
            anonymous_role=_choice(env, "LIFTOFF_ANONYMOUS_ROLE", ("none", "viewer")),
            oidc_default_role=_choice(
                env, "LIFTOFF_OIDC_DEFAULT_ROLE", ("none", "viewer", "editor")
            ),
            session_hours=_positive(env, "LIFTOFF_SESSION_HOURS"),
            max_sign_in_failures=int(_positive(env, "LIFTOFF_MAX_SIGN_IN_FAILURES")),
            lockout_minutes=_positive(env, "LIFTOFF_LOCKOUT_MINUTES"),
            api_rate_limit=int(_positive(env, "LIFTOFF_API_RATE_LIMIT")),
            base_url=_text(env, "LIFTOFF_BASE_URL").rstrip("/"),
            smtp_url=_text(env, "LIFTOFF_SMTP_URL"),
            smtp_from=_text(env, "LIFTOFF_SMTP_FROM"),
            digest_schedule=_schedule(env, "LIFTOFF_DIGEST_SCHEDULE"),
            notify_worker=_choice(env, "LIFTOFF_NOTIFY_WORKER", ("on", "off")),
            mlflow_uris=tuple(
                u.strip().rstrip("/")
                for u in env.get("LIFTOFF_MLFLOW_URIS", "").split(",")
                if u.strip()
            ),
        )


def value(name: str) -> str:
    """One setting as text, from the environment or its default (not checked)."""
    return os.environ.get(name, "").strip() or SETTINGS[name][0]


def refresh_seconds() -> float | None:
    """LIFTOFF_REFRESH_SECONDS as seconds, or None when it is 0 (off). SettingError for a value
    that is no number or is below 0."""
    raw = value("LIFTOFF_REFRESH_SECONDS")
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise SettingError(f"LIFTOFF_REFRESH_SECONDS is {raw!r}; use a number of seconds, or 0.")
    return seconds or None


def database_url() -> str:
    """The database URL in force (read on its own: a bad value elsewhere does not stop it)."""
    return os.environ.get("LIFTOFF_DATABASE_URL", "").strip() or SETTINGS["LIFTOFF_DATABASE_URL"][0]

"""Settings from the environment: one source for the app, the CLI and Alembic."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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
}


@dataclass(frozen=True)
class Settings:
    """The settings in force, read from the environment."""

    database_url: str

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read the settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        url = env.get("LIFTOFF_DATABASE_URL", "").strip() or SETTINGS["LIFTOFF_DATABASE_URL"][0]
        return cls(database_url=url)


def database_url() -> str:
    """The database URL in force."""
    return Settings.from_env().database_url

"""The database: engine, schema version (Alembic) and the data-version stamp."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)

from liftoff.db.models import DataVersion
from liftoff.errors import LiftoffError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Seconds a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 30


class DatabaseError(LiftoffError):
    """A database problem a user can fix; the message says how."""


class DatabaseUnavailable(DatabaseError):
    """The URL is malformed or the server cannot be reached."""


class DatabaseBusy(DatabaseError):
    """Another write held the database longer than a writer waits; nothing was changed."""


class DatabaseBehind(DatabaseError):
    """The schema is older than this version of Liftoff expects."""


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable URL)"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for `url`; SQLite gets foreign keys, WAL and a busy timeout.

    Raises DatabaseUnavailable with a plain message when the URL is malformed, its driver is
    missing or the database cannot be reached.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(
            f"LIFTOFF_DATABASE_URL is not a database URL: {url!r}. "
            "Use sqlite:///path/to/liftoff.db or postgresql+psycopg://user:password@host/db."
        ) from None
    kwargs: dict = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError, ImportError) as exc:
        raise DatabaseUnavailable(
            f"No driver for {_safe_url(url)}: {exc}. For PostgreSQL install psycopg "
            "(pip install 'psycopg[binary]') and use postgresql+psycopg://…"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseUnavailable(
            f"Cannot reach the database {_safe_url(url)}: {reason}. "
            "Check LIFTOFF_DATABASE_URL, that the server is running and that the user may connect."
        ) from None
    return engine


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration pointing at Liftoff's migrations, bound to `engine`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


@functools.cache
def _migrations() -> tuple[str, frozenset[str]]:
    """(the newest migration, every migration) of this code, read together once per process: a
    newer Liftoff installed over a running one brings migration files the running code does
    not know, and read apart, the running process took them for its own and asked to migrate
    a database already newer than itself."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return scripts.get_current_head(), frozenset(s.revision for s in scripts.walk_revisions())


def head_revision() -> str:
    """The newest migration this code knows (read once per process)."""
    return _migrations()[0]


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (default: the newest)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Downgrade the schema to `revision` (default: nothing)."""
    command.downgrade(alembic_config(engine), revision)


def _schema_error(current: str | None, head: str) -> DatabaseBehind:
    if current is None:
        return DatabaseBehind(
            "The database has no Liftoff tables yet. Run `liftoff migrate` "
            "(or `make run`, which migrates and loads the demo portfolio)."
        )
    if current not in known_revisions():
        # Another, newer Liftoff migrated it: this process is the old one (an upgrade of
        # several app processes, some not restarted yet).
        return DatabaseBehind(
            f"The database has been upgraded (schema {current}) and this app process is an "
            f"older Liftoff (schema {head}). Restart it on the new version; the page works "
            "again once it has."
        )
    return DatabaseBehind(
        f"The database schema is at version {current}, this Liftoff expects {head}. "
        "Run `liftoff migrate` to bring it up to date, then reload the page."
    )


def known_revisions() -> frozenset[str]:
    """Every migration this code knows (read with head_revision, once per process)."""
    return _migrations()[1]


def require_current_schema(engine: Engine) -> None:
    """Raise DatabaseBehind unless the schema is at the newest migration."""
    current = current_revision(engine)
    if current != head_revision():
        raise _schema_error(current, head_revision())


def checked_data_version(engine: Engine) -> int:
    """The data-version stamp, once the schema is known to be current (else DatabaseBehind;
    DatabaseUnavailable when the server went away). One connection and two small queries: the
    app asks on every rerun."""
    head = head_revision()
    try:
        with engine.connect() as conn:
            try:
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except (OperationalError, ProgrammingError) as exc:
                conn.rollback()
                if inspect(conn).has_table("alembic_version"):
                    raise refused(engine.url.render_as_string(), exc) from None
                current = None  # an empty database
            if current == head:
                version = conn.execute(select(DataVersion.version).where(DataVersion.id == 1))
                return version.scalar() or 0
    except OperationalError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseUnavailable(
            f"Cannot reach the database {engine.url.render_as_string(hide_password=True)}: {reason}. "
            "Check that the server is running, then reload the page."
        ) from None
    raise _schema_error(current, head)


def refused(url: str, exc: DBAPIError) -> DatabaseUnavailable:
    """A database that answers but refuses Liftoff's statements (most often: the user in the
    URL does not own Liftoff's tables, as after a restore made by another user), in words."""
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    hint = (
        " The user in LIFTOFF_DATABASE_URL may not use Liftoff's tables: give it their "
        'ownership, or restore the backup as that user (README, "Running for a team").'
        if "permission denied" in reason.lower() or "must be owner" in reason.lower()
        else ""
    )
    return DatabaseUnavailable(f"The database {_safe_url(url)} refused: {reason}.{hint}")


def contains(text: str) -> str:
    """A LIKE pattern (escape character "!") that matches `text` anywhere, lower-cased, with
    its own % and _ taken literally: a search for "50%" finds "50%", not "500"."""
    escaped = text.strip().lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def bump_data_version(conn: Connection) -> None:
    """Mark the data as changed; call inside the transaction of every write."""
    conn.execute(
        update(DataVersion)
        .where(DataVersion.id == 1)
        .values(version=DataVersion.version + 1, changed_at=datetime.now())
    )


@contextmanager
def reading(source: Engine | Connection) -> Iterator[Connection]:
    """A connection to read with: `source` itself when it is one (a caller's snapshot), else a
    new one from the engine's pool for this read alone."""
    if isinstance(source, Connection):
        yield source
        return
    with source.connect() as conn:
        yield conn


@contextmanager
def snapshot(source: Engine | Connection) -> Iterator[Connection]:
    """One connection whose reads all see the database as of its first read, for the reads that
    assemble one screen's evidence: a concurrent import is either wholly in the figures or wholly
    out of them, never half (the iterations from before it and their values from after).

    PostgreSQL: a REPEATABLE READ transaction. SQLite: an explicit BEGIN (the driver starts none
    for reads), which in WAL mode pins the reader to one version while writers go on. Given a
    connection (a snapshot already open), it reads on that one."""
    if isinstance(source, Connection):
        yield source
        return
    with source.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        else:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            conn.begin()
        try:
            yield conn
        finally:
            conn.rollback()


def data_version(engine: Engine) -> int:
    """The current data-version stamp (0 on a fresh database)."""
    with engine.connect() as conn:
        return conn.execute(select(DataVersion.version).where(DataVersion.id == 1)).scalar() or 0


@contextmanager
def write(engine: Engine, bulk: bool = False) -> Iterator[Connection]:
    """One transaction for one write; bumps the data version before it commits.

    `bulk` (SQLite only) suspends foreign-key enforcement on this connection for the
    transaction: a bulk load resolves every id itself, inside the same transaction, and the
    per-row checks cost more than the insert. Enforcement is back on before the connection
    returns to the pool. (On PostgreSQL the importer turns the checks off itself, where the
    role may: ingest.load._Loader._skip_foreign_key_checks.)
    """
    try:
        with engine.connect() as conn:
            suspend = bulk and conn.dialect.name == "sqlite"
            if suspend:
                # Outside a transaction: SQLite ignores this pragma inside one.
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.commit()
            try:
                with conn.begin():
                    yield conn
                    bump_data_version(conn)
            finally:
                if suspend:
                    conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                    conn.commit()
    except OperationalError as exc:
        if "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower():
            raise DatabaseBusy(
                "The database is busy with another write. Nothing was changed; retry in a moment."
            ) from None
        raise

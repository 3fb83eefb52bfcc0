"""The app server's database engine, one per process and URL."""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from liftoff import db
from liftoff.config import database_url

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def engine() -> Engine:
    """The server's engine for LIFTOFF_DATABASE_URL (made on first use)."""
    url = database_url()
    with _lock:
        if url not in _engines:
            _engines[url] = db.make_engine(url)
        return _engines[url]

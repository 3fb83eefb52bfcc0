"""The API served for real: the app's own server (`liftoff run`) in its own process on a free
127.0.0.1 port, over a copy of the demo database on SQLite or PostgreSQL, with tokens made
through the library."""

from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from conftest import serving
from liftoff import api, db
from liftoff.access import auth, tokens

TESTS = Path(__file__).resolve().parent
_names = itertools.count()


@dataclass
class Server:
    url: str  # the API's root, http://127.0.0.1:PORT/api/v1
    db_url: str
    engine: object
    folder: Path
    made: list[str] = field(default_factory=list)

    def token(self, role: str = "editor", initiative: str | None = None, **kw) -> tuple[str, str]:
        """A new token and its name."""
        name = f"pipeline-{next(_names)}"
        return tokens.create(self.engine, auth.SYSTEM, name, role, initiative, **kw), name

    def client(self, token: str | None = None, **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kw)


def database(request, tmp_path_factory, template: str = "demo") -> str:
    """A copy of a template database for one module, on the backend `request.param` names."""
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("api-db")
        target = folder / "liftoff.db"
        shutil.copyfile(request.getfixturevalue("sqlite_templates")[template], target)
        return f"sqlite:///{target}"
    pg = request.getfixturevalue("postgres")
    source = request.getfixturevalue("postgres_templates")[template]
    return pg.create(f"liftoff_api_{os.getpid()}_{next(_names)}", template=source)


def serve(db_url: str, folder: Path, **env: str):
    """The app's own server (`liftoff run`, which mounts the API at /api/v1) on `db_url`;
    yields a Server, stops it afterwards."""
    log_path = folder / f"api-{next(_names)}.log"
    with serving(db_url, log_path, **{"LIFTOFF_API_RATE_LIMIT": "100000", **env}) as url:
        engine = db.make_engine(db_url)
        try:
            yield Server(f"{url}{api.API_PREFIX}", db_url, engine, folder)
        finally:
            engine.dispose()


def server_log(server: Server) -> str:
    return "\n".join(p.read_text() for p in server.folder.glob("api-*.log"))

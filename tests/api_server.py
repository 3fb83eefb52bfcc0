"""The API served for real: uvicorn in its own process on a free 127.0.0.1 port, over a copy of
the demo database on SQLite or PostgreSQL, with tokens made through the library."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from liftoff import api, db
from liftoff.access import auth, tokens

TESTS = Path(__file__).resolve().parent
_names = itertools.count()


def app() -> Starlette:
    """What uvicorn serves: the API's routes in a plain Starlette app, mounted as the app's
    server mounts them (at /api/v1)."""
    return api.standalone()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str  # the API's root, http://127.0.0.1:PORT/api/v1
    db_url: str
    engine: object
    folder: Path
    proc: subprocess.Popen | None = None
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
    """Start the server on `db_url`; yields a Server, stops it afterwards."""
    port = free_port()
    log_path = folder / f"api-{port}.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api_server:app",
            "--app-dir",
            str(TESTS),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env={
            **os.environ,
            "LIFTOFF_DATABASE_URL": db_url,
            "LIFTOFF_API_RATE_LIMIT": "100000",
            **env,
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    root = f"http://127.0.0.1:{port}{api.API_PREFIX}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{root}/openapi.json", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("The API server did not start: " + log_path.read_text()[-2000:])
        time.sleep(0.2)
    engine = db.make_engine(db_url)
    try:
        yield Server(root, db_url, engine, folder, proc)
    finally:
        engine.dispose()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def server_log(server: Server) -> str:
    return "\n".join(p.read_text() for p in server.folder.glob("api-*.log"))

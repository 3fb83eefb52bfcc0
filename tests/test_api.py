"""The HTTP API against the running server (uvicorn on 127.0.0.1), on SQLite and PostgreSQL:
imports of every kind, the ingestion corpus refused with the CLI's very errors, tokens, the
summary byte for byte, rollback, concurrent pipelines, rate limits and JSON-only errors."""

from __future__ import annotations

import json
import socket
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from api_server import database, serve, server_log
from conftest import BACKENDS, table_checksums
from liftoff import cli
from liftoff.access import audit, auth, tokens
from liftoff.db.models import ApiToken, ImportBatch, Observation

CORPUS = Path(__file__).parent / "data" / "ingest"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_file() and not p.name.endswith(".expect.json"))
_FLAGS = {"--create": "create", "--force": "force", "--dry-run": "dry_run"}
_VALUED = {
    "--initiative": "initiative",
    "--iteration": "iteration",
    "--users": "users",
    "--kind": "kind",
    "--sheet": "sheet",
    "--dates": "dates",
    "--iteration-tag": "iteration_tag",
}


def expectation(path: Path) -> dict:
    return json.loads((CORPUS / (path.stem + ".expect.json")).read_text())


def form_fields(args: list[str]) -> dict[str, str]:
    """`liftoff import` options as the API's form fields."""
    out, i = {}, 0
    while i < len(args):
        if args[i] in _FLAGS:
            out[_FLAGS[args[i]]] = "true"
            i += 1
        else:
            out[_VALUED[args[i]]] = args[i + 1]
            i += 2
    return out


def written(engine) -> dict[str, str]:
    """Checksums of every table but api_tokens, whose last-used time each request may touch."""
    sums = table_checksums(engine)
    sums.pop("api_tokens")
    return sums


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    url = database(request, tmp_path_factory)
    yield from serve(url, tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module")
def editor(server):
    token, name = server.token("editor")
    with server.client(token) as client:
        client.token_name = name
        yield client


def _post_file(client, path: Path, fields: dict | None = None, name: str | None = None):
    with open(path, "rb") as f:
        return client.post(
            "/imports", files={"file": (name or path.name, f.read())}, data=fields or {}
        )


def _cli_report(monkeypatch, capsys, db_url: str, path: Path, args: list[str]) -> dict:
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", db_url)
    capsys.readouterr()
    try:
        cli.main(["import", str(path), "--json", *args])
    except SystemExit:
        pass
    return json.loads(capsys.readouterr().out)


# ------------------------------------------------------------------------------ imports


BAD = [p for p in CASES if expectation(p)["outcome"] == "rejected"]
GOOD = [p for p in CASES if expectation(p)["outcome"] == "imported"]


def test_every_bad_corpus_file_is_refused_with_the_errors_of_the_cli(
    server, editor, monkeypatch, capsys
):
    assert len(BAD) >= 20
    for path in BAD:
        args = expectation(path).get("args", [])
        before = written(server.engine)
        answer = _post_file(editor, path, form_fields(args))
        assert answer.status_code == 422, (path.name, answer.text)
        body = answer.json()
        assert body["error"]["message"].startswith(f"{path.name} was not imported")
        assert written(server.engine) == before, f"{path.name} changed the database"
        cli_report = _cli_report(monkeypatch, capsys, server.db_url, path, args)
        cli_report.pop("file")
        assert {k: v for k, v in body.items() if k != "error"} == cli_report, path.name


def test_a_good_file_of_every_kind_is_imported_and_audited_under_the_token(server, editor):
    kinds = set()
    for path in GOOD:
        expect = expectation(path)
        answer = _post_file(editor, path, form_fields(expect.get("args", [])))
        assert answer.status_code == 201, (path.name, answer.text)
        body = answer.json()
        assert body["kind"] == expect["kind"] and body["errors"] == []
        assert body["rows_accepted"] == expect["rows_accepted"], path.name
        kinds.add(body["kind"])
        batch = editor.get(f"/batches/{body['batch_id']}").json()
        assert batch["status"] == "committed" and batch["file_name"] == path.name
        assert batch["uploaded_by"] == f"token {editor.token_name}"
    assert kinds >= {
        "metrics",
        "feedback",
        "concerns",
        "loadtest",
        "traffic",
        "criteria",
        "governance",
        "stakeholders",
        "mlflow-runs",
        "mlflow-history",
        "locust",
    }
    entries = audit.entries(
        server.engine, audit.Filter(actor=f"token {editor.token_name}"), limit=1000
    )
    assert sum(e["action"] == "import" for e in entries) == len(GOOD)
    assert {e["via"] for e in entries} == {"token"}


def test_json_rows_go_through_the_same_pipeline(server, editor):
    rows = [
        {"metric": "auc", "value": 0.91, "recorded_at": "2026-11-20"},
        {"metric": "precision_at_10", "value": "45%", "recorded_at": "2026-11-20"},
    ]
    answer = editor.post(
        "/imports", json={"initiative": "Churn early-warning", "iteration": 2, "rows": rows}
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["kind"], body["rows_read"], body["rows_accepted"]) == ("metrics", 2, 2)
    with server.engine.connect() as conn:
        values = conn.execute(
            select(Observation.value)
            .where(Observation.batch_id == body["batch_id"])
            .order_by(Observation.id)
        ).scalars()
        assert list(values) == [pytest.approx(0.91), pytest.approx(0.45)]

    # A bad row is named by its place in `rows` (the third), nothing written.
    before = written(server.engine)
    rows.append({"metric": "auc", "value": "high", "recorded_at": "2026-11-21"})
    answer = editor.post(
        "/imports", json={"initiative": "Churn early-warning", "iteration": 2, "rows": rows}
    )
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert [(e["row"], e["column"], e["value"]) for e in errors] == [(3, "value", "high")]
    assert written(server.engine) == before

    nested = editor.post("/imports", json={"rows": [{"metric": {"a": 1}}]})
    assert nested.status_code == 422
    assert nested.json()["errors"][0]["column"] == "metric"


def test_a_file_imported_before_is_409_naming_its_batch_unless_forced(server, editor):
    path = CORPUS / "traffic.csv"
    data = path.read_bytes() + b"\n"  # not the bytes the kinds test imported
    fields = {"initiative": "Churn early-warning"}
    first = editor.post("/imports", files={"file": ("traffic.csv", data)}, data=fields)
    assert first.status_code == 201, first.text
    batch = first.json()["batch_id"]
    before = written(server.engine)
    again = editor.post("/imports", files={"file": ("traffic.csv", data)}, data=fields)
    assert again.status_code == 409, again.text
    assert again.json()["duplicate_of"] == batch
    assert f"batch #{batch}" in again.json()["error"]["message"]
    assert written(server.engine) == before
    forced = editor.post(
        "/imports", files={"file": ("traffic.csv", data)}, data={**fields, "force": "true"}
    )
    assert forced.status_code == 201 and forced.json()["batch_id"] > batch


def test_dry_run_and_bad_fields_write_nothing(server, editor):
    before = written(server.engine)
    data = (CORPUS / "traffic.csv").read_bytes() + b"\n\n"  # a file not imported yet
    dry = editor.post(
        "/imports",
        files={"file": ("traffic.csv", data)},
        data={"initiative": "Churn early-warning", "dry_run": "1"},
    )
    assert dry.status_code == 200 and dry.json()["batch_id"] is None
    bad = _post_file(editor, CORPUS / "traffic.csv", {"iteration": "three"})
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {
            "row": None,
            "column": "iteration",
            "value": "three",
            "message": "Give a whole number, such as 3.",
        }
    ]
    assert written(server.engine) == before


# ------------------------------------------------------------------------------ tokens


def test_missing_wrong_revoked_expired_and_viewer_tokens_write_nothing(server):
    path = CORPUS / "metrics_long.csv"
    revoked, name = server.token("editor")
    tokens.revoke(server.engine, auth.SYSTEM, name)
    expired, name = server.token("editor", expires_days=1)
    with server.engine.begin() as conn:
        conn.execute(
            update(ApiToken)
            .where(ApiToken.name == name)
            .values(expires_at=datetime.now() - timedelta(minutes=1))
        )
    viewer, _ = server.token("viewer")
    before = written(server.engine)

    def post(token):
        with server.client(token) as client:
            return _post_file(client, path, {"create": "true"}, name="refused.csv")

    answer = post(None)
    assert answer.status_code == 401
    assert "Authorization: Bearer" in answer.json()["error"]["message"]
    assert post("lft_not-a-token").status_code == 401
    answer = post(revoked)
    assert answer.status_code == 403 and "was revoked" in answer.json()["error"]["message"]
    answer = post(expired)
    assert answer.status_code == 403 and "expired" in answer.json()["error"]["message"]
    answer = post(viewer)
    assert answer.status_code == 403 and "editor role" in answer.json()["error"]["message"]
    with server.client(viewer) as client:  # a viewer reads
        assert client.get("/initiatives").status_code == 200
    assert written(server.engine) == before


def test_a_token_limited_to_one_initiative_writes_nowhere_else(server):
    scoped, name = server.token("editor", initiative="Churn early-warning")
    before = written(server.engine)
    with server.client(scoped) as client:
        # Named in the form ...
        answer = _post_file(
            client, CORPUS / "traffic.csv", {"initiative": "Claims triage assistant"}
        )
        assert answer.status_code == 403, answer.text
        assert "only to the initiative 'Churn early-warning'" in answer.json()["error"]["message"]
        # ... or in the file's own initiative column.
        rows = [
            {"initiative": "Claims triage assistant", "metric": "auc", "value": 0.8},
            {"initiative": "Churn early-warning", "metric": "auc", "value": 0.8},
        ]
        answer = client.post("/imports", json={"iteration": 1, "rows": rows})
        assert answer.status_code == 403, answer.text
        assert [e["row"] for e in answer.json()["errors"]] == [1]
        assert written(server.engine) == before
        # Its own initiative, taken as the default when the file names none.
        answer = client.post(
            "/imports",
            json={"iteration": 1, "rows": [{"metric": "auc", "value": 0.8}]},
        )
        assert answer.status_code == 201, answer.text
        with server.engine.connect() as conn:
            batch = conn.execute(
                select(ImportBatch.uploaded_by).where(ImportBatch.id == answer.json()["batch_id"])
            ).scalar()
        assert batch == f"token {name}"


def test_tokens_are_stored_hashed_and_listed_without_the_secret(server, capsys, monkeypatch):
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", server.db_url)
    capsys.readouterr()
    assert cli.main(["tokens", "create", "nightly-eval", "--role", "viewer", "--expires", "7"]) == 0
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    assert secret.startswith("lft_") and len(secret) > 40
    with server.engine.connect() as conn:
        stored = conn.execute(
            select(ApiToken.token_hash, ApiToken.role).where(ApiToken.name == "nightly-eval")
        ).one()
    assert stored == (tokens.hash_token(secret), "viewer") and secret not in stored.token_hash
    assert cli.main(["tokens", "list", "--json"]) == 0
    listed = capsys.readouterr().out
    assert "nightly-eval" in listed and secret not in listed
    assert cli.main(["tokens", "create", "nightly-eval", "--role", "viewer"]) == 1
    assert "exists already" in capsys.readouterr().err
    assert cli.main(["tokens", "revoke", "nightly-eval"]) == 0
    with server.client(secret) as client:
        assert client.get("/initiatives").status_code == 403
    with pytest.raises(SystemExit):  # never admin: argparse refuses the choice
        cli.main(["tokens", "create", "root", "--role", "admin"])
    with pytest.raises(tokens.TokenError):
        tokens.create(server.engine, auth.SYSTEM, "root", "admin")


# ------------------------------------------------------------------------------ reads


def test_the_summary_is_the_cli_summary_byte_for_byte(server, editor, monkeypatch, capsysbinary):
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", server.db_url)
    names = [i["name"] for i in editor.get("/initiatives").json()["initiatives"]]
    assert "Churn early-warning" in names
    for name in names:
        answer = editor.get(f"/initiatives/{name}/summary")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        capsysbinary.readouterr()
        assert cli.main(["summary", "--initiative", name, "--json"]) == 0
        assert answer.content == capsysbinary.readouterr().out, name
    missing = editor.get("/initiatives/No such thing/summary")
    assert missing.status_code == 404 and "No such thing" in missing.json()["error"]["message"]


def test_rollback_over_the_api(server, editor):
    rows = [{"metric": "auc", "value": 0.5}]
    made = editor.post(
        "/imports", json={"initiative": "Churn early-warning", "iteration": 1, "rows": rows}
    )
    batch = made.json()["batch_id"]
    viewer, _ = server.token("viewer")
    with server.client(viewer) as client:
        assert client.post(f"/batches/{batch}/rollback").status_code == 403
    answer = editor.post(f"/batches/{batch}/rollback")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "rolled_back"
    assert answer.json()["rolled_back_by"] == f"token {editor.token_name}"
    with server.engine.connect() as conn:
        left = conn.execute(
            select(func.count()).select_from(Observation).where(Observation.batch_id == batch)
        ).scalar()
    assert left == 0
    assert editor.post(f"/batches/{batch}/rollback").status_code == 409
    assert editor.post("/batches/999999/rollback").status_code == 404
    assert editor.get("/batches/999999").status_code == 404
    entries = audit.entries(server.engine, audit.Filter(actions=("rollback",)), limit=5)
    assert entries[0]["actor"] == f"token {editor.token_name}"


# ------------------------------------------------------------------------------ load


def test_two_pipelines_posting_at_once_lose_nothing(server):
    a, _ = server.token("editor")
    b, _ = server.token("editor")
    results: list = []

    def pipeline(token: str, offset: int) -> None:
        with server.client(token) as client:
            for n in range(6):
                rows = [
                    {"metric": "auc", "value": round(0.5 + (offset + n) / 1000, 4), "segment": s}
                    for s in ("eu", "us", "apac")
                ]
                results.append(
                    client.post(
                        "/imports",
                        json={"initiative": "Churn early-warning", "iteration": 3, "rows": rows},
                    )
                )

    threads = [threading.Thread(target=pipeline, args=(t, i * 100)) for i, t in enumerate((a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [r.status_code for r in results] == [201] * 12, [r.text for r in results]
    batches = [r.json()["batch_id"] for r in results]
    assert len(set(batches)) == 12
    with server.engine.connect() as conn:
        stored = conn.execute(
            select(func.count()).select_from(Observation).where(Observation.batch_id.in_(batches))
        ).scalar()
    assert stored == 36


# ------------------------------------------------------------------------------ errors


def test_errors_are_json_never_html(server, editor):
    for answer, status in (
        (editor.get("/nowhere"), 404),
        (editor.delete("/initiatives"), 405),
        (editor.get("/batches/not-a-number"), 404),
        (editor.post("/imports", content=b"a,b\n1,2\n", headers={"content-type": "text/csv"}), 415),
        (
            editor.post(
                "/imports", content=b"{not json", headers={"content-type": "application/json"}
            ),
            400,
        ),
        (editor.post("/imports", json={"rows": "nope"}), 400),
        (editor.post("/imports", files={"other": ("x.csv", b"a\n1\n")}), 422),
        # Two files where the route takes one: Starlette's parser refuses, still in JSON.
        (
            editor.post(
                "/imports", files=[("file", ("a.csv", b"a\n1\n")), ("file", ("b.csv", b"b\n"))]
            ),
            400,
        ),
    ):
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["error"]["message"]
    assert "Traceback" not in server_log(server)


def test_a_body_over_the_limit_is_refused_before_it_is_read(server, editor):
    # A client that announces 300 MB: the answer comes without the server reading them.
    host, port = editor.base_url.host, editor.base_url.port
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(
            b"POST /api/v1/imports HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: {editor.headers['authorization']}\r\n".encode()
            + b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 300000000\r\n\r\n"
        )
        answer = b""
        while not answer.endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 413"), head
    assert "Liftoff imports files up to 200 MB" in json.loads(body)["error"]["message"]


@pytest.fixture(scope="module", params=BACKENDS)
def slow_server(request, tmp_path_factory):
    url = database(request, tmp_path_factory, template="schema")
    yield from serve(url, tmp_path_factory.mktemp("api-slow"), LIFTOFF_API_RATE_LIMIT="3")


def test_each_token_is_rate_limited_with_retry_after(slow_server):
    first, _ = slow_server.token("viewer")
    second, _ = slow_server.token("viewer")
    with slow_server.client(first) as client:
        codes = [client.get("/initiatives").status_code for _ in range(3)]
        limited = client.get("/initiatives")
    assert codes == [200, 200, 200]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert "at most 3 a minute" in limited.json()["error"]["message"]
    with slow_server.client(second) as client:  # another token has its own allowance
        assert client.get("/initiatives").status_code == 200


def test_every_request_with_a_token_leaves_its_last_use(server, editor):
    with server.engine.connect() as conn:
        used = conn.execute(
            select(ApiToken.last_used_at).where(ApiToken.name == editor.token_name)
        ).scalar()
    assert used is not None and datetime.now() - used < timedelta(minutes=10)

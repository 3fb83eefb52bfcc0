"""The /api/v1 routes: thin handlers over the same library calls as the CLI and the screens.

Every answer is JSON; an error is `{"error": {"message": …}}` (plus the import report's fields
for a refused import), never an HTML page or a traceback. The work runs in a thread, so one slow
import does not stall the app's other requests.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from datetime import date, datetime

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from liftoff import db, ingest
from liftoff.access import auth, tokens
from liftoff.config import Settings, database_url
from liftoff.evidence import reads as evidence_reads
from liftoff.evidence import summary
from liftoff.ingest import pull
from liftoff.ingest.reader import MAX_FILE_MB

API_PREFIX = "/api/v1"
log = logging.getLogger("liftoff.api")

# The body may hold a file up to the importer's limit plus the form around it.
MAX_BODY_BYTES = int(MAX_FILE_MB * 1024 * 1024) + 1024 * 1024
# JSON rows are parsed into Python objects (several times their size): a tighter bound.
MAX_JSON_BYTES = 20 * 1024 * 1024
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class ApiError(Exception):
    """Ends the request with `status` and `{"error": {"message": …}}` (plus `extra` fields)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        extra: dict | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra or {}
        self.headers = headers


def _default(value):
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _json(data, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, default=_default, ensure_ascii=False)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _error(exc: ApiError) -> Response:
    return _json({"error": {"message": exc.message}, **exc.extra}, exc.status, exc.headers)


class _Service:
    """What the handlers share: the engine (made on first use), settings and the rate limiter."""

    def __init__(self, engine=None, settings: Settings | None = None):
        self._engine = engine
        self._lock = threading.Lock()
        self.settings = settings or Settings.from_env()
        self.limiter = tokens.RateLimiter(self.settings.api_rate_limit)

    def engine(self):
        with self._lock:
            if self._engine is None:
                engine = db.make_engine(database_url())
                db.require_current_schema(engine)
                self._engine = engine
            return self._engine

    def token(self, request: Request) -> tokens.Token:
        """The request's token, checked and counted against its rate limit."""
        try:
            token = tokens.authenticate(self.engine(), request.headers.get("authorization"))
        except tokens.TokenRefused as exc:
            raise ApiError(exc.status, exc.message) from None
        wait = self.limiter.hit(token.id)
        if wait:
            raise ApiError(
                429,
                f"Too many requests with the token {token.name!r}: at most "
                f"{self.limiter.per_minute} a minute. Try again in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        return token


Handler = Callable[[Request, _Service], Awaitable[Response]]


def _endpoint(service: _Service, handler: Handler):
    """Turn the library's errors into JSON answers; anything else is a 500 without details."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request, service)
        except ApiError as exc:
            return _error(exc)
        except HTTPException as exc:  # Starlette's own, e.g. a multipart body it cannot parse
            return _error(ApiError(exc.status_code, f"The request was refused: {exc.detail}."))
        except auth.PermissionDenied as exc:
            return _error(ApiError(403, str(exc)))
        except evidence_reads.NotFound as exc:
            return _error(ApiError(404, str(exc.args[0] if exc.args else exc)))
        except db.DatabaseError as exc:
            return _error(ApiError(503, str(exc.args[0] if exc.args else exc)))
        except Exception:
            log.exception("API request %s %s failed", request.method, request.url.path)
            return _error(
                ApiError(500, "Something went wrong on the server; the details are in its log.")
            )

    return endpoint


# ------------------------------------------------------------------------------ bodies


async def _limited_request(request: Request, limit: int) -> Request:
    """The request with its body capped at `limit` bytes (413 past it), however it is sent."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise ApiError(413, _too_large(limit))
    seen = 0
    receive = request.receive

    async def limited():
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise ApiError(413, _too_large(limit))
        return message

    return Request(request.scope, limited)


def _too_large(limit: int) -> str:
    if limit == MAX_BODY_BYTES:
        return (
            f"The file is larger than {MAX_FILE_MB:g} MB; Liftoff imports files up to "
            f"{MAX_FILE_MB:g} MB. Split it into smaller files (each imports on its own)."
        )
    return (
        f"The JSON body is larger than {limit / 1024 / 1024:,.0f} MB. Send the rows in "
        "several requests, or as a CSV file (multipart, up to "
        f"{MAX_FILE_MB:g} MB)."
    )


def _field_problem(column: str, value, message: str) -> ApiError:
    return ApiError(
        422,
        f"The field {column!r} is not valid: {message}",
        extra={
            "batch_id": None,
            "kind": None,
            "rows_read": 0,
            "rows_accepted": 0,
            "warnings": [],
            "errors": [{"row": None, "column": column, "value": value, "message": message}],
        },
    )


def _integer(fields: dict, name: str) -> int | None:
    raw = fields.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise _field_problem(name, str(raw), "Give a whole number, such as 3.")
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip()
        if not text.lstrip("-").isdigit():
            raise _field_problem(name, text[:80], "Give a whole number, such as 3.")
        value = int(text)
    if value < 1 or value > 1_000_000_000:
        raise _field_problem(name, str(value), "Give a number of at least 1.")
    return value


def _flag(fields: dict, name: str) -> bool:
    raw = fields.get(name)
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _field_problem(name, text[:80], "Give true or false.")


def _text(fields: dict, name: str) -> str | None:
    raw = fields.get(name)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _field_problem(name, str(raw)[:80], "Give text.")
    return raw.strip() or None


def _options(fields: dict, token: tokens.Token) -> tuple[ingest.Options, bool]:
    kind = _text(fields, "kind") or "auto"
    if kind != "auto" and kind not in ingest.KINDS:
        raise _field_problem("kind", kind[:80], f"Use one of: auto, {', '.join(ingest.KINDS)}.")
    dates = _text(fields, "dates")
    if dates not in (None, "dayfirst", "monthfirst"):
        raise _field_problem("dates", dates[:80], "Use dayfirst or monthfirst.")
    initiative = _text(fields, "initiative")
    if token.initiative is not None:
        if initiative is not None and initiative != token.initiative:
            raise ApiError(
                403,
                f"The API token {token.name!r} may write only to the initiative "
                f"{token.initiative!r}, not {initiative!r}; nothing was written.",
            )
        initiative = token.initiative
    options = ingest.Options(
        kind=kind,
        initiative=initiative,
        iteration=_integer(fields, "iteration"),
        users=_integer(fields, "users"),
        create=_flag(fields, "create"),
        force=_flag(fields, "force"),
        replace_load_tests=_flag(fields, "replace_load_tests"),
        sheet=_text(fields, "sheet"),
        date_order=dates,
        iteration_tag=_text(fields, "iteration_tag") or "tags.iteration",
        only_initiative=token.initiative,
    )
    return options, _flag(fields, "dry_run")


def _cell(value, row: int, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise ApiError(
        422,
        f"Row {row}, column {column!r}: a value must be text, a number, true, false or null.",
        extra={
            "batch_id": None,
            "kind": None,
            "rows_read": 0,
            "rows_accepted": 0,
            "warnings": [],
            "errors": [
                {
                    "row": row,
                    "column": column,
                    "value": json.dumps(value)[:80],
                    "message": "A value must be text, a number, true, false or null. "
                    "Send nested data as text.",
                }
            ],
        },
    )


def rows_as_csv(rows: list) -> bytes:
    """JSON rows as the CSV file the pipeline reads: the columns in the order they first
    appear, one line a row (row N of `rows` is line N + 1, after the header)."""
    columns: dict[str, None] = {}
    for i, r in enumerate(rows, start=1):
        if not isinstance(r, dict):
            raise ApiError(400, f"Row {i} of 'rows' is not an object of column names and values.")
        for k in r:
            columns.setdefault(str(k), None)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for i, r in enumerate(rows, start=1):
        writer.writerow([_cell(r.get(c), i, c) for c in columns])
    return out.getvalue().encode("utf-8")


# ------------------------------------------------------------------------------ handlers


def _import_answer(run: Callable[[], tuple], kind: str, json_rows: bool) -> Response:
    try:
        prepared, batch_id = run()
    except ingest.ImportRejected as exc:
        report = exc.report(kind)
        if json_rows:
            # The pipeline counts spreadsheet rows (the header is row 1): say which of `rows`.
            for e in report["errors"]:
                if e["row"] is not None:
                    e["row"] -= 1
        status = 409 if exc.duplicate_of is not None else 403 if exc.out_of_scope else 422
        head = exc.summary().splitlines()[0]
        if exc.duplicate_of is not None:
            head = (
                f"This exact file was already imported as batch #{exc.duplicate_of}; nothing "
                "was written. Roll that batch back first, or send it again with force=true."
            )
            report["duplicate_of"] = exc.duplicate_of
        return _json({"error": {"message": head}, **report}, status)
    report = prepared.report(batch_id)
    return _json(report, 200 if batch_id is None else 201)


async def post_import(request: Request, service: _Service) -> Response:
    token = service.token(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        request = await _limited_request(request, MAX_JSON_BYTES)
        try:
            payload = json.loads(await request.body())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, f"The body is not valid JSON ({exc}).") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("rows"), list):
            raise ApiError(
                400,
                'Send {"kind": …, "initiative": …, "rows": [{…}, …]}: an object with a list of '
                "rows, one object of column names and values each.",
            )
        options, dry_run = _options(payload, token)
        data = await run_in_threadpool(rows_as_csv, payload["rows"])
        name, json_rows = "rows-from-api.csv", True
    elif content_type == "multipart/form-data":
        request = await _limited_request(request, MAX_BODY_BYTES)
        async with request.form(max_files=1, max_fields=50, max_part_size=64 * 1024) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ApiError(
                    422,
                    "The form has no file: send it in the field 'file' "
                    "(curl -F file=@metrics.csv).",
                    extra={
                        "batch_id": None,
                        "kind": None,
                        "rows_read": 0,
                        "rows_accepted": 0,
                        "warnings": [],
                        "errors": [
                            {
                                "row": None,
                                "column": "file",
                                "value": None,
                                "message": "No file was sent. Send it in the field 'file'.",
                            }
                        ],
                    },
                )
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
            options, dry_run = _options(fields, token)
            data = await upload.read()
            name = (upload.filename or "upload.csv").replace("\\", "/").rsplit("/", 1)[-1]
            name = name[:200] or "upload.csv"
        json_rows = False
    else:
        raise ApiError(
            415,
            "Send the file as multipart/form-data (field 'file') or rows as application/json.",
        )
    engine = service.engine()

    def run():
        return ingest.import_file(engine, token.actor, data, name, options, dry_run=dry_run)

    return await run_in_threadpool(_import_answer, run, options.kind, json_rows)


async def get_initiatives(request: Request, service: _Service) -> Response:
    service.token(request)
    rows = await run_in_threadpool(evidence_reads.initiatives, service.engine())
    return _json({"initiatives": [{k: v for k, v in r.items() if k != "id"} for r in rows]})


async def get_summary(request: Request, service: _Service) -> Response:
    service.token(request)
    name = request.path_params["name"]
    data = await run_in_threadpool(summary.summary, service.engine(), name)
    # The very bytes `liftoff summary --json` prints: one serialiser for both.
    return Response(summary.to_json(data), media_type="application/json")


def _batch(row: dict) -> dict:
    return {
        "batch_id": row["id"],
        "kind": row["kind"],
        "file_name": row["file_name"],
        "sha256": row["sha256"],
        "rows_read": row["rows_read"],
        "rows_accepted": row["rows_accepted"],
        "status": row["status"],
        "uploaded_by": row["uploaded_by"],
        "uploaded_at": row["uploaded_at"],
        "rolled_back_by": row["rolled_back_by"],
        "rolled_back_at": row["rolled_back_at"],
        "warnings": row["warnings"].split("\n") if row["warnings"] else [],
        "file_size": row["file_size"],
    }


# Batch ids are 32-bit integers on PostgreSQL (64 on SQLite): a larger one cannot exist, and
# would overflow the database's integer before it could be looked up.
MAX_ID = 2**31 - 1


def _find_batch(engine, batch_id: int) -> dict:
    row = evidence_reads.import_batch(engine, batch_id) if batch_id <= MAX_ID else None
    if row is None:
        raise ApiError(404, f"There is no import batch #{batch_id}.")
    return row


async def get_batch(request: Request, service: _Service) -> Response:
    service.token(request)
    row = await run_in_threadpool(_find_batch, service.engine(), request.path_params["batch_id"])
    return _json(_batch(row))


async def post_rollback(request: Request, service: _Service) -> Response:
    token = service.token(request)
    engine = service.engine()
    batch_id = request.path_params["batch_id"]
    force = _flag(dict(request.query_params), "force")

    def run() -> Response:
        auth.require(token.actor, "rollback")
        row = _find_batch(engine, batch_id)
        if token.initiative is not None and row["uploaded_by"] != token.actor.label:
            # A batch may touch several initiatives; a limited token undoes only its own.
            raise ApiError(
                403,
                f"The API token {token.name!r} is limited to {token.initiative!r} and may roll "
                "back only the batches it imported itself; nothing was changed.",
            )
        try:
            message = ingest.rollback(engine, token.actor, batch_id, force=force)
        except ingest.RollbackConflict as exc:
            raise ApiError(
                409, f"{exc} Nothing was rolled back. To undo those changes too, add ?force=true."
            ) from None
        except ingest.RollbackError as exc:
            raise ApiError(409, str(exc)) from None
        return _json({"message": message, **_batch(_find_batch(engine, batch_id))})

    return await run_in_threadpool(run)


async def get_openapi(request: Request, service: _Service) -> Response:
    from liftoff.api.openapi import document

    return _json(document())


# ------------------------------------------------------------------------------ the app


def _route_table(service: _Service) -> list[BaseRoute]:
    def route(path: str, handler: Handler, method: str) -> Route:
        return Route(path, _endpoint(service, handler), methods=[method])

    return [
        route("/imports", post_import, "POST"),
        route("/initiatives", get_initiatives, "GET"),
        route("/initiatives/{name}/summary", get_summary, "GET"),
        route("/batches/{batch_id:int}", get_batch, "GET"),
        route("/batches/{batch_id:int}/rollback", post_rollback, "POST"),
        route("/openapi.json", get_openapi, "GET"),
        route("/pulls/mlflow", post_mlflow_pull, "POST"),
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = (
            f"There is no {request.url.path} in the API. The routes are listed in "
            f"{API_PREFIX}/openapi.json."
        )
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}."
    else:
        message = str(exc.detail)
    return _error(ApiError(exc.status_code, message, headers=exc.headers))


async def _server_error(request: Request, exc: Exception) -> Response:
    return _error(ApiError(500, "Something went wrong on the server; the details are in its log."))


def app(engine=None, settings: Settings | None = None) -> Starlette:
    """The API as an ASGI app of its own, answering at its root (mounted at /api/v1 by
    `routes`). Its own error handlers keep 404, 405 and 500 in JSON whatever app mounts it."""
    service = _Service(engine, settings)
    return Starlette(
        routes=_route_table(service),
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )


def routes(engine=None, settings: Settings | None = None) -> list[BaseRoute]:
    """The routes to add to the app's server: the API mounted at /api/v1."""
    mount = Mount(API_PREFIX, app=app(engine, settings))
    # Starlette's pattern for the rest of the path stops at a newline (`.` without DOTALL), so
    # /api/v1/initiatives/a%0Ab/summary would fall through to the host app's plain-text 404.
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    return [mount]


def standalone() -> Starlette:
    """The API alone in an ASGI app, at /api/v1 as on the app's server (uvicorn --factory)."""
    return Starlette(routes=routes())


async def post_mlflow_pull(request: Request, service) -> Response:
    """Pull an experiment's runs into an initiative (an editor's token; a limited token only
    into its own initiative)."""
    token = service.token(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(
            415,
            'Send JSON: {"tracking_uri": …, "experiment": …, "initiative": …}.',
        )
    request = await _limited_request(request, MAX_JSON_BYTES)
    try:
        body = json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"The body is not valid JSON ({exc}).") from None
    if not isinstance(body, dict):
        raise ApiError(
            400, 'Send an object: {"tracking_uri": …, "experiment": …, "initiative": …}.'
        )
    fields = {}
    for name in ("tracking_uri", "experiment", "initiative", "iteration_tag", "since"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise ApiError(400, f"{name!r} must be text.")
        fields[name] = (value or "").strip() or None
    missing = [n for n in ("tracking_uri", "experiment", "initiative") if not fields[n]]
    if missing:
        raise ApiError(400, f"Give {', '.join(repr(m) for m in missing)}.")
    since = None
    if fields["since"]:
        try:
            since = date.fromisoformat(fields["since"])
        except ValueError:
            raise ApiError(
                400, f"'since' is {fields['since'][:40]!r}; write a date as YYYY-MM-DD."
            ) from None
    if token.initiative is not None and fields["initiative"] != token.initiative:
        raise ApiError(
            403,
            f"The API token {token.name!r} may write only to the initiative "
            f"{token.initiative!r}; nothing was written.",
        )
    create = _flag(body, "create")
    engine = service.engine()

    def run() -> Response:
        try:
            report = pull.pull_mlflow(
                engine,
                token.actor,
                fields["tracking_uri"],
                fields["experiment"],
                fields["initiative"],
                iteration_tag=fields["iteration_tag"] or "iteration",
                since=since,
                create=create,
                only_initiative=token.initiative,
            )
        except pull.PullError as exc:
            raise ApiError(502 if exc.unreachable else 422, str(exc)) from None
        except ingest.ImportRejected as exc:
            report = exc.report("mlflow-runs")
            head = exc.summary().splitlines()[0]
            return _json({"error": {"message": head}, **report}, 422)
        return _json(report.as_dict())

    return await run_in_threadpool(run)

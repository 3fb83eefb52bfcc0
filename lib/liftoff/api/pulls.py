"""POST /api/v1/pulls/mlflow: the MLflow connector behind the API, with the caller's token."""

from __future__ import annotations

import json
from datetime import date

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from liftoff import ingest
from liftoff.ingest import pull


async def post_mlflow_pull(request: Request, service) -> Response:
    """Pull an experiment's runs into an initiative (an editor's token; a limited token only
    into its own initiative)."""
    from liftoff.api.routes import MAX_JSON_BYTES, ApiError, _flag, _json, _limited_request

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

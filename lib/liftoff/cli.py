"""The `liftoff` command: a thin layer that turns options into library calls."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError

from liftoff import config, db, ingest
from liftoff.access import audit, auth, tokens
from liftoff.config import PROJECT_ROOT, database_url
from liftoff.db.models import STAGES
from liftoff.demo import builder as demo_builder
from liftoff.errors import LiftoffError
from liftoff.evidence import reads as evidence_reads
from liftoff.evidence import summary
from liftoff.evidence import writes as evidence_writes
from liftoff.formatting import STAGE_LABELS, format_moment, format_value, listed, stored_words
from liftoff.ingest import reader
from liftoff.meeting import export as meeting_export
from liftoff.meeting import pack as steering_pack
from liftoff.meeting import reads as meeting_reads
from liftoff.notify import digest as notify_digest
from liftoff.notify import reads as notify_reads
from liftoff.notify import worker as notify_worker
from liftoff.notify import writes as notify_writes


class UserError(LiftoffError):
    """Ends the command with this message and exit status 1; no traceback."""


def _engine(check_schema: bool = True):
    engine = db.make_engine(database_url())
    if check_schema:
        db.require_current_schema(engine)
    return engine


def _print_json(data) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def cmd_migrate(args) -> None:
    engine = _engine(check_schema=False)
    before = db.current_revision(engine)
    db.migrate(engine)
    after = db.current_revision(engine)
    if before == after:
        print(f"The database is up to date (version {after}).")
    else:
        print(f"Migrated the database from version {before or 'empty'} to {after}.")


def cmd_demo(args) -> None:
    engine = _engine()
    if args.if_empty and not demo_builder.database_empty(engine):
        print("The database already holds initiatives; the demo portfolio was not loaded.")
        return
    print(demo_builder.load_demo(engine, reset=args.reset, actor=auth.cli_actor()))


def cmd_initiative_list(args) -> None:
    rows = evidence_reads.initiatives(_engine())
    if args.json:
        _print_json([{k: v for k, v in r.items() if k != "id"} for r in rows])
        return
    if not rows:
        print(
            "No initiatives yet. Load the demo with `liftoff demo` or create one with "
            "`liftoff initiative set NAME --create`."
        )
        return
    for r in rows:
        print(
            f"{r['name']}: {STAGE_LABELS.get(r['stage'], r['stage'])}, "
            f"p95 SLO {format_value(r['slo_p95_ms'], 'ms')}, "
            f"max error rate {format_value(r['max_error_rate'], 'ratio', 2)}, "
            f"primary metric {r['primary_metric'] or 'not set'}"
        )


def cmd_initiative_set(args) -> None:
    print(
        evidence_writes.set_initiative(
            _engine(),
            auth.cli_actor(),
            args.name,
            create=args.create,
            stage=args.stage,
            slo_p95_ms=args.slo_p95_ms,
            max_error_rate=args.max_error_rate,
            primary_metric=args.primary_metric,
            business_goal=args.goal,
            owner=args.owner,
        )
    )


def cmd_summary(args) -> None:
    data = summary.summary(_engine(), args.initiative)
    if args.json:
        sys.stdout.write(summary.to_json(data))
        return
    ini = data["initiative"]
    print(f"{ini['name']} ({STAGE_LABELS.get(ini['stage'], ini['stage'])})")
    for it in data["iterations"]:
        print(
            f"  Iteration {it['number']}: {it['decision']}, criteria met {it['criteria_met']} of "
            f"{it['criteria_total']}, capacity {format_value(it['capacity_rps'], 'rps')}"
        )
    print(
        f"  Headroom {format_value(data['headroom'], 'ratio', 0)}; runway {data['runway']['days']} days"
    )


def cmd_batches(args) -> None:
    rows = evidence_reads.import_batches(_engine())
    if args.json:
        _print_json(rows)
        return
    if not rows:
        print("No import batches yet.")
    for b in rows:
        whose = f" for {listed(b['initiatives'])}" if b["initiatives"] else ""
        print(
            f"#{b['id']} {format_moment(b['uploaded_at'])} {b['kind']} {b['file_name']!r}{whose}: "
            f"{stored_words(b['kind'], b['rows_accepted'], b['rows_read'])}, {b['status']}"
        )


def _rejected_report(path: str, exc: ingest.ImportRejected, kind: str) -> dict:
    return {"file": path, **exc.report(kind)}


def cmd_import(args) -> None:
    engine = _engine()
    reports, failed = [], False
    for path in args.files:
        name = os.path.basename(path)
        try:
            with open(path, "rb") as f:
                # The size limit before reading: a 2 GB sparse file took 2.2 GB and 11 s to refuse.
                reader.check_size(os.fstat(f.fileno()).st_size, name)
                # A pipe has no size: read one byte past the limit at most.
                data = f.read(reader.MAX_FILE_MB * 1024 * 1024 + 1)
            reader.check_size(len(data), name)
        except OSError as exc:
            raise UserError(f"Cannot read {path}: {exc.strerror}.") from None
        except ingest.ImportRejected as exc:
            failed = True
            reports.append(_rejected_report(path, exc, args.kind))
            if not args.json:
                print(exc.summary(), file=sys.stderr)
            continue
        options = ingest.Options(
            kind=args.kind,
            initiative=args.initiative,
            iteration=args.iteration,
            users=args.users,
            create=args.create,
            force=args.force,
            sheet=args.sheet,
            date_order=args.dates,
            iteration_tag=args.iteration_tag,
            percent_values=args.percent,
            replace_load_tests=args.replace_load_tests,
        )
        try:
            prepared, batch_id = ingest.import_file(
                engine, auth.cli_actor(), data, name, options, dry_run=args.dry_run
            )
        except ingest.ImportRejected as exc:
            failed = True
            reports.append(_rejected_report(path, exc, args.kind))
            if not args.json:
                print(exc.summary(), file=sys.stderr)
            continue
        reports.append({"file": path, **prepared.report(batch_id)})
        if not args.json:
            for w in prepared.warnings:
                print(f"{name}: note: {w}")
            verb = "would import" if args.dry_run else f"imported as batch #{batch_id}:"
            stored = stored_words(prepared.kind, prepared.rows_accepted, prepared.rows_read)
            print(f"{name}: {verb} {stored} of {prepared.kind}.")
    if args.json:
        _print_json(reports[0] if len(reports) == 1 else reports)
    if failed:
        raise SystemExit(1)


def cmd_rollback(args) -> None:
    engine = _engine()
    try:
        # What it removes and restores is shown first, then done (or refused).
        plan = ingest.rollback_plan(engine, args.batch_id)
        print(f"Rolling back batch #{plan.batch_id} ({plan.file_name}):")
        for line in plan.lines():
            print(f"  - {line}")
        print(ingest.rollback(engine, auth.cli_actor(), args.batch_id, force=args.force))
    except ingest.RollbackConflict as exc:
        raise UserError(
            f"{exc} Nothing was rolled back. To undo those changes too, add --force."
        ) from None


def _password(args, confirm: bool = True) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UserError(
            "No terminal to ask for the password: pipe it in with --password-stdin, "
            "or add --sso-only for an account that signs in through single sign-on."
        )
    first = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Password again: ") != first:
        raise UserError("The two passwords differ; nothing was changed.")
    return first


def cmd_users_add(args) -> None:
    password = None if args.sso_only else _password(args)
    auth.add_user(
        _engine(), auth.cli_actor(), args.email, args.role, password, display_name=args.name
    )
    how = "single sign-on only" if args.sso_only else "with a password"
    print(f"Added {args.email.strip().lower()} as {args.role} ({how}).")


def cmd_users_list(args) -> None:
    rows = auth.list_users(_engine())
    if args.json:
        _print_json(rows)
        return
    if not rows:
        print("No users yet. Add the first admin with `liftoff users add EMAIL --role admin`.")
    for u in rows:
        locked = " (locked)" if u["locked_until"] else ""
        sso = "" if u["has_password"] else ", single sign-on only"
        print(f"{u['email']}: {u['role']}{sso}{locked}")


def cmd_users_remove(args) -> None:
    auth.remove_user(_engine(), auth.cli_actor(), args.email)
    print(f"Removed {args.email.strip().lower()}.")


def cmd_users_set_role(args) -> None:
    auth.set_role(_engine(), auth.cli_actor(), args.email, args.role)
    print(f"{args.email.strip().lower()} is now {args.role}.")


def cmd_users_set_password(args) -> None:
    auth.set_password(_engine(), auth.cli_actor(), args.email, _password(args))
    print(f"Set a new password for {args.email.strip().lower()}.")


def cmd_users_unlock(args) -> None:
    auth.unlock(_engine(), auth.cli_actor(), args.email)
    print(f"Unlocked {args.email.strip().lower()}.")


def cmd_tokens_create(args) -> None:
    token = tokens.create(
        _engine(),
        auth.cli_actor(),
        args.name,
        args.role,
        initiative=args.initiative,
        expires_days=args.expires,
    )
    limits = [args.role]
    if args.initiative:
        limits.append(f"writes only to {args.initiative}")
    if args.expires:
        limits.append(f"expires in {args.expires:g} days")
    print(
        f"Created the API token {args.name.strip()!r} ({', '.join(limits)}). It is shown only now:"
    )
    print(token)


def cmd_tokens_list(args) -> None:
    rows = tokens.list_tokens(_engine())
    if args.json:
        _print_json(rows)
        return
    if not rows:
        print("No API tokens yet. Create one with `liftoff tokens create NAME --role editor`.")
    for t in rows:
        scope = f", only {t['initiative']}" if t["initiative"] else ""
        expires = f", expires {format_moment(t['expires_at'])}" if t["expires_at"] else ""
        used = (
            f"last used {format_moment(t['last_used_at'])}" if t["last_used_at"] else "never used"
        )
        print(f"{t['name']}: {t['role']}{scope}{expires}, {t['state']}, {used}")


def cmd_tokens_revoke(args) -> None:
    tokens.revoke(_engine(), auth.cli_actor(), args.name)
    print(f"Revoked the API token {args.name!r}; requests with it now get 403.")


def cmd_pull_mlflow(args) -> None:
    from liftoff.ingest import pull

    try:
        report = pull.pull_mlflow(
            _engine(),
            auth.cli_actor(),
            args.tracking_uri,
            args.experiment,
            args.initiative,
            iteration_tag=args.iteration_tag,
            since=args.since,
            create=args.create,
        )
    except ingest.ImportRejected as exc:
        if args.json:
            _print_json(exc.report("mlflow-runs"))
        else:
            print(exc.summary(), file=sys.stderr)
        raise SystemExit(1) from None
    if args.json:
        _print_json(report.as_dict())
        return
    for w in report.warnings:
        print(f"note: {w}")
    print(report.message)


def cmd_audit(args) -> None:
    f = audit.Filter(actor=args.actor or "", actions=tuple(args.action or ()))
    rows = audit.entries(_engine(), f, limit=args.limit)
    if args.json:
        _print_json(rows)
        return
    if not rows:
        print("Nothing in the audit log matches.")
    for r in rows:
        print(
            f"{r['at']:%Y-%m-%d %H:%M:%S} {r['actor']} ({r['role'] or 'no role'}): {r['summary']}"
        )


def cmd_export(args) -> None:
    engine = _engine()
    try:
        if args.snapshot is not None:
            pack = meeting_reads.snapshot(engine, args.snapshot)
            if args.initiative and pack["initiative"]["name"] != args.initiative:
                raise UserError(
                    f"Snapshot #{args.snapshot} belongs to {pack['initiative']['name']!r}, "
                    f"not {args.initiative!r}."
                )
        else:
            if not args.initiative:
                raise UserError("Give --initiative NAME (or --snapshot ID).")
            pack = steering_pack.build(engine, args.initiative, args.iteration)
    except (meeting_reads.SnapshotNotFound, LookupError) as exc:
        raise UserError(str(exc.args[0] if exc.args else exc)) from None
    data = (
        meeting_export.to_html(pack).encode("utf-8")
        if args.format == "html"
        else meeting_export.to_csv_zip(pack)
    )
    try:
        with open(args.output, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise UserError(f"Cannot write {args.output}: {exc.strerror}.") from None
    what = "HTML pack" if args.format == "html" else "ZIP of CSVs"
    stamp = steering_pack.as_of(pack)
    print(
        f"Wrote the {what} of {pack['initiative']['name']} iteration {pack['iteration']['number']}"
        + (f" ({stamp})" if stamp else "")
        + f" to {args.output} ({len(data) / 1024:,.0f} KB)."
    )


def cmd_run(args) -> None:
    _engine()  # refuse to start on an unreachable or outdated database
    from liftoff.server import create_app

    if config.value("LIFTOFF_NOTIFY_WORKER") == "on":
        # In this process, beside the server it runs: notifications go out from the start,
        # whether or not anyone has the app open.
        notify_worker.start_in_background(database_url())
    # Streamlit reads .streamlit/config.toml beside the main script and in the working
    # folder; the launcher it records is the main script itself.
    os.chdir(PROJECT_ROOT)
    sys.argv = [str(PROJECT_ROOT / "app.py")]
    create_app().run(config={"server.port": args.port, "server.address": args.address})


def _when(value) -> str:
    return "never" if value is None else f"{value.day} {value:%b %Y %H:%M}"


def cmd_channels_add(args) -> None:
    secret = None
    if args.secret_stdin:
        secret = sys.stdin.readline().strip()
        if not secret:
            raise UserError(
                "No secret on standard input: give it on one line, or leave out --secret-stdin."
            )
    notify_writes.add_channel(
        _engine(),
        auth.cli_actor(),
        args.name,
        kind=args.kind,
        target=args.target,
        initiative=args.initiative,
        min_severity=args.min_severity,
        format=args.format,
        secret=secret,
    )
    scope = args.initiative or "every initiative"
    print(
        f"Added the {args.kind} channel {args.name!r} ({args.target}) for {scope}, "
        f"{args.min_severity} severity and above."
    )


def cmd_channels_list(args) -> None:
    rows = notify_reads.channels(_engine())
    if args.json:
        _print_json(
            [{k: v for k, v in r.items() if k not in ("id", "initiative_id")} for r in rows]
        )
        return
    if not rows:
        print(
            "No channels yet. Add one with `liftoff channels add NAME --kind webhook|email --target URL|ADDRESS`."
        )
        return
    for r in rows:
        line = (
            f"{r['name']}: {r['kind']}"
            + (f" ({r['format']})" if r["kind"] == "webhook" and r["format"] != "json" else "")
            + f" to {r['target']}, {r['initiative'] or 'every initiative'}, "
            f"{r['min_severity']} and above{', signed' if r['has_secret'] else ''}. "
            f"Last sent {_when(r['last_success_at'])}"
        )
        if r["last_error"]:
            line += f"; last error {_when(r['last_error_at'])}: {r['last_error']}"
        if r["waiting"]:
            line += f"; {r['waiting']} waiting"
        if r["given_up"]:
            line += f"; {r['given_up']} given up"
        print(line + ".")


def cmd_channels_remove(args) -> None:
    notify_writes.remove_channel(_engine(), auth.cli_actor(), args.name)
    print(f"Removed the channel {args.name!r}.")


def _send_now(engine, ids: list[int], what: str) -> None:
    outcome = notify_worker.deliver_due(engine, only=ids)
    if outcome.failed:
        errors = [r for r in notify_reads.recent_messages(engine, 200) if r["id"] in ids]
        reason = next((r["last_error"] for r in errors if r["last_error"]), "unknown")
        raise UserError(f"{what} not sent: {reason} It stays queued and is retried by the worker.")
    print(f"{what} sent ({outcome.sent} message{'s' if outcome.sent != 1 else ''}).")


def cmd_channels_test(args) -> None:
    engine = _engine()
    message_id = notify_writes.queue_test(engine, auth.cli_actor(), args.name)
    _send_now(engine, [message_id], f"Test message to {args.name!r}")


def _date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-16."
        ) from None


def cmd_digest(args) -> None:
    engine = _engine()
    if args.print:
        text, _ = notify_digest.render(notify_digest.build(engine, args.initiative, args.since))
        print(text)
        return
    ids = notify_digest.queue(engine, auth.cli_actor(), args.initiative, args.since, to=args.to)
    _send_now(engine, ids, f"The digest of {args.initiative}")


def cmd_notify_run(args) -> None:
    engine = _engine()
    if not args.once:
        print(f"Sending notifications every {args.interval:g} s; stop with Ctrl+C.", flush=True)
    try:
        outcome = notify_worker.run(
            engine,
            once=args.once,
            interval_s=args.interval,
            timeout_s=args.timeout,
            backoff_s=args.backoff,
        )
    except KeyboardInterrupt:
        return
    print(f"Sent {outcome.sent}, failed {outcome.failed} (retried later).")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="liftoff",
        description="Liftoff: the decision dashboard for AI initiatives. "
        "The database comes from LIFTOFF_DATABASE_URL (default: data/liftoff.db).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("migrate", help="bring the database schema to the newest version").set_defaults(
        func=cmd_migrate
    )

    p = sub.add_parser("demo", help="load the demo portfolio")
    p.add_argument(
        "--reset", action="store_true", help="remove the demo initiatives and load them afresh"
    )
    p.add_argument(
        "--if-empty", action="store_true", help="load only when the database holds no initiative"
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("initiative", help="list or change initiatives")
    isub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = isub.add_parser("list", help="list initiatives")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=cmd_initiative_list)
    q = isub.add_parser("set", help="change an initiative's settings")
    q.add_argument("name", metavar="NAME")
    q.add_argument(
        "--create", action="store_true", help="create the initiative if it does not exist"
    )
    q.add_argument("--stage", choices=STAGES)
    q.add_argument("--slo-p95-ms", type=float, metavar="N", help="latency SLO: p95 in milliseconds")
    q.add_argument(
        "--max-error-rate", type=float, metavar="R", help="error budget as a fraction (1%% = 0.01)"
    )
    q.add_argument("--primary-metric", metavar="KEY", help="key of the primary model metric")
    q.add_argument("--goal", help="the business goal, in a sentence")
    q.add_argument("--owner", help="who owns the initiative")
    q.set_defaults(func=cmd_initiative_set)

    p = sub.add_parser("summary", help="the figures the screens show for one initiative")
    p.add_argument("--initiative", required=True, metavar="NAME")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("import", help="import CSV or Excel files (all or nothing per file)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--kind",
        default="auto",
        choices=["auto", *ingest.KINDS],
        help="what the file holds (default: detect)",
    )
    p.add_argument(
        "--initiative", metavar="NAME", help="initiative for files without an initiative column"
    )
    p.add_argument(
        "--iteration", type=int, metavar="N", help="iteration for files without an iteration column"
    )
    p.add_argument("--users", type=int, metavar="N", help="user count of a Locust _stats.csv step")
    p.add_argument(
        "--create", action="store_true", help="create initiatives and iterations the file names"
    )
    p.add_argument("--force", action="store_true", help="import a file that was imported before")
    p.add_argument(
        "--replace-load-tests",
        action="store_true",
        help="a load test of an iteration that has one replaces it (rolling back brings it back)",
    )
    p.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    p.add_argument(
        "--percent",
        action="store_true",
        help="plain numbers of ratio metrics are percentages (87.5 means 87.5 %%)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--sheet", metavar="NAME", help="Excel: the sheet to read (default: the first)")
    p.add_argument(
        "--dates", choices=["dayfirst", "monthfirst"], help="how to read dates like 03/04/2026"
    )
    p.add_argument(
        "--iteration-tag",
        default="tags.iteration",
        metavar="COLUMN",
        help="MLflow runs: the column naming each run's iteration (default: tags.iteration)",
    )
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("rollback", help="remove exactly the rows of an import batch")
    p.add_argument("batch_id", type=int, metavar="BATCH_ID")
    p.add_argument(
        "--force",
        action="store_true",
        help="roll back even when rows of the batch were changed since (undoing those changes)",
    )
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("batches", help="list import batches")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_batches)

    p = sub.add_parser("export", help="write a steering pack as HTML or a ZIP of CSVs")
    p.add_argument("--initiative", metavar="NAME")
    p.add_argument("--iteration", type=int, metavar="N", help="default: the latest")
    p.add_argument("--snapshot", type=int, metavar="ID", help="a frozen pack instead of today's")
    p.add_argument("--format", choices=["html", "csv"], required=True)
    p.add_argument("-o", "--output", required=True, metavar="PATH")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("users", help="add, list, remove users and set their roles")
    usub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = usub.add_parser("add", help="add a user")
    q.add_argument("email", metavar="EMAIL")
    q.add_argument("--role", required=True, choices=auth.ROLES)
    q.add_argument("--name", help="display name")
    q.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    q.add_argument(
        "--sso-only", action="store_true", help="no password: signs in through single sign-on"
    )
    q.set_defaults(func=cmd_users_add)
    q = usub.add_parser("list", help="list users")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=cmd_users_list)
    q = usub.add_parser("remove", help="remove a user")
    q.add_argument("email", metavar="EMAIL")
    q.set_defaults(func=cmd_users_remove)
    q = usub.add_parser("set-role", help="change a user's role")
    q.add_argument("email", metavar="EMAIL")
    q.add_argument("role", choices=auth.ROLES, metavar="ROLE")
    q.set_defaults(func=cmd_users_set_role)
    q = usub.add_parser("set-password", help="set a user's password")
    q.add_argument("email", metavar="EMAIL")
    q.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    q.set_defaults(func=cmd_users_set_password)
    q = usub.add_parser("unlock", help="lift a lock-out after wrong passwords")
    q.add_argument("email", metavar="EMAIL")
    q.set_defaults(func=cmd_users_unlock)

    p = sub.add_parser("tokens", help="create, list and revoke API tokens for pipelines")
    tsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = tsub.add_parser("create", help="create a token (printed once)")
    q.add_argument("name", metavar="NAME", help="what the token is for, e.g. training-pipeline")
    q.add_argument("--role", required=True, choices=tokens.TOKEN_ROLES)
    q.add_argument("--initiative", metavar="NAME", help="the only initiative it may write to")
    q.add_argument("--expires", type=float, metavar="DAYS", help="days until it stops working")
    q.set_defaults(func=cmd_tokens_create)
    q = tsub.add_parser("list", help="list tokens (never the tokens themselves)")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=cmd_tokens_list)
    q = tsub.add_parser("revoke", help="revoke a token: it stops working at once")
    q.add_argument("name", metavar="NAME")
    q.set_defaults(func=cmd_tokens_revoke)

    p = sub.add_parser("pull", help="pull runs from a tracking server")
    psub = p.add_subparsers(dest="source", required=True, metavar="SOURCE")
    q = psub.add_parser("mlflow", help="an MLflow experiment's runs, as candidates of iterations")
    q.add_argument(
        "--tracking-uri", required=True, metavar="URI", help="e.g. http://127.0.0.1:5000"
    )
    q.add_argument("--experiment", required=True, metavar="NAME")
    q.add_argument("--initiative", required=True, metavar="NAME")
    q.add_argument(
        "--iteration-tag",
        default="iteration",
        metavar="TAG",
        help="the run tag naming its iteration (default: iteration)",
    )
    q.add_argument("--since", type=_date, metavar="DATE", help="only runs started on or after")
    q.add_argument("--create", action="store_true", help="create iterations the runs name")
    q.add_argument("--json", action="store_true", help="print the result as JSON")
    q.set_defaults(func=cmd_pull_mlflow)

    p = sub.add_parser("audit", help="the newest audit-log entries")
    p.add_argument("--limit", type=int, default=50, metavar="N")
    p.add_argument("--actor", metavar="TEXT", help="only entries whose actor contains TEXT")
    p.add_argument("--action", action="append", choices=sorted(audit.ACTIONS), metavar="ACTION")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("channels", help="where alerts and digests go: webhooks and email")
    csub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = csub.add_parser("add", help="add a webhook or email channel")
    q.add_argument("name")
    q.add_argument("--kind", required=True, choices=["webhook", "email"])
    q.add_argument("--target", required=True, metavar="URL|ADDRESS")
    q.add_argument("--initiative", metavar="NAME", help="only this initiative's alerts")
    q.add_argument("--min-severity", default="low", choices=["low", "medium", "high", "critical"])
    q.add_argument(
        "--format",
        default="json",
        choices=["json", "slack", "teams"],
        help="webhook body: Liftoff's JSON (default), or Slack's or Teams' incoming-webhook body",
    )
    q.add_argument(
        "--secret-stdin",
        action="store_true",
        help="sign webhook bodies with the secret read from standard input",
    )
    q.set_defaults(func=cmd_channels_add)
    q = csub.add_parser("list", help="channels with their last success and last error")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_channels_list)
    q = csub.add_parser("remove", help="remove a channel")
    q.add_argument("name")
    q.set_defaults(func=cmd_channels_remove)
    q = csub.add_parser("test", help="send a test message to a channel now")
    q.add_argument("name")
    q.set_defaults(func=cmd_channels_test)

    p = sub.add_parser("digest", help="send what changed for an initiative since a date")
    p.add_argument("--initiative", required=True, metavar="NAME")
    p.add_argument("--since", required=True, type=_date, metavar="YYYY-MM-DD")
    p.add_argument("--to", metavar="ADDRESS", help="this address (default: the email channels)")
    p.add_argument("--print", action="store_true", help="print it instead of sending it")
    p.set_defaults(func=cmd_digest)

    p = sub.add_parser("notify", help="the notification worker")
    nsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = nsub.add_parser("run", help="send queued notifications, retrying failures with backoff")
    q.add_argument("--once", action="store_true", help="send what is due now, then stop")
    q.add_argument("--interval", type=float, default=notify_worker.DEFAULT_INTERVAL_S, metavar="S")
    q.add_argument("--timeout", type=float, default=notify_worker.DEFAULT_TIMEOUT_S, metavar="S")
    q.add_argument(
        "--backoff",
        type=float,
        default=notify_worker.DEFAULT_BACKOFF_S,
        metavar="S",
        help="seconds before the first retry (doubling after each failure)",
    )
    q.set_defaults(func=cmd_notify_run)

    p = sub.add_parser("run", help="start the app server (sign-in routes, the API and the screens)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument(
        "--address",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; serve a team "
        "through a reverse proxy, see the README)",
    )
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except LiftoffError as exc:
        print(f"liftoff: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 1
    except DBAPIError as exc:  # the database refused a statement: its reason, in one line
        print(f"liftoff: {db.refused(database_url(), exc)}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader stopped early (`liftoff batches | head`): not an error of the command.
        # Python would report the pipe again when it flushes stdout at exit, so point stdout
        # at nothing first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The `liftoff` command: its contract (README, "Command line"), one clear message for user errors."""

import json
import os
import subprocess
import sys

import pytest

from liftoff import cli
from liftoff.demo import builder as demo_builder
from liftoff.demo import story


@pytest.fixture
def run(monkeypatch, capsys):
    def run(url, *args):
        monkeypatch.setenv("LIFTOFF_DATABASE_URL", url)
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_migrate_on_a_blank_database_then_again(run, blank_url):
    code, out, _ = run(blank_url, "migrate")
    assert code == 0 and "Migrated the database from version empty to" in out
    code, out, _ = run(blank_url, "migrate")
    assert code == 0 and "up to date" in out


def test_commands_refuse_an_unmigrated_database(run, blank_url):
    code, out, err = run(blank_url, "initiative", "list")
    assert code == 1
    assert err.strip() == (
        "liftoff: The database has no Liftoff tables yet. Run `liftoff migrate` "
        "(or `make run`, which migrates and loads the demo portfolio)."
    )


def test_demo_if_empty_loads_only_into_an_empty_database(run, db_url):
    code, out, _ = run(db_url, "initiative", "set", "Mine", "--create")
    assert code == 0
    code, out, _ = run(db_url, "demo", "--if-empty")
    assert "not loaded" in out
    code, out, _ = run(db_url, "initiative", "list", "--json")
    assert [i["name"] for i in json.loads(out)] == ["Mine"]


def test_demo_then_list(run, db_url):
    code, out, _ = run(db_url, "demo")
    assert code == 0 and out.startswith("Loaded the demo portfolio")
    code, out, _ = run(db_url, "initiative", "list", "--json")
    rows = json.loads(out)
    assert {r["name"] for r in rows} == set(demo_builder.DEMO_NAMES)
    claims = next(r for r in rows if r["name"] == "Claims triage assistant")
    assert claims == {
        "name": "Claims triage assistant",
        "business_goal": story.CLAIMS.goal,
        "owner": story.CLAIMS.owner,
        "stage": "production",
        "min_headroom": None,
        "min_readiness": None,
        "slo_p95_ms": 800.0,
        "max_error_rate": 0.01,
        "primary_metric": "triage_accuracy",
    }


def test_initiative_set_creates_and_updates(run, db_url):
    code, out, _ = run(
        db_url,
        "initiative",
        "set",
        "Fraud screening",
        "--create",
        "--stage",
        "poc",
        "--slo-p95-ms",
        "250",
        "--max-error-rate",
        "0.005",
        "--primary-metric",
        "recall",
    )
    assert code == 0 and out.strip() == "Created initiative 'Fraud screening'."
    code, out, _ = run(db_url, "initiative", "set", "Fraud screening", "--stage", "pilot")
    assert code == 0 and "stage=pilot" in out
    code, out, _ = run(db_url, "initiative", "list")
    assert out.strip() == (
        "Fraud screening: Pilot, p95 SLO 250 ms, max error rate 0.50%, primary metric recall"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["Nobody", "--stage", "pilot"],
            "No initiative is named 'Nobody'. Add --create to create it",
        ),
        (
            ["X", "--create", "--max-error-rate", "5"],
            "a fraction between 0 and 1 (1% is 0.01), not 5.0",
        ),
        (["X", "--create", "--slo-p95-ms", "-3"], "positive number of milliseconds, not -3.0"),
    ],
)
def test_initiative_set_rejects_bad_values_and_writes_nothing(run, db_url, args, message):
    code, _, err = run(db_url, "initiative", "set", *args)
    assert code == 1 and message in err
    assert "Traceback" not in err
    _, out, _ = run(db_url, "initiative", "list", "--json")
    assert json.loads(out) == []


def test_summary_json_shape_and_figures(run, demo_url):
    code, out, _ = run(demo_url, "summary", "--initiative", "Churn early-warning", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["initiative"]["name"] == "Churn early-warning"
    assert data["initiative"]["stage"] == "pilot"
    assert [it["number"] for it in data["iterations"]] == [1, 2, 3, 4, 5, 6]
    latest = data["iterations"][-1]
    assert latest["decision"] == "pending"
    assert latest["candidate"] == "lgbm-offers"
    assert latest["metrics"]["churn_auc"] == pytest.approx(0.842)
    assert {c["status"] for c in latest["criteria"]} == {"met", "not_met", "no_evidence"}
    assert set(latest["criteria"][0]) == {
        "kind",
        "description",
        "metric",
        "comparator",
        "target",
        "value",
        "status",
    }
    assert latest["capacity_rps"] > 0
    assert data["iterations"][3]["decision"] == "pivot"


def test_summary_of_unknown_initiative(run, demo_url):
    code, _, err = run(demo_url, "summary", "--initiative", "Nope", "--json")
    assert code == 1
    assert err.startswith(
        "liftoff: No initiative is named 'Nope'. Initiatives: Churn early-warning,"
    )


def test_batches_lists_the_demo_batches(run, demo_url):
    code, out, _ = run(demo_url, "batches", "--json")
    rows = json.loads(out)
    # One batch per file in data/demo, imported as the Upload page imports it.
    assert code == 0 and len(rows) == len(story.FILES)
    assert {(r["file_name"], r["kind"]) for r in rows} == {
        ("data/demo/" + name, kind) for name, kind, _ in story.FILES
    }
    assert all(r["status"] == "committed" and r["rows_accepted"] > 0 for r in rows)


def test_batches_count_rows_in_words_and_stop_quietly_when_the_reader_does(run, demo_url, tmp_path):
    one = tmp_path / "one_stats.csv"
    one.write_text(
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
        "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
        "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
        ",Aggregated,1722,10,18,194.7,12.0,2442.8,2.0,86.1,0.5,18,26,280,400,590,1100,1300,"
        "1400,2400,2400,2400\n"
    )
    code, _, err = run(
        demo_url,
        "import",
        str(one),
        "--initiative",
        "Churn early-warning",
        "--iteration",
        "6",
        "--users",
        "60",
    )
    assert code == 0, err
    code, out, _ = run(demo_url, "batches")
    first = out.splitlines()[0]
    # Whose data it is, as the import history says it.
    assert first.endswith("'one_stats.csv' for Churn early-warning: 1 load-test step, committed"), (
        first
    )

    # `liftoff batches | head -1`: the reader leaves after one line; no traceback follows.
    exe = os.path.join(os.path.dirname(sys.executable), "liftoff")
    piped = subprocess.run(
        f"'{exe}' batches | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "LIFTOFF_DATABASE_URL": demo_url},
    )
    assert piped.stdout.strip() == first
    assert "Traceback" not in piped.stderr and "BrokenPipe" not in piped.stderr, piped.stderr


def test_installed_console_script_reports_a_bad_url_without_traceback(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "liftoff")
    result = subprocess.run(
        [exe, "initiative", "list"],
        capture_output=True,
        text=True,
        env={**os.environ, "LIFTOFF_DATABASE_URL": "definitely not a url"},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("liftoff: LIFTOFF_DATABASE_URL is not a database URL")
    assert "Traceback" not in result.stderr


def test_import_says_what_it_did_in_plain_words(run, demo_url, tmp_path):
    rows = "\n".join(f"6,cli_metric,{i / 2000}" for i in range(1_200))
    path = tmp_path / "weekly.csv"
    path.write_text(f"iteration,metric,value\n{rows}\n")
    args = ("import", str(path), "--initiative", "Churn early-warning")
    code, out, _ = run(demo_url, *args, "--dry-run")
    assert code == 0
    assert "weekly.csv: would import 1,200 values of metrics." in out
    code, out, _ = run(demo_url, *args)
    assert code == 0
    assert "weekly.csv: note: New metrics will be created: cli_metric" in out
    assert out.strip().splitlines()[-1].endswith(": 1,200 values of metrics.")
    # The demo's batches come first, one per file.
    assert f"weekly.csv: imported as batch #{len(story.FILES) + 1}: 1,200 values" in out


@pytest.mark.parametrize(
    "text",
    [
        "iteration,metric,value\n6,churn_auc,0.9\n",  # good
        "iteration,metric,value\n6,churn_auc,not a number\n",  # a bad value
        "no,columns,we,know\n1,2,3,4\n",  # an unknown kind
    ],
)
def test_dry_run_exits_the_same_way_with_and_without_json(
    demo_url, tmp_path, text, monkeypatch, capsys
):
    path = tmp_path / "check.csv"
    path.write_text(text)
    args = ["import", str(path), "--initiative", "Churn early-warning", "--dry-run"]
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", demo_url)

    def code(argv):
        try:
            return cli.main(argv) or 0
        except SystemExit as exc:  # import refusals exit 1 as the console script does
            return exc.code

    plain = code(args)
    as_json = code([*args, "--json"])
    out, err = capsys.readouterr()
    assert plain == as_json, (err, out)
    assert (plain == 0) == text.endswith("0.9\n")
    assert "Traceback" not in err


@pytest.mark.postgres
def test_a_database_whose_tables_belong_to_another_user_is_one_line_not_a_traceback(
    postgres, postgres_templates
):
    """After a restore made as the superuser, the app's own user may not read the tables: the
    CLI says so in one line and points at the fix, as the app's pages do."""
    import subprocess
    import sys
    from pathlib import Path

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    url = postgres.create(f"liftoff_owned_{os.getpid()}", template=postgres_templates["demo"])
    role = f"liftoff_app_{os.getpid()}"
    admin = postgres.admin  # on the server's own database, so dropping this one is possible
    with admin.connect() as conn:
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'GRANT CONNECT ON DATABASE "{make_url(url).database}" TO "{role}"'))
    try:
        app_url = make_url(url).set(username=role).render_as_string(hide_password=False)
        done = subprocess.run(
            [str(Path(sys.executable).parent / "liftoff"), "initiative", "list"],
            env={**os.environ, "LIFTOFF_DATABASE_URL": app_url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "permission denied" in lines[0], done.stderr
        assert "restore the backup as that user" in lines[0]
    finally:
        postgres.drop(make_url(url).database)
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))

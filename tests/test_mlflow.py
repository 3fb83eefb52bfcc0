"""`liftoff pull mlflow` and POST /api/v1/pulls/mlflow against a real MLflow tracking server
(`mlflow server` on 127.0.0.1 with a SQLite backend, started and stopped here), with runs logged
through MLflow's own client. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import httpx
import pytest
from mlflow.tracking import MlflowClient
from sqlalchemy import select

from api_server import database, serve
from conftest import BACKENDS, free_port, table_checksums
from liftoff import cli
from liftoff.db.models import ImportBatch, Metric, Observation
from liftoff.evidence import summary

INITIATIVE = "Churn early-warning"
_experiments = itertools.count()


@pytest.fixture(scope="module")
def mlflow_uri(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    log_path = folder / "mlflow.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--default-artifact-root",
            str(folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env={**os.environ, "MLFLOW_TRACKING_URI": ""},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"
    # It migrates its SQLite store first: about 20 s on a quiet 2-core machine, 80 s on a busy one.
    deadline = time.monotonic() + 240
    while True:
        try:
            if httpx.get(f"{uri}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("mlflow server did not start: " + log_path.read_text()[-3000:])
        time.sleep(0.5)
    yield uri
    # The server runs uvicorn under its own process group: stop the whole group.
    os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
    log.close()


def log_run(client: MlflowClient, experiment_id: str, name: str, iteration: int, auc: float):
    """A finished run as a training script logs it: a history of auc, a final loss, params."""
    run = client.create_run(experiment_id, tags={"iteration": str(iteration)}, run_name=name)
    for step, value in enumerate((auc - 0.06, auc - 0.02, auc)):
        client.log_metric(run.info.run_id, "churn_auc", value, step=step)
    client.log_metric(run.info.run_id, "val_loss", round(1 - auc, 4))
    client.log_param(run.info.run_id, "num_leaves", "55")
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def pull(monkeypatch, capsys, db_url, uri, experiment, *extra) -> dict:
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", db_url)
    capsys.readouterr()
    code = cli.main(
        [
            "pull",
            "mlflow",
            "--tracking-uri",
            uri,
            "--experiment",
            experiment,
            "--initiative",
            INITIATIVE,
            "--json",
            *extra,
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def steps(engine, source_prefix: str, candidate: str) -> list[tuple]:
    """(recorded at, value) of a candidate's churn_auc steps stored from the metric histories."""
    return sorted(
        (r[3], r[2])
        for r in stored(engine, source_prefix)
        if r[0] == candidate and r[1] == "churn_auc" and "metric histories" in r[4]
    )


def stored(engine, source_prefix: str) -> list[tuple]:
    """The observations of every committed batch pulled from the experiment: candidate, metric,
    value, recorded at, batch file name."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Observation.candidate,
                Metric.key,
                Observation.value,
                Observation.recorded_at,
                ImportBatch.file_name,
            )
            .join(Metric, Metric.id == Observation.metric_id)
            .join(ImportBatch, ImportBatch.id == Observation.batch_id)
            .where(ImportBatch.file_name.startswith(source_prefix))
            .where(ImportBatch.status == "committed")
        ).all()
    return sorted(tuple(r) for r in rows)


def test_pull_is_idempotent_adds_new_runs_reports_deleted_ones_and_matches_mlflow(
    mlflow_uri, demo_url, demo_engine, monkeypatch, capsys
):
    client = MlflowClient(tracking_uri=mlflow_uri)
    experiment = f"churn-offers-{os.getpid()}-{next(_experiments)}"
    experiment_id = client.create_experiment(experiment)
    xgb = log_run(client, experiment_id, "xgb-offers", 9, 0.8215)
    cat = log_run(client, experiment_id, "catboost-offers", 9, 0.8269)
    prefix = f"MLflow {experiment} at"

    first = pull(monkeypatch, capsys, demo_url, mlflow_uri, experiment, "--create")
    assert sorted(first["added"]) == ["catboost-offers", "xgb-offers"]
    assert first["batch_id"] and first["deleted"] == []
    rows = stored(demo_engine, prefix)
    # Two runs x (churn_auc, val_loss) at their latest values, and churn_auc's three steps each.
    assert len(rows) == 4 + 6
    assert first["history_steps"] == 6 and first["history_batch_id"]
    for run_id, name in ((xgb, "xgb-offers"), (cat, "catboost-offers")):
        logged = client.get_metric_history(run_id, "churn_auc")
        assert steps(demo_engine, prefix, name) == sorted(
            (datetime.fromtimestamp(m.timestamp / 1000, UTC).replace(tzinfo=None), m.value)
            for m in logged
        )

    # Twice: the same stored rows, nothing new written.
    before = table_checksums(demo_engine)
    again = pull(monkeypatch, capsys, demo_url, mlflow_uri, experiment)
    assert again["batch_id"] is None
    assert sorted(again["unchanged"]) == ["catboost-offers", "xgb-offers"]
    assert table_checksums(demo_engine) == before

    # The headline values of the iteration are MLflow's, from its best run on the primary metric.
    figures = next(
        i for i in summary.summary(demo_engine, INITIATIVE)["iterations"] if i["number"] == 9
    )
    best = client.search_runs([experiment_id], order_by=["metrics.churn_auc DESC"])[0]
    assert figures["candidate"] == "catboost-offers" == best.info.run_name
    assert figures["metrics"]["churn_auc"] == best.data.metrics["churn_auc"]
    assert figures["metrics"]["val_loss"] == best.data.metrics["val_loss"]

    # A run logged in between is added; the others stay, once.
    log_run(client, experiment_id, "lgbm-offers", 9, 0.8401)
    third = pull(monkeypatch, capsys, demo_url, mlflow_uri, experiment)
    assert third["added"] == ["lgbm-offers"]
    assert sorted(third["unchanged"]) == ["catboost-offers", "xgb-offers"]
    assert third["superseded"] == [first["batch_id"], first["history_batch_id"]]
    rows = stored(demo_engine, prefix)
    latest = [r for r in rows if "metric histories" not in r[4]]
    assert len(latest) == 6 and len({(r[0], r[1]) for r in latest}) == 6
    assert len(rows) == 6 + 9  # and three runs' churn_auc steps, once each
    figures = next(
        i for i in summary.summary(demo_engine, INITIATIVE)["iterations"] if i["number"] == 9
    )
    assert figures["candidate"] == "lgbm-offers"
    assert figures["metrics"]["churn_auc"] == 0.8401

    # A step logged since: that run is updated, its history read again, the others' kept.
    client.log_metric(cat, "churn_auc", 0.8301, step=3)
    stepped = pull(monkeypatch, capsys, demo_url, mlflow_uri, experiment)
    assert stepped["updated"] == ["catboost-offers"]
    assert [v for _, v in steps(demo_engine, prefix, "catboost-offers")][-1] == 0.8301
    assert len(steps(demo_engine, prefix, "catboost-offers")) == 4
    assert len(steps(demo_engine, prefix, "xgb-offers")) == 3

    # A run deleted in MLflow is reported, and its values leave with the old snapshot.
    client.delete_run(xgb)
    fourth = pull(monkeypatch, capsys, demo_url, mlflow_uri, experiment)
    assert fourth["deleted"] == ["xgb-offers"]
    assert "Deleted in MLflow, so removed here: xgb-offers." in fourth["message"]
    assert {r[0] for r in stored(demo_engine, prefix)} == {"catboost-offers", "lgbm-offers"}


def test_a_pull_that_cannot_be_done_says_why_and_writes_nothing(
    mlflow_uri, demo_url, demo_engine, monkeypatch, capsys
):
    client = MlflowClient(tracking_uri=mlflow_uri)
    experiment = f"untagged-{os.getpid()}-{next(_experiments)}"
    experiment_id = client.create_experiment(experiment)
    run = client.create_run(experiment_id, run_name="no-iteration")  # no iteration tag
    client.log_metric(run.info.run_id, "churn_auc", 0.8)
    client.set_terminated(run.info.run_id)
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", demo_url)
    before = table_checksums(demo_engine)

    def refused(*args) -> str:
        capsys.readouterr()
        with pytest.raises(SystemExit) if "--json" in args else _no_exit():
            assert cli.main(["pull", "mlflow", *args]) == 1
        return capsys.readouterr()

    out = refused("--tracking-uri", mlflow_uri, "--experiment", "nope", "--initiative", INITIATIVE)
    assert "has no experiment named 'nope' (experiments: " in out.err
    out = refused("--tracking-uri", "file:///etc", "--experiment", "x", "--initiative", INITIATIVE)
    assert "give its http(s) URL" in out.err
    port = free_port()  # nothing listens there
    out = refused(
        "--tracking-uri",
        f"http://127.0.0.1:{port}",
        "--experiment",
        "x",
        "--initiative",
        INITIATIVE,
    )
    assert "no server answered there" in out.err
    out = refused(
        "--tracking-uri",
        mlflow_uri,
        "--experiment",
        experiment,
        "--initiative",
        INITIATIVE,
        "--json",
    )
    report = json.loads(out.out)
    assert report["errors"] and report["batch_id"] is None
    assert "iteration" in json.dumps(report["errors"])
    assert table_checksums(demo_engine) == before


class _no_exit:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture(scope="module", params=BACKENDS)
def api(request, tmp_path_factory, mlflow_uri):
    url = database(request, tmp_path_factory)
    yield from serve(url, tmp_path_factory.mktemp("api-mlflow"), LIFTOFF_MLFLOW_URIS=mlflow_uri)


def test_the_api_pulls_with_the_token_and_keeps_to_the_allowed_servers(api, mlflow_uri):
    client = MlflowClient(tracking_uri=mlflow_uri)
    experiment = f"api-{os.getpid()}-{next(_experiments)}"
    experiment_id = client.create_experiment(experiment)
    log_run(client, experiment_id, "api-run", 2, 0.79)
    token, name = api.token("editor")
    body = {"tracking_uri": mlflow_uri, "experiment": experiment, "initiative": INITIATIVE}
    with api.client(token) as http:
        answer = http.post("/pulls/mlflow", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["added"] == ["api-run"]
        with api.engine.connect() as conn:
            by = conn.execute(
                select(ImportBatch.uploaded_by).where(ImportBatch.id == answer.json()["batch_id"])
            ).scalar()
        assert by == f"token {name}"
        # Only the servers of LIFTOFF_MLFLOW_URIS: the server never reaches elsewhere.
        other = http.post("/pulls/mlflow", json={**body, "tracking_uri": "http://10.0.0.1:5000"})
        assert other.status_code == 422
        assert "LIFTOFF_MLFLOW_URIS" in other.json()["error"]["message"]
    viewer, _ = api.token("viewer")
    with api.client(viewer) as http:
        assert http.post("/pulls/mlflow", json=body).status_code == 403
    scoped, _ = api.token("editor", initiative="Claims triage assistant")
    with api.client(scoped) as http:
        assert http.post("/pulls/mlflow", json=body).status_code == 403


def test_the_upload_page_pulls_from_an_mlflow_server(
    mlflow_uri, use_database, demo_url, demo_engine
):
    from streamlit.testing.v1 import AppTest

    from conftest import PROJECT_ROOT, sign_in_as, texts

    client = MlflowClient(tracking_uri=mlflow_uri)
    experiment = f"page-{os.getpid()}-{next(_experiments)}"
    experiment_id = client.create_experiment(experiment)
    log_run(client, experiment_id, "page-run", 3, 0.81)
    use_database(demo_url)
    at = sign_in_as(AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=90), "editor")
    at.query_params["initiative"] = INITIATIVE
    at.run()
    at.switch_page("screens/upload.py").run()
    fields = {t.label: t for t in at.text_input}

    fields["Tracking server"].input(f"http://127.0.0.1:{free_port()}")
    fields["Experiment"].input(experiment)
    next(b for b in at.button if b.label == "Pull runs").click().run()
    assert not at.exception
    assert "no server answered there" in texts(at)

    fields = {t.label: t for t in at.text_input}
    fields["Tracking server"].input(mlflow_uri)
    next(b for b in at.button if b.label == "Pull runs").click().run()
    assert not at.exception
    assert "Pulled 1 run as batch #" in texts(at)
    assert "and 3 metric steps as batch #" in texts(at)
    rows = stored(demo_engine, f"MLflow {experiment} at")
    assert [r[:3] for r in rows if "metric histories" not in r[4]] == [
        ("page-run", "churn_auc", 0.81),
        ("page-run", "val_loss", 0.19),
    ]
    assert len(steps(demo_engine, f"MLflow {experiment} at", "page-run")) == 3

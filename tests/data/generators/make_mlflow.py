"""Regenerates the real MLflow files of the corpus with MLflow's own API (local file store).

Needs `pip install mlflow-skinny pandas` (not Liftoff dependencies). Writes:
- mlflow_runs.csv: `mlflow.search_runs(...).to_csv()` of six runs over two iterations;
- mlflow_history.csv: each run's metric history as run_id,key,value,step,timestamp.

Usage: python make_mlflow.py OUTPUT_DIR
"""

import csv
import random
import sys
import tempfile
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

out = Path(sys.argv[1])
rng = random.Random(42)
with tempfile.TemporaryDirectory() as store:
    mlflow.set_tracking_uri(f"sqlite:///{Path(store, 'mlflow.db')}")
    mlflow.set_experiment("churn-early-warning")
    for iteration, runs in (
        (5, ("lgbm-reasons", "lgbm-reasons-cal")),
        (6, ("lgbm-offers", "lgbm-offers-lite", "catboost-offers", "xgb-offers")),
    ):
        for j, name in enumerate(runs):
            with mlflow.start_run(run_name=name):
                mlflow.set_tag("iteration", str(iteration))
                mlflow.log_params({"learning_rate": 0.05 + 0.01 * j, "num_leaves": 31 + 8 * j})
                auc = 0.80 + 0.01 * iteration - 0.04 + rng.uniform(-0.01, 0.01)
                for step in range(5):
                    mlflow.log_metric("auc", round(auc - 0.02 * (4 - step), 4), step=step)
                    mlflow.log_metric(
                        "val_loss", round(0.45 - 0.03 * step + rng.uniform(0, 0.01), 4), step=step
                    )
                mlflow.log_metric("precision_at_10", round(0.45 + rng.uniform(0, 0.05), 4))
    runs = mlflow.search_runs(experiment_names=["churn-early-warning"])
    runs.to_csv(out / "mlflow_runs.csv", index=False)
    client = MlflowClient()
    with open(out / "mlflow_history.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["run_id", "key", "value", "step", "timestamp"])
        for run_id in runs["run_id"]:
            for key in ("auc", "val_loss"):
                for m in client.get_metric_history(run_id, key):
                    w.writerow([run_id, m.key, m.value, m.step, m.timestamp])

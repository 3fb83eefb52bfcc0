"""Time and peak memory of `liftoff import` on each hostile file of tests/hostile_files.py.

    .venv/bin/python benchmarks/hostile_files.py [--timeout S] [--only NAME]

Each file is imported by a process of its own into a fresh demo database, so its peak memory
(max RSS) is its own; a process still running after --timeout seconds is stopped and shown as
such (the importer before issue 16 ran minutes on some). Prints one line per file: outcome,
seconds, peak MB and the first words of the message.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import hostile_files  # noqa: E402

WORKER = """
import contextlib, io, json, os, resource, sys, time
from liftoff import cli
path, args = sys.argv[1], json.loads(sys.argv[2])
out = io.StringIO()
start = time.perf_counter()
outcome = "imported"
try:
    with contextlib.redirect_stdout(out):
        code = cli.main(["import", path, "--json", *args])
    outcome = "imported" if code == 0 else "rejected"
except SystemExit as exc:
    outcome = "imported" if exc.code == 0 else "rejected"
except BaseException as exc:  # a traceback: what this script is here to find
    outcome = "TRACEBACK " + type(exc).__name__
elapsed = time.perf_counter() - start
try:
    report = json.loads(out.getvalue())
    report = report if isinstance(report, dict) else report[0]
    errors = report["errors"]
    accepted = report["rows_accepted"]
    message = (
        errors[0]["message"]
        if errors
        else f"accepted: {accepted:,} row{'' if accepted == 1 else 's'}"
    )
except Exception:
    message = out.getvalue()[:120]
print(json.dumps({"outcome": outcome, "seconds": elapsed, "message": message,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(path: Path, args: list[str], url: str, timeout: float) -> dict:
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", WORKER, str(path), json.dumps(args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "LIFTOFF_DATABASE_URL": url},
        )
    except subprocess.TimeoutExpired:
        return {
            "outcome": "STOPPED",
            "seconds": time.perf_counter() - start,
            "peak_mb": float("nan"),
            "message": f"still running after {timeout:.0f} s",
        }
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"outcome": "TRACEBACK", "seconds": 0.0, "peak_mb": float("nan"), "message": tail}
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--only", help="only the files whose name contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "files"
        files = hostile_files.build(folder)
        template = Path(tmp) / "demo.db"
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from liftoff import cli; cli.main(['migrate']); cli.main(['demo'])",
            ],
            env={**os.environ, "LIFTOFF_DATABASE_URL": f"sqlite:///{template}"},
            check=True,
            capture_output=True,
        )
        print(
            f"{'file':<42} {'expected':<9} {'outcome':<10} {'seconds':>8} {'peak MB':>8}  message"
        )
        for path in sorted(files):
            if args.only and args.only not in path.name:
                continue
            expect = json.loads((folder / (path.stem + ".expect.json")).read_text())
            db = Path(tmp) / "run.db"
            db.write_bytes(template.read_bytes())
            r = run(path, expect.get("args", []), f"sqlite:///{db}", args.timeout)
            print(
                f"{path.name:<42} {expect['outcome']:<9} {r['outcome']:<10} "
                f"{r['seconds']:>8.2f} {r['peak_mb']:>8.0f}  {r['message'][:70]}"
            )


if __name__ == "__main__":
    main()

"""Twenty viewers at once: page-finished times with one app process, with two behind nginx,
and for one viewer alone, in one run on one PostgreSQL database holding the demo portfolio.

    .venv/bin/python benchmarks/viewers.py --postgres postgresql+psycopg://postgres@127.0.0.1:55432/postgres
        [--viewers 20] [--seconds 120] [--processes 2] [--reading 5]

Each viewer is a WebSocket client that speaks Streamlit's own protocol, as the browser does:
it opens a session (through nginx it first takes its route cookie) and asks for the screens a
viewer sees, one after the other, round and round, each as soon as the last has finished
(with --reading S, also crowds whose viewers read each screen for about S seconds first). A
page's time is from the request to Streamlit's "script finished", every element sent; the
browser's drawing is not in it (benchmarks/browser.py measures that). An error is a failed
connection, a run that does not finish within 60 s, or a page that shows an exception.
Prints p50 and p95 per setup and p95 against the lone viewer's.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from liftoff import db
from liftoff.access import auth
from liftoff.demo import builder
from liftoff.server import supervise

ROOT = Path(__file__).resolve().parent.parent
LIFTOFF = str(Path(sys.executable).parent / "liftoff")
# The screens a viewer sees, as their addresses ("" is the overview, the default page).
SCREENS = [
    "" if key == "overview" else key
    for key, (_, _, least) in auth.SCREENS.items()
    if least == "viewer"
]


def fresh_database(admin_url: str) -> tuple[str, callable]:
    """A new database on the server of `admin_url` with the demo portfolio; its URL and a
    function that drops it."""
    name = f"liftoff_viewers_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = db.make_engine(url)
    db.migrate(engine)
    builder.load_demo(engine)
    engine.dispose()

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


class Viewer(threading.Thread):
    """One viewer cycling the screens until `stop_at`; keeps each page's seconds and errors."""

    def __init__(self, base: str, stop_at: float, offset: int, reading: float = 0):
        super().__init__(daemon=True)
        self.base, self.stop_at, self.offset = base, stop_at, offset
        self.reading = reading
        self.pause = random.Random(offset)
        self.times: list[float] = []
        self.errors: list[str] = []

    def run(self) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        from websockets.sync.client import connect

        try:
            with urllib.request.urlopen(f"{self.base}/", timeout=30) as r:
                cookies = [c.split(";")[0] for c in r.headers.get_all("set-cookie") or []]
            ws_url = self.base.replace("http://", "ws://") + "/_stcore/stream"
            with connect(
                ws_url,
                subprotocols=["streamlit", "xsrf"],
                additional_headers={"Cookie": "; ".join(cookies)} if cookies else None,
                open_timeout=30,
                max_size=None,
            ) as ws:
                turn = self.offset
                while time.monotonic() < self.stop_at:
                    page = SCREENS[turn % len(SCREENS)]
                    turn += 1
                    back = BackMsg()
                    back.rerun_script.query_string = ""
                    back.rerun_script.page_name = page
                    started = time.monotonic()
                    ws.send(back.SerializeToString())
                    deadline = started + 60
                    failed = None
                    while True:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            failed = f"{page or 'overview'}: no finish within 60 s"
                            break
                        message = ForwardMsg.FromString(ws.recv(timeout=left))
                        kind = message.WhichOneof("type")
                        if kind == "delta" and message.delta.new_element.HasField("exception"):
                            failed = f"{page or 'overview'}: an exception on the page"
                        if kind == "script_finished":
                            break
                    if failed:
                        self.errors.append(failed)
                    else:
                        self.times.append(time.monotonic() - started)
                    if self.reading:  # reads the screen, 0.5 to 1.5 times the given seconds
                        time.sleep(self.reading * self.pause.uniform(0.5, 1.5))
        except Exception as exc:  # a benchmark counts what went wrong and goes on
            self.errors.append(f"{type(exc).__name__}: {exc}")


def measure(
    base: str, viewers: int, seconds: float, reading: float = 0
) -> tuple[list[float], list[str]]:
    stop_at = time.monotonic() + seconds
    crowd = [Viewer(base, stop_at, offset=i, reading=reading) for i in range(viewers)]
    for v in crowd:
        v.start()
    for v in crowd:
        v.join(seconds + 120)
    return [t for v in crowd for t in v.times], [e for v in crowd for e in v.errors]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("LIFTOFF_TEST_POSTGRES_URL"))
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--reading",
        type=float,
        default=0,
        help="also measure the crowd with each viewer reading a screen about this many "
        "seconds before the next (0.5 to 1.5 times it); 0: only viewers that never pause",
    )
    args = parser.parse_args()
    if not args.postgres:
        sys.exit(
            "Give a PostgreSQL server: --postgres postgresql+psycopg://user@host:port/postgres"
        )
    url, drop = fresh_database(args.postgres)
    folder = Path(tempfile.mkdtemp(prefix="liftoff-viewers-"))
    env = {
        **os.environ,
        "LIFTOFF_DATABASE_URL": url,
        "LIFTOFF_ANONYMOUS_ROLE": "viewer",
        "LIFTOFF_NOTIFY_WORKER": "off",
        "PYTHONPATH": str(ROOT / "lib"),
    }
    rows = []
    try:
        with supervise.behind_nginx(LIFTOFF, args.processes, folder, env=env, cwd=ROOT) as (
            proxy,
            apps,
        ):
            ports = list(apps)
            single = f"http://127.0.0.1:{ports[0]}"
            measure(single, 2, 15)  # warm-up: caches filled, pages compiled
            measure(proxy, args.viewers, 15)
            # The lone viewer, then each crowd on 1 process and on N behind nginx: viewers that
            # never pause, and with --reading, viewers that read each screen first.
            crowds = [("", 0.0)]
            if args.reading:
                crowds.append((f" reading about {args.reading:g} s a screen", args.reading))
            setups = [("1 viewer alone, 1 process", single, 1, 0.0)]
            for words, reading in crowds:
                crowd = f"{args.viewers} viewers{words}"
                setups += [
                    (f"{crowd}, 1 process", single, args.viewers, reading),
                    (
                        f"{crowd}, {args.processes} processes behind nginx",
                        proxy,
                        args.viewers,
                        reading,
                    ),
                ]
            for label, base, count, reading in setups:
                times, errors = measure(base, count, args.seconds, reading)
                rows.append((label, times, errors))
                print(f"measured: {label}", file=sys.stderr)
    finally:
        drop()
    alone = percentile(rows[0][1], 95)
    print(
        f"\n{args.seconds:.0f} s per setup, every viewer cycling {len(SCREENS)} screens; "
        "seconds from asking for a page to its script finished\n"
    )
    print("| setup | pages | p50 | p95 | p95 / alone | errors |")
    print("|---|---|---|---|---|---|")
    for label, times, errors in rows:
        p50, p95 = statistics.median(times), percentile(times, 95)
        print(
            f"| {label} | {len(times):,} | {p50:.2f} s | {p95:.2f} s | {p95 / alone:.1f}x "
            f"| {len(errors)} |"
        )
    for label, _, errors in rows:
        for e in sorted(set(errors))[:5]:
            print(f"error ({label}): {e}")


if __name__ == "__main__":
    main()

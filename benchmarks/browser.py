"""Screens in the real browser: Chromium at 1440x900 opens every screen a viewer sees in the demo
portfolio with 1,000,000 extra imported observations, by a fresh load (a new tab going to the
screen's address) and by a click on its link in the sidebar (from the screen before it), next
to a bare three-page Streamlit app (benchmarks/bare_three_pages.py) measured the same way in the
same run.

    .venv/bin/python benchmarks/browser.py [--runs N] [--no-extra] [--postgres URL]

A timing runs from the start of the navigation (fresh load) or the click until the page's
script has finished (its script_finished message arrived, the app says `notRunning`, no status
widget), no element is still loading its code, and every plotly chart on the page has drawn
(each chart holds a `.main-svg`), and it stayed so for 0.3 s; the end is when that state was
reached, taken in the page (performance.now), not when this script noticed. A screen that
raised an exception, ran its script more than once, ended elsewhere or never finished (within
90 s) is named under the table.
Liftoff and bare measurements alternate, one round (every screen loaded and clicked) is a
warm-up and is discarded, and medians of --runs rounds are printed with their ratio to the bare
app's medians. Targets: a fresh load at most 2x the bare app's, a click at most 3x.

The data: `liftoff migrate` and `liftoff demo` on a SQLite file in a temporary folder (or the
empty PostgreSQL database of --postgres), then `liftoff import` of a generated 1,000,000-row
metrics CSV on the demo's own initiatives, iterations, metrics and segments, timed before any
demo value, so that every headline figure and story stays as the demo tells it while each
screen reads through a million more observations (--no-extra skips it). Both servers run from
this tree (`liftoff run` with this tree's lib first on PYTHONPATH; `streamlit run` of the bare
app), headless, on free ports of 127.0.0.1, and are stopped at the end.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from liftoff.server import supervise

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1440, "height": 900}
SETTLE_MS = 300  # the finished state must hold this long (a second script run would break it)
TIMEOUT_MS = 90_000
LOAD_TARGET, CLICK_TARGET = 2.0, 3.0

# Installed in every document before the app's own scripts. It reads the top-level fields of
# every message the app's websocket receives (Streamlit's ForwardMsg: field 4 is new_session,
# the start of a script run; field 6 script_finished, 0 meaning successfully), because a fast
# run can start and finish within one render, never showing `running` on the page. The page is
# finished when a run that started after the navigation or the click finished, the app says
# `notRunning`, no status widget shows, no element is still loading its code (Streamlit's
# `stSkeleton`: plotly's bundle loads on the first chart of a tab) or stale from the page
# before, and every plotly chart holds its `.main-svg`. `doneAt` notes when that became so; a
# later change (a second run, a chart taken away) clears it.
MONITOR = """
(() => {
  const b = window.__bench = {runs: 0, finished: false, doneAt: null, clickAt: null};
  const fields = data => {
    const u = new Uint8Array(data), out = [];
    let i = 0;
    const varint = () => {
      let x = 0, s = 1, c;
      do { c = u[i++]; x += (c & 0x7f) * s; s *= 128; } while (c & 0x80 && i < u.length);
      return x;
    };
    while (i < u.length) {
      const tag = varint(), wire = tag & 7, field = Math.floor(tag / 8);
      if (wire === 0) out.push([field, varint()]);
      else if (wire === 2) { const n = varint(); i += n; out.push([field, null]); }
      else if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else break;
    }
    return out;
  };
  const drawn = () => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
    .every(c => c.querySelector('.js-plotly-plot .main-svg'));
  const check = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app ? app.getAttribute('data-test-script-state') : null;
    const done = b.finished && state === 'notRunning'
      && !document.querySelector('[data-testid="stStatusWidget"]')
      && !document.querySelector('[data-testid="stSkeleton"], [data-stale="true"]') && drawn();
    if (!done) b.doneAt = null;
    else if (b.doneAt === null) b.doneAt = performance.now();
  };
  b.check = check;
  b.snapshot = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    return {
      doneAt: b.doneAt, clickAt: b.clickAt, runs: b.runs, finished: b.finished,
      state: app && app.getAttribute('data-test-script-state'), path: location.pathname,
      charts: charts.length,
      drawn: charts.filter(c => c.querySelector('.js-plotly-plot .main-svg')).length,
      status: !!document.querySelector('[data-testid="stStatusWidget"]'),
      pending: document.querySelectorAll('[data-testid="stSkeleton"], [data-stale="true"]').length,
      exceptions: document.querySelectorAll('[data-testid="stException"]').length,
    };
  };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', event => {
        if (!(event.data instanceof ArrayBuffer)) return;
        for (const [field, value] of fields(event.data)) {
          if (field === 4) { b.runs += 1; b.finished = false; }
          if (field === 6 && (value === 0 || value === 3)) b.finished = true;
        }
        setTimeout(check, 0);
      });
    }
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true,
    attributeFilter: ['data-test-script-state', 'data-stale', 'class'],
  });
  document.addEventListener('click', () => { b.clickAt = performance.now(); }, true);
})();
"""
# The page's state once it has been finished for `s` ms (what wait_for_function waits for).
SETTLED = (
    "s => { const b = window.__bench; if (!b) return false; b.check();"
    " return b.doneAt !== null && performance.now() - b.doneAt >= s && b.snapshot(); }"
)
STATE = "() => window.__bench.snapshot()"
ARM_CLICK = (
    "() => Object.assign(window.__bench, {runs: 0, finished: false, doneAt: null, clickAt: null})"
)


# ------------------------------------------------------------------------------------ the data


def write_extra_metrics(path: Path, rows: int) -> None:
    """A metrics CSV of `rows` observations on the demo's own (initiative, iteration, metric)
    triples and segments (data/demo/metrics.csv), with values within each metric's demo range
    and times a year before today, older than any demo value: headline values stay the demo's."""
    demo = list(csv.DictReader((ROOT / "data" / "demo" / "metrics.csv").open()))
    values: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    segments: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    triples = set()
    for r in demo:
        key = (r["initiative"], r["metric"])
        values[key].append(float(r["value"]))
        if r["segment"]:
            segments[key].add(r["segment"])
        triples.add((r["initiative"], int(r["iteration"]), r["metric"]))
    ordered = sorted(triples)
    ranges = {k: (min(v), max(v)) for k, v in values.items()}
    choices = {k: [""] + sorted(segments[k]) for k in values}
    start = datetime.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=365)
    times = [f"{start + timedelta(hours=h):%Y-%m-%d %H:%M}" for h in range(180 * 24)]
    rng = random.Random(42)
    with path.open("w") as f:
        f.write("initiative,iteration,metric,value,recorded_at,segment\n")
        for i in range(rows):
            initiative, iteration, metric = ordered[i % len(ordered)]
            lo, hi = ranges[(initiative, metric)]
            segs = choices[(initiative, metric)]
            segment = segs[(i // len(ordered)) % len(segs)]
            when = times[(i * 7) % len(times)]
            f.write(
                f"{initiative},{iteration},{metric},{rng.uniform(lo, hi):.6f},{when},{segment}\n"
            )


def liftoff(env: dict, *args: str) -> str:
    out = subprocess.run(
        [str(BIN / "liftoff"), *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode != 0:
        sys.exit(f"liftoff {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
    return out.stdout.strip()


def prepare(env: dict, folder: Path, extra: int) -> None:
    start = time.perf_counter()
    liftoff(env, "migrate")
    if json.loads(liftoff(env, "initiative", "list", "--json") or "[]"):
        sys.exit("The database is not empty: give an empty one.")
    liftoff(env, "demo")
    print(f"Demo portfolio loaded in {time.perf_counter() - start:.1f} s.", flush=True)
    if not extra:
        return
    path = folder / "extra-metrics.csv"
    start = time.perf_counter()
    write_extra_metrics(path, extra)
    print(
        f"Generated {extra:,} observations ({path.stat().st_size / 1e6:.0f} MB) in "
        f"{time.perf_counter() - start:.1f} s.",
        flush=True,
    )
    start = time.perf_counter()
    said = liftoff(env, "import", str(path))
    print(f"{said} ({time.perf_counter() - start:.1f} s)", flush=True)


# --------------------------------------------------------------------------------- the servers


@contextmanager
def serving(command: list[str], env: dict, port: int, log_path: Path):
    """Run a server and yield its base URL once /_stcore/health answers; stop it afterwards."""
    url = f"http://127.0.0.1:{port}"
    try:
        with supervise.serving(command, url, log_path, env=env, cwd=ROOT, timeout=120):
            yield url
    except supervise.DidNotStart as exc:
        sys.exit(str(exc))


# --------------------------------------------------------------------------------- the browser


class Measure:
    """Times fresh loads and sidebar clicks of one app in one browser context."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.add_init_script(MONITOR)
        self.tab = None  # the tab that clicks from screen to screen
        self.problems: dict[str, set[str]] = collections.defaultdict(set)

    def pages(self) -> list[tuple[str, str]]:
        """(title, address) of every page in the sidebar but the account page."""
        tab = self.context.new_page()
        tab.goto(self.base + "/")
        tab.wait_for_function(SETTLED, arg=SETTLE_MS, timeout=TIMEOUT_MS)
        links = tab.evaluate(
            """() => [...document.querySelectorAll('[data-testid="stSidebarNavLink"]')]
                 .map(a => [a.innerText.trim().split('\\n').pop().trim(), a.href])"""
        )
        tab.close()
        return [(title, href) for title, href in links if not href.endswith("/account")]

    def _finish(self, tab, name: str, path: str, since_click: bool) -> float | None:
        try:
            s = tab.wait_for_function(SETTLED, arg=SETTLE_MS, timeout=TIMEOUT_MS).json_value()
        except Exception:  # noqa: BLE001 - a timeout is a finding, reported with the table
            s = tab.evaluate(STATE)
            self.problems[name].add(
                f"not finished after {TIMEOUT_MS // 1000} s (script {s['state']}, "
                f"finished message {s['finished']}, {s['drawn']} of {s['charts']} charts drawn, "
                f"{s['pending']} elements loading or stale, status widget {s['status']})"
            )
            return None
        if s["exceptions"]:
            self.problems[name].add(f"{s['exceptions']} exception(s) on the page")
        if s["path"] != path:
            self.problems[name].add(f"ended on {s['path']}, not {path}")
        if s["runs"] > 1:
            self.problems[name].add(f"the script ran {s['runs']} times")
        if since_click:
            if s["clickAt"] is None:
                self.problems[name].add("the click was not seen")
                return None
            return (s["doneAt"] - s["clickAt"]) / 1000
        return s["doneAt"] / 1000  # performance.now() counts from the navigation's start

    def load(self, name: str, href: str) -> float | None:
        tab = self.context.new_page()
        try:
            tab.goto(href, wait_until="commit")
            return self._finish(tab, name, _path(href), since_click=False)
        finally:
            tab.close()

    def click(self, name: str, href: str, previous: str) -> float | None:
        if self.tab is None or self.tab.is_closed():
            self.tab = self.context.new_page()
            self.tab.goto(previous)
            self.tab.wait_for_function(SETTLED, arg=SETTLE_MS, timeout=TIMEOUT_MS)
        link = self.tab.locator(f'[data-testid="stSidebarNavLink"][href="{href}"]')
        self.tab.evaluate(ARM_CLICK)
        link.click()
        return self._finish(self.tab, name, _path(href), since_click=True)

    def close(self) -> None:
        self.context.close()


def _path(href: str) -> str:
    return "/" + href.split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]


# ------------------------------------------------------------------------------------ the runs


def measure(browser, app_url: str, bare_url: str, runs: int):
    app, bare = Measure(browser, app_url), Measure(browser, bare_url)
    screens, bare_pages = app.pages(), bare.pages()
    print(
        f"{len(screens)} screens a viewer sees: {', '.join(t for t, _ in screens)}; "
        f"bare app: {len(bare_pages)} pages.",
        flush=True,
    )
    loads: dict[str, list[float]] = collections.defaultdict(list)
    clicks: dict[str, list[float]] = collections.defaultdict(list)
    bare_loads: list[float] = []
    bare_clicks: list[float] = []
    b = 0  # the bare page to open next
    for round_ in range(runs + 1):
        started = time.perf_counter()
        warm_up = round_ == 0
        for i, (title, href) in enumerate(screens):
            _, bare_href = bare_pages[b % len(bare_pages)]
            bare_from = bare_pages[(b - 1) % len(bare_pages)][1]
            b += 1
            steps = [
                (app.load, (title, href), loads[title]),
                (bare.load, ("bare", bare_href), bare_loads),
                (app.click, (title, href, screens[i - 1][1]), clicks[title]),
                (bare.click, ("bare", bare_href, bare_from), bare_clicks),
            ]
            if round_ % 2:  # the bare app first every other round
                steps = [steps[1], steps[0], steps[3], steps[2]]
            for step, step_args, into in steps:
                seconds = step(*step_args)
                if seconds is not None and not warm_up:
                    into.append(seconds)
        what = "warm-up" if warm_up else f"run {round_} of {runs}"
        print(f"  {what}: {time.perf_counter() - started:.0f} s", flush=True)
    app.close()
    bare.close()
    return screens, loads, clicks, bare_loads, bare_clicks, {**app.problems, **bare.problems}


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def report(screens, loads, clicks, bare_loads, bare_clicks, problems, runs: int) -> str:
    bare_load, bare_click = _median(bare_loads), _median(bare_clicks)
    width = max(len(t) for t, _ in screens) + 2
    lines = [
        f"{'screen':<{width}}{'load (s)':>9}{'/ bare':>8}{'click (s)':>11}{'/ bare':>8}  over target",
        "-" * (width + 36 + 13),
    ]
    for title, _ in screens:
        load, click = _median(loads[title]), _median(clicks[title])
        cells, over = [], []
        for value, base, target, kind in (
            (load, bare_load, LOAD_TARGET, "load"),
            (click, bare_click, CLICK_TARGET, "click"),
        ):
            if value is None or not base:
                cells += ["—", "—"]
                continue
            ratio = value / base
            cells += [f"{value:.2f}", f"{ratio:.1f}x"]
            if ratio > target:
                over.append(f"{kind} > {target:g}x")
        lines.append(
            f"{title:<{width}}{cells[0]:>9}{cells[1]:>8}{cells[2]:>11}{cells[3]:>8}  "
            + ", ".join(over)
        )
    lines.append(
        f"{'bare app (3 pages)':<{width}}{_fmt(bare_load):>9}{'':>8}{_fmt(bare_click):>11}"
    )
    lines.append(
        f"Medians of {runs} runs (after a warm-up); the bare app's over "
        f"{len(bare_loads)} loads and {len(bare_clicks)} clicks. "
        f"Targets: load <= {LOAD_TARGET:g}x bare, click <= {CLICK_TARGET:g}x bare."
    )
    for name, found in problems.items():
        for problem in sorted(found):
            lines.append(f"! {name}: {problem}")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured rounds (default 5)")
    parser.add_argument(
        "--no-extra", action="store_true", help="the demo alone, without 1,000,000 observations"
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help=argparse.SUPPRESS)
    parser.add_argument("--postgres", help="this empty PostgreSQL database instead of SQLite")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    begun = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="liftoff-browser-") as tmp:
        folder = Path(tmp)
        url = args.postgres or f"sqlite:///{folder / 'liftoff.db'}"
        env = {
            **os.environ,
            "LIFTOFF_DATABASE_URL": url,
            "LIFTOFF_ANONYMOUS_ROLE": "viewer",
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT / "lib"), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
        prepare(env, folder, 0 if args.no_extra else args.rows)
        app_port, bare_port = supervise.free_port(), supervise.free_port()
        app_cmd = [str(BIN / "liftoff"), "run", "--port", str(app_port)]
        bare_cmd = [
            str(BIN / "streamlit"),
            "run",
            str(ROOT / "benchmarks" / "bare_three_pages.py"),
            "--server.port",
            str(bare_port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ]
        with (
            serving(app_cmd, env, app_port, folder / "liftoff.log"),
            serving(bare_cmd, env, bare_port, folder / "bare.log"),
            sync_playwright() as p,
        ):
            app_url, bare_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                results = measure(browser, app_url, bare_url, args.runs)
            finally:
                browser.close()
    data = (
        "the demo portfolio"
        if args.no_extra
        else f"the demo portfolio with {args.rows:,} extra observations"
    )
    where = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"\nChromium {VIEWPORT['width']}x{VIEWPORT['height']}, {data}, {where}, "
        f"{os.cpu_count()} cores, {time.perf_counter() - begun:.0f} s in all\n"
    )
    print(report(*results, args.runs))


if __name__ == "__main__":
    main()

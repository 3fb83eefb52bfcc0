"""Screens in the real browser: Chromium at 1440x900 opens every screen a viewer sees in the demo
portfolio with 1,000,000 extra imported observations, by a fresh load (a new tab going to the
screen's address) and by a click on its link in the sidebar (from the screen before it), next
to a bare three-page Streamlit app (benchmarks/bare_three_pages.py) and the chart floor, the same
three pages with one small plotly chart each (benchmarks/bare_chart_pages.py), measured the same
way in the same run.

    .venv/bin/python benchmarks/browser.py [--runs N] [--no-extra] [--postgres URL]

A timing runs from the start of the navigation (fresh load) or the click until the page's
script has finished (its script_finished message arrived, the app says `notRunning`, no status
widget), no element is still loading its code, and every plotly chart on the page has drawn
(each chart holds a `.main-svg`), and it stayed so for 0.3 s; the end is when that state was
reached, taken in the page (performance.now), not when this script noticed. A screen that
raised an exception, ran its script more than once, ended elsewhere or never finished (within
90 s) is named under the table.
Liftoff, bare and chart-floor measurements alternate, one round (every screen loaded and
clicked) is a warm-up and is discarded, and medians of --runs rounds are printed with their
ratio to the bare app's medians. Targets: a fresh load at most 2x the bare app's, a click at
most 3x. The chart floor's own ratio shows how much of that any page with a plotly chart spends
on plotly alone.

The data: `liftoff migrate` and `liftoff demo` on a SQLite file in a temporary folder (or the
empty PostgreSQL database of --postgres), then `liftoff import` of a generated 1,000,000-row
metrics CSV on the demo's own initiatives, iterations, metrics and segments, timed before any
demo value, so that every headline figure and story stays as the demo tells it while each
screen reads through a million more observations (--no-extra skips it). The three servers run
from this tree (`liftoff run` with this tree's lib first on PYTHONPATH; `streamlit run` of the
two bare apps), headless, on free ports of 127.0.0.1, and are stopped at the end.
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
import textwrap
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

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
  const b = window.__bench = {
    runs: 0, finished: false, doneAt: null, clickAt: null, finishedAt: null,
  };
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
      finishedAt: b.finishedAt,
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
          if (field === 6 && (value === 0 || value === 3)) {
            b.finished = true;
            b.finishedAt = performance.now();
          }
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
    "() => Object.assign(window.__bench,"
    " {runs: 0, finished: false, doneAt: null, clickAt: null, finishedAt: null})"
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


class Timing(NamedTuple):
    """One load or click: until the page was finished, and until its script's finished message
    arrived (the server's part; the rest is the browser drawing)."""

    done: float
    script: float


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

    def _finish(self, tab, name: str, path: str, since_click: bool) -> Timing | None:
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
            start = s["clickAt"]
        else:
            start = 0  # performance.now() counts from the navigation's start
        return Timing((s["doneAt"] - start) / 1000, (s["finishedAt"] - start) / 1000)

    def load(self, name: str, href: str) -> Timing | None:
        tab = self.context.new_page()
        try:
            tab.goto(href, wait_until="commit")
            return self._finish(tab, name, _path(href), since_click=False)
        finally:
            tab.close()

    def click(self, name: str, href: str, previous: str) -> Timing | None:
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


def measure(browser, app_url: str, bare_url: str, chart_url: str, runs: int):
    app, bare, chart = (Measure(browser, u) for u in (app_url, bare_url, chart_url))
    screens, bare_pages, chart_pages = app.pages(), bare.pages(), chart.pages()
    print(
        f"{len(screens)} screens a viewer sees: {', '.join(t for t, _ in screens)}; "
        f"bare app: {len(bare_pages)} pages; chart floor: {len(chart_pages)} pages.",
        flush=True,
    )
    loads: dict[str, list[Timing]] = collections.defaultdict(list)
    clicks: dict[str, list[Timing]] = collections.defaultdict(list)
    base = {k: [] for k in ("bare load", "bare click", "chart load", "chart click")}
    others = {"bare": bare, "chart": chart}
    floors = {"bare": bare_pages, "chart": chart_pages}
    b = 0  # the bare (and chart floor) page to open next
    for round_ in range(runs + 1):
        started = time.perf_counter()
        warm_up = round_ == 0
        for i, (title, href) in enumerate(screens):
            to = {n: pages[b % len(pages)][1] for n, pages in floors.items()}
            since = {n: pages[(b - 1) % len(pages)][1] for n, pages in floors.items()}
            b += 1
            opens = [(app.load, (title, href), loads[title])] + [
                (m.load, (n, to[n]), base[f"{n} load"]) for n, m in others.items()
            ]
            moves = [(app.click, (title, href, screens[i - 1][1]), clicks[title])] + [
                (m.click, (n, to[n], since[n]), base[f"{n} click"]) for n, m in others.items()
            ]
            if round_ % 2:  # the app first one round, last the next
                opens, moves = opens[::-1], moves[::-1]
            for step, step_args, into in opens + moves:
                timing = step(*step_args)
                if timing is not None and not warm_up:
                    into.append(timing)
        what = "warm-up" if warm_up else f"run {round_} of {runs}"
        print(f"  {what}: {time.perf_counter() - started:.0f} s", flush=True)
    for m in (app, bare, chart):
        m.close()
    problems = {**app.problems, **bare.problems, **chart.problems}
    return screens, loads, clicks, base, problems


def _median(values: list[Timing], part: str = "done") -> float | None:
    return statistics.median(getattr(v, part) for v in values) if values else None


def report(screens, loads, clicks, floors, problems, runs: int) -> str:
    """The table: per screen the medians of its loads and clicks, their ratio to the bare app's,
    and of each the part until the script's finished message arrived (the server's share)."""
    bare = {kind: _median(floors[f"bare {kind}"]) for kind in ("load", "click")}
    floor_rows = (("bare app (3 pages)", "bare"), ("chart floor", "chart"))
    width = max(len(t) for t in [*(t for t, _ in screens), *(n for n, _ in floor_rows)]) + 2
    head = f"{'':<{width}}" + "".join(
        f"{a:>11}{'/ bare':>8}{'script':>8}" for a in ("load (s)", "click (s)")
    )
    lines = [head + "  over target", "-" * (len(head) + 13)]

    def row(name: str, timings: dict[str, list[Timing]], judged: bool) -> str:
        cells, over = "", []
        for kind, target in (("load", LOAD_TARGET), ("click", CLICK_TARGET)):
            value, script = _median(timings[kind]), _median(timings[kind], "script")
            ratio = value / bare[kind] if value is not None and bare[kind] else None
            shown = "" if name.startswith("bare") else _ratio(value, bare[kind])
            cells += f"{_fmt(value):>11}{shown:>8}{_fmt(script):>8}"
            if judged and ratio is not None and ratio > target:
                over.append(f"{kind} > {target:g}x")
        return f"{name:<{width}}{cells}  " + ", ".join(over)

    for title, _ in screens:
        lines.append(row(title, {"load": loads[title], "click": clicks[title]}, True))
    for name, key in floor_rows:
        lines.append(row(name, {k: floors[f"{key} {k}"] for k in ("load", "click")}, False))
    lines += textwrap.wrap(
        f"Medians of {runs} runs (after a warm-up); the bare app's and the chart floor's over "
        f"{len(floors['bare load'])} loads and {len(floors['bare click'])} clicks each. "
        f"Targets: load <= {LOAD_TARGET:g}x bare, click <= {CLICK_TARGET:g}x bare. 'script': "
        "until the script's finished message arrived, the rest is the browser drawing. The "
        "chart floor is three bare pages with one ten-point plotly chart each "
        "(benchmarks/bare_chart_pages.py): no screen that draws a chart can be faster.",
        100,
    )
    for name, found in problems.items():
        for problem in sorted(found):
            lines.append(f"! {name}: {problem}")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _ratio(value: float | None, base: float | None) -> str:
    return "—" if value is None or not base else f"{value / base:.1f}x"


def _bare(script: str, port: int) -> list[str]:
    """`streamlit run` of a bare app of benchmarks/, headless on 127.0.0.1:port."""
    return [
        str(BIN / "streamlit"),
        "run",
        str(ROOT / "benchmarks" / script),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]


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
        app_port, bare_port, chart_port = (supervise.free_port() for _ in range(3))
        app_cmd = [str(BIN / "liftoff"), "run", "--port", str(app_port)]
        with (
            serving(app_cmd, env, app_port, folder / "liftoff.log") as app_url,
            serving(
                _bare("bare_three_pages.py", bare_port), env, bare_port, folder / "bare.log"
            ) as bare_url,
            serving(
                _bare("bare_chart_pages.py", chart_port), env, chart_port, folder / "c.log"
            ) as chart_url,
            sync_playwright() as p,
        ):
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                results = measure(browser, app_url, bare_url, chart_url, args.runs)
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

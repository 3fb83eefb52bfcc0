"""Streamlit's side of the data: the app's engine, and reads, tables and charts cached per data
version and shared by every session of this process.

Every cached value is keyed by the function that builds it (passed as itself, never by name, so a
reader or a tool finds every call site), its arguments, the database URL and the data-version
stamp the router read for this run: a write anywhere (this process, another replica, the CLI)
bumps the stamp, and the next run reads afresh.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from liftoff import charts, db, ingest
from liftoff.config import database_url
from liftoff.evidence import initiative as evidence
from liftoff.evidence import portfolio
from liftoff.evidence import reads as evidence_reads
from liftoff.evidence.initiative import InitiativeEvidence
from liftoff.tables import Table


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return db.make_engine(url)


def engine() -> Engine:
    """The app's engine, one per process and URL."""
    return _engine(database_url())


def require_database() -> Engine:
    """The engine, once the database is reachable and its schema current; else a clear stop.

    Called by the router at the start of every run; it also reads the data-version stamp
    once for the run, so every cached read of this run is keyed by the same version.
    """
    try:
        eng = engine()
        st.session_state["liftoff_data_version"] = db.checked_data_version(eng)
    except db.DatabaseError as exc:
        st.error(str(exc), icon=":material/database:")
        st.stop()
    return eng


class Shared:
    """Values shared by every session of this process, each built once per key.

    What st.cache_resource does for Liftoff's reads, without its cost on every call (it hashes
    each argument and inspects the function's signature, several milliseconds a rerun on a
    busy screen): keys here are plain tuples whose parts are already hashable. The oldest
    entries go when there are more than `max_entries`; concurrent sessions asking for the same
    missing key build it once.
    """

    registry: list[Shared] = []

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._building: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        Shared.registry.append(self)

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            try:
                value = build()
            finally:
                with self._lock:
                    self._building.pop(key, None)
            with self._lock:
                self._values[key] = value
                while len(self._values) > self.max_entries:
                    self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def _key(value: Any) -> Hashable:
    """`value` as a hashable key part: lists and sets become tuples, dicts sorted pairs."""
    if isinstance(value, list | tuple):
        return tuple(_key(v) for v in value)
    if isinstance(value, set | frozenset):
        return tuple(sorted(_key(v) for v in value))
    if isinstance(value, dict):
        return tuple(sorted((k, _key(v)) for k, v in value.items()))
    return value


def _name(fn: Callable) -> str:
    """A function's stable identity for cache keys (its module and qualified name)."""
    return f"{fn.__module__}.{fn.__qualname__}"


def clear_caches() -> None:
    """Forget every shared read and chart (tests and benchmarks start cold with it)."""
    for shared in Shared.registry:
        shared.clear()
    st.cache_resource.clear()


def data_version() -> int:
    """The data-version stamp of this run (read by the router), or read now."""
    version = st.session_state.get("liftoff_data_version")
    return db.data_version(engine()) if version is None else version


# Shared, not copied: results are read-only by convention (screens and views build new objects
# from them), and copying a portfolio's evidence on every rerun costs more than drawing it.
_READS = Shared(max_entries=64)
_TABLES = Shared(max_entries=200)
_FIGURES = Shared(max_entries=300)
_PACK_FIGURES = Shared(max_entries=100)


def _cached_read(fn: Callable, url: str, version: int, args: tuple) -> Any:
    return _READS.get((_name(fn), url, version, args), lambda: fn(_engine(url), *args))


def _cached_evidence(url: str, version: int, initiative: str) -> InitiativeEvidence:
    return _cached_read(evidence.for_initiative, url, version, (initiative,))


def read(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(engine, *args)`, cached until the data changes (in this process or any other).
    The result is shared between sessions: never mutate it."""
    return _cached_read(fn, database_url(), data_version(), _key(args))


def initiative_evidence(initiative: str) -> InitiativeEvidence:
    """One initiative's evidence (evidence.for_initiative), read once per data version."""
    return _cached_evidence(database_url(), data_version(), initiative)


def evidence_read(fn: Callable[..., Any], initiative: str, *args: Any) -> Any:
    """`fn(engine, evidence, *args)` on the cached evidence of `initiative`, cached likewise."""
    url, version, key = database_url(), data_version(), _key(args)

    def build() -> Any:
        return fn(_engine(url), _cached_evidence(url, version, initiative), *key)

    return _READS.get((_name(fn), url, version, initiative, key), build)


def evidence_view(fn: Callable[..., Any], initiative: str, *args: Any) -> Any:
    """`fn(evidence, *args)`: a view built only from the cached evidence, cached likewise."""
    url, version, key = database_url(), data_version(), _key(args)

    def build() -> Any:
        return fn(_cached_evidence(url, version, initiative), *key)

    return _READS.get((_name(fn), url, version, initiative, key), build)


def evidence_table(fn: Callable[..., pd.DataFrame], initiative: str, *args: Any) -> Table:
    """A table `fn(evidence, *args)` of one initiative's evidence, built and converted for
    display once per data version."""
    url, version, key = database_url(), data_version(), _key(args)

    def build() -> Table:
        return Table.of(fn(_cached_evidence(url, version, initiative), *key))

    return _TABLES.get((_name(fn), url, version, initiative, key), build)


def figure(draw: Callable[..., Any], initiative: str, *args: Any, through: int | None = None):
    """A chart `draw(evidence, *args)` of one initiative's evidence (as of iteration `through`
    when given: its trends end there), built once per data version and shared (plotly figures
    are slow to build; streamlit only reads them)."""
    url, version, key = database_url(), data_version(), _key(args)

    def build():
        ev = _cached_evidence(url, version, initiative)
        ev = ev if through is None else ev.as_of(through)
        return charts.frozen(charts.drawn(lambda: draw(ev, *key)))

    return _FIGURES.get((_name(draw), url, version, initiative, key, through), build)


def load_curves_figure(initiative: str):
    """The load-test curves of every iteration of `initiative`."""
    return figure(_load_curves, initiative)


def _load_curves(ev: InitiativeEvidence):
    steps = _cached_read(
        evidence_reads.load_steps, database_url(), data_version(), ((ev.initiative["id"],),)
    )
    return charts.load_curves(ev, steps)


def segments_figure(initiative: str, number: int, keys: list[str]):
    """Headline metrics of iteration `number` per segment; None when it has no segments."""
    return figure(_segments, initiative, number, keys)


def _segments(ev: InitiativeEvidence, number: int, keys: tuple):
    rows = read(evidence_reads.segment_values, ev.iteration(number).id, keys)
    return charts.segments(rows, ev.catalog, keys) if rows else None


def view_figure(view: Callable[..., Any], draw: Callable[[Any], Any], initiative: str, *args: Any):
    """A chart `draw(view)` of the cached `evidence_read(view, initiative, *args)`, built once
    per data version."""
    url, version, key = database_url(), data_version(), _key(args)

    def build():
        return charts.frozen(draw(evidence_read(view, initiative, *key)))

    return _FIGURES.get((_name(view), _name(draw), url, version, initiative, key), build)


def overview_table() -> Table:
    """The portfolio overview as one table (portfolio.table), once per data version."""
    url, version = database_url(), data_version()
    return _TABLES.get(
        ("overview", url, version),
        lambda: Table.of(portfolio.table(_cached_read(portfolio.overview, url, version, ()))),
    )


def headroom_figure():
    """The portfolio's capacity headroom chart, once per data version."""
    url, version = database_url(), data_version()
    return _FIGURES.get(
        ("headroom", url, version),
        lambda: charts.frozen(
            charts.drawn(
                lambda: charts.headroom_bars(
                    _cached_read(portfolio.overview, url, version, ()), portfolio.HEADROOM_WARNING
                )
            )
        ),
    )


def figure_from_json(text: str, projector: bool = False):
    """A plotly figure from a pack's chart JSON (parsed once per chart, shared, read-only);
    with `projector`, drawn for presentation mode (charts.for_projector)."""
    import plotly.io as pio

    def build():
        fig = pio.from_json(text, skip_invalid=True)
        return charts.frozen(charts.for_projector(fig) if projector else fig)

    return _PACK_FIGURES.get((hashlib.sha256(text.encode()).digest(), projector), build)


def original_file(batch_id: int) -> Callable[[], bytes | None]:
    """The file a batch came from, for st.download_button: read only when it is clicked."""
    url = database_url()
    return lambda: evidence_reads.original_file(_engine(url), batch_id)


def prepare_upload(data: bytes, file_name: str, options) -> Any:
    """Check an uploaded file once per file, options and data version (not on every rerun),
    showing progress for large files. Raises ingest.ImportRejected for unreadable files."""

    sha = hashlib.sha256(data).hexdigest()
    key = (sha, file_name, repr(options), data_version())
    cached = st.session_state.get("liftoff_prepared")
    if cached is not None and cached[0] == key:
        return cached[1]
    lines = max(data.count(b"\n"), 1)
    # Streamlit stops a run whose visitor left (or changed the form: a new run is due) at the
    # next element it sends; refreshing this empty placeholder is such a point, so a long
    # check stops there instead of running on for nobody.
    still_wanted = st.empty()
    bar = st.progress(0.0, text="Checking every row…") if lines > 50_000 else None

    def progress(done: int) -> None:
        if bar is not None:
            bar.progress(min(done / lines, 1.0), text=f"Checked {done:,} of about {lines:,} rows")

    prepared = ingest.prepare(
        engine(),
        data,
        file_name,
        options,
        progress=progress,
        sha256=sha,
        checkpoint=still_wanted.empty,
    )
    if bar is not None:
        bar.empty()
    st.session_state["liftoff_prepared"] = (key, prepared)
    return prepared

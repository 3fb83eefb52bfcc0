"""Work a rerun must not cut short: an import runs in a thread of its own, and every run of
the page shows its progress until it has finished, then its outcome once.

Streamlit stops a running script at its next element when the person changes a widget (a
file chosen in the uploader while an import runs, say), and the import's transaction went
with it, unsaid. Run here, the import goes on to its end whatever the page does meanwhile; the
page that runs next picks up its progress and says what it came to.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

# Imports of several sessions at once wait their turn in the database anyway.
_WORKERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="liftoff-work")


@dataclass
class Work:
    future: Future
    label: str
    total: int
    context: Any  # what the page needs to describe the outcome (the prepared file)
    done: list[int] = field(default_factory=lambda: [0])


@dataclass(frozen=True)
class Outcome:
    result: Any
    error: BaseException | None
    context: Any


def start(
    key: str,
    work: Callable[[Callable[[int], None]], Any],
    *,
    label: str,
    total: int,
    context: Any = None,
) -> None:
    """Run `work(progress)` in a thread; `progress(n)` reports n of `total` done."""
    done = [0]  # written by the worker thread, read by the page's runs

    def report(n: int) -> None:
        done[0] = n

    future = _WORKERS.submit(work, report)
    st.session_state[key] = Work(future, label, max(total, 1), context, done)


def wait(key: str, poll: float = 0.15) -> Outcome | None:
    """When work under `key` was started in this session: a progress bar until it has
    finished, then its outcome (once: it is forgotten). None when there is none."""
    entry: Work | None = st.session_state.get(key)
    if entry is None:
        return None
    bar = st.progress(0.0, text=entry.label)
    while not entry.future.done():
        n = entry.done[0]
        bar.progress(min(n / entry.total, 1.0), text=f"{entry.label} {n:,} of {entry.total:,} rows")
        time.sleep(poll)
    bar.empty()
    st.session_state.pop(key, None)
    error = entry.future.exception()
    return Outcome(None if error else entry.future.result(), error, entry.context)

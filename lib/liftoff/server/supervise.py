"""Starting an app server as its own process and knowing when it serves: the tests, the
benchmarks and the replica checks all start `liftoff run` (or a bare Streamlit page) this way."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class DidNotStart(RuntimeError):
    """The server exited, or did not answer its health check in time; the message ends with
    the tail of its log."""


def healthy(url: str) -> bool:
    """Whether the server at `url` answers Streamlit's health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@contextmanager
def serving(
    command: list[str], url: str, log_path: Path, *, env: dict, cwd=None, timeout: float = 90
) -> Iterator[subprocess.Popen]:
    """Run `command` with its output in `log_path`, yield the process once `url` is healthy,
    and stop it afterwards (terminate, then kill). DidNotStart when it exits or `timeout`
    seconds pass first."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not healthy(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    raise DidNotStart(
                        f"{Path(command[0]).name} did not start at {url}:\n"
                        + Path(log_path).read_text()[-3000:]
                    )
                time.sleep(0.3)
            yield proc
        finally:
            stop(proc)


def stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Ask a server to stop; kill it if it has not within `timeout` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)

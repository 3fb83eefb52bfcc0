"""Starting an app server as its own process and knowing when it serves: the tests, the
benchmarks and the replica checks all start `liftoff run` (or a bare Streamlit page) this way."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from liftoff.config import PROJECT_ROOT

NGINX_SITE = PROJECT_ROOT / "deploy" / "nginx" / "liftoff.conf"


class DidNotStart(RuntimeError):
    """The server exited, or did not answer its health check in time; the message ends with
    the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def nginx_config(folder: Path, listen: int, upstreams: list[int]) -> Path:
    """deploy/nginx/liftoff.conf as shipped, listening on 127.0.0.1:`listen` with one upstream
    line per app process port in `upstreams`, inside a minimal nginx.conf that keeps every file
    in `folder`; returns that nginx.conf. Responses carry X-Liftoff-Upstream, the process that
    answered (for tests and benchmarks only: it names internal addresses)."""
    conf = NGINX_SITE.read_text()
    shipped = [line for line in conf.splitlines(keepends=True) if "server 127.0.0.1:850" in line]
    if len(shipped) != 2 or "    listen 80;\n" not in conf:
        raise ValueError(f"{NGINX_SITE} no longer has the lines this rewrites")
    ours = "".join(shipped[0].replace(":8501 ", f":{port} ") for port in upstreams)
    conf = conf.replace(shipped[0], ours).replace(shipped[1], "")
    conf = conf.replace(
        "    location / {\n",
        "    location / {\n        add_header X-Liftoff-Upstream $upstream_addr always;\n",
    )
    conf = conf.replace("    listen 80;\n", f"    listen 127.0.0.1:{listen};\n")
    (folder / "liftoff.conf").write_text(conf)
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = f"""
{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} notice;
events {{ worker_connections 512; }}
http {{
    access_log {folder / "access.log"};
{temp}
    include {folder / "liftoff.conf"};
}}
"""
    path = folder / "nginx.conf"
    path.write_text(main)
    return path


NGINX = "/usr/sbin/nginx"  # Debian's


@contextmanager
def behind_nginx(
    liftoff: str, processes: int, folder: Path, *, env: dict, cwd=None
) -> Iterator[tuple[str, dict[int, subprocess.Popen]]]:
    """`processes` app processes (`liftoff run` on free ports) behind nginx with the shipped
    site (nginx_config), every file in `folder`; yields nginx's base URL and {port: process},
    and stops them all afterwards. ValueError when nginx refuses the configuration."""
    with ExitStack() as stack:
        replicas = {}
        for n in range(processes):
            port = free_port()
            replicas[port] = stack.enter_context(
                serving(
                    [liftoff, "run", "--port", str(port)],
                    f"http://127.0.0.1:{port}",
                    folder / f"app-{n}.log",
                    env=env,
                    cwd=cwd,
                )
            )
        listen = free_port()
        conf = nginx_config(folder, listen, list(replicas))
        check = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
        if check.returncode:
            raise ValueError(f"nginx refuses {conf}: {check.stderr}")
        proxy = f"http://127.0.0.1:{listen}"
        stack.enter_context(serving([NGINX, "-c", str(conf)], proxy, folder / "nginx.out", env=env))
        yield proxy, replicas

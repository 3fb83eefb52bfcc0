"""Helpers for tests that start the real app server (`liftoff run`) and speak HTTP to it."""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str

    def cookie(self, name: str):
        """The Set-Cookie morsel for `name` (None when the answer sets none)."""
        for raw in self.headers.get_all("set-cookie") or []:
            jar = SimpleCookie()
            jar.load(raw)
            if name in jar:
                return jar[name], raw
        return None


def request(
    base: str,
    method: str,
    path: str,
    *,
    form: dict | None = None,
    body: bytes | None = None,
    cookies: dict | None = None,
    headers: dict | None = None,
    timeout: float = 60,
) -> Answer:
    """One HTTP request (redirects are not followed: their status is what is tested)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    sent = dict(headers or {})
    if form is not None:
        body = urlencode(form).encode()
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    if cookies:
        sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    try:
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read().decode("utf-8", "replace"))
    finally:
        conn.close()


@dataclass
class Run:
    """What one script run sent a websocket client: its session id, pages and sidebar line."""

    session_id: str | None
    pages: list[str]
    texts: list[str]


def script_run(base: str, *, session_id: str | None = None, cookie: str | None = None) -> Run:
    """Connect to the app's websocket as a browser would (attaching to `session_id` when
    given, sending `cookie`), ask for one run of the script and gather what it sends."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    # Streamlit's subprotocol list: the protocol, an XSRF token, the session to attach to.
    protocols = ["streamlit", "xsrf"] + ([session_id] if session_id else [])
    headers = {"Cookie": cookie} if cookie else None
    run = Run(None, [], [])
    url = base.replace("http://", "ws://") + "/_stcore/stream"
    with connect(url, subprotocols=protocols, additional_headers=headers, open_timeout=30) as ws:
        back = BackMsg()
        back.rerun_script.query_string = ""
        ws.send(back.SerializeToString())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                message = ForwardMsg.FromString(ws.recv(timeout=deadline - time.monotonic()))
            except TimeoutError:
                break
            kind = message.WhichOneof("type")
            if kind == "new_session":
                run.session_id = message.new_session.initialize.session_id
            elif kind == "navigation":
                run.pages = [p.url_pathname for p in message.navigation.app_pages]
            elif kind == "delta" and message.delta.new_element.HasField("markdown"):
                run.texts.append(message.delta.new_element.markdown.body)
            elif kind == "script_finished":
                break
    return run

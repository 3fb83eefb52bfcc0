"""Messages as they leave: webhook bodies (Liftoff's JSON, Slack, Teams) and emails (plain
text and HTML). User text (initiative and metric names, concern titles) is data: JSON encodes
it, HTML escapes it, chat bodies escape their markup."""

from __future__ import annotations

import html
import json
from email.message import EmailMessage

from liftoff.formatting import format_value

_STATE_WORDS = {
    "firing": "started firing",
    "repeat": "still firing",
    "resolved": "resolved",
}


def _value(v, unit) -> str:
    return format_value(v, unit) if v is not None else "no value"


def alert_lines(payload: dict) -> list[str]:
    """One plain sentence per alert of an alert message."""
    lines = []
    for a in payload["alerts"]:
        lines.append(
            f"{a['severity'].capitalize()}: {a['metric_name']} {_STATE_WORDS.get(a['state'], a['state'])}"
            f" — {_value(a['value'], a.get('unit'))}, alert when {a['comparator']} "
            f"{_value(a['threshold'], a.get('unit'))}"
            + (f" (iteration {a['iteration']})" if a.get("iteration") is not None else "")
        )
    return lines


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn needs only these three escaped; the rest is shown as typed.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _teams_escape(text: str) -> str:
    # Teams cards render markdown: backslash-escape its markup so names stay names.
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!<>|~" else c for c in text)


def webhook_body(fmt: str, subject: str, payload: dict) -> bytes:
    """The body a webhook channel posts, as UTF-8 JSON."""
    if fmt == "slack":
        text = _slack_escape(subject)
        if payload.get("alerts") is not None:
            text += "\n" + "\n".join("• " + _slack_escape(x) for x in alert_lines(payload))
        if payload.get("link"):
            text += f"\n<{payload['link']}|Open in Liftoff>"
        body = {"text": text}
    elif fmt == "teams":
        lines = alert_lines(payload) if payload.get("alerts") is not None else []
        body = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": subject,
            "title": _teams_escape(subject),
            "text": "\n\n".join(_teams_escape(x) for x in lines) or _teams_escape(subject),
            "potentialAction": [
                {
                    "@type": "OpenUri",
                    "name": "Open in Liftoff",
                    "targets": [{"os": "default", "uri": payload.get("link", "")}],
                }
            ],
        }
    else:
        body = payload
    return json.dumps(body, ensure_ascii=False, default=str).encode()


_CSS = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2933;"
    "max-width:720px;margin:24px auto;padding:0 16px;line-height:1.45}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 6px;color:#334e68}"
    "p.sub{color:#52606d;margin:0 0 16px}table{border-collapse:collapse;width:100%}"
    "td,th{border-bottom:1px solid #e4e7eb;padding:6px 8px;text-align:left;vertical-align:top}"
    "th{font-size:12px;text-transform:uppercase;color:#52606d}"
    ".firing{color:#b42318;font-weight:600}.resolved{color:#067647;font-weight:600}"
    ".none{color:#7b8794}.tiles{display:flex;gap:12px}"
    ".tile{border:1px solid #e4e7eb;border-radius:8px;padding:10px 14px;flex:1}"
    ".tile b{display:block;font-size:20px}a.button{display:inline-block;background:#1d4ed8;"
    "color:#fff;padding:8px 14px;border-radius:6px;text-decoration:none}"
)


def page(title: str, sub: str, inner: str) -> str:
    """A whole HTML email: a title, a line under it, and `inner` (already escaped)."""
    e = html.escape
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{e(title)}</h1><p class='sub'>{e(sub)}</p>{inner}</body></html>"
    )


def alert_email(subject: str, payload: dict) -> tuple[str, str]:
    """(plain text, HTML) of an alert message."""
    e = html.escape
    lines = alert_lines(payload)
    text = "\n".join(
        [subject, "", *("- " + x for x in lines), "", f"Open in Liftoff: {payload['link']}"]
    )
    rows = "".join(
        f"<tr><td class='{'resolved' if a['state'] == 'resolved' else 'firing'}'>"
        f"{e(_STATE_WORDS.get(a['state'], a['state']).capitalize())}</td>"
        f"<td>{e(a['severity'].capitalize())}</td><td>{e(a['metric_name'])}</td>"
        f"<td>{e(_value(a['value'], a.get('unit')))}</td>"
        f"<td>{e(a['comparator'])} {e(_value(a['threshold'], a.get('unit')))}</td></tr>"
        for a in payload["alerts"]
    )
    inner = (
        "<table><tr><th>Now</th><th>Severity</th><th>Metric</th><th>Value</th>"
        f"<th>Alert when</th></tr>{rows}</table>"
        f"<p><a class='button' href='{e(payload['link'], quote=True)}'>Open Monitoring in Liftoff</a></p>"
    )
    it = payload.get("iteration")
    sub = f"Iteration {it}" if it is not None else "No iteration yet"
    return text, page(payload["initiative"], sub, inner)


def email_message(
    sender: str, to: str, subject: str, text: str, html_body: str, message_id: str
) -> EmailMessage:
    """A multipart email: plain text first, HTML as the alternative mail readers prefer."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["X-Liftoff-Message-Id"] = message_id
    msg.set_content(text)
    msg.add_alternative(html_body, subtype="html")
    return msg

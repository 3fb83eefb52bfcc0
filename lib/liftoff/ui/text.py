"""Text that Streamlit renders as markdown, escaped so user text shows literally."""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|:<>~$&^=])")


# Markdown turns bare URLs, www. addresses and emails into links even when escaped; an
# invisible word joiner inside them keeps them text.
_AUTOLINK = re.compile(r"(?i)(://|www\.|@)")


def plain(text: object) -> str:
    """Escape `text` so markdown-rendering widgets show it literally (user text is data)."""
    unlinked = _AUTOLINK.sub(lambda m: m.group(1)[0] + "\u2060" + m.group(1)[1:], str(text))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", unlinked).replace("\n", "  \n")

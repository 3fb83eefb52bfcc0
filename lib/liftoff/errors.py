"""The one base of everything a user, a file or a client can cause.

Each is raised with a message written for the person who caused it (what is wrong, and what to
do); the CLI prints that message and exits 1, the screens' save helper shows it, and neither
catches anything else, so a bug still ends in a traceback in the server log, never silently.
"""

from __future__ import annotations


class LiftoffError(Exception):
    """Something a user can cause and fix; `str(exc)` is the message to show them."""


class InvalidValue(LiftoffError, ValueError):
    """A value the user gave is not allowed; the message says which values are."""

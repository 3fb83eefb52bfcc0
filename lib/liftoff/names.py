"""Names as people type them: compared without case, accents or punctuation, for "did you mean"."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable


def fold(name: str) -> str:
    """`'Churn Early—Warning '` and `'churn early-warning'` fold alike: accents, case, spacing
    and punctuation aside ("Équipe" matches "equipe")."""
    decomposed = unicodedata.normalize("NFKD", str(name))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", " ", bare.casefold()).strip()


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name the user most likely meant: the same name once folded, else the nearest
    spelling (difflib, at least 0.75 alike); None when nothing is close."""
    names = list(known)
    folded = fold(name)
    same = [k for k in names if fold(k) == folded]
    if same:
        return same[0]
    by_fold = {fold(k): k for k in names}
    near = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=0.75)
    return by_fold[near[0]] if near else None

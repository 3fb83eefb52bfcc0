"""Names as people type them: compared without case, accents or punctuation, for "did you mean"."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

# Letters of other scripts drawn like Latin ones (after Unicode's confusables.txt, the cases
# that matter for names typed or pasted): "Сhurn" with a Cyrillic С must not pass for "Churn".
# Written out rather than a dependency: the PyPI packages that ship the full table
# (confusable-homoglyphs, confusables) detect mixed scripts but give no skeleton to compare two
# names by, and the table below covers Cyrillic, Greek and Armenian lookalikes and digits.
_CONFUSABLE = str.maketrans(
    {
        **dict(zip("АВЕЅІЈКМНОРСТХУ", "ABESIJKMHOPCTXY", strict=True)),  # Cyrillic
        **dict(zip("аеѕіјорсхуԁһӏԛԝк", "aesijopcxydhlqwk", strict=True)),
        **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX", strict=True)),  # Greek
        **dict(zip("αοιρνκχυ", "aoipvkxu", strict=True)),
        **dict(zip("օսհո", "ouhn", strict=True)),  # Armenian
        **dict(zip("ıȷɑɡǀ01|", "ijagloll", strict=True)),  # Latin lookalikes and digits
    }
)
# Characters that change how a name is shown without being seen: controls, format characters
# (zero-width space, the byte order mark, right-to-left override and the other bidi controls),
# private use and surrogates.
_INVISIBLE = {"Cc", "Cf", "Co", "Cs"}


def clean(name: str) -> str:
    """A name as it is stored: Unicode NFC, without invisible characters (controls, zero-width
    and bidi marks, a byte order mark), runs of spaces as one, trimmed."""
    text = unicodedata.normalize("NFC", str(name))
    text = "".join(
        " " if c.isspace() else c for c in text if unicodedata.category(c) not in _INVISIBLE
    )
    return " ".join(text.split())


def fold(name: str) -> str:
    """`'Churn Early—Warning '` and `'churn early-warning'` fold alike: accents, case, spacing
    and punctuation aside ("Équipe" matches "equipe"), and so do names that only look alike
    ("Сhurn" with a Cyrillic С, "Churn\u200b", "Chum" and "Churn": `rn` reads as `m`)."""
    decomposed = unicodedata.normalize("NFKD", clean(name))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.translate(_CONFUSABLE).casefold().replace("rn", "m")
    return re.sub(r"[\W_]+", " ", bare).strip()


def confusable(name: str, known: Iterable[str]) -> str | None:
    """The known name that `name` would pass for (another name that folds alike), or None."""
    folded = fold(name)
    return next((k for k in known if k != name and fold(k) == folded), None)


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


def lookalikes(name: str) -> list[str]:
    """The characters of `name` that pass for Latin letters or digits, named: ["'С' (Cyrillic
    capital letter es)"] — what a message shows, as the names themselves look the same."""
    found = []
    for c in dict.fromkeys(clean(name)):
        if ord(c) > 127 and c.translate(_CONFUSABLE) != c:
            what = unicodedata.name(c, f"U+{ord(c):04X}").capitalize()
            found.append(f"{c!r} ({what})")
    return found

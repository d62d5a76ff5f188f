"""Which person names are accepted (pure: no Django import).

A name is written as on the resident ID card: Han characters, but also Tibetan, Yi, Uyghur,
Mongolian or Latin letters, with the marks these scripts combine, spaces, and the punctuation
names really carry: the middle dots of transcribed minority names (· U+00B7, • U+2022,
‧ U+2027, ・ U+30FB, ･ U+FF65), hyphens, apostrophes, full stops and the Tibetan syllable mark
(tsheg ་ ༌). Refused: digits, symbols, control characters, and invisible format characters
(zero-width spaces, byte-order marks, direction overrides such as U+202E, which make a name
display as something else). Zero-width joiners (U+200C, U+200D) and the Mongolian vowel
separator (U+180E) are kept only between two letters, where some scripts need them.

Every space separator becomes one ASCII space, runs of spaces collapse, and the name is stored
in Unicode normal form NFC, so the same name typed two ways is stored one way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

MAX_LENGTH = 64
NAME_PUNCTUATION = frozenset("·•‧・･-‐‑'’.་༌")
JOINERS = frozenset("\u200c\u200d\u180e")
_SPACE_RUN = re.compile(" {2,}")


@dataclass
class NameRefused(ValueError):
    """Why a name is refused: ``reason`` is ``empty``, ``too_long``, ``bad_start``
    (not a letter first) or ``bad_character`` (then ``position`` and ``character`` say which)."""

    reason: str
    position: int | None = None
    character: str | None = None

    def __str__(self) -> str:
        return self.reason


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L")


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


# Accepted names are remembered (a refusal is not: it raises, and lru_cache keeps no exception):
# the same names come back again and again in imports and the demo's hundreds of thousands of
# residents, and the rules below cost microseconds per character.
@lru_cache(maxsize=1 << 17)
def normalise_name(raw: str) -> str:
    """The name as stored, or ``NameRefused`` saying why it cannot be one."""
    text = unicodedata.normalize("NFC", raw or "")
    # Every space separator (ideographic, no-break, thin …) is a space; tabs, line breaks and
    # other controls are not spaces but refused below.
    text = "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in text)
    text = _SPACE_RUN.sub(" ", text).strip(" ")
    if not text:
        raise NameRefused("empty")
    if len(text) > MAX_LENGTH:
        raise NameRefused("too_long")
    for i, ch in enumerate(text):
        if _is_letter(ch) or _is_mark(ch) or ch == " " or ch in NAME_PUNCTUATION:
            continue
        if ch in JOINERS and 0 < i < len(text) - 1 and _is_letter(text[i - 1]) and _is_letter(text[i + 1]):
            continue
        raise NameRefused("bad_character", i, f"U+{ord(ch):04X}")
    if not _is_letter(text[0]):
        raise NameRefused("bad_start", 0, f"U+{ord(text[0]):04X}")
    return text

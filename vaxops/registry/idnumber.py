"""Resident identity numbers (居民身份证号码, GB 11643-1999).

A pure module (no Django import): the registry's services and importers call it to
validate and normalise the number a registrar types or an import file carries.

Layout of the 18-character number (GB 11643-1999):

=========  ==========================================================================
positions  meaning
=========  ==========================================================================
1-6        division code of the registered residence at issue (may no longer exist)
7-14       birth date YYYYMMDD (a real calendar date, not in the future)
15-17      sequence; position 17 odd = male, even = female
18         check character, ISO 7064 MOD 11-2
=========  ==========================================================================

The 15-digit form (GB 11643-1989) has a 2-digit year and no check character; it converts
by inserting "19" before the year and appending the computed check character.

Decisions:

* The division code is not checked against a list of divisions: numbers stay valid for life
  while divisions are merged and renamed (513321, Kangding before 2015, is still on cards).
  Only a province part of ``00`` is rejected (``id_bad_division_code``): no province has that
  code, and ``000000…`` is the usual placeholder typed when the real number is unknown.
  A province part that no edition of GB/T 2260 ever used (e.g. ``99``) is *accepted* with the
  warning ``id_unknown_province_code`` in :attr:`ResidentId.warnings`: a person holding such a
  card is not turned away for a gap in our code list; the desk shows the warning so the number
  is checked against the card.
* Birth years before 1900 are refused (``id_birth_year_before_1900``): nobody alive was born
  then, and such a date is a mistyped year (``1880`` for ``1980``).
* Input is forgiving where that is safe: full-width digits and ``Ｘ``/``ｘ`` (what a Chinese
  input method types), spaces and hyphens (how numbers are written out and read aloud) are
  normalised by :func:`normalise_id_input` before any check. Nothing else is rewritten: a
  letter O is not a zero.
* Checks run in a fixed order - length, characters, check character, division, date,
  year before 1900, future date - so one input always gives the same error code.
* Errors carry a stable ``code``, an English message and a ``detail`` dict. The Django layer
  translates from the code with :data:`MESSAGES` (``MESSAGES[code].format(**detail)``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from operator import mul
from typing import Literal

__all__ = [
    "MESSAGES",
    "PROVINCE_CODES",
    "WARNINGS",
    "IdNumberError",
    "ResidentId",
    "check_character",
    "make_id_number",
    "mask_id_number",
    "normalise_id_input",
    "parse_id_number",
    "random_id_number",
]

# ISO 7064 MOD 11-2 as written out in GB 11643-1999: weight W_i = 2^(18-i) mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_DIGITS = frozenset("0123456789")
# sum(W_i * ord("0")): what weighting the ASCII codes instead of the digits adds.
_DIGIT_OFFSET = sum(_WEIGHTS) * ord("0")

Sex = Literal["M", "F"]

#: Province parts of division codes used by any edition of GB/T 2260 (1980 onwards; 46 Hainan
#: since 1988, 50 Chongqing since 1997, 71 Taiwan, 81 Hong Kong, 82 Macao).
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
})

# Full-width digits and X (U+FF10-FF19, U+FF38, U+FF58) read as their ASCII forms; spaces
# (ASCII, no-break, ideographic) and hyphens/dashes (ASCII, U+2010-U+2015, full-width) dropped.
_FORGIVEN = {
    **{0xFF10 + i: str(i) for i in range(10)},
    0xFF38: "X",
    0xFF58: "X",
    **{ord(c): None for c in " \t\r\n\u00a0\u3000-\u2010\u2011\u2012\u2013\u2014\u2015\uff0d"},
}

#: Error code -> English message template; placeholders are keys of ``IdNumberError.detail``.
MESSAGES: dict[str, str] = {
    "id_wrong_length": "An identity number has 18 characters (or 15 digits in the old form); got {length}.",
    "id_bad_characters": (
        "An identity number has only digits, with X allowed as the last character; "
        "found {character!r} at position {position}."
    ),
    "id_bad_check_character": "The check character should be {expected}, not {actual}: a character is mistyped.",
    "id_bad_division_code": "The division code {division_code} does not exist: the province part cannot be 00.",
    "id_impossible_date": "The birth date {birth_digits} is not a real calendar date.",
    "id_birth_year_before_1900": "The birth year {year} is before 1900: the year is mistyped.",
    "id_future_birth_date": "The birth date {birth_date} is after today ({today}).",
}

#: Warning code -> English message template; an accepted number may carry these.
WARNINGS: dict[str, str] = {
    "id_unknown_province_code": (
        "The division code {division_code} is in no edition of the national division codes: "
        "check the number against the card."
    ),
}


class IdNumberError(ValueError):
    """An identity number that cannot be accepted.

    ``code`` is stable (a key of :data:`MESSAGES`) and is what callers branch on and translate;
    ``message_en`` is the English text; ``detail`` holds the values the message refers to
    (JSON-serialisable: strings and ints only).
    """

    def __init__(self, code: str, message_en: str, detail: dict[str, str | int]) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_en = message_en
        self.detail = detail

    @classmethod
    def from_code(cls, code: str, **detail: str | int) -> IdNumberError:
        """Build the error with the English message rendered from :data:`MESSAGES`."""
        return cls(code, MESSAGES[code].format(**detail), dict(detail))


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A validated identity number and the facts encoded in it."""

    number: str
    """The 18-character form, upper-case X."""
    division_code: str
    """6 digits; the division where the number was issued, which may no longer exist."""
    birth_date: date
    sex: Sex
    sequence: int
    """The 3-digit sequence (positions 15-17) as an integer 0-999; odd = male."""
    converted_from_15: bool
    """True when the input was the 15-digit GB 11643-1989 form."""
    warnings: tuple[str, ...] = ()
    """Codes of :data:`WARNINGS` that apply: the number is accepted, but worth a second look."""


def check_character(first17: str) -> str:
    """Return the check character (``0``-``9`` or ``X``) for the first 17 digits."""
    if len(first17) != 17 or not _DIGITS.issuperset(first17):
        raise ValueError(f"expected 17 digits, got {first17!r}")
    return _check(first17)


def _check(first17: str) -> str:
    """The check character of 17 ASCII digits (not checked again)."""
    total = sum(map(mul, first17.encode("ascii"), _WEIGHTS)) - _DIGIT_OFFSET
    return _CHECK_CHARS[total % 11]


def normalise_id_input(raw: str) -> str:
    """The typed number with full-width digits and X made ASCII, spaces and hyphens removed,
    and a lower-case ``x`` upper-cased; every other character is left for the checks to name."""
    return raw.translate(_FORGIVEN).upper()


def parse_id_number(raw: str, *, today: date) -> ResidentId:
    """Validate and normalise an identity number; raise :class:`IdNumberError` if invalid.

    The input is first passed through :func:`normalise_id_input` (full-width characters,
    spaces, hyphens, lower-case ``x``), and the 15-digit form is converted to 18 characters.
    ``today`` is explicit so that the "not in the future" check is reproducible in tests and
    imports.
    """
    # Plain ASCII digits (and X): nothing to forgive, only a lower-case x to upper-case.
    text = raw.upper() if raw.isascii() and raw.isalnum() else normalise_id_input(raw)
    if len(text) not in (15, 18):
        raise IdNumberError.from_code("id_wrong_length", length=len(text))
    if not (_DIGITS.issuperset(text[:17]) and (text[17:] == "X" or _DIGITS.issuperset(text[17:]))):
        for position, character in enumerate(text, start=1):
            # X stands for the check value 10, so it is legal only as the 18th character.
            if character not in _DIGITS and not (character == "X" and position == 18):
                raise IdNumberError.from_code("id_bad_characters", character=character, position=position)

    converted = len(text) == 15
    if converted:
        # GB 11643-1989 numbers were issued to people born in the 1900s only.
        first17 = text[:6] + "19" + text[6:]
        expected = _check(first17)
    else:
        first17 = text[:17]
        expected = _check(first17)
        if text[17] != expected:
            raise IdNumberError.from_code("id_bad_check_character", expected=expected, actual=text[17])

    division_code = first17[:6]
    if division_code[:2] == "00":
        raise IdNumberError.from_code("id_bad_division_code", division_code=division_code)
    warnings = () if division_code[:2] in PROVINCE_CODES else ("id_unknown_province_code",)

    birth_digits = first17[6:14]
    try:
        birth_date = date(int(birth_digits[:4]), int(birth_digits[4:6]), int(birth_digits[6:8]))
    except ValueError:
        raise IdNumberError.from_code("id_impossible_date", birth_digits=birth_digits)
    if birth_date.year < 1900:
        raise IdNumberError.from_code("id_birth_year_before_1900", year=birth_date.year)
    if birth_date > today:
        raise IdNumberError.from_code(
            "id_future_birth_date", birth_date=birth_date.isoformat(), today=today.isoformat()
        )

    sequence = int(first17[14:17])
    return ResidentId(
        number=first17 + expected,
        division_code=division_code,
        birth_date=birth_date,
        sex="M" if sequence % 2 else "F",
        sequence=sequence,
        converted_from_15=converted,
        warnings=warnings,
    )


def make_id_number(division_code: str, birth_date: date, sequence: int) -> str:
    """Compose an 18-character number from its parts (for demo data and tests).

    Raises ``ValueError`` for a division code that is not 6 digits or a sequence outside 0-999.
    """
    if len(division_code) != 6 or not _DIGITS.issuperset(division_code):
        raise ValueError(f"division code must be 6 digits, got {division_code!r}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0-999, got {sequence}")
    # Explicit zero padding: strftime("%Y") does not pad years before 1000 on every platform.
    birth_digits = f"{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}"
    first17 = f"{division_code}{birth_digits}{sequence:03d}"
    if len(first17) != 17:  # a year after 9999 or before 0
        raise ValueError(f"expected 17 digits, got {first17!r}")
    return first17 + _check(first17)


def random_id_number(rng: random.Random, division_code: str, birth_date: date, sex: Sex) -> str:
    """A random valid number for a person of the given sex (the sequence's parity carries sex).

    Takes its own ``random.Random`` so generated demo data is reproducible from a seed.
    """
    if sex not in ("M", "F"):
        raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
    # 500 odd and 500 even sequences in 0-999: pick one of the right parity uniformly.
    sequence = 2 * rng.randrange(500) + (1 if sex == "M" else 0)
    return make_id_number(division_code, birth_date, sequence)


def mask_id_number(number: str) -> str:
    """Mask a number for display and exports: first 6 and last 4 characters kept.

    ``513301199001011234`` -> ``513301********1234``. Never raises, because it is used when
    showing whatever was stored; anything shorter than 11 characters is masked entirely.
    """
    text = number.strip().upper()
    if len(text) < 11:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]

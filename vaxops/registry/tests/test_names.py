"""Properties of the name rule (registry.names), over generated text."""

from __future__ import annotations

import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from vaxops.registry.names import MAX_LENGTH, NAME_PUNCTUATION, NameRefused, normalise_name

letters = st.characters(categories=["Lu", "Ll", "Lo", "Lm", "Lt"])
marks = st.characters(categories=["Mn", "Mc"])
punctuation = st.sampled_from(sorted(NAME_PUNCTUATION))
forbidden = st.one_of(
    st.characters(categories=["Cc", "Nd", "Sm", "So", "Sc"]),
    st.sampled_from(["\u200b", "\u202a", "\u202b", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                     "\u2069", "\u200e", "\u200f", "\ufeff", "\u2060"]),
)


def outcome(raw: str) -> str | NameRefused:
    try:
        return normalise_name(raw)
    except NameRefused as exc:
        return exc


@st.composite
def good_names(draw) -> str:
    first = draw(letters)
    rest = draw(st.lists(st.one_of(letters, marks, punctuation, st.just(" ")), max_size=30))
    return first + "".join(rest)


@given(good_names())
@example("扎西·次仁")
@example("བཀྲ་ཤིས་")
def test_letters_marks_spaces_and_name_punctuation_are_accepted(name):
    stored = outcome(name)
    assert isinstance(stored, str), (name, stored)
    assert stored == stored.strip() and "  " not in stored
    assert unicodedata.is_normalized("NFC", stored)


@given(good_names(), st.integers(min_value=0, max_value=40), forbidden)
def test_one_forbidden_character_anywhere_refuses_the_name(name, at, bad):
    at = min(at, len(name))
    refused = outcome(name[:at] + bad + name[at:])
    assert isinstance(refused, NameRefused)
    assert refused.reason in {"bad_character", "bad_start", "empty"}


@given(st.text(st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", " ", "\u3000"]), max_size=10))
def test_a_name_of_only_invisible_characters_or_spaces_is_refused(name):
    assert isinstance(outcome(name), NameRefused)


@given(st.text(max_size=80))
def test_the_rule_never_crashes_and_stored_names_obey_it(name):
    stored = outcome(name)
    if isinstance(stored, str):
        assert 1 <= len(stored) <= MAX_LENGTH
        assert unicodedata.category(stored[0]).startswith("L")
        assert normalise_name(stored) == stored  # storing twice changes nothing
        assert not any(unicodedata.category(c) in {"Cc", "Cs", "Co", "Cn"} for c in stored)


@given(good_names())
def test_a_name_beyond_64_characters_is_too_long(name):
    long = (name.replace(" ", "") + "a" * 70)[:70]
    assert isinstance(outcome(long), NameRefused)

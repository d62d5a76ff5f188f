"""Resident identity numbers (GB 11643-1999): examples from the standard and properties."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaxops.registry.idnumber import (
    MESSAGES,
    WARNINGS,
    IdNumberError,
    ResidentId,
    check_character,
    make_id_number,
    mask_id_number,
    normalise_id_input,
    parse_id_number,
    random_id_number,
)

TODAY = date(2021, 6, 1)

division_codes = st.from_regex(r"\A(0[1-9]|[1-9][0-9])[0-9]{4}\Z")
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sexes = st.sampled_from(["M", "F"])


def error_code(raw: str, today: date = TODAY) -> str:
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(raw, today=today)
    return caught.value.code


# -- public examples ---------------------------------------------------------------------


def test_example_from_the_standard_with_check_character_x() -> None:
    resident = parse_id_number("11010519491231002X", today=TODAY)
    assert resident == ResidentId(
        number="11010519491231002X",
        division_code="110105",
        birth_date=date(1949, 12, 31),
        sex="F",
        sequence=2,
        converted_from_15=False,
    )


def test_birth_year_before_1900_is_refused() -> None:
    # The standard's own example of a person born in 1880: valid by its check character, but
    # nobody born then comes to a vaccination desk; such a year is a typing error.
    with pytest.raises(IdNumberError) as caught:
        parse_id_number("440524188001010014", today=TODAY)
    assert caught.value.code == "id_birth_year_before_1900"
    assert caught.value.detail == {"year": 1880}
    assert parse_id_number(make_id_number("440524", date(1900, 1, 1), 1), today=TODAY).birth_date == date(1900, 1, 1)


def test_fifteen_digit_form_converts_to_eighteen() -> None:
    resident = parse_id_number("110105491231002", today=TODAY)
    assert resident.number == "11010519491231002X"
    assert resident.converted_from_15 is True
    assert resident.birth_date == date(1949, 12, 31)


def test_check_character_of_the_examples() -> None:
    assert check_character("11010519491231002") == "X"
    assert check_character("44052418800101001") == "4"


def test_check_character_rejects_anything_but_17_digits() -> None:
    with pytest.raises(ValueError):
        check_character("1101051949123100")
    with pytest.raises(ValueError):
        check_character("1101051949123100X")


# -- normalisation ---------------------------------------------------------------------


def test_lower_case_x_is_accepted_and_stored_upper_case() -> None:
    assert parse_id_number("11010519491231002x", today=TODAY).number == "11010519491231002X"


def test_surrounding_whitespace_is_stripped() -> None:
    assert parse_id_number("  11010519491231002X\t\n", today=TODAY).number == "11010519491231002X"


def test_division_code_that_no_longer_exists_is_accepted() -> None:
    # 513321 was Kangding county before it became a city (513301) in 2015.
    number = make_id_number("513321", date(1980, 5, 17), 123)
    resident = parse_id_number(number, today=TODAY)
    assert resident.division_code == "513321"
    assert resident.warnings == ()


def test_full_width_digits_and_x_are_read_as_ascii() -> None:
    # What a Chinese input method types when it is left in full-width mode.
    assert parse_id_number("１１０１０５１９４９１２３１００２Ｘ", today=TODAY).number == "11010519491231002X"
    assert parse_id_number("１１０１０５１９４９１２３１００２ｘ", today=TODAY).number == "11010519491231002X"


@pytest.mark.parametrize(
    "raw",
    ["110105 19491231 002X", "110105-19491231-002X", "110105　19491231　002X", "1101 0519 4912 3100 2X",
     "110105－19491231－002X"],
)
def test_spaces_and_hyphens_inside_the_number_are_ignored(raw: str) -> None:
    assert parse_id_number(raw, today=TODAY).number == "11010519491231002X"


def test_other_look_alike_characters_are_not_rewritten() -> None:
    # A letter O is not a zero: only what is safe to read one way is normalised.
    assert error_code("11O10519491231002X") == "id_bad_characters"
    assert normalise_id_input("11O1") == "11O1"


def test_province_code_no_edition_ever_used_is_accepted_with_a_warning() -> None:
    # People are not refused for a gap in the code list; the desk shows the warning instead.
    number = make_id_number("990101", date(1980, 5, 17), 123)
    resident = parse_id_number(number, today=TODAY)
    assert resident.number == number
    assert resident.warnings == ("id_unknown_province_code",)
    assert "990101" in WARNINGS["id_unknown_province_code"].format(division_code="990101")


# -- one test per error code -----------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "1101051949123100", "11010519491231002X1", "1101054912310021"])
def test_wrong_length_is_rejected(raw: str) -> None:
    assert error_code(raw) == "id_wrong_length"


@pytest.mark.parametrize(
    "raw", ["1101051949123100XX", "11010519491231.02X", "X10105491231002", "11010519491231002Y"]
)
def test_bad_characters_are_rejected(raw: str) -> None:
    assert error_code(raw) == "id_bad_characters"


def test_x_in_the_fifteen_digit_form_is_a_bad_character() -> None:
    assert error_code("11010549123100X") == "id_bad_characters"


def test_bad_check_character_names_the_expected_one() -> None:
    with pytest.raises(IdNumberError) as caught:
        parse_id_number("110105194912310021", today=TODAY)
    assert caught.value.code == "id_bad_check_character"
    assert caught.value.detail == {"expected": "X", "actual": "1"}
    assert "X" in caught.value.message_en


def test_province_part_00_is_rejected() -> None:
    assert error_code(make_id_number("000000", date(1990, 1, 1), 1)) == "id_bad_division_code"
    assert error_code(make_id_number("001234", date(1990, 1, 1), 1)) == "id_bad_division_code"


@pytest.mark.parametrize(
    "birth_digits",
    [
        "19990230",  # 30 February
        "19991301",  # month 13
        "19990229",  # 29 February of a non-leap year
        "19000229",  # 1900 is not a leap year (divisible by 100, not by 400)
        "19990001",  # month 0
        "19990100",  # day 0
        "19990431",  # 31 April
        "00000101",  # year 0 does not exist
    ],
)
def test_impossible_birth_date_is_rejected(birth_digits: str) -> None:
    first17 = "513301" + birth_digits + "123"
    assert error_code(first17 + check_character(first17)) == "id_impossible_date"


def test_impossible_date_in_fifteen_digit_form_is_rejected() -> None:
    assert error_code("513301990230123") == "id_impossible_date"


def test_29_february_of_a_leap_year_is_valid() -> None:
    assert parse_id_number(make_id_number("513301", date(2000, 2, 29), 7), today=TODAY).birth_date == date(
        2000, 2, 29
    )


def test_future_birth_date_relative_to_today_is_rejected() -> None:
    number = make_id_number("513301", date(2021, 6, 2), 1)
    assert error_code(number, today=date(2021, 6, 1)) == "id_future_birth_date"
    assert parse_id_number(number, today=date(2021, 6, 2)).birth_date == date(2021, 6, 2)


def test_every_error_code_has_a_message_that_renders_from_its_detail() -> None:
    samples = {
        "id_wrong_length": "123",
        "id_bad_characters": "1101051949123100AX",
        "id_bad_check_character": "110105194912310021",
        "id_bad_division_code": make_id_number("000000", date(1990, 1, 1), 1),
        "id_impossible_date": "513301990230123",
        "id_birth_year_before_1900": "440524188001010014",
        "id_future_birth_date": make_id_number("513301", date(2030, 1, 1), 1),
    }
    assert set(samples) == set(MESSAGES)
    for code, raw in samples.items():
        with pytest.raises(IdNumberError) as caught:
            parse_id_number(raw, today=TODAY)
        assert caught.value.code == code
        assert caught.value.message_en == MESSAGES[code].format(**caught.value.detail)
        assert str(caught.value) == caught.value.message_en


# -- generators and masking ------------------------------------------------------------


def test_make_id_number_rejects_bad_parts() -> None:
    with pytest.raises(ValueError):
        make_id_number("51330", date(1990, 1, 1), 1)
    with pytest.raises(ValueError):
        make_id_number("513301", date(1990, 1, 1), 1000)


def test_random_id_number_is_reproducible_from_a_seed() -> None:
    first = random_id_number(random.Random(7), "513301", date(1990, 1, 1), "F")
    second = random_id_number(random.Random(7), "513301", date(1990, 1, 1), "F")
    assert first == second


def test_mask_keeps_first_six_and_last_four() -> None:
    assert mask_id_number("513301199001011234") == "513301********1234"
    assert mask_id_number("11010519491231002x") == "110105********002X"
    assert mask_id_number("110105491231002") == "110105*****1002"
    assert mask_id_number("12345") == "*****"


# -- properties ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(rng_seed=st.integers(0, 2**32 - 1), division_code=division_codes, birth_date=birth_dates, sex=sexes)
def test_generated_numbers_round_trip_through_parse(
    rng_seed: int, division_code: str, birth_date: date, sex: Literal["M", "F"]
) -> None:
    number = random_id_number(random.Random(rng_seed), division_code, birth_date, sex)
    resident = parse_id_number(number, today=TODAY)
    assert resident.number == number
    assert (resident.division_code, resident.birth_date, resident.sex) == (division_code, birth_date, sex)
    assert resident.converted_from_15 is False
    assert parse_id_number(number.lower(), today=TODAY) == resident


@settings(max_examples=200, deadline=None)
@given(
    division_code=division_codes,
    birth_date=birth_dates,
    sequence=st.integers(0, 999),
    data=st.data(),
)
def test_every_single_character_change_is_caught(
    division_code: str, birth_date: date, sequence: int, data: st.DataObject
) -> None:
    number = make_id_number(division_code, birth_date, sequence)
    position = data.draw(st.integers(0, 17), label="position")
    replacements = sorted(set("0123456789X") - {number[position]})
    replacement = data.draw(st.sampled_from(replacements), label="replacement")
    mutated = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(IdNumberError):
        parse_id_number(mutated, today=TODAY)


@settings(max_examples=100, deadline=None)
@given(
    division_code=division_codes,
    birth_date=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    sequence=st.integers(0, 999),
)
def test_fifteen_digit_form_equals_the_eighteen_digit_form(
    division_code: str, birth_date: date, sequence: int
) -> None:
    old = f"{division_code}{birth_date:%y%m%d}{sequence:03d}"
    resident = parse_id_number(old, today=TODAY)
    assert resident.number == make_id_number(division_code, birth_date, sequence)
    assert resident.converted_from_15 is True


@settings(max_examples=100, deadline=None)
@given(birth_date=birth_dates, days_ahead=st.integers(1, 3650))
def test_any_birth_date_after_today_is_rejected(birth_date: date, days_ahead: int) -> None:
    number = make_id_number("513301", birth_date, 1)
    assert error_code(number, today=birth_date - timedelta(days=days_ahead)) == "id_future_birth_date"


full_width = str.maketrans({**{str(i): chr(0xFF10 + i) for i in range(10)}, "X": "Ｘ"})


@settings(max_examples=200, deadline=None)
@given(
    division_code=division_codes,
    birth_date=birth_dates,
    sequence=st.integers(0, 999),
    data=st.data(),
)
def test_separators_and_full_width_forms_never_change_the_result(
    division_code: str, birth_date: date, sequence: int, data: st.DataObject
) -> None:
    number = make_id_number(division_code, birth_date, sequence)
    chars = list(number)
    if data.draw(st.booleans(), label="full width"):
        chars = [c.translate(full_width) for c in chars]
    separators = st.lists(st.sampled_from([" ", "-", "\u3000", "\uff0d", "\u2010"]), max_size=2).map("".join)
    typed = "".join(data.draw(separators, label="before") + c for c in chars) + data.draw(separators, label="after")
    assert parse_id_number(typed, today=TODAY) == parse_id_number(number, today=TODAY)
    assert normalise_id_input(normalise_id_input(typed)) == normalise_id_input(typed) == number


@settings(max_examples=100, deadline=None)
@given(division_code=division_codes, birth_date=birth_dates, sequence=st.integers(0, 999))
def test_a_warning_is_given_exactly_for_province_codes_no_edition_used(
    division_code: str, birth_date: date, sequence: int
) -> None:
    resident = parse_id_number(make_id_number(division_code, birth_date, sequence), today=TODAY)
    known = division_code[:2] in {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35",
                                  "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54",
                                  "61", "62", "63", "64", "65", "71", "81", "82"}
    assert resident.warnings == (() if known else ("id_unknown_province_code",))


@settings(max_examples=100, deadline=None)
@given(birth_date=st.dates(min_value=date(1, 1, 1), max_value=date(1899, 12, 31)), sequence=st.integers(0, 999))
def test_every_birth_year_before_1900_is_refused(birth_date: date, sequence: int) -> None:
    assert error_code(make_id_number("513301", birth_date, sequence)) == "id_birth_year_before_1900"

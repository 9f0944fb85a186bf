"""barong/api/params.parse: Barong's (Grape's) parameter error codes, without a request."""
from __future__ import annotations

import pytest

from barong.api.params import Param, parse
from barong.errors import BarongError


def codes(params, source):
    with pytest.raises(BarongError) as err:
        parse("s", params, source)
    return err.value.status, err.value.codes


def test_absent_required_non_blank_param_is_missing_and_empty():
    """Grape runs allow_blank on an absent *required* param: both codes, 400."""
    assert codes([Param("email", required=True, allow_blank=False)], {}) == (400, ["s.missing_email",
                                                                               "s.empty_email"])


def test_absent_optional_non_blank_param_is_no_error():
    """Grape validates an optional param only when it is given."""
    assert parse("s", [Param("email", allow_blank=False)], {}) == {}


@pytest.mark.parametrize("blank", ["", "   ", None, [], {}])
def test_present_blank_non_blank_param_is_empty(blank):
    assert codes([Param("email", allow_blank=False)], {"email": blank}) == (400, ["s.empty_email"])
    assert codes([Param("email", required=True, allow_blank=False)], {"email": blank}) == (400, ["s.empty_email"])


def test_custom_codes_replace_the_scoped_ones():
    p = Param("email", required=True, allow_blank=False, missing="x.missing", blank="x.blank")
    assert codes([p], {}) == (400, ["x.missing", "x.blank"])


@pytest.mark.parametrize("blank", ["", "  "])
def test_blank_string_param_keeps_its_value(blank):
    assert parse("s", [Param("name")], {"name": blank}) == {"name": blank}


@pytest.mark.parametrize("blank", ["", None, []])
def test_blank_typed_param_takes_its_default(blank):
    assert parse("s", [Param("page", int, default=1), Param("flag", bool)], {"page": blank, "flag": blank}) == \
        {"page": 1, "flag": None}


def test_absent_param_takes_its_default_only_when_it_has_one():
    assert parse("s", [Param("page", int, default=3), Param("q")], {}) == {"page": 3}


def test_type_and_value_errors_are_422_and_missing_wins_as_400():
    params = [Param("n", int), Param("kind", values=("a", "b"))]
    assert codes(params, {"n": "x", "kind": "c"}) == (422, ["s.invalid_n", "s.invalid_kind"])
    assert codes(params + [Param("q", required=True)], {"n": "x"}) == (400, ["s.missing_q", "s.invalid_n"])


# ---- issue 13: dates (item 8) and input that must never reach the database (item 12) -----

from datetime import date  # noqa: E402

from barong.dates import parse_date  # noqa: E402
from barong.rawinput import loads_json, storable  # noqa: E402


@pytest.mark.parametrize("text", ["1990-01-02", "02/01/1990", "02.01.1990", "02-01-1990", "2/1/1990", " 02/01/1990 ",
                                  "1990-01-02T10:00:00Z", "1990-01-02 10:00"])
def test_dates_iso_and_day_first(text):
    assert parse_date(text) == date(1990, 1, 2)
    assert parse("s", [Param("d", date)], {"d": text}) == {"d": date(1990, 1, 2)}


@pytest.mark.parametrize("text", ["31/02/2020", "2020-13-01", "2020-02-30", "13/13/2020", "02/01/90", "1990/01/02",
                                  "Jan 2 1990", "02/01-1990", "", "0000-01-01", "1990-01-02garbage"])
def test_impossible_or_unknown_dates(text):
    with pytest.raises(ValueError):
        parse_date(text)
    if text:
        assert codes([Param("d", date, invalid="invalid")], {"d": text}) == (422, ["invalid"])


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", ["a", "b\x00"], {"a": 1}, ["x", ["y"]]])
def test_strings_that_cannot_be_stored_are_invalid(value):
    params = [Param("name"), Param("names", list)]
    key = "names" if isinstance(value, list) and not any(isinstance(v, list) for v in value) else "name"
    if isinstance(value, list) and any(isinstance(v, list) for v in value):
        key = "names"
    assert codes(params, {key: value}) == (422, [f"s.invalid_{key}"])


@pytest.mark.parametrize("value,ok", [(2 ** 63 - 1, True), (2 ** 63, False), (-2 ** 63, True), (-2 ** 63 - 1, False),
                                      ("9" * 30, False), ("-5", True), (" 7 ", True), ("1e3", False), (1.0, False),
                                      (True, False), ("٣", False)])
def test_integers_are_range_checked(value, ok):
    p = [Param("n", int)]
    if ok:
        assert parse("s", p, {"n": value}) == {"n": int(value)}
    else:
        assert codes(p, {"n": value}) == (422, ["s.invalid_n"])


def test_declared_bounds_and_documented_range():
    p = Param("id", int, minimum=0, maximum=2 ** 31 - 1)
    assert codes([p], {"id": 2 ** 31}) == (422, ["s.invalid_id"])
    assert p.openapi_schema() == {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2 ** 31 - 1}


def test_page_past_the_offset_range_is_non_integer_page():
    from barong.api.params import PAGINATION_PARAMS

    assert codes(PAGINATION_PARAMS, {"page": str(2 ** 62)}) == (422, ["non_integer_page"])


@pytest.mark.parametrize("value,out", [(0, "0"), (True, "true"), ({"a": 1}, {"a": 1}), ("{}", "{}")])
def test_any_params_are_a_string_or_an_object(value, out):
    assert parse("s", [Param("data", "any")], {"data": value}) == {"data": out}


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a": NaN}', "[Infinity]", "{"])
def test_loads_json_refuses_what_is_not_json(text):
    with pytest.raises(ValueError):
        loads_json(text)


def test_storable_keeps_an_audit_write_possible():
    assert storable("a\x00b\ud800", 3) == "a\ufffdb"

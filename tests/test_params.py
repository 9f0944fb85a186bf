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

"""Declared API parameters: parsing, Barong's error codes, and the OpenAPI document.

    @bp.post("/sessions")
    @use_params("identity.session",
                Param("email", required=True),
                Param("password", required=True),
                Param("otp_code"))
    def sessions_create(p): ...

Values come from the JSON body, the form body or the query string (GET/DELETE: the
query). `required` → `<scope>.missing_<name>` and `allow_blank=False` →
`<scope>.empty_<name>` (both 400, CONTRACT §3); type/values errors are 422. The same
declarations feed `/api/v2/barong/swagger` (barong/api/openapi.py), so the document
cannot drift from what the endpoints accept.

What no column can hold is a type error (the param's `invalid` code, 422), never a 500
further down: a string with a NUL byte or a lone surrogate, an object or array where a
string belongs, an integer outside BIGINT or the param's own `minimum`/`maximum`. Dates
are Barong's `type: Date` (barong/dates.py: ISO or day-first). A body that is not JSON —
malformed, `NaN`, nested past the stack — is 400 `server.invalid_json`.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from flask import make_response, request

from barong.dates import parse_date
from barong.errors import BarongError
from barong.rawinput import clean_text, loads_json

MAX_STRING = 10_000
#: an integer parameter outside this range cannot be a stored value (PostgreSQL BIGINT);
#: narrower columns (INTEGER ids, unix seconds) declare their own minimum/maximum
BIGINT = (-2 ** 63, 2 ** 63 - 1)
INT32 = (-2 ** 31, 2 ** 31 - 1)
#: unix seconds that are a calendar date (0001-01-01 … 9999-12-31)
UNIX_SECONDS = (-62_135_596_800, 253_402_300_799)


@dataclass
class Param:
    name: str
    type: type | str = str  # str, int, bool, float, date, "json", "file", list, dict, "any"
    required: bool = False
    allow_blank: bool = True
    values: tuple | list | None = None
    default: Any = None
    #: custom codes: missing / blank / invalid (type or values)
    missing: str | None = None
    blank: str | None = None
    invalid: str | None = None
    max_length: int | None = None
    description: str = ""
    location: str | None = None  # "query" / "body" / "path" (documentation only)
    #: int params: the accepted range (default BIGINT); outside it → the `invalid` code
    minimum: int | None = None
    maximum: int | None = None

    def bounds(self) -> tuple[int, int]:
        return (BIGINT[0] if self.minimum is None else self.minimum,
                BIGINT[1] if self.maximum is None else self.maximum)

    def refuses_blank(self) -> bool:
        """A blank value is an error (`empty_x`): documented as `minLength: 1`."""
        return not self.allow_blank

    def openapi_schema(self) -> dict:
        t = self.type
        schema: dict = {"type": "string"}
        if t is int:
            low, high = self.bounds()
            schema = {"type": "integer", "format": "int64", "minimum": low, "maximum": high}
        elif t is bool:
            schema = {"type": "boolean"}
        elif t is float:
            schema = {"type": "number"}
        elif t is date:
            schema = {"type": "string", "format": "date"}
        elif t == "file":
            schema = {"type": "array", "items": {"type": "string", "format": "binary"}}
        elif t is list:
            schema = {"type": "array", "items": {"type": "string"}}
        elif t is dict or t == "any":
            schema = {}
        if schema.get("type") == "string" and "format" not in schema:
            if self.refuses_blank():
                schema["minLength"] = 1
                schema["pattern"] = r"\S"
            if t is str:
                schema["maxLength"] = self.max_length or MAX_STRING
        if self.values:
            schema["enum"] = list(self.values)
        if self.default is not None:
            schema["default"] = self.default
        return schema


@dataclass
class Declaration:
    scope: str
    params: list[Param]
    status: int = 200
    summary: str = ""
    paginated: bool = False
    extra: dict = field(default_factory=dict)


def raw_params() -> dict:
    """Merged request parameters: query < form < JSON body (CONTRACT §3)."""
    data: dict = {}
    data.update(request.args.to_dict(flat=True))
    if request.method not in ("GET", "HEAD"):
        if request.form:
            for key in request.form:
                if not key:  # a multipart part without a name (werkzeug: None) is no parameter
                    continue
                values = request.form.getlist(key)
                data[key] = values if key.endswith("[]") or len(values) > 1 else values[0]
        if request.is_json or (request.data and request.mimetype in ("", "text/plain") and
                               request.data[:1] in (b"{",)):
            try:
                body = loads_json(request.get_data(as_text=True) or "{}")
            except ValueError:
                raise BarongError("server.invalid_json", 400) from None
            if isinstance(body, dict):
                data.update(body)
            elif body is not None:
                raise BarongError("server.invalid_json", 400)
    return data


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "") or value == [] or value == {}


def _coerce(p: Param, value):
    t = p.type
    if t is str:
        if isinstance(value, (dict, list)):
            raise ValueError
        value = clean_text(str(value))
        if len(value) > (p.max_length or MAX_STRING):
            raise ValueError
        return value
    if t is int:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, str) and len(value) <= 40 and re.fullmatch(r"\s*-?[0-9]+\s*", value):
            value = int(value)
        if not isinstance(value, int):
            raise ValueError
        low, high = p.bounds()
        if not low <= value <= high:
            raise ValueError
        return value
    if t is float:
        return float(value)
    if t is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise ValueError
    if t is date:
        if isinstance(value, str):
            return parse_date(value)
        raise ValueError
    if t == "json":
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        loads_json(clean_text(str(value)))
        return str(value)
    if t is list:
        if isinstance(value, list):
            if any(isinstance(v, (dict, list)) for v in value):
                raise ValueError
            return [clean_text(str(v)) for v in value]
        return [v.strip() for v in clean_text(str(value)).split(",") if v.strip()]
    if t is dict:
        if not isinstance(value, dict):
            raise ValueError
        return value
    if t == "any":  # a JSON string or a JSON object/array; other scalars as Grape's String coerces them
        if isinstance(value, (dict, list)):
            return value
        return clean_text(value) if isinstance(value, str) else json.dumps(value)
    return value


def parse(scope: str, params: list[Param], source: dict | None = None) -> dict:
    """Validate `source` (default: the request) against `params`; raise BarongError with all codes."""
    source = raw_params() if source is None else source
    missing_errors: list[str] = []
    type_errors: list[str] = []
    out: dict = {}
    for p in params:
        key = p.name
        if p.type == "file":
            files = [f for f in request.files.getlist(f"{key}[]") + request.files.getlist(key)]
            present = bool(files) or key in source or f"{key}[]" in source
            value = files or source.get(key) or source.get(f"{key}[]")
        else:
            present = key in source
            value = source.get(key)
        if not present:
            # Grape validates an absent param only when it is required: missing_x, and
            # empty_x too when it may not be blank; an absent optional one is no error
            if p.required:
                missing_errors.append(p.missing or f"{scope}.missing_{key}")
                if not p.allow_blank:
                    missing_errors.append(p.blank or f"{scope}.empty_{key}")
            if p.default is not None:
                out[key] = p.default
            continue
        if _blank(value):
            if not p.allow_blank:
                missing_errors.append(p.blank or f"{scope}.empty_{key}")
            elif p.type is str and isinstance(value, (dict, list)):  # `"username": {}`: not a string
                type_errors.append(p.invalid or f"{scope}.invalid_{key}")
            else:  # a blank string stays as given; a blank typed value is its default
                out[key] = value if p.type is str else p.default
            continue
        try:
            value = _coerce(p, value)
        except (ValueError, TypeError):
            type_errors.append(p.invalid or f"{scope}.invalid_{key}")
            continue
        if p.values is not None and value not in p.values:
            type_errors.append(p.invalid or f"{scope}.invalid_{key}")
            continue
        out[key] = value
    if missing_errors:
        raise BarongError(list(dict.fromkeys(missing_errors + type_errors)), 400)
    if type_errors:
        raise BarongError(list(dict.fromkeys(type_errors)), 422)
    return out


def use_params(scope: str, *params: Param, status: int = 200, summary: str = "", paginated: bool = False,
               **extra) -> Callable:
    """Parse the declared params and pass them to the view as its first argument `p`."""
    plist = list(params)
    if paginated:
        plist += PAGINATION_PARAMS

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            p = parse(scope, plist)
            if paginated:
                check_pagination(p)
            return view(p, *args, **kwargs)

        wrapper.barong_declaration = Declaration(scope, plist, status, summary or (view.__doc__ or "").strip(),
                                                 paginated, extra)
        return wrapper

    return decorator


def document(status: int = 200, summary: str = "", **extra) -> Callable:
    """Declare an endpoint without parameters (for the OpenAPI document)."""

    def decorator(view):
        view.barong_declaration = Declaration("", [], status, summary or (view.__doc__ or "").strip(), False, extra)
        return view

    return decorator


def no_content(view):
    """The view's success answer has no body (`return "", 201`): documented without content,
    and sent without the `text/html` Content-Type Flask would give an empty string.
    Put it right above the `def` (the outer decorators copy the mark)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        if response.status_code < 300 and not response.get_data():
            del response.headers["Content-Type"]
        return response

    wrapper.barong_no_content = True
    return wrapper


PAGINATION_PARAMS = [
    # (page - 1) * limit is the SQL OFFSET: it must stay a BIGINT for the largest limit (1000)
    Param("page", int, default=1, invalid="non_integer_page", description="page number (from 1)",
          maximum=BIGINT[1] // 1000),
    Param("limit", int, default=100, invalid="non_integer_limit", description="items per page (1..100)"),
]


def check_pagination(p: dict, max_limit: int = 100) -> None:
    if p.get("page") is None:
        p["page"] = 1
    if p.get("limit") is None:
        p["limit"] = 100
    if p["page"] < 1:
        raise BarongError("non_positive_page", 422)
    if not 1 <= p["limit"] <= max_limit:
        raise BarongError("invalid_limit", 422)

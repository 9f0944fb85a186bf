"""URL converters that refuse what the database cannot look up (issue 13, item 12).

A path segment with a NUL byte (`/admin/users/ID%00AB`) reaches a `WHERE uid = …` that
PostgreSQL refuses with an error, and `/documents/<int:id>` with an id past BIGINT overflows
the bound parameter: both were a 500. With these converters such a path simply does not
match, so it is the JSON 404 of any unknown `/api/` path (HTML 404 on the site).
"""
from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter

from barong.api.params import BIGINT


class TextConverter(UnicodeConverter):
    """`<name>` / `<string:name>`: one segment without NUL bytes."""

    def __init__(self, map, minlength=1, maxlength=None, length=None):  # noqa: A002 - werkzeug's name
        super().__init__(map, minlength, maxlength, length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]", 1)


class TextPathConverter(PathConverter):
    """`<path:name>`: segments without NUL bytes."""

    regex = "[^/\\x00][^\\x00]*?"


class BigIntConverter(IntegerConverter):
    """`<int:name>`: 0 … 2^63-1 unless the rule says otherwise (`<int(max=…):name>`)."""

    def __init__(self, map, fixed_digits=0, min=None, max=BIGINT[1], signed=False):  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed)


def install(app: Flask) -> None:
    """Use these for every rule added from now on (call before registering blueprints)."""
    app.url_map.converters.update(default=TextConverter, string=TextConverter, path=TextPathConverter,
                                  int=BigIntConverter)

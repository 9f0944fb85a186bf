"""Reading rendered pages in the form tests."""
from __future__ import annotations

import html as htmllib
import re


def html(resp) -> str:
    return htmllib.unescape(resp.get_data(as_text=True))


def field_error(resp, field: str) -> str:
    """The error rendered next to `field` (id="<field>-error"), unescaped."""
    m = re.search(rf'id="{re.escape(field)}-error"[^>]*>([^<]*)<', resp.get_data(as_text=True))
    return htmllib.unescape(m.group(1)) if m else ""

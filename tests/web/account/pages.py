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


def nonce(client, url: str) -> str:
    """The one-time `form_nonce` rendered into the first form on `url` that has one."""
    page = client.get(url).get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="form_nonce"[^>]*>', page)
    assert tag, f"no form_nonce on {url}"
    return htmllib.unescape(re.search(r'value="([^"]*)"', tag.group(0)).group(1))


def with_nonce(client, url: str, data: dict) -> dict:
    """`data` plus a fresh form nonce from the page at `url` (what a browser would send)."""
    return {**data, "form_nonce": nonce(client, url)}

"""Finding English UI text on a page rendered in Russian (tests/web/console/test_console_ru.py).

A page is reduced to what a person reads: text nodes and the attributes a browser shows
(placeholder, title, aria-label, alt, the confirmation texts), leaving out <script>/<style>
and every subtree marked `translate="no"` (the HTML attribute the console puts on data:
emails, UIDs, label keys and values, topics, roles, user agents…). Two checks:

1. catalogue: no text node — and no element's whole text — of the ru page is an English
   msgid of messages.po that has a different Russian msgstr (msgids with `%(name)s`
   placeholders match as patterns);
2. leftovers: no text node of the ru page that has Latin letters also appears in the en
   rendering of the same page, unless it is one of the few words both languages write the
   same way (TECHNICAL) — this catches a string that never reached the catalogue at all.
"""
from __future__ import annotations

import functools
import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

PO = Path(__file__).resolve().parents[3] / "translations" / "ru" / "LC_MESSAGES" / "messages.po"

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SHOWN_ATTRS = ("placeholder", "title", "aria-label", "alt", "data-key-confirm", "hx-confirm")
DATA = "\x00"  # stands for a translate="no" subtree inside an element's text

#: words written the same way in the Russian console (abbreviations, product and protocol names)
TECHNICAL = {"2FA", "UID", "ID", "IP", "API", "KYC", "CSV", "PDF", "JSON", "UTC", "RBAC", "SLA", "Email", "Kid",
             "RabbitMQ", "Barong", "URL", "EN", "RU", "English", "B", "ACCEPT", "DROP", "ALL", "Enter", "TOTP", "SMS"}


class Page(HTMLParser):
    """Text nodes, shown attributes and each element's whole text of one HTML page."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []      # text nodes and shown attribute values
        self.elements: list[str] = []   # each element's whole text (data subtrees as DATA)
        self._stack: list[list] = []    # [tag, hidden, parts]
        self.feed(html)
        self.close()

    def _hidden(self) -> bool:
        return bool(self._stack) and self._stack[-1][1]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        hidden = self._hidden() or tag in ("script", "style") or attrs.get("translate") == "no"
        if not hidden:
            for name in SHOWN_ATTRS:
                if attrs.get(name):
                    self.nodes.append(norm(attrs[name]))
        elif attrs.get("translate") == "no" and not self._hidden():
            for entry in self._stack:
                entry[2].append(DATA)
        if tag not in VOID:
            self._stack.append([tag, hidden, []])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if not any(entry[0] == tag for entry in self._stack):
            return
        while self._stack:
            name, hidden, parts = self._stack.pop()
            if not hidden:
                text = norm("".join(parts))
                if text:
                    self.elements.append(text)
            if name == tag:
                break

    def handle_data(self, data):
        if self._hidden() or not data.strip():
            return
        self.nodes.append(norm(data))
        for entry in self._stack:
            entry[2].append(data)


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@functools.lru_cache(maxsize=1)
def catalogue() -> tuple[frozenset, tuple]:
    """English strings of messages.po that have a different Russian translation: exact
    ones, and patterns for those with placeholders (only when they carry a real word)."""
    with open(PO, "rb") as f:
        cat = read_po(f)
    exact, patterns = set(), []
    for m in cat:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, (list, tuple)) else (m.id,)
        strs = m.string if isinstance(m.string, (list, tuple)) else (m.string,)
        if not any(strs) or set(ids) <= set(strs):
            continue
        for msgid in ids:
            text = norm(msgid)
            if "%(" in text:
                literal = re.sub(r"%\([a-z_]+\)[sd]", " ", text)
                if re.search(r"[A-Za-z]{3,}", literal):
                    # a placeholder holds data (DATA, numbers) or words of the page's language
                    rx = "".join(r"[^A-Za-z]*?" if re.fullmatch(r"%\([a-z_]+\)[sd]", part) else re.escape(part)
                                 for part in re.split(r"(%\([a-z_]+\)[sd])", text.replace("%%", "%")))
                    patterns.append((text, re.compile(rx, re.S)))
            elif re.search(r"[A-Za-z]", text):
                exact.add(text)
    return frozenset(exact), tuple(patterns)


#: data that may show outside a translate="no" element (the site's top bar shows the signed-in email)
DATA_PATTERNS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+|\b[A-Z]{2,6}[0-9A-F]{10}\b|https?://\S+|(?<!\w)/[\w/.?=&…-]+")


def _latin_left(text: str) -> bool:
    """Latin letters left once data (emails, UIDs, URLs, paths), the TECHNICAL words, single
    letters (keys) and numbers are removed."""
    text = DATA_PATTERNS.sub(" ", text)
    rest = re.sub(r"[A-Za-z0-9]+", lambda m: "" if m.group(0) in TECHNICAL or len(m.group(0)) == 1
                  or m.group(0).isdigit() else m.group(0), text)
    return bool(re.search(r"[A-Za-z]{2,}", rest))


def english_left(en_html: str, ru_html: str, same_as_en: bool = True) -> list[str]:
    """What the ru page still shows in English (empty when the page is fully Russian);
    same_as_en=False runs only the catalogue check (a page whose data is not marked)."""
    exact, patterns = catalogue()
    en, ru = Page(en_html), Page(ru_html)
    found = []
    for text in dict.fromkeys(ru.nodes + ru.elements):
        if not re.search(r"[A-Za-z]{2,}", text):
            continue
        if text in exact:
            found.append(f"catalogue: {text!r}")
            continue
        hit = None if len(text) > 400 else next((msgid for msgid, rx in patterns if rx.fullmatch(text)), None)
        if hit:
            found.append(f"catalogue: {text!r} (msgid {hit!r})")
    en_nodes = set(en.nodes) if same_as_en else set()
    for text in dict.fromkeys(ru.nodes):
        if text in en_nodes and _latin_left(text):
            found.append(f"same as en: {text!r}")
    return found

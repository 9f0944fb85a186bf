"""The Russian catalogue covers every message of the site and its compiled .mo is current."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
PO = ROOT / "translations/ru/LC_MESSAGES/messages.po"
MO = ROOT / "translations/ru/LC_MESSAGES/messages.mo"


def _ids(catalog) -> dict:
    # keyed by (msgctxt, msgid): the console's pgettext("console", …) terms share msgids with
    # the site; plural forms are a tuple from the .po reader, a list from the .mo reader
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]):
            m.string if isinstance(m.string, str) else tuple(m.string) for m in catalog if m.id}


def test_every_message_of_the_site_has_a_russian_translation():
    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    found = set()
    for folder in (ROOT, ROOT / "templates/_macros"):
        for _name, _line, message, _comments, _context in extract_from_dir(
                str(folder), method_map, options_map, keywords=keywords):
            found.add((_context, message if isinstance(message, str) else message[0]))
    translated = _ids(read_po(PO.open("rb")))
    missing = sorted(m for m in found if not translated.get(m))
    assert not missing, f"run the commands in babel.cfg and translate: {missing}"


def test_the_compiled_catalogue_matches_the_po_file():
    with PO.open("rb") as po, MO.open("rb") as mo:
        assert _ids(read_po(po)) == _ids(read_mo(mo)), "run: pybabel compile -d translations"

"""The KYC reasons catalogue and the identity set (`config/kyc_reasons.yml`, path
`BARONG_KYC_REASONS_PATH`).

A reason is what a reviewer names when refusing a document: a code (what the API takes and
returns), the text the user reads in each mail/site language, its kind — `retry` (upload
that document again) or `final` (rejected for good) — and optionally the documents it fits
(`identity` = front/back side, `selfie`, `address`). The identity set says which approved
documents make the applicant's `document` label `verified`.

Read once per app (cached in `app.extensions`); a file that cannot be used raises
ConfigError naming it. Without the file: an empty catalogue, identity set front_side + selfie.
"""
from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from flask import current_app

from barong.config import ConfigError
from barong.errors import BarongError

KINDS = ("retry", "final")
#: document kinds a reason may apply to (document_kind)
APPLIES = ("identity", "selfie", "address")
LANGUAGES = ("en", "ru")
_CODE = re.compile(r"^[a-z0-9_]{1,64}$")


@dataclass(frozen=True)
class Reason:
    code: str
    kind: str
    text: dict
    applies_to: tuple = APPLIES

    def fits(self, doc_kind: str) -> bool:
        return doc_kind in self.applies_to

    def entity(self) -> dict:
        return {"code": self.code, "kind": self.kind, "text": dict(self.text), "applies_to": list(self.applies_to)}


@dataclass
class Catalogue:
    reasons: dict = field(default_factory=dict)  # code → Reason, in file order
    required: tuple = ("front_side", "selfie")
    back_side_types: tuple = ()


def document_kind(document) -> str:
    """identity | selfie | address: which reasons fit a document, which part of the set it is."""
    if document.doc_type == "Address":
        return "address"
    return "selfie" if document.doc_category == "selfie" else "identity"


def parse(raw, source: str = "kyc_reasons.yml") -> Catalogue:
    """The catalogue from the YAML's data. Raises ConfigError naming `source` and the entry."""
    def bad(msg):
        return ConfigError(f"BARONG_KYC_REASONS_PATH {source}: {msg}")

    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise bad("expected a mapping at the top level")
    cat = Catalogue()
    identity = raw.get("identity") or {}
    if not isinstance(identity, dict):
        raise bad("identity: expected a mapping")
    if identity.get("required") is not None:
        req = identity["required"]
        if not isinstance(req, list) or not builtins.all(c in ("front_side", "back_side", "selfie") for c in req):
            raise bad("identity.required: a list of front_side, back_side, selfie")
        cat.required = tuple(req)
    if identity.get("back_side_types") is not None:
        types = identity["back_side_types"]
        if not isinstance(types, list):
            raise bad("identity.back_side_types: expected a list of document types")
        cat.back_side_types = tuple(str(t) for t in types)
    reasons = raw.get("reasons") or []
    if not isinstance(reasons, list):
        raise bad("reasons: expected a list")
    for i, item in enumerate(reasons):
        if not isinstance(item, dict):
            raise bad(f"reasons[{i}]: expected a mapping")
        code = str(item.get("code") or "")
        if not _CODE.match(code):
            raise bad(f"reasons[{i}]: code {code!r} must be 1-64 characters a-z, 0-9, _")
        if code in cat.reasons:
            raise bad(f"reasons[{i}]: code {code!r} appears twice")
        kind = item.get("kind")
        if kind not in KINDS:
            raise bad(f"reason {code}: kind must be retry or final")
        text = item.get("text")
        if not isinstance(text, dict) or not str(text.get("en") or "").strip():
            raise bad(f"reason {code}: text.en is required")
        applies = item.get("applies_to")
        if applies is None:
            applies = list(APPLIES)
        if not isinstance(applies, list) or not applies or not builtins.all(a in APPLIES for a in applies):
            raise bad(f"reason {code}: applies_to must list identity, selfie and/or address")
        cat.reasons[code] = Reason(code, kind, {str(k).lower(): str(v).strip() for k, v in text.items() if v},
                                   tuple(applies))
    return cat


def load(path: Path | str | None = None) -> Catalogue:
    """The app's catalogue (cached); with `path`, that file, uncached."""
    if path is None:
        cached = current_app.extensions.get("barong_kyc_reasons")
        if cached is not None:
            return cached
        path = current_app.config.get("BARONG_KYC_REASONS_PATH")
    cat = Catalogue()
    if path and Path(path).exists():
        try:
            raw = yaml.safe_load(Path(path).read_text())
        except yaml.YAMLError as exc:
            raise ConfigError(f"BARONG_KYC_REASONS_PATH {path}: not valid YAML ({exc})") from None
        cat = parse(raw, str(path))
    if path == current_app.config.get("BARONG_KYC_REASONS_PATH"):
        current_app.extensions["barong_kyc_reasons"] = cat
    return cat


def all() -> list[Reason]:  # noqa: A001 - the interface's name
    return list(load().reasons.values())


def get(code: str | None) -> Reason:
    """The reason `code`; 422 kyc.reason.unknown when the catalogue has none."""
    reason = load().reasons.get(str(code or ""))
    if reason is None:
        raise BarongError("kyc.reason.unknown", 422)
    return reason


def text(code: str | None, lang: str | None = "en") -> str | None:
    """The user-facing text of `code` in `lang` (en, ru; any case, `ru_RU` works), English when
    that language is missing; None for no code, the code itself for one the catalogue lost."""
    if not code:
        return None
    reason = load().reasons.get(code)
    if reason is None:
        return code
    lang = (lang or "en").lower().replace("-", "_").split("_")[0]
    return reason.text.get(lang) or reason.text.get("en") or code

"""The mail a per-document KYC decision sends (event `model.document.updated`,
barong.services.verification.document_review): for a re-upload request (`retry`) and a
final rejection, in the user's language, naming the document, the catalogue reason (the
event record carries its text in every language: `review_reason_text`) and the reviewer's
note to the user. An approval sends no mail of its own (the `document` / `address` label
mail says what changed)."""
from __future__ import annotations

MAILED_STATES = ("retry", "rejected")

SLOTS = {
    "front_side": {"EN": "front side of your identity document", "RU": "лицевую сторону документа"},
    "back_side": {"EN": "back side of your identity document", "RU": "оборотную сторону документа"},
    "selfie": {"EN": "selfie", "RU": "селфи"},
    "address": {"EN": "proof of address", "RU": "подтверждение адреса"},
}
SUBJECTS = {
    "retry": {"EN": "Please upload your {what} again", "RU": "Загрузите {what} ещё раз"},
    "rejected": {"EN": "Your {what} was not accepted", "RU": "Документ не принят: {what}"},
}
SENTENCES = {
    "retry": {"EN": "We could not accept your {what}. Please upload a new one.",
              "RU": "Мы не смогли принять {what}. Пожалуйста, загрузите новый файл."},
    "rejected": {"EN": "Your {what} was rejected and cannot be used for verification.",
                 "RU": "Документ ({what}) отклонён и не может быть использован для проверки."},
}
REASON_LABEL = {"EN": "Reason", "RU": "Причина"}
NOTE_LABEL = {"EN": "Note from our team", "RU": "Комментарий проверяющего"}
BUTTON = {"EN": "Open my documents", "RU": "Открыть мои документы"}


def slot(record: dict) -> str:
    if record.get("doc_type") == "Address":
        return "address"
    return record.get("doc_category") or "front_side"


def mailed(record: dict) -> bool:
    return record.get("review_state") in MAILED_STATES


def _what(record: dict, lang: str) -> str:
    return SLOTS.get(slot(record), SLOTS["front_side"])[lang]


def subject(record: dict, lang: str) -> str:
    state = record.get("review_state") if mailed(record) else "retry"
    return SUBJECTS[state][lang].format(what=_what(record, lang))


def context(record: dict, lang: str) -> dict:
    """What the templates show: sentence, reason text (user's language, else English), note, link."""
    state = record.get("review_state") if mailed(record) else "retry"
    texts = record.get("review_reason_text") or {}
    reason = texts.get(lang.lower()) or texts.get("en") or record.get("review_reason")
    path = "/accounts/address" if slot(record) == "address" else "/accounts/documents"
    return {"sentence": SENTENCES[state][lang].format(what=_what(record, lang)), "reason_text": reason,
            "note": record.get("review_note"), "reason_label": REASON_LABEL[lang], "note_label": NOTE_LABEL[lang],
            "button": BUTTON[lang], "path": path, "retry": state == "retry"}

"""What a label mail says. Barong's postmaster titled every label creation "Phone verified"
(sic) and every update "Label Updated", in English only; here each label the product
writes gets its own subject and sentence in every mail language, chosen by the label's
key and its new value, whether the label was created or updated. A label nothing in the
product writes (an operator's own key, a data-storage title) gets a generic mail that
names the key and the value.

`subject(record, lang)` and `text(record, lang)` take the event's label record
(`{key, value, …}`) and the mail language (`EN`/`RU`).
"""
from __future__ import annotations

LANGUAGES = ("EN", "RU")

#: (key, value) → {language: (subject, sentence)}: every label the product itself writes
TEXTS: dict[tuple[str, str], dict[str, tuple[str, str]]] = {
    ("email", "verified"): {
        "EN": ("Email verified", "Your email address is confirmed."),
        "RU": ("Email подтверждён", "Ваш адрес электронной почты подтверждён."),
    },
    ("phone", "verified"): {
        "EN": ("Phone verified", "Your phone number is verified."),
        "RU": ("Телефон подтверждён", "Ваш номер телефона подтверждён."),
    },
    ("profile", "drafted"): {
        "EN": ("Profile saved", "Your profile is saved as a draft. Submit it for verification when it is complete."),
        "RU": ("Профиль сохранён", "Ваш профиль сохранён как черновик. Отправьте его на проверку, когда заполните."),
    },
    ("profile", "submitted"): {
        "EN": ("Profile submitted", "Your profile was received and is waiting for review."),
        "RU": ("Профиль отправлен на проверку", "Ваш профиль получен и ожидает проверки."),
    },
    ("profile", "verified"): {
        "EN": ("Profile verified", "Congratulations, your profile is verified."),
        "RU": ("Профиль подтверждён", "Поздравляем, ваш профиль подтверждён."),
    },
    ("profile", "rejected"): {
        "EN": ("Profile rejected",
               "Unfortunately your profile was rejected. Please check your profile and submit it again."),
        "RU": ("Профиль отклонён",
               "К сожалению, ваш профиль отклонён. Проверьте данные профиля и отправьте его снова."),
    },
    ("document", "pending"): {
        "EN": ("Documents received", "Your documents were received and are waiting for review."),
        "RU": ("Документы получены", "Ваши документы получены и ожидают проверки."),
    },
    ("document", "verified"): {
        "EN": ("Documents verified", "Congratulations, your document is verified."),
        "RU": ("Документы подтверждены", "Поздравляем, ваши документы подтверждены."),
    },
    ("document", "rejected"): {
        "EN": ("Documents rejected",
               "Unfortunately your document was rejected. Please check your document and submit it again."),
        "RU": ("Документы отклонены",
               "К сожалению, ваши документы отклонены. Проверьте их и загрузите снова."),
    },
    # the document-expiry watcher (barong.services.verification.kyc_expiry): the one mail of an expiry
    ("document", "expired"): {
        "EN": ("Your document has expired",
               "Your identity document has expired, so your verification level was lowered. "
               "Please upload a valid document on the Documents page to restore it."),
        "RU": ("Срок действия документа истёк",
               "Срок действия вашего документа истёк, поэтому уровень верификации понижен. "
               "Загрузите действующий документ на странице «Документы», чтобы восстановить его."),
    },
    ("address", "expired"): {
        "EN": ("Your proof of address has expired",
               "Your proof of address is no longer valid. Please upload a recent one on the Address page."),
        "RU": ("Подтверждение адреса устарело",
               "Ваше подтверждение адреса больше не действительно. Загрузите новое на странице «Адрес»."),
    },
    ("security", "cooldown"): {
        "EN": ("Withdrawals paused after a security change",
               "A security setting of your account changed (password, two-factor authentication, phone, email "
               "or an unlock). For your protection, withdrawals are paused for a while; they resume by "
               "themselves. If you did not make this change, reset your password and contact support."),
        "RU": ("Вывод средств приостановлен после изменения защиты",
               "Изменились настройки защиты вашего аккаунта (пароль, двухфакторная аутентификация, телефон, "
               "email или разблокировка). Для вашей безопасности вывод средств на время приостановлен и "
               "возобновится сам. Если это были не вы, сбросьте пароль и свяжитесь с поддержкой."),
    },
    ("otp", "enabled"): {
        "EN": ("Two-factor authentication enabled",
               "Two-factor authentication is now on for your account. If this was not you, contact support."),
        "RU": ("Двухфакторная аутентификация включена",
               "Для вашего аккаунта включена двухфакторная аутентификация. Если это были не вы, "
               "обратитесь в поддержку."),
    },
    ("delete", "by_user"): {
        "EN": ("Account deleted", "Your account was deleted at your request."),
        "RU": ("Аккаунт удалён", "Ваш аккаунт удалён по вашему запросу."),
    },
}

#: any other label: by its new value, then the catch-all (`{key}`/`{value}` filled in)
GENERIC: dict[str, dict[str, tuple[str, str]]] = {
    "verified": {
        "EN": ("Verified: {key}", "Congratulations, your {key} is verified."),
        "RU": ("Подтверждено: {key}", "Поздравляем, {key}: подтверждено."),
    },
    "rejected": {
        "EN": ("Rejected: {key}", "Unfortunately your {key} was rejected."),
        "RU": ("Отклонено: {key}", "К сожалению, {key}: отклонено."),
    },
    "": {
        "EN": ("Label {key}: {value}", "Your account label {key} is now {value}."),
        "RU": ("Метка {key}: {value}", "Метка вашего аккаунта {key} теперь {value}."),
    },
}


def _entry(record: dict, lang: str) -> tuple[str, str]:
    key, value = str(record.get("key") or ""), str(record.get("value") or "")
    texts = TEXTS.get((key, value)) or GENERIC.get(value) or GENERIC[""]
    subject, sentence = texts[lang]
    return subject.format(key=key, value=value), sentence.format(key=key, value=value)


def subject(record: dict, lang: str) -> str:
    return _entry(record, lang)[0]


def text(record: dict, lang: str) -> str:
    return _entry(record, lang)[1]

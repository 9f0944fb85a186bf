"""Label mails: each label the product writes has its own subject and text, in English and
Russian, whether the label was created or updated (Barong titled them all "Phone verified")."""
from __future__ import annotations

import html as htmllib
import json

import pytest

from barong.services.accounts import labels, users
from barong.services.delivery import label_mails
from barong.services.infra import unit_of_work
from tests.helpers import DEFAULT_PASSWORD

LABELS = sorted(label_mails.TEXTS)
LANGS = {"EN": ("Hello!", "Your level:"), "RU": ("Здравствуйте!", "Ваш уровень:")}


def _parts(msg) -> tuple[str, str]:
    return (msg.get_body(preferencelist=("plain",)).get_content(),
            htmllib.unescape(msg.get_body(preferencelist=("html",)).get_content()))


def _user(make_user, lang: str):
    return make_user(state="pending", data=json.dumps({"language": lang.lower()}))


def _new_mails(mailbox, user, seen: int):
    return mailbox(user.email)[seen:]


@pytest.mark.parametrize("lang", sorted(LANGS))
@pytest.mark.parametrize("how", ["created", "updated"])
@pytest.mark.parametrize("key,value", LABELS)
def test_every_label_mail_has_its_own_subject_and_text(app, mailbox, make_user, key, value, how, lang):
    """Does the mail for label `key: value` carry that label's subject and sentence in the user's language?"""
    user = _user(make_user, lang)
    if how == "updated":
        label = labels.add(user, key, "placeholder", scope="private")
        unit_of_work.commit()
        seen = len(mailbox(user.email))
        labels.update(label, value=value)
    else:
        seen = len(mailbox(user.email))
        labels.add(user, key, value, scope="private")
    unit_of_work.commit()
    [msg] = _new_mails(mailbox, users.by_email(user.email), seen)
    subject, sentence = label_mails.TEXTS[(key, value)][lang]
    assert msg["Subject"] == subject
    greeting, level = LANGS[lang]
    for part in _parts(msg):
        assert greeting in part and sentence in part and level in part


@pytest.mark.parametrize("lang", sorted(LANGS))
def test_label_subjects_differ_from_one_another(lang):
    subjects = [label_mails.TEXTS[k][lang][0] for k in LABELS]
    sentences = [label_mails.TEXTS[k][lang][1] for k in LABELS]
    assert len(set(subjects)) == len(subjects) and len(set(sentences)) == len(sentences)
    assert [k for k in LABELS if label_mails.TEXTS[k][lang][0] == "Phone verified"] == (
        [("phone", "verified")] if lang == "EN" else [])


@pytest.mark.parametrize("lang,subject,sentence", [
    ("en", "Email verified", "Your email address is confirmed."),
    ("ru", "Email подтверждён", "Ваш адрес электронной почты подтверждён."),
])
def test_confirming_the_email_sends_email_verified_not_phone_verified(app, client, mailbox, make_user,
                                                                       lang, subject, sentence):
    """The issue's case: the mail after an email confirmation was titled "Phone verified"."""
    make_user()  # not the first registration
    email = f"confirm-{lang}@example.com"
    resp = client.post("/api/v2/barong/identity/users",
                       json={"email": email, "password": DEFAULT_PASSWORD, "data": json.dumps({"language": lang})})
    assert resp.status_code == 201
    from tests.helpers import token_from_mail

    token = token_from_mail(mailbox(email)[-1])
    resp = client.post("/api/v2/barong/identity/users/email/confirm_code", json={"token": token})
    assert resp.status_code == 201, resp.get_json()
    [msg] = [m for m in mailbox(email) if m["Subject"] == subject]
    assert all(sentence in part for part in _parts(msg))
    assert not [m for m in mailbox(email) if m["Subject"] == "Phone verified"]


@pytest.mark.parametrize("key,value,lang,subject,sentence", [
    ("kyc_tier", "verified", "EN", "Verified: kyc_tier", "Congratulations, your kyc_tier is verified."),
    ("kyc_tier", "rejected", "RU", "Отклонено: kyc_tier", "К сожалению, kyc_tier: отклонено."),
    ("vip", "gold", "EN", "Label vip: gold", "Your account label vip is now gold."),
    ("vip", "gold", "RU", "Метка vip: gold", "Метка вашего аккаунта vip теперь gold."),
])
def test_an_operators_own_label_gets_a_mail_that_names_it(app, mailbox, make_user, key, value, lang, subject,
                                                          sentence):
    user = _user(make_user, lang)
    labels.add(user, key, value, scope="public")
    unit_of_work.commit()
    [msg] = mailbox(user.email)
    assert msg["Subject"] == subject
    assert all(sentence in part for part in _parts(msg))

"""Document-expiry watcher (issue 14): warn once 30 days before, expire once — the level drops
once, the user is mailed once, an event and an audit row are written — and a second run
changes nothing."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from barong.extensions import db
from barong.models import Activity, Document, OutboxEvent, User
from barong.services.infra import unit_of_work
from barong.services.verification import document_review, documents, kyc_expiry
from tests.web.console.support import png_bytes

TODAY = datetime.now(timezone.utc).date()


@pytest.fixture
def verified_user(make_user):
    """verified_user(language="EN") → level 3: email + phone verified, passport front + selfie approved."""
    def factory(language="EN", expire_in=400):
        user = make_user(private_labels={"email": "verified", "phone": "verified"},
                         data=json.dumps({"language": language.lower()}))
        expire = (TODAY + timedelta(days=400)).isoformat()
        documents.create(user, [("f.png", png_bytes())], "Passport", doc_expire=expire, doc_number="EX1",
                         doc_category="front_side")
        documents.create(user, [("s.png", png_bytes())], "Passport", doc_expire=expire, doc_category="selfie")
        reviewer = make_user(role="compliance")
        for d in db.session.query(Document).filter_by(user_id=user.id).order_by(Document.id):
            document_review.decide_document(d, reviewer, "approve")
        unit_of_work.commit()
        for d in db.session.query(Document).filter_by(user_id=user.id):
            d.doc_expire = TODAY + timedelta(days=expire_in)
        unit_of_work.commit()
        db.session.expire_all()
        assert user.level == 3 and user.private_labels()["document"] == "verified"
        return user
    return factory


def _events(name):
    return db.session.query(OutboxEvent).filter_by(name=name).count()


def _user_rows(user, action):
    return db.session.query(Activity).filter_by(user_id=user.id, category="user", topic="document",
                                                action=action).all()


def test_an_expired_approved_document_lowers_the_level_once_and_mails_once(verified_user, mailbox):
    user = verified_user(expire_in=-1)
    before = len(mailbox(user.email))  # the approval mails
    result = kyc_expiry.run()
    unit_of_work.commit()
    db.session.expire_all()
    assert (result.expired, result.labels_changed) == (2, 1)
    assert {d.review_state for d in user.documents} == {"expired"}
    assert user.private_labels()["document"] == "expired"
    assert user.level == 2
    assert _events("system.document.expired") == 2
    assert len(_user_rows(user, "expired")) == 2
    mails = mailbox(user.email)[before:]
    assert [m["Subject"] for m in mails] == ["Your document has expired"]
    assert "upload a valid document" in mails[0].get_body(preferencelist=("plain",)).get_content()
    # a second run: nothing changes, nothing is sent
    again = kyc_expiry.run()
    unit_of_work.commit()
    db.session.expire_all()
    assert (again.expired, again.warned, again.labels_changed) == (0, 0, 0)
    assert user.level == 2 and _events("system.document.expired") == 2
    assert len(mailbox(user.email)) == before + 1
    assert len(_user_rows(user, "expired")) == 2


def test_warning_30_days_before_is_sent_once_in_the_users_language(verified_user, mailbox):
    user = verified_user(language="RU", expire_in=10)
    before = len(mailbox(user.email))
    assert kyc_expiry.run().warned == 2  # front and selfie expire the same day: one mail
    unit_of_work.commit()
    mails = mailbox(user.email)[before:]
    assert [m["Subject"] for m in mails] == ["Срок действия документа скоро истекает"]
    assert "через 10 дн." in mails[0].get_body(preferencelist=("plain",)).get_content()
    assert _events("system.document.expiring") == 1
    assert kyc_expiry.run().warned == 0
    unit_of_work.commit()
    assert len(mailbox(user.email)) == before + 1
    db.session.expire_all()
    assert user.level == 3 and {d.review_state for d in user.documents} == {"approved"}
    assert len(_user_rows(user, "expiry warning")) == 1


def test_nothing_to_do_far_from_expiry_or_for_undecided_documents(verified_user, make_user, mailbox):
    verified_user(expire_in=31)
    pending = make_user()
    documents.create(pending, [("f.png", png_bytes())], "Passport",
                     doc_expire=(TODAY + timedelta(days=200)).isoformat(), doc_category="front_side")
    unit_of_work.commit()
    for d in db.session.query(Document).filter_by(user_id=pending.id):
        d.doc_expire = TODAY - timedelta(days=3)  # waiting for review: the reviewer sees the flag, no expiry
    unit_of_work.commit()
    before = len(mailbox())
    result = kyc_expiry.run()
    unit_of_work.commit()
    assert (result.warned, result.expired) == (0, 0)
    assert len(mailbox()) == before


def test_a_superseded_document_is_not_warned_about(verified_user, mailbox):
    user = verified_user(expire_in=5)
    documents.create(user, [("f2.png", png_bytes())], "Passport",
                     doc_expire=(TODAY + timedelta(days=900)).isoformat(), doc_category="front_side")
    unit_of_work.commit()
    assert kyc_expiry.run().warned == 1  # only the selfie: the front was uploaded again


def test_cli_and_the_daily_run(app, verified_user, mailbox):
    user = verified_user(expire_in=20)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["kyc", "expire-documents", "--today", (TODAY + timedelta(days=25)).isoformat()])
    assert out.exit_code == 0, out.output
    assert "expired 2" in out.output and "labels changed 1" in out.output
    db.session.expire_all()
    assert db.session.get(User, user.id).level == 2
    # the daily job: once per UTC day, remembered across restarts (kv store)
    now = datetime.now(timezone.utc) + timedelta(days=2)
    assert kyc_expiry.daily_due(now)
    assert kyc_expiry.run_daily(now) is not None
    assert kyc_expiry.run_daily(now) is None and not kyc_expiry.daily_due(now)
    assert kyc_expiry.daily_due(now + timedelta(days=1))


def test_expiry_and_a_reviewer_never_both_act(verified_user):
    """The watcher's compare-and-set: a document already taken out of `approved` is left alone."""
    user = verified_user(expire_in=-1)
    doc = db.session.query(Document).filter_by(user_id=user.id).first()
    doc.review_state = "pending"
    unit_of_work.commit()
    assert kyc_expiry.run().expired == 1  # only the other one
    unit_of_work.commit()
    db.session.expire_all()
    assert doc.review_state == "pending"

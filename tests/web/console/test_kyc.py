"""KYC review: the queue, claims (two reviewers never both decide), approve / reject
exactly as the original (document label → level, profile state, mail), audit."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from barong.errors import BarongError
from barong.extensions import db
from barong.models import Document, utcnow
from barong.services.accounts import labels
from barong.services.verification import kyc_review
from tests.web.console.support import admin_activities, hx


def fresh(user):
    db.session.expire_all()
    return user


def test_queue_lists_pending_oldest_first(operator, console, applicant, make_user):
    first, second = applicant(), applicant()
    make_user()  # nothing pending
    body = console(operator("compliance")).get("/admin/kyc").get_data(as_text=True)
    assert "2</strong> applicants" in body
    assert body.index(first.email) < body.index(second.email)


def test_next_opens_the_oldest_applicant(operator, console, applicant):
    first = applicant()
    applicant()
    resp = console(operator("compliance")).get("/admin/kyc/next")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/admin/kyc/{first.uid}")


def test_review_screen_shows_profile_and_documents_and_claims(operator, console, applicant):
    user = applicant()
    me = operator("admin")  # compliance sees personal data only once revealed (issue 17, tests/web/console/test_pii.py)
    resp = console(me).get(f"/admin/kyc/{user.uid}")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Lovelace" in body and "Passport" in body and "AB123456" in body
    # a / r only open a document's decision form (static/kyc_review.js); j / n walk the queue
    assert "data-decision-form" in body and "kyc_review.js" in body and 'data-key="j n"' in body
    assert 'data-key="a"' not in body  # no single keystroke decides
    doc = db.session.query(Document).filter_by(user_id=user.id).one()
    assert f"/admin/documents/{doc.id}/file" in body
    assert fresh(user).review_claimed_by == me.uid


def test_approve_raises_level_verifies_profile_mails_and_audits(operator, console, applicant, mailbox):
    user = applicant()
    assert user.level == 1
    me = operator("compliance")
    client = console(me)
    client.get(f"/admin/kyc/{user.uid}")
    resp = client.post(f"/admin/kyc/{user.uid}/decide", data={"decision": "approve"}, headers=hx())
    assert resp.status_code == 200 and resp.headers["HX-Redirect"].startswith("/admin/kyc/next")
    user = fresh(user)
    assert user.private_labels()["document"] == "verified"
    assert user.level == 1  # level 3 needs the phone label too (levels: email, phone, document)
    assert [p.state for p in user.profiles] == ["verified"]
    assert user.private_labels()["profile"] == "verified"
    assert user.review_claimed_by is None
    row = admin_activities(me, "kyc")[-1]
    assert row.action == "approve" and row.target_uid == user.uid and json.loads(row.data)["document"] == "verified"
    assert len(admin_activities(me)) == 1  # one audit row for the decision
    assert any(m["To"] == user.email for m in mailbox())


def test_approve_completes_the_levels(operator, console, applicant):
    user = applicant(private_labels={"email": "verified", "phone": "verified"})
    assert user.level == 2
    client = console(operator("admin"))
    client.post(f"/admin/kyc/{user.uid}/decide", data={"decision": "approve"})
    assert fresh(user).level == 3


def test_reject_needs_a_reason(operator, console, applicant):
    user = applicant()
    client = console(operator("compliance"))
    resp = client.post(f"/admin/kyc/{user.uid}/decide", data={"decision": "reject", "reason": " "}, headers=hx())
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "reason.blank" in body and 'aria-invalid="true"' in body
    assert fresh(user).private_labels()["document"] == "pending"


def test_reject_with_reason(operator, console, applicant):
    user = applicant()
    me = operator("compliance")
    client = console(me)
    resp = client.post(f"/admin/kyc/{user.uid}/decide", data={"decision": "reject", "reason": "Blurred photo"})
    assert resp.status_code == 302
    user = fresh(user)
    label = labels.find(user, "document", "private")
    assert label.value == "rejected" and label.description == "Blurred photo"
    assert [p.state for p in user.profiles] == ["rejected"] and user.level == 1
    assert json.loads(admin_activities(me, "kyc")[-1].data)["reason"] == "Blurred photo"


def test_second_reviewer_cannot_decide_a_claimed_applicant(operator, console, applicant, app):
    user = applicant()
    alice, bob = operator("compliance"), operator("admin")
    a_client = console(alice)
    a_client.get(f"/admin/kyc/{user.uid}")                       # Alice holds it
    b_client = app.test_client()
    b_client.environ_base["HTTP_USER_AGENT"] = a_client.environ_base["HTTP_USER_AGENT"]
    from tests.helpers import login_as
    login_as(b_client, bob)
    page = b_client.get(f"/admin/kyc/{user.uid}").get_data(as_text=True)
    assert f"{alice.email} is reviewing this applicant" in page and 'data-key="a"' not in page
    resp = b_client.post(f"/admin/kyc/{user.uid}/decide", data={"decision": "approve"}, headers=hx())
    assert resp.status_code == 409 and "Another reviewer" in resp.headers["HX-Trigger"]
    assert fresh(user).private_labels()["document"] == "pending" and not admin_activities(bob, "kyc")
    # Alice decides; Bob's late decision finds nothing left to decide
    assert a_client.post(f"/admin/kyc/{user.uid}/decide", data={"decision": "reject", "reason": "x" * 3}).status_code == 302
    resp = b_client.post(f"/admin/kyc/{user.uid}/decide", data={"decision": "approve"}, headers=hx())
    assert resp.status_code == 409 and fresh(user).private_labels()["document"] == "rejected"


def test_claim_is_atomic_at_the_service_level(operator, applicant):
    """Two claims in a row by different reviewers: the second fails without touching the row."""
    user = applicant()
    alice, bob = operator("compliance"), operator("compliance")
    kyc_review.claim(user, alice)
    with pytest.raises(BarongError) as err:
        kyc_review.claim(user, bob)
    assert err.value.code == "admin.kyc.claimed" and err.value.status == 409
    assert user.review_claimed_by == alice.uid
    with pytest.raises(BarongError):
        kyc_review.decide(user, bob, "approve")
    assert user.private_labels()["document"] == "pending"


def test_stale_claim_expires(operator, applicant):
    user = applicant()
    alice, bob = operator("compliance"), operator("compliance")
    kyc_review.claim(user, alice)
    user.review_claimed_at = utcnow() - kyc_review.CLAIM_TTL - timedelta(seconds=1)
    db.session.flush()
    kyc_review.claim(user, bob)
    assert user.review_claimed_by == bob.uid


def test_next_skips_applicants_held_by_others_and_releases_the_skipped(operator, console, applicant):
    first, second = applicant(), applicant()
    alice, me = operator("compliance"), operator("compliance")
    kyc_review.claim(first, alice)
    db.session.commit()
    client = console(me)
    assert client.get("/admin/kyc/next").headers["Location"].endswith(f"/admin/kyc/{second.uid}")
    client.get(f"/admin/kyc/{second.uid}")
    assert fresh(second).review_claimed_by == me.uid
    client.get(f"/admin/kyc/next?after={second.uid}")
    assert fresh(second).review_claimed_by is None


def test_decided_applicant_cannot_be_decided_again(operator, console, applicant):
    user = applicant()
    client = console(operator("compliance"))
    client.post(f"/admin/kyc/{user.uid}/decide", data={"decision": "approve"})
    resp = client.post(f"/admin/kyc/{user.uid}/decide", data={"decision": "reject", "reason": "late"}, headers=hx())
    assert resp.status_code == 409 and fresh(user).private_labels()["document"] == "verified"


def test_roles_without_label_rights_see_but_cannot_decide(operator, console, applicant):
    user = applicant()
    client = console(operator("accountant"))  # read User, but DROP on documents/pending
    assert client.get("/admin/kyc").status_code == 403
    client = console(operator("support"))     # manage User, read Label only
    page = client.get(f"/admin/kyc/{user.uid}").get_data(as_text=True)
    assert "may look at applicants, not decide" in page
    assert fresh(user).review_claimed_by is None  # looking claims nothing
    assert client.post(f"/admin/kyc/{user.uid}/decide", data={"decision": "approve"}).status_code == 403
    assert fresh(user).private_labels()["document"] == "pending"


def test_reviewer_cannot_decide_own_application(operator, console, applicant):
    me = applicant(role="compliance")
    resp = console(me).post(f"/admin/kyc/{me.uid}/decide", data={"decision": "approve"}, headers=hx())
    assert resp.status_code == 422 and fresh(me).private_labels()["document"] == "pending"


def test_document_file_is_streamed_to_operators_only(operator, console, applicant, make_user, app):
    user = applicant()
    doc = db.session.query(Document).filter_by(user_id=user.id).one()
    client = console(operator("admin"))  # compliance: after a reveal (issue 17)
    resp = client.get(f"/admin/documents/{doc.id}/file")
    assert resp.status_code == 200 and resp.mimetype == "image/png" and resp.data[:4] == b"\x89PNG"
    assert resp.headers["X-Content-Type-Options"] == "nosniff" and "no-store" in resp.headers["Cache-Control"]
    assert client.get("/admin/documents/999999/file").status_code == 404
    member = app.test_client()
    member.environ_base["HTTP_USER_AGENT"] = client.environ_base["HTTP_USER_AGENT"]
    from tests.helpers import login_as
    login_as(member, make_user())
    assert member.get(f"/admin/documents/{doc.id}/file").status_code == 403


@pytest.mark.parametrize("decision,reason,code", [("maybe", None, "admin.kyc.invalid_decision"),
                                                  ("reject", "x" * 256, "reason.too_long")])
def test_decide_refusals_at_the_service_level(operator, applicant, decision, reason, code):
    user = applicant()
    with pytest.raises(BarongError) as err:
        kyc_review.decide(user, operator("compliance"), decision, reason)
    assert err.value.code == code and user.private_labels()["document"] == "pending"


def test_double_verification_blocks_the_author_of_the_profile(operator, applicant, app, make_user):
    """With profile_double_verification on, an operator who created the profile may not verify it alone."""
    from datetime import date as _date

    from barong.services.infra import unit_of_work
    from barong.services.operators import admin_actions
    from barong.services.verification import documents
    from tests.web.console.support import png_bytes

    author = operator("compliance")
    user = make_user()
    admin_actions.create_profile(user, {"first_name": "Bo", "last_name": "Li", "dob": "1990-01-02", "country": "GB"},
                                 actor=author)
    documents.create(user, [("p.png", png_bytes())], "Passport",
                     doc_expire=_date(_date.today().year + 2, 1, 1).isoformat(), doc_number="ZZ1")
    unit_of_work.commit()
    settings = app.extensions["barong_settings"]
    old = getattr(settings, "profile_double_verification", False), settings.profile_verification_roles
    settings.profile_double_verification = True
    settings.profile_verification_roles = ["superadmin"]
    try:
        with pytest.raises(BarongError) as err:
            kyc_review.decide(user, author, "approve")
        assert err.value.code == "admin.profiles.second_admin_approval"
    finally:
        settings.profile_double_verification, settings.profile_verification_roles = old


def test_two_decisions_racing_never_both_win(operator, applicant, app):
    """Two reviewers decide the same unclaimed applicant at the same moment, each in its
    own thread, session and transaction: exactly one decision is written."""
    import threading

    from sqlalchemy.exc import OperationalError

    from barong.models import User

    user = applicant()
    reviewers = [operator("compliance").uid, operator("admin").uid]
    barrier = threading.Barrier(2)
    outcomes = {}

    def decide(reviewer_uid, decision):
        with app.app_context():
            try:
                me = db.session.query(User).filter_by(uid=reviewer_uid).one()
                target = db.session.query(User).filter_by(uid=user.uid).one()
                target.private_labels()
                barrier.wait(timeout=5)
                kyc_review.decide(target, me, decision, "blurred" if decision == "reject" else None)
                db.session.commit()
                outcomes[reviewer_uid] = "decided"
            except (BarongError, OperationalError) as exc:
                db.session.rollback()
                outcomes[reviewer_uid] = getattr(exc, "code", "locked")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decide, args=(reviewers[0], "approve")),
               threading.Thread(target=decide, args=(reviewers[1], "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert list(outcomes.values()).count("decided") == 1, outcomes
    loser = [v for v in outcomes.values() if v != "decided"][0]
    assert loser in ("admin.kyc.not_pending", "admin.kyc.claimed", "locked")
    db.session.expire_all()
    winner = [uid for uid, v in outcomes.items() if v == "decided"][0]
    expected = "verified" if winner == reviewers[0] else "rejected"
    assert user.private_labels()["document"] == expected
    assert len([a for a in admin_activities(topic="kyc")]) == 1


def test_release_lets_another_reviewer_decide(operator, console, applicant):
    user = applicant()
    me = operator("compliance")
    client = console(me)
    assert "Release" in client.get(f"/admin/kyc/{user.uid}").get_data(as_text=True)
    assert fresh(user).review_claimed_by == me.uid
    resp = client.post(f"/admin/kyc/{user.uid}/release")
    assert resp.status_code == 302 and fresh(user).review_claimed_by is None


def test_pdf_documents_are_sandboxed_downloads(operator, console, make_user):
    """A PDF may carry JavaScript: the console links it as an attachment, never an inline viewer."""
    from datetime import date as _date

    from barong.services.infra import unit_of_work
    from barong.services.verification import documents

    user = make_user()
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    documents.create(user, [("id.pdf", pdf)], "Passport", doc_expire=_date(_date.today().year + 2, 1, 1).isoformat(),
                     doc_number="PD1")
    unit_of_work.commit()
    client = console(operator("admin"))
    body = client.get(f"/admin/kyc/{user.uid}").get_data(as_text=True)
    doc = db.session.query(Document).filter_by(user_id=user.id).one()
    assert f'<a class="file" href="/admin/documents/{doc.id}/file">' in body and "<object" not in body
    resp = client.get(f"/admin/documents/{doc.id}/file")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF")
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert resp.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"


def test_refusal_without_javascript_writes_nothing(operator, console, make_user, app):
    """No-JS forms get a redirect on refusal: nothing the service flushed before refusing
    may be committed (here: the label is updated, then the profile rule refuses)."""
    from datetime import date as _date

    from barong.services.infra import unit_of_work
    from barong.services.operators import admin_actions
    from barong.services.verification import documents
    from tests.web.console.support import png_bytes

    author = operator("compliance")
    user = make_user()
    admin_actions.create_profile(user, {"first_name": "Bo", "last_name": "Li", "dob": "1990-01-02", "country": "GB"},
                                 actor=author)
    documents.create(user, [("p.png", png_bytes())], "Passport",
                     doc_expire=_date(_date.today().year + 2, 1, 1).isoformat(), doc_number="ZZ2")
    unit_of_work.commit()
    settings = app.extensions["barong_settings"]
    old = getattr(settings, "profile_double_verification", False), settings.profile_verification_roles
    settings.profile_double_verification, settings.profile_verification_roles = True, ["superadmin"]
    try:
        resp = console(author).post(f"/admin/kyc/{user.uid}/decide", data={"decision": "approve"})
        assert resp.status_code == 302
        assert fresh(user).private_labels()["document"] == "pending"
        assert [p.state for p in user.profiles] == ["submitted"] and not admin_activities(author, "kyc")
    finally:
        settings.profile_double_verification, settings.profile_verification_roles = old

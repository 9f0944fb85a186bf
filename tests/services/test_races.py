"""Checks that must hold once, raced by real threads (each its own client, app context and
DB session) against one app — SQLite (WAL, one file) or TEST_DATABASE_URL's PostgreSQL.

* one TOTP code, 20 parallel API-key creations → exactly one key;
* one recovery code, parallel 2FA disables → one succeeds;
* parallel changes of one label → no two events claim to have replaced the same value;
* parallel duplicate signups / label creates → one success, the rest the endpoint's 422.
"""
from __future__ import annotations

import json
import threading

import pyotp
import pytest
from sqlalchemy import text

from barong.extensions import db
from barong.models import APIKey, Label, User
from barong.services.accounts import otp as otp_service
from tests.helpers import UA, login_as

R = "/api/v2/barong/resource"
A = "/api/v2/barong/admin"


def _race(app, n, call):
    """Run call(i, client) in n threads started together; returns the responses by i."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i):
        c = app.test_client(use_cookies=False)  # the session travels in an explicit Cookie header
        c.environ_base["HTTP_USER_AGENT"] = UA
        barrier.wait()
        try:
            results[i] = call(i, c)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(isinstance(r, Exception) for r in results), results
    return results


def _signed_in(app, user, otp_code=None):
    c = app.test_client()
    c.environ_base["HTTP_USER_AGENT"] = UA
    csrf = login_as(c, user, otp_code=otp_code)
    cookie = c.get_cookie(app.config["BARONG_SESSION_NAME"]).value
    return {"Cookie": f"{app.config['BARONG_SESSION_NAME']}={cookie}", "X-CSRF-Token": csrf}


def _statuses(results):
    return sorted(r.status_code for r in results)


def _otp_user(app, make_user):
    user = make_user(otp=True)
    headers = _signed_in(app, user, otp_code=pyotp.TOTP(otp_service.secret_for(user)).now())
    db.session.refresh(user)
    user.otp_last_step = None  # the login used this step: give the race the current code again
    db.session.commit()
    return user, headers, pyotp.TOTP(otp_service.secret_for(user)).now()


def test_one_totp_code_creates_one_api_key(app, make_user):
    """Does one TOTP code, sent by 20 requests at once, create exactly one API key?"""
    user, headers, code = _otp_user(app, make_user)
    results = _race(app, 20, lambda i, c: c.post(f"{R}/api_keys", headers=headers,
                                                  json={"algorithm": "HS256", "totp_code": code}))
    assert _statuses(results) == [201] + [422] * 19, [r.get_json() for r in results]
    assert all(r.get_json() == {"errors": ["resource.api_key.invalid_totp"]} for r in results if r.status_code == 422)
    db.session.expire_all()
    assert db.session.query(APIKey).filter_by(key_holder_account_id=user.id).count() == 1


def test_one_recovery_code_works_once(app, make_user):
    """Two parallel 2FA disables with one recovery code: one succeeds, one is refused."""
    user, headers, _ = _otp_user(app, make_user)
    db.session.refresh(user)
    codes = otp_service.regenerate_recovery_codes(user)
    db.session.commit()
    results = _race(app, 8, lambda i, c: c.post(f"{R}/otp/disable", headers=headers, json={"code": codes[0]}))
    ok = [r for r in results if r.status_code < 300]
    assert len(ok) == 1, [(r.status_code, r.get_json()) for r in results]
    assert all(r.status_code in (400, 422) for r in results if r.status_code >= 300)


def _label_events(user_uid, key):
    rows = db.session.execute(text("SELECT payload FROM event_outbox WHERE name = 'model.label.updated' "
                                   "ORDER BY id")).scalars().all()
    events = [json.loads(p) for p in rows]
    return [e for e in events if e["record"]["key"] == key and e["record"]["user"]["uid"] == user_uid]


def test_parallel_label_changes_tell_the_truth(app, make_user):
    """Reviewers setting one label at once: each success's event names the value it really
    replaced (a chain from `pending`), the others are refused with 409 label.conflict."""
    admin_headers = [_signed_in(app, make_user(role="superadmin")) for _ in range(2)]
    target = make_user(private_labels={"email": "verified", "document": "pending"})
    values, uid = ["verified", "rejected"] * 4, target.uid  # no ORM object is read in the threads
    results = _race(app, len(values), lambda i, c: c.post(
        f"{A}/users/labels/update", headers=admin_headers[i % 2],
        json={"uid": uid, "key": "document", "scope": "private", "value": values[i]}))
    assert all(r.status_code in (200, 201, 409) for r in results), [(r.status_code, r.get_json()) for r in results]
    refused = [r for r in results if r.status_code == 409]
    assert all(r.get_json() == {"errors": ["label.conflict"]} for r in refused)
    db.session.expire_all()
    events = _label_events(target.uid, "document")
    olds = [e["changes"]["value"] for e in events]
    assert olds.count("pending") == 1, olds  # only one change replaced `pending`
    final = db.session.query(Label).filter_by(user_id=target.id, key="document", scope="private").one()
    chain = "pending"
    for e in events:  # each event replaced what the previous one wrote
        assert e["changes"]["value"] == chain, olds
        chain = e["record"]["value"]
    assert final.value == chain


def test_parallel_duplicate_signups(app, make_user):
    """Parallel signups with one address: one 201, the rest 422 email.taken, never a 500."""
    make_user()  # not the first registration (that one becomes superadmin)
    body = {"email": "race@example.com", "password": "Tecohvi0-Strong"}
    results = _race(app, 10, lambda i, c: c.post("/api/v2/barong/identity/users", json=body))
    assert _statuses(results) == [201] + [422] * 9, [(r.status_code, r.get_json()) for r in results]
    assert all(r.get_json() == {"errors": ["email.taken"]} for r in results if r.status_code == 422)
    db.session.expire_all()
    assert db.session.query(User).filter_by(email_lower="race@example.com").count() == 1


def test_parallel_duplicate_label_creates(app, make_user):
    """Parallel creates of one label: one success, the rest 422 key.taken, never a 500."""
    headers = _signed_in(app, make_user(role="superadmin"))
    target = make_user()
    uid = target.uid
    results = _race(app, 10, lambda i, c: c.post(f"{A}/users/labels", headers=headers,
                                                  json={"uid": uid, "key": "tier", "value": "gold"}))
    ok = [r for r in results if r.status_code in (200, 201)]
    assert len(ok) == 1 and _statuses(results).count(422) == 9, [(r.status_code, r.get_json()) for r in results]
    assert all(r.get_json() == {"errors": ["key.taken"]} for r in results if r.status_code == 422)
    db.session.expire_all()
    assert db.session.query(Label).filter_by(user_id=target.id, key="tier").count() == 1


def test_add_unique_maps_only_named_constraints_and_keeps_the_rest(app):
    """add_unique re-raises a violation it was not told about (no silent mapping), and a
    mapped one undoes only its own insert: the transaction's other work survives."""
    from sqlalchemy.exc import IntegrityError

    from barong.errors import ValidationError
    from barong.services.infra.unit_of_work import add_unique

    def user(uid, email):
        return User(uid=uid, email=email, email_lower=email, role="member", state="pending", level=0, otp=False,
                    password_digest="x")

    taken = {"uq_users_email_lower": ValidationError("email.taken"), "users.email_lower": ValidationError("email.taken")}
    add_unique(user("ID00000000B1", "b1@example.com"), taken)
    kept = user("ID00000000B2", "b2@example.com")
    db.session.add(kept)
    with pytest.raises(ValidationError) as err:
        add_unique(user("ID00000000B3", "b1@example.com"), taken)
    assert err.value.codes == ["email.taken"]
    db.session.commit()  # the transaction is still usable: the first user and `kept` are saved
    emails = {u.email for u in db.session.query(User).filter(User.uid.like("ID00000000B%"))}
    assert emails == {"b1@example.com", "b2@example.com"}
    with pytest.raises(IntegrityError):
        add_unique(user("ID00000000B1", "b4@example.com"), taken)  # uid: not mapped
    db.session.rollback()


def test_parallel_duplicate_data_storage_creates(app, make_user):
    """Parallel data-storage creates of one title: one 201, the rest 422 title.taken."""
    headers = _signed_in(app, make_user())
    body = {"title": "personal", "data": '{"a": 1}'}
    results = _race(app, 10, lambda i, c: c.post(f"{R}/data_storage", headers=headers, json=body))
    assert _statuses(results) == [201] + [422] * 9, [(r.status_code, r.get_json()) for r in results]
    assert all(r.get_json() == {"errors": ["title.taken"]} for r in results if r.status_code == 422)


def test_parallel_duplicate_service_accounts(app, make_user):
    """Parallel service-account creates with one uid: one saved, the rest uid.taken."""
    from barong.errors import ValidationError
    from barong.models import ServiceAccount
    from barong.services.accounts import service_accounts
    from barong.services.infra import unit_of_work

    owner_id = make_user().id
    barrier = threading.Barrier(6)
    outcome: list = [None] * 6

    def worker(i):
        with app.app_context():
            owner = db.session.get(User, owner_id)
            barrier.wait()
            try:
                service_accounts.create(owner, uid="SIRACE00001", email=f"sa{i}@example.com")
                unit_of_work.commit()
                outcome[i] = "ok"
            except ValidationError as err:
                db.session.rollback()
                outcome[i] = err.codes
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcome.count("ok") == 1 and all(o == ["uid.taken"] for o in outcome if o != "ok"), outcome
    db.session.expire_all()
    assert db.session.query(ServiceAccount).filter_by(uid="SIRACE00001").count() == 1


def test_parallel_first_signups_make_one_superadmin(app):
    """On an empty database, parallel signups (different addresses): exactly one superadmin."""
    results = _race(app, 8, lambda i, c: c.post("/api/v2/barong/identity/users",
                                                 json={"email": f"first{i}@example.com", "password": "Tecohvi0-Strong"}))
    assert _statuses(results) == [201] * 8, [(r.status_code, r.get_json()) for r in results]
    db.session.expire_all()
    roles = sorted(u.role for u in db.session.query(User))
    assert roles.count("superadmin") == 1 and roles.count("member") == 7, roles


def test_parallel_duplicate_restriction_creates(app, make_user):
    """Parallel admin creates of one restriction: one 201, the rest 422 value.taken."""
    headers = _signed_in(app, make_user(role="superadmin"))
    body = {"scope": "ip", "value": "203.0.113.7", "category": "blacklist"}
    results = _race(app, 8, lambda i, c: c.post(f"{A}/restrictions", headers=headers, json=body))
    assert _statuses(results) == [201] + [422] * 7, [(r.status_code, r.get_json()) for r in results]
    assert all(r.get_json() == {"errors": ["value.taken"]} for r in results if r.status_code == 422)

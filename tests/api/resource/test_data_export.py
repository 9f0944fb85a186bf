"""GDPR: the user's data export (GET resource/users/me/export, POST /accounts/data-export)
and `flask gdpr purge` erasing deleted accounts' personal data while the audit chain stays
intact."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from barong.extensions import db
from barong.models import Activity, Document, OutboxEvent, Phone, Profile, User
from barong.services.accounts import phones
from barong.services.audit import chain
from barong.services.infra import unit_of_work
from barong.services.privacy import purge
from tests.api.resource.conftest import PNG, upload
from tests.helpers import DEFAULT_PASSWORD

PROFILE = {"first_name": "Ingrid", "last_name": "Zyxwvut", "dob": "1990-05-17", "address": "7 Quiet Lane",
           "postcode": "12345", "city": "Tallinn", "country": "EST", "confirm": True}
DOC_NUMBER = "QZ7788990"
PHONE = "37255501234"


def _fill(api):
    assert api.post("profiles", json=PROFILE).status_code == 201
    resp = api.post("documents", data={"doc_type": "Passport", "doc_number": DOC_NUMBER, "doc_expire": "3020-01-22",
                                       "upload[]": [upload("passport.png", PNG)]}, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    phones.create(api.reload(), PHONE, verified=True)
    unit_of_work.commit()


def _zip(resp) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(resp.data))


def test_export_holds_every_part_decrypted_with_a_true_manifest(api):
    _fill(api)
    resp = api.get("users/me/export")
    assert resp.status_code == 200
    assert resp.mimetype == "application/zip"
    assert "attachment" in resp.headers["Content-Disposition"] and api.user.uid in resp.headers["Content-Disposition"]
    assert resp.headers["Cache-Control"] == "no-store"
    zf = _zip(resp)
    manifest = json.loads(zf.read("manifest.json"))
    names = set(zf.namelist()) - {"manifest.json"}
    assert set(manifest["sha256"]) == names
    for name in names:
        assert hashlib.sha256(zf.read(name)).hexdigest() == manifest["sha256"][name]
    account = json.loads(zf.read("account.json"))
    assert account["uid"] == api.user.uid and account["email"] == api.user.email
    profile = json.loads(zf.read("profiles.json"))[0]
    assert (profile["first_name"], profile["dob"], profile["address"]) == ("Ingrid", "1990-05-17", "7 Quiet Lane")
    assert json.loads(zf.read("phones.json"))[0]["number"] == PHONE
    docs = json.loads(zf.read("documents.json"))
    assert docs[0]["doc_number"] == DOC_NUMBER and zf.read(docs[0]["file"]) == PNG
    assert {"key": "email", "value": "verified"}.items() <= json.loads(zf.read("labels.json"))[0].items()
    assert json.loads(zf.read("activities.json")) is not None


def test_export_never_contains_secrets(otp_api):
    otp_api.post("api_keys", json={"algorithm": "HS256", "totp_code": otp_api.totp()})
    zf = _zip(otp_api.get("users/me/export"))
    blob = b"".join(zf.read(n) for n in zf.namelist())
    user = otp_api.reload()
    assert user.password_digest.encode() not in blob
    assert b"secret" not in json.dumps(json.loads(zf.read("api_keys.json"))).encode()
    assert b"otp_secret" not in blob and b"recovery" not in blob


def test_export_is_recorded_and_rate_limited(api, app):
    assert api.get("users/me/export").status_code == 200
    assert db.session.query(Activity).filter_by(user_id=api.user.id, topic="account", action="data export").count() == 1
    app.config["BARONG_RATELIMIT_ENABLED"] = True
    codes = [api.get("users/me/export").status_code for _ in range(4)]
    assert codes[-1] == 429
    assert api.get("users/me/export").get_json()["errors"] == ["resource.user.too_many_requests"]


def test_export_needs_a_session(client):
    resp = client.get("/api/v2/barong/resource/users/me/export")
    assert resp.status_code == 401


def test_site_download_needs_csrf_and_serves_the_zip(app, make_user):
    from tests.helpers import login_as

    user = make_user()
    app.config["WTF_CSRF_ENABLED"] = True
    c = app.test_client()
    login_as(c, user)
    assert c.post("/accounts/data-export").status_code in (400, 403)
    page = c.get("/accounts/").get_data(as_text=True)
    assert "Download my data" in page
    import re
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    resp = c.post("/accounts/data-export", data={"csrf_token": token.group(1)})
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert json.loads(_zip(resp).read("account.json"))["uid"] == user.uid


# ---- purge ---------------------------------------------------------------------------

def _delete_account(api, days_ago: int):
    resp = api.delete("users/me", query_string={"password": DEFAULT_PASSWORD})
    assert resp.status_code == 204, resp.get_json()
    user = api.reload()
    assert user.state == "deleted"
    user.updated_at = datetime.utcnow() - timedelta(days=days_ago)
    unit_of_work.commit()
    return user


def _plain_and_sealed(user: User) -> list[str]:
    """Every stored value (plaintext and ciphertext) of the user's personal data."""
    values = [user.email, PROFILE["first_name"], PROFILE["last_name"], PROFILE["address"], DOC_NUMBER, PHONE]
    for p in db.session.query(Profile).filter_by(user_id=user.id):
        values += [p.first_name_encrypted, p.last_name_encrypted, p.dob_encrypted, p.address_encrypted]
    for ph in db.session.query(Phone).filter_by(user_id=user.id):
        values.append(ph.number_encrypted)
    for d in db.session.query(Document).filter_by(user_id=user.id):
        values.append(d.doc_number_encrypted)
    return [v for v in values if v]


def _dump_except_activities() -> str:
    out = []
    for table in db.metadata.sorted_tables:
        if table.name == "activities":
            continue
        for row in db.session.execute(table.select()):
            out.append(json.dumps([str(v) for v in row]))
    return "\n".join(out)


def test_purge_erases_the_pii_and_keeps_uid_labels_activities_and_the_chain(api, app):
    _fill(api)
    user = api.reload()
    secrets_stored = _plain_and_sealed(user)
    files = sorted(Path(app.config["BARONG_UPLOADS_PATH"]).iterdir())
    assert files
    user = _delete_account(api, days_ago=40)
    uid, user_id = user.uid, user.id
    activities_before = db.session.query(Activity).filter_by(user_id=user_id).count()
    db.session.query(OutboxEvent).update({"state": "sent", "mail_state": None})
    unit_of_work.commit()

    result = app.test_cli_runner().invoke(args=["gdpr", "purge", "--deleted-before",
                                                (datetime.utcnow() - timedelta(days=30)).strftime("%Y-%m-%d")])
    assert result.exit_code == 0, result.output
    assert "purged 1 account(s)" in result.output
    db.session.expire_all()
    dump = _dump_except_activities()
    for value in secrets_stored:
        assert value not in dump, value[:12]
    assert not any(p.exists() for p in files)
    kept = db.session.get(User, user_id)
    assert kept.uid == uid and kept.state == "deleted" and kept.email == f"{uid.lower()}@erased.invalid"
    assert kept.private_labels().get("email") == "verified"
    assert db.session.query(Profile).filter_by(user_id=user_id).count() == 0
    # activity rows untouched (+ the purge's own), and the whole chain still verifies
    assert db.session.query(Activity).filter_by(user_id=user_id).count() == activities_before + 1
    assert chain.verify(record=False).ok


def test_purge_skips_recent_and_live_accounts_and_runs_once(api, app, make_user):
    _fill(api)
    live = make_user()
    user = _delete_account(api, days_ago=5)
    cutoff = datetime.utcnow() - timedelta(days=30)
    assert purge.purge(cutoff).users == []
    user.updated_at = datetime.utcnow() - timedelta(days=60)
    unit_of_work.commit()
    assert purge.purge(cutoff).users == [user.uid]
    unit_of_work.commit()
    assert purge.purge(cutoff).users == []
    assert db.session.get(User, live.id).email == live.email


def test_purge_keeps_undelivered_events(api, app):
    _fill(api)
    user = _delete_account(api, days_ago=40)
    pending = db.session.query(OutboxEvent).filter(OutboxEvent.payload.like(f'%"{user.uid}"%')).count()
    assert pending
    db.session.execute(text("UPDATE event_outbox SET state = 'pending'"))
    unit_of_work.commit()
    report = purge.purge(datetime.utcnow() - timedelta(days=30))
    unit_of_work.commit()
    assert report.events == 0
    assert db.session.query(OutboxEvent).filter(OutboxEvent.payload.like(f'%"{user.uid}"%')).count() == pending

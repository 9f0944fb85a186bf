"""New-network approval (issue 15): a correct login from a network the user never approved
opens no session, answers 403 identity.session.new_network and mails one approve link and
one "this wasn't me" link; each mail's links work once."""
from __future__ import annotations

import re
import threading

import pytest

from barong.extensions import db
from barong.models import KnownNetwork, KVEntry, SessionRecord
from barong.services.accounts import networks
from tests.helpers import DEFAULT_PASSWORD, totp_now

from .support import API, activities_of, events_named, user_by_email

HOME, AWAY, AWAY2 = "203.0.113.5", "198.51.100.7", "198.51.200.9"
SUBJECT = "Sign-in from a new network"


def login(client, email, ip, password=DEFAULT_PASSWORD, **extra):
    return client.post(f"{API}/sessions", json={"email": email, "password": password, **extra},
                       environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def approval(app):
    app.config["BARONG_LOGIN_NEW_NETWORK_APPROVAL"] = True


def links(mail) -> dict:
    text = mail.get_body(preferencelist=("plain",)).get_content()
    return {kind: token for kind, token in re.findall(r"/accounts/network/(approve|deny)\?token=([\w-]+)", text)}


def known(user):
    db.session.expire_all()
    return sorted(n.value for n in db.session.query(KnownNetwork).filter_by(user_id=user.id))


def test_first_login_approves_its_network_silently(client, make_user, approval, mailbox):
    user = make_user()
    assert login(client, user.email, HOME).status_code == 201
    assert known(user) == ["203.0.0.0/16"]
    assert [m for m in mailbox(user.email) if m["Subject"] == SUBJECT] == []
    # the same /16 from another address: a known network
    client.delete(f"{API}/sessions", headers={"X-CSRF-Token": "x"})
    assert login(client, user.email, "203.0.77.1").status_code == 201


def test_new_network_refused_with_one_mail(client, make_user, approval, mailbox):
    user = make_user()
    assert login(client, user.email, HOME).status_code == 201
    sessions_before = db.session.query(SessionRecord).count()
    resp = login(client, user.email, AWAY)
    assert resp.status_code == 403
    assert resp.get_json() == {"errors": ["identity.session.new_network"]}
    assert "Set-Cookie" not in resp.headers
    db.session.expire_all()
    assert db.session.query(SessionRecord).count() == sessions_before
    mails = [m for m in mailbox(user.email) if m["Subject"] == SUBJECT]
    assert len(mails) == 1
    assert set(links(mails[0])) == {"approve", "deny"}
    assert "198.51.0.0/16" in mails[0].get_body(preferencelist=("plain",)).get_content()
    assert activities_of(user)[-1] == ("session", "login", "failed")
    # a second refused attempt right away sends no second mail (no mail flood)
    assert login(client, user.email, AWAY).status_code == 403
    assert len([m for m in mailbox(user.email) if m["Subject"] == SUBJECT]) == 1
    # the tokens are stored hashed only, and sealed in the outbox
    values = " ".join(e.key + (e.value or "") for e in db.session.query(KVEntry))
    tokens = links(mails[0])
    assert tokens["approve"] not in values and tokens["deny"] not in values
    [event] = events_named(networks.EVENT)
    assert tokens["approve"] not in str(event) and tokens["deny"] not in str(event)


def test_wrong_password_from_a_new_network_is_just_wrong(client, make_user, approval, mailbox):
    user = make_user()
    login(client, user.email, HOME)
    resp = login(client, user.email, AWAY, password="Wrong-Passw0rd-x")
    assert resp.get_json() == {"errors": ["identity.session.invalid_params"]}
    assert [m for m in mailbox(user.email) if m["Subject"] == SUBJECT] == []


def test_2fa_is_checked_before_the_network(client, make_user, approval, mailbox):
    user = make_user(otp=True)
    assert login(client, user.email, HOME, otp_code=totp_now(user)).status_code == 201
    assert login(client, user.email, AWAY).get_json() == {"errors": ["identity.session.missing_otp"]}
    assert [m for m in mailbox(user.email) if m["Subject"] == SUBJECT] == []


def test_approve_link_works_once(client, make_user, approval, mailbox):
    user = make_user()
    login(client, user.email, HOME)
    login(client, user.email, AWAY)
    tokens = links(mailbox(user.email)[-1])
    resp = client.post(f"{API}/sessions/network/approve", json={"token": tokens["approve"]})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"network": "198.51.0.0/16", "approved": True}
    assert known(user) == ["198.51.0.0/16", "203.0.0.0/16"]
    again = client.post(f"{API}/sessions/network/approve", json={"token": tokens["approve"]})
    assert again.status_code == 422
    assert again.get_json() == {"errors": ["identity.session.invalid_network_token"]}
    # the pair's other link is dead too
    deny = client.post(f"{API}/sessions/network/deny", json={"token": tokens["deny"]})
    assert deny.get_json() == {"errors": ["identity.session.invalid_network_token"]}
    assert user_by_email(user.email).locked_until is None
    assert login(client, user.email, AWAY).status_code == 201


def test_deny_link_locks_and_revokes(client, make_user, approval, mailbox, app):
    user = make_user()
    assert login(client, user.email, HOME).status_code == 201
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = "pytest-2"
    assert other.get("/api/v2/barong/resource/users/me", environ_base={"REMOTE_ADDR": HOME}).status_code == 401
    login(client, user.email, AWAY)
    tokens = links(mailbox(user.email)[-1])
    resp = client.post(f"{API}/sessions/network/deny", json={"token": tokens["deny"]})
    assert resp.status_code == 200 and resp.get_json() == {"locked": True}
    db.session.expire_all()
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 0
    assert user_by_email(user.email).locked_until.year == 9999
    # locked even from the known network, with the right password, and with rate limits off
    assert login(client, user.email, HOME).get_json() == {"errors": ["identity.session.locked"]}
    assert client.post(f"{API}/sessions/network/approve", json={"token": tokens["approve"]}).status_code == 422
    assert any(m["Subject"] == "Account locked" for m in mailbox(user.email))


def test_unknown_token_and_wrong_action(client, make_user, approval, mailbox):
    user = make_user()
    login(client, user.email, HOME)
    login(client, user.email, AWAY)
    tokens = links(mailbox(user.email)[-1])
    for path, token in (("approve", "nope"), ("approve", tokens["deny"]), ("deny", tokens["approve"])):
        resp = client.post(f"{API}/sessions/network/{path}", json={"token": token})
        assert resp.get_json() == {"errors": ["identity.session.invalid_network_token"]}, path
    missing = client.post(f"{API}/sessions/network/approve", json={})
    assert missing.status_code == 400 and "identity.session.missing_token" in missing.get_json()["errors"]
    assert known(user) == ["203.0.0.0/16"]


def test_expired_link_refused(client, make_user, approval, mailbox):
    user = make_user()
    login(client, user.email, HOME)
    login(client, user.email, AWAY)
    tokens = links(mailbox(user.email)[-1])
    for entry in db.session.query(KVEntry).filter(KVEntry.key.like("network_link:%")):
        entry.expires_at = 1
    db.session.commit()
    assert client.post(f"{API}/sessions/network/approve", json={"token": tokens["approve"]}).status_code == 422
    assert known(user) == ["203.0.0.0/16"]


def test_off_by_default_but_networks_are_remembered(client, make_user, mailbox):
    user = make_user()
    assert login(client, user.email, HOME).status_code == 201
    assert login(client, user.email, AWAY).status_code == 201
    assert known(user) == ["198.51.0.0/16", "203.0.0.0/16"]
    assert [m for m in mailbox(user.email) if m["Subject"] == SUBJECT] == []


def test_country_scope(client, make_user, approval, app, mailbox):
    from tests.authz.conftest import geoip_db  # noqa: F401  (the fixture's body, reused below)
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(database_type="GeoIP2-City", languages=["en"])
    writer.insert_network(IPSet(["203.0.0.0/16", "198.51.0.0/16"]), {"country": {"iso_code": "GB",
                                                                             "names": {"en": "United Kingdom"}}})
    path = f"{app.config['BARONG_INSTANCE_PATH']}/geo-secb.mmdb"
    writer.to_db_file(path)
    app.config["BARONG_GEOIP_DB_PATH"] = path
    app.config["BARONG_LOGIN_NEW_NETWORK_SCOPE"] = "country"
    user = make_user()
    assert login(client, user.email, HOME).status_code == 201
    assert login(client, user.email, AWAY).status_code == 201  # another network, the same country
    assert known(user) == ["GB"]
    assert login(client, user.email, "192.0.2.44").get_json() == {"errors": ["identity.session.new_network"]}


def test_listed_and_removable_in_the_resource_api(client, make_user, approval):
    user = make_user()
    csrf = login(client, user.email, HOME).get_json()["csrf_token"]
    listed = client.get("/api/v2/barong/resource/networks", environ_base={"REMOTE_ADDR": HOME}).get_json()
    assert [(n["kind"], n["network"]) for n in listed] == [("network", "203.0.0.0/16")]
    resp = client.delete(f"/api/v2/barong/resource/networks/{listed[0]['id'] + 1000}",
                         headers={"X-CSRF-Token": csrf}, environ_base={"REMOTE_ADDR": HOME})
    assert resp.status_code == 404
    resp = client.delete(f"/api/v2/barong/resource/networks/{listed[0]['id']}", headers={"X-CSRF-Token": csrf},
                         environ_base={"REMOTE_ADDR": HOME})
    assert resp.status_code == 204
    assert known(user) == []


def test_concurrent_uses_of_one_mail_act_once(app, make_user, approval, mailbox, tmp_path):
    """Approve and "this wasn't me" of one mail sent at the same moment: exactly one acts."""
    user = make_user()
    c = app.test_client()
    c.post(f"{API}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD},
           environ_base={"REMOTE_ADDR": HOME})
    c.post(f"{API}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD},
           environ_base={"REMOTE_ADDR": AWAY})
    tokens = links(mailbox(user.email)[-1])
    db.session.remove()
    barrier, results = threading.Barrier(4), []

    def use(kind):
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            results.append(client.post(f"{API}/sessions/network/{kind}", json={"token": tokens[kind]}).status_code)

    threads = [threading.Thread(target=use, args=(k,)) for k in ("approve", "deny", "approve", "deny")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 422, 422, 422], results
    u = user_by_email(user.email)
    approved, locked = "198.51.0.0/16" in known(user), u.locked_until is not None
    assert approved != locked


def test_links_single_use_with_the_redis_kv(app, make_user, approval, mailbox):
    """With BARONG_REDIS_URL the link records and the single-use mark live in Redis (SET NX)."""
    from barong.services.infra.request_info import RequestInfo
    from barong.errors import BarongError
    from tests.services.test_sessions import REDIS_URL, _redis_or_skip

    _redis_or_skip()
    app.config["BARONG_REDIS_URL"] = REDIS_URL
    app.extensions.pop("barong_redis", None)
    try:
        user = make_user()
        info = RequestInfo(AWAY, "pytest")
        networks._remember(user, "network", "203.0.0.0/16")
        networks._request_approval(user.id, "network", "198.51.0.0/16", info)
        from barong.services.infra import unit_of_work

        unit_of_work.commit()
        t = links(mailbox(user.email)[-1])
        networks.approve(t["approve"], info)
        with pytest.raises(BarongError) as err:
            networks.deny(t["deny"], info)
        assert err.value.codes == ["identity.session.invalid_network_token"]
        from barong.services.infra import kv

        assert kv.get(f"network_link:{t['approve']}") is None  # stored under the hash only
    finally:
        app.extensions.pop("barong_redis", None)

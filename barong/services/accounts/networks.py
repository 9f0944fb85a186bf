"""New-network approval (issue 15; the original's users asked for it, openware/barong#436).

Every successful login remembers its network: the client's /16 (IPv4) or /96 (IPv6) —
the same network a session is bound to — or, with BARONG_LOGIN_NEW_NETWORK_SCOPE=country
and a GeoIP database, its country (an address GeoIP cannot place falls back to its
network). With BARONG_LOGIN_NEW_NETWORK_APPROVAL on, a correct login (password and 2FA)
from a network the user never approved opens no session: it answers 403
`identity.session.new_network` and mails two single-use links (BARONG_LOGIN_NEW_NETWORK_LINK_TTL):

* approve — the network becomes known; the user logs in again;
* "this wasn't me" — the account is locked until a password reset or an operator lifts it,
  and every session of it ends (the password is known to someone else).

The first login of an account that knows no network yet approves its network silently.
The links' tokens live in the kv store under their SHA-256 only; both links of one mail
share a single-use mark set with `kv.add`, so of two concurrent uses (or approve and deny)
exactly one acts. While one approval mail for a network is recent (MAIL_INTERVAL), a new
refused login from it sends no other (no mail flood from a password-guessing bot).
"""
from __future__ import annotations

import ipaddress
import json
import secrets

from flask import current_app

from barong.errors import BarongError
from barong.extensions import db
from barong.models import KnownNetwork, User, utcnow
from barong.security.crypto import sha256_hex
from barong.services.audit import activities
from barong.services.delivery import events
from barong.services.infra import geoip, kv
from barong.services.infra.request_info import RequestInfo
from barong.services.infra.unit_of_work import add_unique, durable

#: seconds during which a refused login from the same network sends no second mail
MAIL_INTERVAL = 300
EVENT = "system.user.network.approval"
_TAKEN = {name: (lambda: _Known("known")) for name in ("uq_known_networks_user_kind_value", "known_networks.user_id")}


class _Known(BarongError):
    """Internal: the network was recorded by a concurrent request (never reaches a response)."""


def enabled() -> bool:
    return bool(current_app.config.get("BARONG_LOGIN_NEW_NETWORK_APPROVAL"))


def network_of(ip: str) -> str:
    """The /16 (IPv4) or /96 (IPv6) of `ip`, as `a.b.0.0/16` (an unparsable value: itself)."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return str(ip)[:64]
    prefix = 16 if addr.version == 4 else 96
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def locate(ip: str) -> tuple[str, str]:
    """(kind, value) a login from `ip` is approved as."""
    if current_app.config.get("BARONG_LOGIN_NEW_NETWORK_SCOPE") == "country":
        code = geoip.lookup(ip).get("country_code")
        if code:
            return "country", str(code).upper()
    return "network", network_of(ip)


def list_for(user: User) -> list[KnownNetwork]:
    return (db.session.query(KnownNetwork).filter_by(user_id=user.id)
            .order_by(KnownNetwork.last_used_at.desc(), KnownNetwork.id.desc()).all())


def remove(user: User, network_id, info: RequestInfo | None = None) -> None:
    """Forget one of the user's networks (the next login from it needs approval). Raises 404 record.not_found."""
    try:
        network_id = int(network_id)
    except (TypeError, ValueError):
        raise BarongError("record.not_found", 404) from None
    row = db.session.query(KnownNetwork).filter_by(id=network_id, user_id=user.id).first()
    if row is None:
        raise BarongError("record.not_found", 404)
    activities.record(user, "session", "forget network", "succeed", info, data={"network": row.value})
    db.session.delete(row)
    db.session.flush()


def _remember(user: User, kind: str, value: str) -> KnownNetwork | None:
    row = db.session.query(KnownNetwork).filter_by(user_id=user.id, kind=kind, value=value).first()
    if row is not None:
        row.last_used_at = utcnow()
        return row
    row = KnownNetwork(user_id=user.id, kind=kind, value=value, created_at=utcnow(), last_used_at=utcnow())
    try:
        add_unique(row, _TAKEN)
    except _Known:
        return None
    return row


def check_login(user: User, info: RequestInfo) -> None:
    """Called by identity.login once password and 2FA are right, before the session opens:
    remembers a known (or first) network; with approval on, refuses an unknown one with
    403 identity.session.new_network after queueing the approval mail (durable: it
    survives the refusal's rollback)."""
    kind, value = locate(info.ip)
    known = db.session.query(KnownNetwork).filter_by(user_id=user.id, kind=kind, value=value).first()
    if known is not None:
        known.last_used_at = utcnow()
        return
    if not enabled() or not db.session.query(KnownNetwork.id).filter_by(user_id=user.id).first():
        _remember(user, kind, value)  # approval off, or the account's first network: approved silently
        return
    durable(_request_approval, user.id, kind, value, info)
    raise BarongError("identity.session.new_network", 403)


def _request_approval(user_id: int, kind: str, value: str, info: RequestInfo) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        return
    activities.record(user, "session", "login", "failed", info, data={"reason": "New network: approval mailed",
                                                                      "network": value})
    if not kv.add(f"network_mail:{user.uid}:{sha256_hex(kind + value)[:32]}", "1", MAIL_INTERVAL):
        return  # a mail for this network went out a moment ago
    ttl = current_app.config["BARONG_LOGIN_NEW_NETWORK_LINK_TTL"]
    approve, deny = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    group = sha256_hex(approve)
    for token, action in ((approve, "approve"), (deny, "deny")):
        kv.set(f"network_link:{sha256_hex(token)}",
               json.dumps({"uid": user.uid, "kind": kind, "value": value, "action": action, "group": group}), ttl)
    country = geoip.lookup(info.ip).get("country")
    events.emit(EVENT, {"user": events.user_summary(user), "domain": current_app.config["BARONG_DOMAIN"],
                        "network": value, "kind": kind, "user_ip": info.ip, "user_ip_country": country,
                        "user_agent": info.user_agent, "approve_token": approve, "deny_token": deny,
                        "expires_in": ttl})


def _claim(token: str, action: str) -> dict:
    """The link's record, claimed once. Raises 422 identity.session.invalid_network_token
    (unknown, expired, already used — this link or its pair — or the other action's link)."""
    token = (token or "").strip()
    raw = kv.get(f"network_link:{sha256_hex(token)}") if token else None
    try:
        link = json.loads(raw) if raw else None
    except ValueError:
        link = None
    if not link or link.get("action") != action:
        raise BarongError("identity.session.invalid_network_token", 422)
    ttl = current_app.config["BARONG_LOGIN_NEW_NETWORK_LINK_TTL"]
    if not kv.add(f"network_link_used:{link['group']}", action, ttl):
        raise BarongError("identity.session.invalid_network_token", 422)
    kv.delete(f"network_link:{sha256_hex(token)}")
    return link


def _user_of(link: dict) -> User:
    user = db.session.query(User).filter_by(uid=link.get("uid")).first()
    if user is None:
        raise BarongError("identity.session.invalid_network_token", 422)
    return user


def approve(token: str, info: RequestInfo) -> tuple[User, str]:
    """The approve link: the network becomes known. Returns (user, network)."""
    link = _claim(token, "approve")
    user = _user_of(link)
    _remember(user, link["kind"], link["value"])
    activities.record(user, "session", "approve network", "succeed", info, data={"network": link["value"]})
    return user, link["value"]


def deny(token: str, info: RequestInfo) -> User:
    """The "this wasn't me" link: lock the account (until a password reset or an operator
    lifts it) and end every session of it."""
    from barong.services.accounts import identity, sessions

    link = _claim(token, "deny")
    user = _user_of(link)
    identity.lock_account(user, "New network login reported by the owner")
    activities.record(user, "session", "deny network", "succeed", info, data={"network": link["value"]})
    sessions.invalidate_all(user.uid)
    return user

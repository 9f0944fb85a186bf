"""Fixtures for the authorization tests: API keys inserted directly, signed headers,
a tiny GeoIP database, a controllable clock."""
from __future__ import annotations

import secrets
import time

import pytest

from barong.extensions import db
from barong.models import APIKey, ServiceAccount


@pytest.fixture
def make_api_key(app):
    """make_api_key(holder, state="active", algorithm="HS256") -> (APIKey, secret)"""

    def factory(holder, state="active", algorithm="HS256"):
        secret = secrets.token_hex(16)
        key = APIKey(key_holder_account_id=holder.id, key_holder_account_type=type(holder).__name__,
                     kid=secrets.token_hex(8), algorithm=algorithm, state=state)
        key.secret = secret
        key.scope = ["trade"]
        db.session.add(key)
        db.session.commit()
        return key, secret

    return factory


@pytest.fixture
def make_service_account(app):
    def factory(owner, state="active", role="service_account"):
        sa = ServiceAccount(uid="SI" + secrets.token_hex(4).upper(), owner_id=owner.id,
                            email=f"sa-{secrets.token_hex(4)}@example.com", role=role, level=owner.level,
                            state=state)
        db.session.add(sa)
        db.session.commit()
        return sa

    return factory


@pytest.fixture
def geoip_db(app, tmp_path):
    """A MaxMind database knowing LONDON (United Kingdom, Europe) and TOKYO (Japan, Asia)."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(database_type="GeoIP2-City", languages=["en"])
    writer.insert_network(IPSet(["81.2.69.0/24"]), {
        "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
        "continent": {"code": "EU", "names": {"en": "Europe"}}})
    writer.insert_network(IPSet(["202.32.0.0/16"]), {
        "country": {"iso_code": "JP", "names": {"en": "Japan"}},
        "continent": {"code": "AS", "names": {"en": "Asia"}}})
    path = tmp_path / "geo.mmdb"
    writer.to_db_file(str(path))
    app.config["BARONG_GEOIP_DB_PATH"] = str(path)
    return path


class Clock:
    def __init__(self):
        self.offset = 0.0
        self._real = time.time

    def __call__(self):
        return self._real() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch):
    """time.time() that tests can move forward (`clock.advance(seconds)`)."""
    c = Clock()
    monkeypatch.setattr(time, "time", c)
    return c

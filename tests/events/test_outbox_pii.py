"""Personal data in the outbox is sealed like its column: a document number (or a profile's
name, dob, address) never sits in clear in `event_outbox.payload`; the published event
still carries it, as the original's does."""
from __future__ import annotations

import io
import json
from datetime import date, timedelta

from sqlalchemy import text

from barong.events import envelope
from barong.events.dispatcher import publish_batch
from barong.extensions import db
from barong.security.jwt_keys import keypair
from barong.services.accounts import profiles
from barong.services.delivery import events
from barong.services.infra import unit_of_work
from barong.services.verification import documents
from tests.helpers import login_as

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
NUMBER = "ZX9876543"


class _Capture:
    """A publisher that keeps what it was given."""

    def __init__(self):
        self.bodies = []

    def publish(self, exchange, routing_key, body, **_kw):
        self.bodies.append((exchange, routing_key, body))


def _raw_payloads(name):
    return db.session.execute(text("SELECT payload FROM event_outbox WHERE name = :n ORDER BY id"),
                              {"n": name}).scalars().all()


def _upload(user):
    documents.create(user, [("id.png", PNG)], "Passport", doc_expire=(date.today() + timedelta(days=400)).isoformat(),
                     doc_number=NUMBER)
    unit_of_work.commit()


def test_document_number_is_not_in_the_outbox_in_clear(app, make_user, client):
    user = make_user()
    csrf = login_as(client, user)
    resp = client.post("/api/v2/barong/resource/documents", headers={"X-CSRF-Token": csrf}, data={
        "doc_type": "Passport", "doc_number": NUMBER, "doc_expire": (date.today() + timedelta(days=400)).isoformat(),
        "upload[]": [(io.BytesIO(PNG), "id.png")]}, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    [raw] = _raw_payloads("model.document.created")
    assert NUMBER not in raw and NUMBER.lower() not in raw.lower()
    stored = json.loads(raw)["record"]["doc_number"]
    assert set(stored) == {"$sealed"} and stored["$sealed"].startswith("v1:")
    assert events.payload_of(raw)["record"]["doc_number"] == NUMBER


def test_published_event_carries_the_document_number(app, make_user):
    user = make_user()
    _upload(user)
    capture = _Capture()
    result = publish_batch(capture)
    assert result.error is None and result.published
    published = [envelope.verify(json.loads(body), keypair().public_key)["event"] for _, _, body in capture.bodies]
    [doc_event] = [e for e in published if e["name"] == "model.document.created"]
    assert doc_event["record"]["doc_number"] == NUMBER and doc_event["record"]["doc_type"] == "Passport"
    assert doc_event["record"]["user"]["uid"] == user.uid and "$sealed" not in json.dumps(doc_event)


def test_profile_pii_sealed_too(app, make_user):
    user = make_user()
    profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-01-02", "country": "GB",
                           "city": "London", "address": "1 Main St", "postcode": "N1"}, confirm=True)
    unit_of_work.commit()
    raws = _raw_payloads("model.profile.created")
    assert raws and not any(s in raw for raw in raws for s in ("Lovelace", "1990-01-02", "1 Main St"))
    record = events.payload_of(raws[0])["record"]
    assert (record["first_name"], record["last_name"], record["dob"], record["address"]) == \
        ("Ada", "Lovelace", "1990-01-02", "1 Main St")
    assert record["city"] == "London"  # only the encrypted columns are sealed

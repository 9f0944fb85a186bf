"""Item 15 and the other streamed responses, through gunicorn: the console's activities
"Export CSV" for every filter the console offers, and document downloads (resource API and
console) — the bodies are sent after the request's transaction and session are gone."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest

from tests.live.harness import Client, signup_confirmed

COLUMNS = ["id", "created_at", "category", "user_uid", "user_email", "target_uid", "topic", "action", "result",
           "user_ip", "user_ip_country", "user_agent", "data"]


@pytest.fixture(scope="module")
def member(live_barong, smtp_sink, admin_client):
    return signup_confirmed(live_barong.url, smtp_sink, "streamed-member@example.com")


def _csv(resp) -> list[list[str]]:
    assert resp.status_code == 200, resp.text[:500]
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(resp.text)))


def test_activities_csv_export_every_filter(live_barong, admin_client, member):
    me = member.api("GET", "resource/users/me").json()
    uid, email = me["uid"], me["email"]
    # an admin-category activity exists (the first export audits itself)
    assert admin_client.get("/admin/activities.csv?category=admin").status_code == 200
    today = date.today()
    cases = {
        "": True,
        "category=user": True,
        "category=user&topic=session": True,
        "category=user&action=login": True,
        "category=user&result=succeed": True,
        "category=user&result=failed": False,
        f"category=user&uid={uid}": True,
        f"category=user&email={email}": True,
        f"category=user&from={today - timedelta(days=1)}&to={today + timedelta(days=1)}": True,
        "category=user&from=2000-01-01&to=2000-01-02": False,
        f"category=user&topic=session&action=login&result=succeed&uid={uid}&email={email}": True,
        "category=admin": True,
        "category=admin&topic=activities&action=export+csv": True,
        f"category=admin&target_uid={uid}": False,
        "category=admin&result=succeed&from=2000-01-01": True,
    }
    for query, has_rows in cases.items():
        rows = _csv(admin_client.get(f"/admin/activities.csv?{query}"))
        assert rows[0] == COLUMNS, query
        assert (len(rows) > 1) == has_rows, (query, rows[:3])
        for row in rows[1:]:
            assert len(row) == len(COLUMNS)
            if f"uid={uid}" in query and "target" not in query:
                assert row[3] == uid
            if "category=admin" in query:
                assert row[2] == "admin"
    # the member's own logins are in the user log with their uid and email
    rows = _csv(admin_client.get(f"/admin/activities.csv?category=user&uid={uid}"))
    assert any(r[3] == uid and r[4] == email and r[6] == "session" and r[7] == "login" for r in rows[1:])
    assert "DetachedInstanceError" not in live_barong.log_text()
    assert not re.search(r'"GET /admin/activities\.csv[^"]*" 5\d\d', live_barong.log_text())


def test_a_member_cannot_export(member):
    resp = member.get("/admin/activities.csv")
    assert resp.status_code in (302, 401, 403, 404)
    assert not resp.headers.get("Content-Type", "").startswith("text/csv")


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def test_document_downloads(live_barong, admin_client, member):
    png = _png()
    expire = (date.today() + timedelta(days=400)).isoformat()
    r = member.api("POST", "resource/documents", data={"doc_type": "Passport", "doc_number": "AB123456",
                                                       "doc_expire": expire},
                   files=[("upload[]", ("passport.png", png, "image/png"))])
    assert r.status_code == 201, r.text
    docs = member.api("GET", "resource/documents").json()
    url = docs[-1]["upload"]
    path = url.split("://", 1)[-1]
    path = path[path.index("/"):] if not url.startswith("/") else url
    doc_id = int(re.search(r"/documents/(\d+)/upload", path).group(1))

    api = member.get(path)
    assert api.status_code == 200, api.text[:300]
    assert api.content == png and api.headers["Content-Type"].startswith("image/png")

    console = admin_client.get(f"/admin/documents/{doc_id}/file")
    assert console.status_code == 200
    assert console.content == png
    # another member never gets it
    stranger = Client(live_barong.url)
    assert stranger.get(path).status_code == 401


def test_exports_and_downloads_through_the_gateway(gateway, admin_client, member):
    """The same bodies through nginx: the console's CSV (a site path) and the document file
    (an API path: auth_request, then Barong with cookie + JWT)."""
    admin = Client(gateway.url)
    admin.cookies.update(admin_client.cookies)
    rows = _csv(admin.get("/admin/activities.csv?category=user&topic=session"))
    assert rows[0] == COLUMNS and len(rows) > 1
    png = _png()
    expire = (date.today() + timedelta(days=400)).isoformat()
    r = member.api("POST", "resource/documents", data={"doc_type": "Identity card", "doc_number": "ID998877",
                                                       "doc_expire": expire},
                   files=[("upload[]", ("id.png", png, "image/png"))])
    assert r.status_code == 201, r.text
    url = member.api("GET", "resource/documents").json()[-1]["upload"]
    path = re.search(r"/api/v2/barong/resource/documents/\d+/upload", url).group(0)
    via = Client(gateway.url)
    via.cookies.update(member.cookies)
    got = via.get(path)
    assert got.status_code == 200 and got.content == png
    assert Client(gateway.url).get(path).status_code == 401

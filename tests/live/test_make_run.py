"""The real server as `make run PORT=…` starts it without BARONG_DOMAIN: the mail links and
document URLs point at the port it serves (not 8000) and carry baseapp's token names; a
second `flask seed` says "already seeded"; and one form sent twice at once, across two
gunicorn workers, stores one document."""
from __future__ import annotations

import html as htmllib
import re
import subprocess
import threading
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.browser.support import png_bytes
from tests.live.harness import PYTHON, ROOT, Client, GunicornServer, link_token, mail_links, signup_confirmed


@pytest.fixture(scope="module")
def server(smtp_sink):
    # BARONG_DOMAIN empty = unset: the app derives it from HOST/PORT (the free port chosen)
    with GunicornServer(env={"BARONG_DOMAIN": ""}, smtp=smtp_sink, workers=2, name="make-run") as s:
        Client(s.url).signup("first-make-run@example.com")  # the first registration: superadmin
        yield s


def test_mail_links_and_document_urls_point_at_the_served_port(server, smtp_sink, new_email):
    assert server.port != 8000
    email = new_email("port")
    c = Client(server.url)
    c.signup(email)
    [msg] = smtp_sink.wait_for(to=email, subject="Registration Confirmation")
    links = [u for u in mail_links(msg) if "/accounts/confirmation" in u]
    assert links
    for link in links:
        url = urlsplit(link)
        assert f"{url.scheme}://{url.netloc}" == server.url
        query = parse_qs(url.query)
        assert query["token"] == query["confirmation_token"]
    page = c.get(f"{urlsplit(links[0]).path}?{urlsplit(links[0]).query}")  # the link as the front end opens it
    assert page.status_code == 200 and link_token(msg) in htmllib.unescape(page.text)

    c.confirm_email(link_token(msg, "confirmation_token"))
    c.login(email)
    expire = (date.today() + timedelta(days=400)).isoformat()
    r = c.api("POST", "resource/documents", data={"doc_type": "Passport", "doc_number": "AB123456",
                                                  "doc_expire": expire},
              files=[("upload[]", ("passport.png", png_bytes(), "image/png"))])
    assert r.status_code == 201, r.text
    [doc] = c.api("GET", "resource/documents").json()
    assert doc["upload"].startswith(f"{server.url}/api/v2/barong/resource/documents/")


def test_a_second_seed_says_already_seeded(server):
    done = subprocess.run([PYTHON, "-m", "flask", "--app", "app", "seed"], cwd=ROOT, env=server.env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("already seeded (nothing added): levels=") and "permissions=0" not in line


def _form_fields(page_html: str) -> dict:
    fields = {}
    for name in ("csrf_token", "form_nonce"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page_html)
        assert tag, f"no {name} in the form"
        fields[name] = htmllib.unescape(re.search(r'value="([^"]*)"', tag.group(0)).group(1))
    return fields


def test_one_form_sent_twice_at_once_stores_one_document(server, smtp_sink, new_email):
    """The same upload form (same nonce) posted by two connections at the same moment, to a
    server with two workers: one 303, one refusal, one document."""
    email = new_email("twice")
    member = signup_confirmed(server.url, smtp_sink, email)
    form = _form_fields(member.get("/accounts/documents").text)
    data = {**form, "doc_type": "Passport", "doc_number": "AB1234567",
            "doc_expire": (date.today() + timedelta(days=400)).isoformat()}
    start = threading.Barrier(2, timeout=10)
    results: list = []

    def send():
        s = requests.Session()
        s.headers.update(member.headers)
        s.cookies.update(member.cookies)
        start.wait()
        r = s.post(f"{server.url}/accounts/documents", data=data, allow_redirects=False, timeout=30,
                   files={"front_side": ("id.png", png_bytes(), "image/png")})
        results.append((r.status_code, r.text))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    assert sorted(status for status, _ in results) == [303, 422], [r[0] for r in results]
    refused = next(text for status, text in results if status == 422)
    assert "This form was already sent" in htmllib.unescape(refused)
    assert len(member.api("GET", "resource/documents").json()) == 1

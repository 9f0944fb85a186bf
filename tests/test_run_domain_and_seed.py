"""`make run PORT=9000`: without BARONG_DOMAIN the links in mails and the document URLs
point at where the server listens (`http://HOST:PORT`); a second `make run` (`flask seed`
on a seeded database) says "already seeded" with what is present."""
from __future__ import annotations

import os
import re

import pytest

from barong import serve
from barong import config
from barong.config import ConfigError, from_env
from barong.extensions import db
from barong.models import Permission

from tests.helpers import DEFAULT_PASSWORD


@pytest.mark.parametrize("env,domain", [
    ({}, "http://127.0.0.1:8000"),
    ({"PORT": "9000"}, "http://127.0.0.1:9000"),
    ({"HOST": "10.1.2.3", "PORT": "9000"}, "http://10.1.2.3:9000"),
    ({"HOST": "barong.local"}, "http://barong.local:8000"),
    ({"HOST": "0.0.0.0", "PORT": "9001"}, "http://127.0.0.1:9001"),  # a wildcard bind is no address
    ({"HOST": "::1", "PORT": "9000"}, "http://[::1]:9000"),
    ({"HOST": "", "PORT": ""}, "http://127.0.0.1:8000"),
    ({"BARONG_DOMAIN": "https://auth.example.com/", "PORT": "9000"}, "https://auth.example.com"),
])
def test_domain_defaults_to_where_make_run_listens(env, domain):
    assert from_env(env)["BARONG_DOMAIN"] == domain


def test_a_bad_port_names_the_variable():
    with pytest.raises(ConfigError, match="PORT='abc' is not an integer"):
        from_env({"PORT": "abc"})
    assert from_env({"PORT": "abc", "BARONG_DOMAIN": "http://x"})["BARONG_DOMAIN"] == "http://x"  # not read


def test_the_test_config_ignores_host_and_port(tmp_path, monkeypatch):
    monkeypatch.setenv("HOST", "10.9.9.9")
    monkeypatch.setenv("PORT", "9000")
    assert config.test_config(tmp_path)["BARONG_DOMAIN"] == "http://127.0.0.1:8000"


def test_serve_hands_its_host_and_port_to_the_app(monkeypatch):
    """`python -m barong.serve --port 9000` (what `make run` execs): the workers read PORT."""
    seen = {}

    class Execd(Exception):
        pass

    def fake_execv(path, argv):  # the real one never returns
        seen.update(argv=argv, env=dict(os.environ))
        raise Execd
    monkeypatch.delenv("BARONG_EVENT_API_RABBITMQ_HOST", raising=False)
    monkeypatch.setenv("BARONG_KYC_EXPIRY_WATCH", "false")  # nothing beside gunicorn: exec'd
    monkeypatch.setenv("HOST", "127.0.0.1")  # monkeypatch restores both after main() overwrote them
    monkeypatch.setenv("PORT", "8000")
    monkeypatch.setattr(serve, "_die_with_parent", lambda: None)
    monkeypatch.setattr(serve.os, "execv", fake_execv)
    with pytest.raises(Execd):
        serve.main(["--host", "127.0.0.1", "--port", "9000", "--workers", "2"])
    assert "127.0.0.1:9000" in seen["argv"]
    assert from_env(seen["env"] | {"BARONG_DOMAIN": ""})["BARONG_DOMAIN"] == "http://127.0.0.1:9000"


def test_mail_links_and_document_urls_follow_the_derived_domain(app, client, make_user, mailbox, tmp_path):
    app.config["BARONG_DOMAIN"] = from_env({"PORT": "9000"})["BARONG_DOMAIN"]
    make_user()  # not the first registration
    resp = client.post("/api/v2/barong/identity/users", json={"email": "p9000@example.com",
                                                              "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201
    [msg] = mailbox("p9000@example.com")
    links = re.findall(r"https?://\S+", msg.get_body(preferencelist=("plain",)).get_content())
    assert links and all(link.startswith("http://127.0.0.1:9000/accounts/confirmation?") for link in links)

    from barong.api import entities

    class _Doc:
        id = 7

    assert entities.upload_url(_Doc()) == "http://127.0.0.1:9000/api/v2/barong/resource/documents/7/upload"


def _seed(app) -> str:
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_second_seed_says_already_seeded_with_what_is_present(app):
    """The test database is seeded already: `flask seed` adds nothing and says so."""
    permissions = db.session.query(Permission).count()
    first = _seed(app)
    second = _seed(app)
    assert first == second
    assert first.startswith("already seeded (nothing added): levels=")
    assert f"permissions={permissions}" in first and "levels=0" not in first
    assert "seeded: levels=0, permissions=0" not in first


def test_seed_after_a_row_went_missing_reports_what_it_added(app):
    perm = db.session.query(Permission).order_by(Permission.id).first()
    total = db.session.query(Permission).count()
    db.session.delete(perm)
    db.session.commit()
    out = _seed(app)
    assert out.startswith("seeded: levels=0, permissions=1, restrictions=0, admin=0")
    assert "(now present: levels=" in out and f"permissions={total}" in out
    assert _seed(app).startswith("already seeded")


def test_seed_reports_the_configured_admin(app):
    app.config.update(BARONG_ADMIN_EMAIL="root@example.com", BARONG_ADMIN_PASSWORD="Adm1n-Passw0rd-xyz")
    assert "admin=1" in _seed(app).split("(")[0]
    again = _seed(app)
    assert again.startswith("already seeded") and "admin=1" in again and "superadmins=1" in again

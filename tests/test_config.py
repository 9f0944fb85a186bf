"""barong/config.py: every CONTRACT §2 variable with its default; bad values stop start-up
with a message naming the variable (also through the `flask` CLI)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from barong.config import INSTANCE, ROOT, ConfigError, from_env

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "CONTRACT.md"

DEFAULTS = {
    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{INSTANCE / 'barong.db'}",
    "BARONG_REDIS_URL": None,
    "JWT_PRIVATE_KEY_PATH": None,
    "BARONG_JWT_EXPIRE_TIME": 3600,
    "BARONG_SESSION_NAME": "_barong_session",
    "BARONG_SESSION_EXPIRE_TIME": 1800,
    "BARONG_CSRF_PROTECTION": True,
    "BARONG_APIKEY_NONCE_LIFETIME": 5000,
    "BARONG_UID_PREFIX": "ID",
    "BARONG_FIRST_REGISTRATION_SUPERADMIN": True,
    "BARONG_ADMIN_EMAIL": None,
    "BARONG_ADMIN_PASSWORD": None,
    "BARONG_SEEDS_FILE": ROOT / "config/seeds.yml",
    "BARONG_MANAGEMENT_API_CONFIG": ROOT / "config/management_api.yml",
    "BARONG_CONFIG": ROOT / "config/barong.yml",
    "BARONG_AUTHZ_RULES_FILE": ROOT / "config/authz_rules.yml",
    "BARONG_KYC_PROVIDER": "local",
    "BARONG_REQUIRED_DOCS_EXPIRE": True,
    "BARONG_DOC_NUM_LIMIT": 10,
    "BARONG_UPLOAD_MAX_SIZE": 10485760,
    "BARONG_CAPTCHA": "none",
    "BARONG_PASSWORD_MIN_ENTROPY": 14,
    "BARONG_SMTP_HOST": None,
    "BARONG_SMTP_PORT": 25,
    "BARONG_SMTP_USER": None,
    "BARONG_SMTP_PASSWORD": None,
    "BARONG_SENDER_EMAIL": "noreply@barong.io",
    "BARONG_DOMAIN": "http://127.0.0.1:8000",
    "BARONG_PHONE_VERIFICATION": "mock",
    "BARONG_MOCK_SMS_CODE": None,
    "BARONG_UPLOADS_PATH": INSTANCE / "uploads",
    "BARONG_RATELIMIT_ENABLED": True,
    "BARONG_GATEWAY": "cloudflare",
}


def test_contract_defaults():
    cfg = from_env({})
    assert {k: cfg[k] for k in DEFAULTS} == DEFAULTS


def test_every_contract_variable_is_read():
    """Each §2 variable changes the config (DATABASE_URL lands in SQLALCHEMY_DATABASE_URI)."""
    text = CONTRACT.read_text() if CONTRACT.exists() else ""
    names = set(re.findall(r"`((?:BARONG_|DATABASE_|JWT_)[A-Z0-9_]+)`", text)) - {"BARONG_"}
    if not names:
        pytest.skip("shared/CONTRACT.md not beside the repository")
    for name in names:
        key = "SQLALCHEMY_DATABASE_URI" if name == "DATABASE_URL" else name
        assert key in from_env({}), name


def test_values_are_parsed():
    cfg = from_env({"BARONG_SESSION_EXPIRE_TIME": "60", "BARONG_CSRF_PROTECTION": "false",
                    "BARONG_UID_PREFIX": "gg", "BARONG_CAPTCHA": "GeeTest", "BARONG_DOMAIN": "https://x.io/",
                    "BARONG_UPLOADS_PATH": "/tmp/up", "BARONG_SEEDS_FILE": "config/other.yml",
                    "DATABASE_URL": "postgresql+psycopg://u@h/db", "BARONG_RATELIMIT_ENABLED": "0"})
    assert cfg["BARONG_SESSION_EXPIRE_TIME"] == 60 and cfg["BARONG_CSRF_PROTECTION"] is False
    assert cfg["BARONG_UID_PREFIX"] == "GG" and cfg["BARONG_CAPTCHA"] == "geetest"
    assert cfg["BARONG_DOMAIN"] == "https://x.io"
    assert cfg["BARONG_UPLOADS_PATH"] == Path("/tmp/up")
    assert cfg["BARONG_SEEDS_FILE"] == ROOT / "config/other.yml"
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert cfg["BARONG_RATELIMIT_ENABLED"] is False


def test_empty_values_mean_default():
    assert from_env({"BARONG_SESSION_EXPIRE_TIME": "", "BARONG_CAPTCHA": ""})["BARONG_SESSION_EXPIRE_TIME"] == 1800


@pytest.mark.parametrize("name,value", [
    ("BARONG_SESSION_EXPIRE_TIME", "abc"),
    ("BARONG_SESSION_EXPIRE_TIME", "0"),
    ("BARONG_JWT_EXPIRE_TIME", "1.5"),
    ("BARONG_SMTP_PORT", "smtp"),
    ("BARONG_UPLOAD_MAX_SIZE", "-1"),
    ("BARONG_CSRF_PROTECTION", "maybe"),
    ("BARONG_FIRST_REGISTRATION_SUPERADMIN", "yes please"),
    ("BARONG_CAPTCHA", "hcaptcha"),
    ("BARONG_KYC_PROVIDER", "sumsub"),
    ("BARONG_GATEWAY", "nginx"),
    ("BARONG_PHONE_VERIFICATION", "carrier-pigeon"),
    ("BARONG_UID_PREFIX", "1D"),
    ("BARONG_PASSWORD_MIN_ENTROPY", "high"),
    ("BARONG_LOGIN_LOCKOUT_ATTEMPTS", "0"),
])
def test_bad_values_raise_config_error_naming_the_variable(name, value):
    with pytest.raises(ConfigError) as err:
        from_env({name: value})
    assert name in str(err.value)


def _run(args, **env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("BARONG_")}
    full.update(env)
    return subprocess.run([sys.executable, "-m", "flask", "--app", str(ROOT / "app.py"), *args],
                          cwd="/tmp", env=full, capture_output=True, text=True, timeout=60)


def test_flask_cli_stops_with_a_clear_message():
    result = _run(["seed"], BARONG_SESSION_EXPIRE_TIME="abc")
    assert result.returncode != 0
    assert "BARONG_SESSION_EXPIRE_TIME='abc' is not an integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_redis_url_moves_limiter_counters_to_redis(tmp_path):
    """With BARONG_REDIS_URL, rate-limit counters, sessions and kv marks live in Redis."""
    code = (
        "from barong import create_app; from barong.config import from_env; from barong.extensions import limiter;"
        "from barong.services.accounts import sessions;"
        f"cfg = from_env({{'BARONG_REDIS_URL': 'redis://127.0.0.1:6379/15', 'DATABASE_URL': 'sqlite:///{tmp_path}/x.db'}});"
        f"cfg['BARONG_INSTANCE_PATH'] = {str(tmp_path)!r};"
        "app = create_app(cfg);"
        "print(type(limiter.storage).__name__, type(app.extensions['barong_session_store']).__name__)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["RedisStorage", "RedisStore"]

"""Configuration: every environment variable of CONTRACT §2 is read here, once.

`Config.from_env()` validates values and raises `ConfigError` with a clear message
(start-up stops); `TestConfig` is what the test suite starts from.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


class ConfigError(RuntimeError):
    """A configuration value is unusable; the message names the variable."""


def _str(env, name, default):
    value = env.get(name)
    return default if value is None or value == "" else value


def _int(env, name, default, minimum=None):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _float(env, name, default):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None


def _positive_float(env, name, default):
    value = _float(env, name, default)
    if not value > 0:
        raise ConfigError(f"{name}={env.get(name)!r} must be a positive number of seconds")
    return value


def _domain(env) -> str:
    """BARONG_DOMAIN, or where `make run` listens (`http://HOST:PORT`, defaults 127.0.0.1:8000)
    so the links in mails and document URLs point at this server (a wildcard bind → 127.0.0.1)."""
    explicit = _str(env, "BARONG_DOMAIN", None)
    if explicit is not None:
        return explicit.rstrip("/")
    host = _str(env, "HOST", "127.0.0.1").strip()
    port = _int(env, "PORT", 8000, minimum=1)
    if host in ("0.0.0.0", "::", "[::]", "*"):
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}:{port}"


def _bool(env, name, default):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (true/false)")


def _choice(env, name, default, choices):
    value = _str(env, name, default).lower()
    if value not in choices:
        raise ConfigError(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


def _path(env, name, default: Path) -> Path:
    value = Path(_str(env, name, str(default)))
    return value if value.is_absolute() else ROOT / value


def from_env(env=None) -> dict:
    """Return the Flask config mapping built from `env` (default: os.environ)."""
    env = os.environ if env is None else env
    uid_prefix = _str(env, "BARONG_UID_PREFIX", "ID").upper()
    if not (2 <= len(uid_prefix) <= 6 and uid_prefix.isalpha()):
        raise ConfigError(f"BARONG_UID_PREFIX={uid_prefix!r} must be 2 to 6 letters")
    secret = _str(env, "BARONG_SECRET_KEY_BASE", None) or _str(env, "SECRET_KEY", None)
    cfg = {
        "SQLALCHEMY_DATABASE_URI": _str(env, "DATABASE_URL", f"sqlite:///{INSTANCE / 'barong.db'}"),
        "BARONG_REDIS_URL": _str(env, "BARONG_REDIS_URL", None),
        #: seconds a Redis connect or reply may take before Redis counts as down (services/infra/redis_client.py)
        "BARONG_REDIS_TIMEOUT": _positive_float(env, "BARONG_REDIS_TIMEOUT", 0.5),
        "JWT_PRIVATE_KEY_PATH": _str(env, "JWT_PRIVATE_KEY_PATH", None),
        "BARONG_JWT_EXPIRE_TIME": _int(env, "BARONG_JWT_EXPIRE_TIME", 3600, minimum=1),
        "BARONG_SESSION_NAME": _str(env, "BARONG_SESSION_NAME", "_barong_session"),
        "BARONG_SESSION_EXPIRE_TIME": _int(env, "BARONG_SESSION_EXPIRE_TIME", 1800, minimum=1),
        "BARONG_CSRF_PROTECTION": _bool(env, "BARONG_CSRF_PROTECTION", True),
        "BARONG_APIKEY_NONCE_LIFETIME": _int(env, "BARONG_APIKEY_NONCE_LIFETIME", 5000, minimum=1),
        "BARONG_UID_PREFIX": uid_prefix,
        "BARONG_FIRST_REGISTRATION_SUPERADMIN": _bool(env, "BARONG_FIRST_REGISTRATION_SUPERADMIN", True),
        "BARONG_ADMIN_EMAIL": _str(env, "BARONG_ADMIN_EMAIL", None),
        "BARONG_ADMIN_PASSWORD": _str(env, "BARONG_ADMIN_PASSWORD", None),
        "BARONG_SEEDS_FILE": _path(env, "BARONG_SEEDS_FILE", ROOT / "config/seeds.yml"),
        "BARONG_MANAGEMENT_API_CONFIG": _path(env, "BARONG_MANAGEMENT_API_CONFIG", ROOT / "config/management_api.yml"),
        # management api_keys endpoints for users / service accounts (Barong's mgn_api_keys_*; off by default)
        "BARONG_MGN_API_KEYS_USER": _bool(env, "BARONG_MGN_API_KEYS_USER", False),
        "BARONG_MGN_API_KEYS_SA": _bool(env, "BARONG_MGN_API_KEYS_SA", False),
        "BARONG_CONFIG": _path(env, "BARONG_CONFIG", ROOT / "config/barong.yml"),
        "BARONG_AUTHZ_RULES_FILE": _path(env, "BARONG_AUTHZ_RULES_FILE", ROOT / "config/authz_rules.yml"),
        "BARONG_KYC_PROVIDER": _choice(env, "BARONG_KYC_PROVIDER", "local", ("local", "kycaid")),
        #: KYCAID API token: signs its callbacks (x-data-integrity) — public/kyc refuses what does not verify
        "BARONG_KYCAID_AUTHORIZATION_TOKEN": _str(env, "BARONG_KYCAID_AUTHORIZATION_TOKEN", None),
        "BARONG_REQUIRED_DOCS_EXPIRE": _bool(env, "BARONG_REQUIRED_DOCS_EXPIRE", True),
        "BARONG_DOC_NUM_LIMIT": _int(env, "BARONG_DOC_NUM_LIMIT", 10, minimum=1),
        #: hours an applicant may wait for a KYC review: the console queue's SLA badge
        "BARONG_KYC_SLA_HOURS": _int(env, "BARONG_KYC_SLA_HOURS", 24, minimum=1),
        #: KYC reasons catalogue + identity set (barong.services.verification.kyc_reasons)
        "BARONG_KYC_REASONS_PATH": _path(env, "BARONG_KYC_REASONS_PATH", ROOT / "config/kyc_reasons.yml"),
        "BARONG_UPLOAD_MAX_SIZE": _int(env, "BARONG_UPLOAD_MAX_SIZE", 10485760, minimum=1),
        "BARONG_CAPTCHA": _choice(env, "BARONG_CAPTCHA", "none", ("none", "recaptcha", "geetest")),
        "BARONG_RECAPTCHA_SITE_KEY": _str(env, "BARONG_RECAPTCHA_SITE_KEY", None),
        "BARONG_RECAPTCHA_SECRET_KEY": _str(env, "BARONG_RECAPTCHA_SECRET_KEY", None),
        "BARONG_GEETEST_ID": _str(env, "BARONG_GEETEST_ID", None),
        "BARONG_GEETEST_KEY": _str(env, "BARONG_GEETEST_KEY", None),
        #: provider endpoints (tests point them at a local fake)
        "BARONG_RECAPTCHA_URL": _str(env, "BARONG_RECAPTCHA_URL", "https://www.google.com/recaptcha/api/siteverify"),
        "BARONG_GEETEST_URL": _str(env, "BARONG_GEETEST_URL", "https://api.geetest.com/validate.php"),
        "BARONG_GEETEST_REGISTER_URL": _str(env, "BARONG_GEETEST_REGISTER_URL", "https://api.geetest.com/register.php"),
        "BARONG_PASSWORD_MIN_ENTROPY": _float(env, "BARONG_PASSWORD_MIN_ENTROPY", 14),
        "BARONG_PASSWORD_REGEXP": _str(env, "BARONG_PASSWORD_REGEXP", None),
        "BARONG_PASSWORD_USE_DICTIONARY": _bool(env, "BARONG_PASSWORD_USE_DICTIONARY", True),
        "BARONG_SMTP_HOST": _str(env, "BARONG_SMTP_HOST", None),
        "BARONG_SMTP_PORT": _int(env, "BARONG_SMTP_PORT", 25, minimum=1),
        "BARONG_SMTP_USER": _str(env, "BARONG_SMTP_USER", None),
        "BARONG_SMTP_PASSWORD": _str(env, "BARONG_SMTP_PASSWORD", None),
        #: seconds an SMTP connect or reply may take (bounds the background deliverer, never a request)
        "BARONG_SMTP_TIMEOUT": _positive_float(env, "BARONG_SMTP_TIMEOUT", 5.0),
        #: `background`: requests only write the outbox, a thread in each server process sends
        #: (services/delivery/mail_worker.py); `inline`: sent in the request's teardown (the test suite)
        "BARONG_MAIL_DELIVERY": _choice(env, "BARONG_MAIL_DELIVERY", "background", ("background", "inline")),
        #: seconds between the background deliverer's sweeps of the outbox (retries, other processes' rows)
        "BARONG_MAIL_POLL_INTERVAL": _positive_float(env, "BARONG_MAIL_POLL_INTERVAL", 5.0),
        #: signed webhooks (services/delivery/webhooks.py): `background` (a thread per server process)
        #: or `inline` (right after the commit: the test suite); timeouts, back-off and give-up age in seconds
        "BARONG_WEBHOOK_DELIVERY": _choice(env, "BARONG_WEBHOOK_DELIVERY", "background", ("background", "inline")),
        "BARONG_WEBHOOK_POLL_INTERVAL": _positive_float(env, "BARONG_WEBHOOK_POLL_INTERVAL", 5.0),
        "BARONG_WEBHOOK_TIMEOUT": _positive_float(env, "BARONG_WEBHOOK_TIMEOUT", 5.0),
        "BARONG_WEBHOOK_RETRY_BASE": _int(env, "BARONG_WEBHOOK_RETRY_BASE", 10, minimum=1),
        "BARONG_WEBHOOK_MAX_AGE": _int(env, "BARONG_WEBHOOK_MAX_AGE", 3 * 86400, minimum=60),
        #: plain-HTTP endpoints (development only; production endpoints must be HTTPS)
        "BARONG_WEBHOOK_ALLOW_HTTP": _bool(env, "BARONG_WEBHOOK_ALLOW_HTTP", False),
        "BARONG_SENDER_EMAIL": _str(env, "BARONG_SENDER_EMAIL", "noreply@barong.io"),
        "BARONG_SENDER_NAME": _str(env, "BARONG_SENDER_NAME", "Barong"),
        "BARONG_DOMAIN": _domain(env),
        "BARONG_PHONE_VERIFICATION": _choice(env, "BARONG_PHONE_VERIFICATION", "mock", ("mock", "twilio")),
        "BARONG_MOCK_SMS_CODE": _str(env, "BARONG_MOCK_SMS_CODE", None),
        "BARONG_TWILIO_ACCOUNT_SID": _str(env, "BARONG_TWILIO_ACCOUNT_SID", None),
        "BARONG_TWILIO_AUTH_TOKEN": _str(env, "BARONG_TWILIO_AUTH_TOKEN", None),
        "BARONG_TWILIO_PHONE_NUMBER": _str(env, "BARONG_TWILIO_PHONE_NUMBER", None),
        "BARONG_TWILIO_SERVICE_SID": _str(env, "BARONG_TWILIO_SERVICE_SID", None),
        "BARONG_TWILIO_API_URL": _str(env, "BARONG_TWILIO_API_URL", "https://api.twilio.com"),
        "BARONG_UPLOADS_PATH": _path(env, "BARONG_UPLOADS_PATH", INSTANCE / "uploads"),
        "BARONG_RATELIMIT_ENABLED": _bool(env, "BARONG_RATELIMIT_ENABLED", True),
        "BARONG_GATEWAY": _choice(env, "BARONG_GATEWAY", "cloudflare", ("cloudflare", "akamai")),
        "BARONG_GEOIP_DB_PATH": _str(env, "BARONG_GEOIP_DB_PATH", None),
        "BARONG_CRC32_SALT": _str(env, "BARONG_CRC32_SALT", ""),
        "BARONG_LOGIN_LOCKOUT_ATTEMPTS": _int(env, "BARONG_LOGIN_LOCKOUT_ATTEMPTS", 10, minimum=1),
        "BARONG_LOGIN_LOCKOUT_TIME": _int(env, "BARONG_LOGIN_LOCKOUT_TIME", 900, minimum=1),
        #: account protection (issue 15): after this many temporary locks the lock holds until an
        #: operator or a password reset lifts it (0: locks stay temporary, the original's behaviour)
        "BARONG_LOGIN_MAX_TEMPORARY_LOCKS": _int(env, "BARONG_LOGIN_MAX_TEMPORARY_LOCKS", 3, minimum=0),
        #: an IP whose failed logins named this many different addresses must pass the captcha
        "BARONG_LOGIN_DIRTY_IP_ACCOUNTS": _int(env, "BARONG_LOGIN_DIRTY_IP_ACCOUNTS", 5, minimum=1),
        #: a correct login from a network (or country) the user never approved opens no session
        "BARONG_LOGIN_NEW_NETWORK_APPROVAL": _bool(env, "BARONG_LOGIN_NEW_NETWORK_APPROVAL", False),
        "BARONG_LOGIN_NEW_NETWORK_SCOPE": _choice(env, "BARONG_LOGIN_NEW_NETWORK_SCOPE", "network",
                                                  ("network", "country")),
        #: seconds the approve / "this wasn't me" links of a new-network mail work
        "BARONG_LOGIN_NEW_NETWORK_LINK_TTL": _int(env, "BARONG_LOGIN_NEW_NETWORK_LINK_TTL", 3600, minimum=60),
        #: seconds of the `security: cooldown` label after a security change (0: none)
        "BARONG_SECURITY_COOLDOWN": _int(env, "BARONG_SECURITY_COOLDOWN", 86400, minimum=0),
        "BARONG_API_DATA_MASKING": _bool(env, "BARONG_API_DATA_MASKING", True),
        #: passkeys (services/accounts/webauthn.py): relying-party id and origin; unset, from BARONG_DOMAIN
        "BARONG_WEBAUTHN_RP_ID": _str(env, "BARONG_WEBAUTHN_RP_ID", None),
        "BARONG_WEBAUTHN_ORIGIN": _str(env, "BARONG_WEBAUTHN_ORIGIN", None),
        "BARONG_WEBAUTHN_RP_NAME": _str(env, "BARONG_WEBAUTHN_RP_NAME", "Barong"),
        #: sign in with a passkey alone (no password): off unless asked for
        "BARONG_WEBAUTHN_PASSWORDLESS": _bool(env, "BARONG_WEBAUTHN_PASSWORDLESS", False),
        #: operators (a role that opens the console) must enrol TOTP or a passkey first
        "BARONG_CONSOLE_REQUIRE_2FA": _bool(env, "BARONG_CONSOLE_REQUIRE_2FA", True),
        #: four-eyes approvals (services/operators/four_eyes.py): the actions a second operator must
        #: approve, comma-separated; unset → config/barong.yml `four_eyes` (the shipped file: role_change)
        "BARONG_FOUR_EYES": env.get("BARONG_FOUR_EYES"),
        "BARONG_FOUR_EYES_TTL": _int(env, "BARONG_FOUR_EYES_TTL", 86400, minimum=60),
        "BARONG_PII_REVEAL_TTL": _int(env, "BARONG_PII_REVEAL_TTL", 600, minimum=1),  # issue 17
        "BARONG_EVENT_API_RABBITMQ_HOST": _str(env, "BARONG_EVENT_API_RABBITMQ_HOST", None),
        "BARONG_EVENT_API_RABBITMQ_PORT": _int(env, "BARONG_EVENT_API_RABBITMQ_PORT", 5672, minimum=1),
        "BARONG_EVENT_API_RABBITMQ_USERNAME": _str(env, "BARONG_EVENT_API_RABBITMQ_USERNAME", "guest"),
        "BARONG_EVENT_API_RABBITMQ_PASSWORD": _str(env, "BARONG_EVENT_API_RABBITMQ_PASSWORD", "guest"),
        #: keys, secret, .eml mail and SMS files (not in CONTRACT §2; benchmarks point it at a temp dir)
        "BARONG_INSTANCE_PATH": _path(env, "BARONG_INSTANCE_PATH", INSTANCE),
        "SECRET_KEY": secret,
        "SESSION_COOKIE_NAME": "barong_ui",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        #: hide_parameters: a DB error's text (logged) never carries the statement's values (digests, emails)
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "MAX_CONTENT_LENGTH": None,  # set from BARONG_UPLOAD_MAX_SIZE in create_app
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
    }
    return cfg


def test_config(tmp_path: Path, **overrides) -> dict:
    """Defaults for the test suite: isolated instance dir, no rate limits."""
    env = {
        "DATABASE_URL": os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.db'}",
        "BARONG_UPLOADS_PATH": str(tmp_path / "uploads"),
        "BARONG_RATELIMIT_ENABLED": "false",
        "BARONG_MOCK_SMS_CODE": "12345",
        "BARONG_SECRET_KEY_BASE": "test-secret-key-base-with-enough-length-0123456789",
        # the suite's operators have no 2FA; tests/services/test_operator_2fa.py turns it on
        "BARONG_CONSOLE_REQUIRE_2FA": "false",
        # existing tests change roles alone; tests/services/test_four_eyes.py turns approvals on
        "BARONG_FOUR_EYES": "",
    }
    cfg = from_env(env)
    cfg.update(
        TESTING=True,
        BARONG_INSTANCE_PATH=tmp_path,
        WTF_CSRF_ENABLED=False,
        BARONG_PASSWORD_HASH_FAST=True,
        BARONG_MAIL_DELIVERY="inline",  # mail sent at the request's end, so tests see it at once
        BARONG_WEBHOOK_DELIVERY="inline",
    )
    cfg.update(overrides)
    return cfg

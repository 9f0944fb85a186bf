"""Rate limits on login, signup, reset, confirmation and OTP (Flask-Limiter; counters in
Redis when BARONG_REDIS_URL is set, in process memory otherwise).

* Every limit is per client IP (`barong.security.client_ip.remote_ip`); the mail-sending
  endpoints (reset, confirmation resend) are also limited per target address, so one
  inbox cannot be flooded from many IPs. Failed logins are counted per address in
  `services.identity` (lockout), not here.
* A refusal is `429 {"errors": ["<scope>.too_many_requests"]}` with `Retry-After`
  (errors.py renders the limit's `error_message`, which is that code).
* `BARONG_RATELIMIT_ENABLED=false` turns them off. The flag is read per request (a
  request filter), not once at start-up, so the limiter is always initialised and tests
  can switch it on for one test (`app.config["BARONG_RATELIMIT_ENABLED"] = True` +
  `reset()`).
"""
from __future__ import annotations

from flask import current_app, has_request_context

from barong.extensions import limiter

#: name → (limit string, error code)
LIMITS = {
    "login": ("20/minute;200/hour", "identity.session.too_many_requests"),
    "signup": ("10/minute;100/hour", "identity.user.too_many_requests"),
    "reset": ("5/minute;50/hour", "identity.user.too_many_requests"),
    "email": ("5/minute;50/hour", "identity.user.too_many_requests"),
    "otp": ("10/minute;100/hour", "resource.otp.too_many_requests"),
    "phone": ("5/minute;50/hour", "resource.phone.too_many_requests"),
    "data_export": ("3/minute;10/hour", "resource.user.too_many_requests"),
}
#: per target address (mail-sending endpoints)
ACCOUNT_LIMITS = {
    "reset": "3/minute;20/hour",
    "email": "3/minute;20/hour",
}


@limiter.request_filter
def _disabled() -> bool:
    return not current_app.config.get("BARONG_RATELIMIT_ENABLED", True)


def _account_key() -> str:
    """The lower-cased `email` parameter (falls back to the IP when absent or unreadable)."""
    from barong.api.params import raw_params
    from barong.errors import BarongError
    from barong.security.client_ip import remote_ip
    from barong.services.infra.kv import email_key

    try:
        email = raw_params().get("email") if has_request_context() else None
    except BarongError:
        email = None
    if not isinstance(email, str) or not email.strip():
        return "ip:" + remote_ip()
    return "email:" + email_key(email)


def limit(name: str, per_account: bool = False):
    """Decorator: the named per-IP limit, shared by every endpoint that uses the name;
    `per_account` adds the per-address limit (mail-sending endpoints)."""
    limit_string, code = LIMITS[name]
    per_ip = limiter.shared_limit(limit_string, scope=name, error_message=code)
    account = limiter.shared_limit(ACCOUNT_LIMITS[name], scope=f"{name}_account", key_func=_account_key,
                                   error_message=code) if per_account else (lambda view: view)

    def decorator(view):
        limited = per_ip(account(view))
        limited.barong_rate_limited = True  # the OpenAPI document lists 429 for it
        return limited

    return decorator


def reset() -> None:
    """Forget every counter (tests; an operator after an incident)."""
    limiter.reset()

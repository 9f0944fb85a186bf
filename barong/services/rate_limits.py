"""Rate limits on login, signup, reset, confirmation and OTP (Flask-Limiter; counters in
Redis when BARONG_REDIS_URL is set). `BARONG_RATELIMIT_ENABLED=false` turns them off."""
from __future__ import annotations

from barong.extensions import limiter

#: name → limit string (per client IP)
LIMITS = {
    "login": "20/minute;200/hour",
    "signup": "10/minute;100/hour",
    "reset": "5/minute;50/hour",
    "email": "5/minute;50/hour",
    "otp": "10/minute;100/hour",
    "phone": "5/minute;50/hour",
}


def limit(name: str):
    """Decorator: the named per-IP limit, shared by every endpoint that uses the name."""
    return limiter.shared_limit(LIMITS[name], scope=name)

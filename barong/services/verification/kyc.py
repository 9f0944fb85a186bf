"""KYC provider callback (public/kyc).

* `local` provider: reviewers decide in the console; the callback is refused (422
  `public.kyc.provider_disabled`), as in the original.
* `kycaid`: KYCAID signs each callback with `x-data-integrity` = base64(HMAC-SHA512(raw
  body, API token)). A callback whose signature does not verify (or with no token
  configured) is refused (422 `public.kyc.unverified_request`) and changes nothing.
  A verified one is queued as the event `system.kyc.callback` (outbox, so it survives
  a crash) for the verification worker; the owner is found by the profile's
  `applicant_id`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

from flask import current_app

from barong.errors import BarongError
from barong.extensions import db
from barong.models import Profile, User


def signature(body: bytes, token: str) -> str:
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha512).digest()).decode()


def handle_callback(raw_body: bytes, integrity: str | None) -> dict:
    """Verify and queue a provider callback; returns the queued record."""
    if current_app.config["BARONG_KYC_PROVIDER"] == "local":
        raise BarongError("public.kyc.provider_disabled", 422)
    token = current_app.config.get("BARONG_KYCAID_AUTHORIZATION_TOKEN")
    if not token or not integrity or not hmac.compare_digest(  # bytes: a non-ASCII header is no TypeError
            signature(raw_body, token).encode(), integrity.strip().encode("utf-8", "replace")):
        raise BarongError("public.kyc.unverified_request", 422)
    try:
        payload = json.loads(raw_body or b"{}")
    except ValueError:
        raise BarongError("public.kyc.unverified_request", 422) from None
    if not isinstance(payload, dict) or not payload.get("applicant_id"):
        raise BarongError("public.kyc.missing_applicant_id", 422)
    from barong.services.delivery import events

    owner = (db.session.query(User).join(Profile, Profile.user_id == User.id)
             .filter(Profile.applicant_id == str(payload["applicant_id"])).first())
    record = {key: payload.get(key) for key in ("type", "applicant_id", "verification_id", "status", "verified",
                                                "verifications")}
    record["user"] = events.user_summary(owner) if owner else None
    events.emit("system.kyc.callback", record)
    return record

"""KYC provider callback (public/kyc). With the `local` provider reviewers decide in
the console and the callback is refused (422), as in the original."""
from __future__ import annotations

from flask import current_app

from barong.errors import BarongError


def handle_callback(params: dict) -> None:
    if current_app.config["BARONG_KYC_PROVIDER"] == "local":
        raise BarongError("public.kyc.provider_disabled", 422)
    raise BarongError("public.kyc.unverified_request", 422)

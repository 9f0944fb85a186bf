"""Captcha behind an interface: `none` (default), `recaptcha`, `geetest` (identity-public.md §Captcha).

Providers are HTTP services outside our border; their clients are small and the
verification URLs come from config (BARONG_RECAPTCHA_URL, BARONG_GEETEST_URL,
BARONG_GEETEST_REGISTER_URL) so tests point them at a local fake server.
"""
from __future__ import annotations

import hashlib
import json
import logging
import urllib.parse
import urllib.request

from flask import current_app

from barong.errors import BarongError
from barong.settings import settings

log = logging.getLogger(__name__)


def _post(url: str, data: dict) -> str:
    body = urllib.parse.urlencode(data).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=5) as resp:  # noqa: S310
        return resp.read().decode()


def verify_recaptcha(response: str) -> bool:
    url = current_app.config["BARONG_RECAPTCHA_URL"]
    answer = json.loads(_post(url, {"secret": current_app.config.get("BARONG_RECAPTCHA_SECRET_KEY") or "",
                                    "response": response}))
    return bool(answer.get("success"))


def verify_geetest(resp: dict) -> bool:
    key = current_app.config.get("BARONG_GEETEST_KEY") or ""
    challenge, validate, seccode = resp["geetest_challenge"], resp["geetest_validate"], resp["geetest_seccode"]
    if hashlib.md5(f"{key}geetest{challenge}".encode()).hexdigest() != validate:
        return False
    url = current_app.config["BARONG_GEETEST_URL"]
    answer = _post(url, {"seccode": seccode})
    return answer.strip() == hashlib.md5(seccode.encode()).hexdigest()


def enabled() -> bool:
    return current_app.config["BARONG_CAPTCHA"] != "none"


def protects(endpoint: str) -> bool:
    """Is `endpoint` one of `captcha_protected_endpoints` (with a captcha configured)?"""
    return enabled() and endpoint in (settings().captcha_protected_endpoints or [])


def check(endpoint: str, response, scope: str = "identity") -> None:
    """Raise 400 identity.captcha.required|mandatory_fields or 422 verification_failed."""
    if not protects(endpoint):
        return
    verify(response, scope)


def verify(response, scope: str = "identity") -> None:
    """Check `response` with the configured provider, whatever the endpoint (see `check`)."""
    policy = current_app.config["BARONG_CAPTCHA"]
    if response is None or response == "" or response == {}:
        raise BarongError("identity.captcha.required", 400)
    try:
        if policy == "recaptcha":
            if not isinstance(response, str):
                raise BarongError(f"{scope}.invalid_captcha_format", 422)
            ok = verify_recaptcha(response)
        else:
            if isinstance(response, str):
                try:
                    response = json.loads(response)
                except ValueError:
                    raise BarongError("identity.captcha.mandatory_fields", 400) from None
            if not isinstance(response, dict) or not all(
                    isinstance(response.get(f), str) and response.get(f)
                    for f in ("geetest_challenge", "geetest_validate", "geetest_seccode")):
                raise BarongError("identity.captcha.mandatory_fields", 400)
            ok = verify_geetest(response)
    except BarongError:
        raise
    except Exception as exc:
        log.warning("captcha verification error: %s", exc)
        ok = False
    if not ok:
        raise BarongError("identity.captcha.verification_failed", 422)


def register_geetest() -> dict:
    if current_app.config["BARONG_CAPTCHA"] != "geetest":
        return {"gt": current_app.config.get("BARONG_GEETEST_ID") or "", "challenge": ""}
    gt = current_app.config.get("BARONG_GEETEST_ID") or ""
    try:
        url = current_app.config["BARONG_GEETEST_REGISTER_URL"]
        with urllib.request.urlopen(f"{url}?gt={urllib.parse.quote(gt)}", timeout=5) as resp:  # noqa: S310
            challenge = resp.read().decode().strip()
        key = current_app.config.get("BARONG_GEETEST_KEY") or ""
        return {"gt": gt, "challenge": hashlib.md5(f"{challenge}{key}".encode()).hexdigest()}
    except Exception:
        return {"gt": gt, "challenge": ""}

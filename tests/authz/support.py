"""Constants and helpers of the authorization tests."""
from __future__ import annotations

import hashlib
import hmac
import time

AUTH = "/api/v2/auth/"
LONDON = "81.2.69.142"
TOKYO = "202.32.10.1"
ME = "api/v2/barong/resource/users/me"


def auth(client, method: str, path: str, **kwargs):
    """Ask the gateway endpoint about `path` (no leading slash) with `method`."""
    return client.open(AUTH + path, method=method, **kwargs)


def signed(kid: str, secret: str, nonce=None, digest=hashlib.sha256) -> dict:
    nonce = str(int(time.time() * 1000)) if nonce is None else str(nonce)
    sig = hmac.new(secret.encode(), (nonce + kid).encode(), digest).hexdigest()
    return {"X-Auth-Apikey": kid, "X-Auth-Nonce": nonce, "X-Auth-Signature": sig}

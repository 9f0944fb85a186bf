"""API keys of users and service accounts (HMAC keys: HS256/HS384/HS512).

The secret (32 hex) is returned once by `create` and stored encrypted (APIKey.secret);
the kid is 16 random hex. Creating, changing and deleting a key needs a 2FA code of
the user (for a service account: its owner) unless `require_otp=False` (management).
"""
from __future__ import annotations

import ipaddress
import secrets
from datetime import datetime, timezone

from barong.errors import BarongError, ValidationError
from barong.extensions import db
from barong.models import APIKey, ServiceAccount, User, utcnow
from barong.services.infra.request_info import RequestInfo

ALGORITHMS = ("HS256", "HS384", "HS512")
ORDER_COLUMNS = ("id", "key_holder_account_id", "key_holder_account_type", "kid", "algorithm", "scope", "state",
                 "created_at", "updated_at")


def holder_type(holder) -> str:
    return "ServiceAccount" if isinstance(holder, ServiceAccount) else "User"


def check_otp(user: User | None, code: str | None, prefix: str = "resource.api_key") -> None:
    """The 2FA gate. Raises 400 <prefix>.2fa_disabled, 422 <prefix>.missing_totp / invalid_totp."""
    if user is None or not user.otp:
        raise BarongError(f"{prefix}.2fa_disabled", 400)
    if not (code or "").strip():
        raise BarongError(f"{prefix}.missing_totp", 422)
    from barong.services.accounts import otp

    if not otp.verify_guarded(user, code):
        raise BarongError(f"{prefix}.invalid_totp", 422)


def _otp_user(holder) -> User | None:
    return holder.owner if isinstance(holder, ServiceAccount) else holder


def split_scope(scope) -> list[str]:
    if scope is None:
        return []
    if isinstance(scope, (list, tuple)):
        return [str(s).strip() for s in scope if str(s).strip()]
    return [s.strip() for s in str(scope).split(",") if s.strip()]


def _new_kid() -> str:
    while True:
        kid = secrets.token_hex(8)
        if not db.session.query(APIKey.id).filter_by(kid=kid).first():
            return kid


#: most entries an allow-list may hold
MAX_ALLOWED = 50
_UNSET = object()


def parse_allowed_ips(value) -> str | None:
    """An allow-list (comma, space or newline separated IPs / CIDRs, or a list) normalised
    to `a.b.c.d/32,10.0.0.0/8`; blank → None (no allow-list). Raises ValidationError
    allowed_ips.invalid (a value that is no address or network, too many, too long)."""
    if value is None:
        return None
    parts = value if isinstance(value, (list, tuple)) else str(value).replace("\n", ",").replace(" ", ",").split(",")
    nets = []
    for part in parts:
        part = str(part).strip()
        if not part:
            continue
        try:
            net = str(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValidationError("allowed_ips.invalid") from None
        if net not in nets:
            nets.append(net)
    joined = ",".join(nets)
    if len(nets) > MAX_ALLOWED or len(joined) > 1024:
        raise ValidationError("allowed_ips.invalid")
    return joined or None


def parse_expires_at(value) -> datetime | None:
    """ISO 8601 (`2027-01-31T00:00:00Z`, a date) or Unix seconds → naive UTC; blank → None
    (never expires). Raises ValidationError expires_at.invalid (unreadable, or not in the future)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, (int, float)) or str(value).strip().lstrip("-").isdigit():
            at = datetime.fromtimestamp(int(value), timezone.utc)
        else:
            at = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
            if at.tzinfo is None:
                at = at.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise ValidationError("expires_at.invalid") from None
    at = at.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)
    if at <= utcnow():
        raise ValidationError("expires_at.invalid")
    return at


def create(holder, algorithm: str, scope=None, otp_code: str | None = None, info: RequestInfo | None = None,
           require_otp: bool = True, otp_prefix: str = "resource.api_key", allowed_ips=None,
           expires_at=None) -> tuple[APIKey, str]:
    """New active key for `holder` (User or ServiceAccount); returns (key, plain secret).

    Raises the 2FA gate errors (when `require_otp`), ValidationError kid.blank + algorithm.inclusion
    (algorithm not HS256/384/512), key_holder_account.invalid (holder not active),
    allowed_ips.invalid, expires_at.invalid (the optional allow-list and expiry, issue 15).
    """
    if require_otp:
        check_otp(_otp_user(holder), otp_code, otp_prefix)
    algorithm = (algorithm or "").strip()
    errors = []
    if algorithm not in ALGORITHMS:
        errors += ["kid.blank", "algorithm.inclusion"]
    if getattr(holder, "state", None) != "active":
        errors.append("key_holder_account.invalid")
    if errors:
        raise ValidationError(errors)
    allowed, expiry = parse_allowed_ips(allowed_ips), parse_expires_at(expires_at)
    secret = secrets.token_hex(16)
    key = APIKey(key_holder_account_id=holder.id, key_holder_account_type=holder_type(holder), kid=_new_kid(),
                 algorithm=algorithm, state="active", allowed_ips=allowed, expires_at=expiry)
    key.scope = split_scope(scope)
    try:
        key.secret = secret
    except Exception:  # noqa: BLE001 - the secret store refused: no key without its secret
        raise ValidationError("api_key.could_not_save_secret") from None
    if not key.secret_encrypted:
        raise ValidationError("api_key.could_not_save_secret")
    db.session.add(key)
    db.session.flush()
    return key, secret


def update(key: APIKey, state: str | None = None, scope=None, allowed_ips=_UNSET, expires_at=_UNSET) -> APIKey:
    """Change state, scope, the allow-list and/or the expiry (a blank value clears the latter
    two; None leaves them). Raises ValidationError state.invalid (activating a key whose holder
    is not active), allowed_ips.invalid, expires_at.invalid."""
    if state is not None:
        state = state.strip()
        if state == "active" and getattr(key.holder(), "state", None) != "active":
            raise ValidationError("state.invalid")
        key.state = state
    if scope is not None:
        key.scope = split_scope(scope)
    if allowed_ips is not _UNSET and allowed_ips is not None:
        key.allowed_ips = parse_allowed_ips(allowed_ips)
    if expires_at is not _UNSET and expires_at is not None:
        key.expires_at = parse_expires_at(expires_at)
    db.session.flush()
    return key


def delete(key: APIKey) -> None:
    db.session.delete(key)
    db.session.flush()


def query_for(holder, order_by: str = "id", ordering: str = "asc"):
    """Keys of `holder` as a query (for pagination)."""
    column = getattr(APIKey, "scope_json" if order_by == "scope" else order_by)
    q = db.session.query(APIKey).filter_by(key_holder_account_type=holder_type(holder),
                                           key_holder_account_id=holder.id)
    return q.order_by(column.desc() if ordering == "desc" else column.asc(), APIKey.id.asc())


def list_for(holder, order_by: str = "id", ordering: str = "asc") -> list[APIKey]:
    return query_for(holder, order_by, ordering).all()


def find_for(holder, kid: str) -> APIKey:
    """The holder's key `kid`. Raises 404 record.not_found."""
    key = db.session.query(APIKey).filter_by(kid=kid, key_holder_account_type=holder_type(holder),
                                             key_holder_account_id=holder.id).first()
    if key is None:
        raise BarongError("record.not_found", 404)
    return key


def by_kid(kid: str | None) -> APIKey | None:
    return db.session.query(APIKey).filter_by(kid=kid).first() if kid else None

"""A user's own data, decrypted, as one zip (GDPR art. 15/20): the account, profiles,
labels, phones, activities, documents (with their files), stored data, API keys (never
their secrets), and `manifest.json` with the SHA-256 of every other file in the archive.

Built in a spooled temporary file (documents can be large); the caller streams it."""
from __future__ import annotations

import hashlib
import io
import json
import tempfile
import zipfile
from datetime import date, datetime

from barong.extensions import db
from barong.models import Activity, User
from barong.services.audit import activities
from barong.services.infra.request_info import RequestInfo
from barong.services.verification import documents as documents_service

FORMAT = 1


def _iso(value):
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def _json(obj) -> bytes:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=_iso).encode()


def _account(user: User) -> dict:
    return {"uid": user.uid, "email": user.email, "username": user.username, "role": user.role,
            "level": user.level, "state": user.state, "otp": bool(user.otp),
            "referral_uid": user.referrer.uid if user.referrer else None,
            "data": user.data, "created_at": user.created_at, "updated_at": user.updated_at}


def _profiles(user: User) -> list[dict]:
    return [{"first_name": p.first_name, "last_name": p.last_name, "dob": p.dob, "address": p.address,
             "postcode": p.postcode, "city": p.city, "country": p.country, "state": p.state,
             "metadata": p.metadata_json, "created_at": p.created_at, "updated_at": p.updated_at}
            for p in user.profiles]


def _phones(user: User) -> list[dict]:
    return [{"country": p.country, "number": p.number, "validated_at": p.validated_at,
             "created_at": p.created_at} for p in user.phones]


def _labels(user: User) -> list[dict]:
    return [{"key": lb.key, "value": lb.value, "scope": lb.scope, "created_at": lb.created_at,
             "updated_at": lb.updated_at} for lb in user.labels]


def _activities(user: User) -> list[dict]:
    rows = (db.session.query(Activity).filter(Activity.user_id == user.id, Activity.category == "user")
            .order_by(Activity.id))
    return [{"topic": a.topic, "action": a.action, "result": a.result, "user_ip": a.user_ip,
             "user_ip_country": a.user_ip_country, "user_agent": a.user_agent,
             "data": json.loads(a.data) if a.data else None, "created_at": a.created_at} for a in rows]


def _api_keys(user: User) -> list[dict]:
    from barong.models import APIKey

    keys = db.session.query(APIKey).filter(APIKey.key_holder_account_type == "User",
                                           APIKey.key_holder_account_id == user.id).order_by(APIKey.id)
    return [{"kid": k.kid, "algorithm": k.algorithm, "scope": json.loads(k.scope_json) if k.scope_json else None,
             "state": k.state, "created_at": k.created_at} for k in keys]


def build(user: User, info: RequestInfo | None = None):
    """The archive as a rewound binary file object, and its download name. Records the
    export in the user's activity log."""
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    sums: dict[str, str] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        def put(name: str, data: bytes) -> None:
            sums[name] = hashlib.sha256(data).hexdigest()
            zf.writestr(name, data)

        put("account.json", _json(_account(user)))
        put("profiles.json", _json(_profiles(user)))
        put("labels.json", _json(_labels(user)))
        put("phones.json", _json(_phones(user)))
        put("activities.json", _json(_activities(user)))
        put("data_storage.json", _json([{"title": d.title, "data": d.data, "created_at": d.created_at}
                                        for d in user.data_storages]))
        put("api_keys.json", _json(_api_keys(user)))
        docs = []
        for d in user.documents:
            entry = {"id": d.id, "doc_type": d.doc_type, "doc_number": d.doc_number, "doc_expire": d.doc_expire,
                     "doc_issue": d.doc_issue, "doc_category": d.doc_category, "upload_name": d.upload_name,
                     "content_type": d.content_type, "created_at": d.created_at, "file": None}
            path = documents_service.path_for(d)
            if path.is_file():
                name = d.upload_name or d.upload or ""
                suffix = name.rsplit(".", 1)[-1][:8].lower() if "." in name else "bin"
                entry["file"] = f"documents/{d.id}.{suffix}"
                put(entry["file"], path.read_bytes())
            docs.append(entry)
        put("documents.json", _json(docs))
        zf.writestr("manifest.json", _json({"format": FORMAT, "uid": user.uid,
                                            "generated_at": datetime.utcnow().replace(microsecond=0),
                                            "sha256": sums}))
    activities.record(user, "account", "data export", "succeed", info=info)
    out.seek(0)
    return out, f"barong-{user.uid}-data.zip"


def read_manifest(blob: bytes | io.BufferedIOBase) -> dict:
    """The manifest of an export (for tests and for a user checking their archive)."""
    with zipfile.ZipFile(blob if not isinstance(blob, bytes) else io.BytesIO(blob)) as zf:
        return json.loads(zf.read("manifest.json"))

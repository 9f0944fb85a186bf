"""Barong's JSON entities (reference/data-model.md §15). `masked=True` is the
user-facing variant (identity/resource); admin and management pass `masked=False`."""
from __future__ import annotations

from flask import current_app, g, has_request_context

from barong.models import iso


def view_as_masks(field: str | None = None) -> bool | None:
    """Inside a console "view as user" page (barong.web.console.view_as sets g.view_as_page):
    whether the *viewer* may not see the user's personal data — `field` (one of
    barong.services.operators.pii.FIELDS) or, None, any of it — their own `read PersonalData`
    or a live reveal decides, whatever BARONG_API_DATA_MASKING says; None outside such a page."""
    if not has_request_context():
        return None
    page = g.get("view_as_page")
    if page is None:
        return None
    if field is not None and "masked_fields" in page:
        return field in page["masked_fields"]
    return bool(page.get("masked", True))


def _masking(masked: bool, field: str | None = None) -> bool:
    view_as = view_as_masks(field) if masked else None
    if view_as is not None:
        return view_as
    return masked and current_app.config.get("BARONG_API_DATA_MASKING", True)


def _operator_masks(masked: bool, row, field: str | None = None) -> bool:
    """Issue 17: in the admin API (g.pii_admin), an operator entity (`masked=False`) masks
    the personal data of `row`'s user unless the caller may see it (barong.services.operators.pii;
    `field`: the part of it a reveal may have named, one of pii.FIELDS).
    In a view-as page the user-facing entities (`masked=True`) mask as the operator's would."""
    if masked:
        return bool(view_as_masks(field))
    if not has_request_context() or not g.get("pii_admin"):
        return False
    from barong.services.operators import pii

    # the caller's role and uid decide: the cached account does (no ORM load of the caller);
    # a role that always sees does not need the row's user (a lazy load per row of a list)
    operator = g.current_user
    if pii.always_sees(operator):
        return False
    return not pii.sees(operator, getattr(row.user, "uid", None), field)


def mask_text(v):
    return v if not v else v[0] + "*" * (len(v) - 1)


def pii_masked(value, kind: str = "text"):
    """`value` masked the original's way for its kind (dob, phone, doc_number, else text)."""
    if value is None or value == "":
        return value
    value = str(value)
    return {"dob": mask_dob, "phone": mask_phone, "doc_number": mask_doc_number}.get(kind, mask_text)(value)


def mask_last_name(v):
    return v if not v else v[0] + "*" * (len(v) - 1)


def mask_dob(v):
    return v if not v else v[:8] + "*" * (len(v) - 8)


def mask_phone(number):
    if not number:
        return number
    try:
        import phonenumbers

        cc = str(phonenumbers.parse("+" + number).country_code)
    except Exception:
        cc = number[:2]
    keep_end = 4
    middle = len(number) - len(cc) - keep_end
    return number if middle <= 0 else cc + "*" * middle + number[-keep_end:]


def mask_doc_number(v):
    if not v or len(v) <= 4:
        return v
    return v[:2] + "*" * (len(v) - 4) + v[-2:]


def user(u) -> dict:
    return {"email": u.email, "uid": u.uid, "role": u.role, "level": u.level, "otp": u.otp, "state": u.state,
            "referral_uid": u.referral_uid, "data": u.data, "username": u.username}


def label(l) -> dict:
    return {"key": l.key, "value": l.value, "scope": l.scope, "created_at": iso(l.created_at),
            "updated_at": iso(l.updated_at)}


def admin_label(l) -> dict:
    return {"key": l.key, "value": l.value, "scope": l.scope, "description": l.description,
            "created_at": iso(l.created_at), "updated_at": iso(l.updated_at)}


def profile(p, masked: bool = True) -> dict:
    dob = p.dob
    out = {"first_name": p.first_name,
           "last_name": mask_last_name(p.last_name) if _masking(masked, "names") else p.last_name,
           "dob": mask_dob(dob) if _masking(masked, "dob") else dob,
           "address": p.address, "postcode": p.postcode, "city": p.city, "country": p.country,
           "state": p.state, "metadata": p.metadata_json,
           "created_at": iso(p.created_at), "updated_at": iso(p.updated_at)}
    if _operator_masks(masked, p, "names"):
        out.update({"first_name": mask_text(p.first_name), "last_name": mask_text(p.last_name)})
    if _operator_masks(masked, p, "dob"):
        out["dob"] = pii_masked(dob, "dob")
    if _operator_masks(masked, p, "address"):
        out.update({"address": mask_text(p.address), "postcode": mask_text(p.postcode)})
    return out


def phone(ph, masked: bool = True) -> dict:
    number = ph.number
    validated = ph.validated_at.strftime("%Y-%m-%dT%H:%M:%S.000Z") if ph.validated_at else None
    hide = _masking(masked, "phones") or _operator_masks(masked, ph, "phones")
    return {"country": ph.country, "number": mask_phone(number) if hide else number,
            "validated_at": validated}


def upload_url(d) -> str:
    return f"{current_app.config['BARONG_DOMAIN']}/api/v2/barong/resource/documents/{d.id}/upload"


def document(d, masked: bool = True) -> dict:
    number = d.doc_number
    hide = _masking(masked, "documents") or _operator_masks(masked, d, "documents")
    out = {"upload": upload_url(d), "doc_type": d.doc_type, "doc_number": mask_doc_number(number) if hide else number,
           "doc_expire": d.doc_expire.isoformat() if d.doc_expire else None, "metadata": d.metadata_json,
           "created_at": iso(d.created_at), "updated_at": iso(d.updated_at)}
    if not masked:  # operators (admin, management): the review too (added fields, issue 14)
        out.update({"id": d.id, "doc_category": d.doc_category, **document_review(d),
                    "reviewed_at": iso(d.reviewed_at)})
    return out


def document_review(d, lang: str | None = None) -> dict:
    """The review fields of a document (issue 14): state, catalogue reason code, its text in
    `lang` (default: the document owner's language), the reviewer's note to the user."""
    from barong.services.verification import kyc_reasons

    if lang is None:
        lang = d.user.language if d.user is not None else "en"
    return {"review_state": d.review_state, "review_reason": d.review_reason,
            "review_reason_text": kyc_reasons.text(d.review_reason, lang), "review_note": d.review_note}


def data_storage(ds) -> dict:
    return {"title": ds.title, "data": ds.data, "created_at": iso(ds.created_at), "updated_at": iso(ds.updated_at)}


def comment(c) -> dict:
    return {"id": c.id, "author_uid": c.author_uid, "title": c.title, "data": c.data,
            "created_at": iso(c.created_at), "updated_at": iso(c.updated_at)}


def user_full(u, csrf_token: str | None = None, masked: bool = True) -> dict:
    out = user(u)
    if csrf_token is not None:
        out["csrf_token"] = csrf_token
    out.update({
        "labels": [label(l) for l in u.labels],
        "phones": [phone(p, masked) for p in u.phones],
        "profiles": [profile(p, masked) for p in u.profiles],
        "data_storages": [data_storage(d) for d in u.data_storages],
        "created_at": iso(u.created_at), "updated_at": iso(u.updated_at),
    })
    return out


def user_with_profile(u, masked: bool = False) -> dict:
    out = user(u)
    out.update({"profiles": [profile(p, masked) for p in u.profiles], "created_at": iso(u.created_at),
                "updated_at": iso(u.updated_at)})
    return out


def user_with_kyc(u) -> dict:
    out = user(u)
    out.update({
        "profiles": [profile(p, False) for p in u.profiles],
        "labels": [admin_label(l) for l in u.labels],
        "phones": [phone(p, False) for p in u.phones],
        "documents": [document(d, False) for d in u.documents],
        "data_storages": [data_storage(d) for d in u.data_storages],
        "comments": [comment(c) for c in u.comments],
        "created_at": iso(u.created_at), "updated_at": iso(u.updated_at),
    })
    return out


def latest_profile(u, masked: bool = True) -> dict | None:
    """Seed 2.3.38's `profile`: the user's latest profile (highest id), or None."""
    latest = max(u.profiles, key=lambda p: p.id or 0, default=None)
    return profile(latest, masked) if latest is not None else None


def management_user_with_profile(u, masked: bool = False) -> dict:
    """Management UserWithProfile: `profiles` and seed 2.3.38's `profile` beside it (CONTRACT §3)."""
    return {**user_with_profile(u, masked), "profile": latest_profile(u, masked)}


def management_user_with_kyc(u) -> dict:
    """Management UserWithKYC (unmasked), with seed 2.3.38's `profile` beside `profiles`."""
    return {**user_with_kyc(u), "profile": latest_profile(u, False)}


def api_key(k, with_secret: bool = False) -> dict:
    out = {"kid": k.kid, "algorithm": k.algorithm, "scope": k.scope, "state": k.state,
           "created_at": iso(k.created_at), "updated_at": iso(k.updated_at),
           # beyond the original (issue 15): allow-list, expiry, last use
           "allowed_ips": k.allowed_ips.split(",") if k.allowed_ips else [], "expires_at": iso(k.expires_at),
           "last_used_at": iso(k.last_used_at), "last_used_ip": k.last_used_ip}
    if with_secret:
        out["secret"] = k.secret
    return out


def activity(a) -> dict:
    return {"id": a.id, "user_ip": a.user_ip, "user_ip_country": a.user_ip_country, "user_agent": a.user_agent,
            "topic": a.topic, "action": a.action, "result": a.result, "data": a.data,
            "created_at": iso(a.created_at)}


def permission(p) -> dict:
    return {"id": p.id, "action": p.action, "role": p.role, "verb": p.verb, "path": p.path, "topic": p.topic,
            "created_at": iso(p.created_at), "updated_at": iso(p.updated_at)}


def restriction(r) -> dict:
    return {"id": r.id, "category": r.category, "scope": r.scope, "value": r.value, "code": r.code,
            "state": r.state, "created_at": iso(r.created_at), "updated_at": iso(r.updated_at)}


def level(l) -> dict:
    return {"id": l.id, "key": l.key, "value": l.value}


def service_account(sa) -> dict:
    return {"email": sa.email, "uid": sa.uid, "role": sa.role, "level": sa.level, "state": sa.state,
            "user": user(sa.owner) if sa.owner else None, "created_at": iso(sa.created_at),
            "updated_at": iso(sa.updated_at)}


def activity_with_user(a) -> dict:
    """ActivityWithUser (admin `GET activities`): the acting user inlined."""
    return {"user_ip": a.user_ip, "user_ip_country": a.user_ip_country, "user_agent": a.user_agent,
            "topic": a.topic, "action": a.action, "result": a.result, "data": a.data,
            "user": user(a.user) if a.user is not None else None, "created_at": iso(a.created_at)}


def admin_activity(a, target=None) -> dict:
    """AdminActivity (admin `GET activities/admin`): `admin` = the actor, `target` = the
    user named by target_uid (pass it in; see admin_activities.targets_for)."""
    return {"user_ip": a.user_ip, "user_ip_country": a.user_ip_country, "user_agent": a.user_agent,
            "topic": a.topic, "action": a.action, "result": a.result, "data": a.data,
            "admin": user(a.user) if a.user is not None else None,
            "target": user(target) if target is not None else None, "created_at": iso(a.created_at)}

"""Verification pages (KYC): phone, profile, identity documents, proof of address."""
from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, flash
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from barong.api import entities
from barong.errors import BarongError
from barong.extensions import db
from barong.models import Phone, utcnow
from barong.services.access.rate_limits import limit
from barong.services.accounts import phones, profiles
from barong.services.infra.request_info import RequestInfo
from barong.services.verification import document_review, documents
from barong.settings import settings
from barong.web import form_nonce
from barong.web.account import bp
from barong.web.forms import (
    ActionForm,
    AddressForm,
    DocumentForm,
    PhoneForm,
    PhoneVerifyForm,
    ProfileForm,
    ReuploadForm,
)
from barong.web.messages import apply_error, message_for
from barong.web.support import go, is_htmx, render_page, render_page_or_partial

#: seconds the page asks the user to wait before asking for another code (a hint; the
#: server's limit is the `phone` rate limit). A service constant wins when there is one.
RESEND_WAIT = getattr(phones, "RESEND_WAIT", 60)


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166 alpha-2 codes with their names in the page's language."""
    import pycountry
    from babel import Locale

    try:
        names = Locale.parse(str(get_locale() or "en")).territories
    except Exception:  # noqa: BLE001 - an unknown locale falls back to English names
        names = {}
    rows = [(c.alpha_2, names.get(c.alpha_2) or c.name) for c in pycountry.countries]
    return sorted(rows, key=lambda r: r[1].casefold())


# ---- phone ------------------------------------------------------------------------------------

def _phone_rows(user) -> list[dict]:
    now = utcnow()
    rows = []
    for phone in user.phones:  # ordered by id; services.phones appends through the relationship
        waited = (now - phone.code_sent_at).total_seconds() if phone.code_sent_at else None
        wait = max(0, int(RESEND_WAIT - waited)) if waited is not None and not phone.validated_at else 0
        rows.append({"phone": phone, "entity": entities.phone(phone), "number": "+" + phone.number,
                     "verified": phone.validated_at is not None, "wait": wait,
                     "form": PhoneVerifyForm(prefix=f"p{phone.id}", formdata=None)})
    return rows


def _render_phones(status=200, form=None, verify_form=None, verify_phone_id=None):
    rows = _phone_rows(current_user)
    if verify_form is not None:
        for row in rows:
            if row["phone"].id == verify_phone_id:
                row["form"] = verify_form
    return render_page_or_partial("account/phones.html", "account/_phones.html", status, rows=rows,
                                  form=form or PhoneForm(formdata=None), action_form=ActionForm(),
                                  resend_wait=RESEND_WAIT)


@bp.get("/phone")
@login_required
def phones_page():
    return _render_phones()


@bp.post("/phone")
@login_required
@limit("phone")
def phones_add():
    form = PhoneForm()
    if form.validate_on_submit():
        try:
            form_nonce.consume_for(form)
            phones.add(current_user, form.phone_number.data.strip(), RequestInfo.current(), form.channel.data)
        except BarongError as err:
            apply_error(form, err, default_field="phone_number")
        else:
            flash(_("We sent a code to your phone. Enter it below."), "success")
            return _render_phones() if is_htmx() else go("account.phones_page")
    return _render_phones(422, form=form)


def _own_phone_or_404(phone_id: int) -> Phone:
    phone = db.session.get(Phone, phone_id)
    if phone is None or phone.user_id != current_user.id:
        abort(404)
    return phone


@bp.post("/phone/<int:phone_id>/verify")
@login_required
@limit("phone")
def phones_verify(phone_id):
    phone = _own_phone_or_404(phone_id)
    form = PhoneVerifyForm(prefix=f"p{phone.id}")
    if form.validate_on_submit():
        try:
            phones.verify(current_user, "+" + phone.number, form.verification_code.data.strip(),
                          RequestInfo.current())
        except BarongError as err:
            apply_error(form, err, default_field="verification_code")
        else:
            flash(_("Your phone number is verified."), "success")
            return go("account.phones_page")
    return _render_phones(422, verify_form=form, verify_phone_id=phone.id)


@bp.post("/phone/<int:phone_id>/resend")
@login_required
@limit("phone")
def phones_resend(phone_id):
    phone = _own_phone_or_404(phone_id)
    if ActionForm().validate_on_submit():
        try:
            phones.resend(current_user, "+" + phone.number, RequestInfo.current())
        except BarongError as err:
            flash(message_for(err.code), "error")
            return _render_phones(422)
        flash(_("We sent a new code."), "success")
    return _render_phones() if is_htmx() else go("account.phones_page")


# ---- profile ----------------------------------------------------------------------------------

PROFILE_FIELDS = ("first_name", "last_name", "dob", "address", "postcode", "city", "country")
# the part of the personal data (barong.services.operators.pii.FIELDS) each form field is
_PII_PART = {"first_name": "names", "last_name": "names", "dob": "dob", "address": "address", "postcode": "address"}


def _profile_form(formdata=True, profile=None) -> ProfileForm:
    form = ProfileForm() if formdata else ProfileForm(formdata=None)
    form.country.choices = [("", _("Choose…"))] + country_choices()
    if profile is not None and not formdata:
        for name in PROFILE_FIELDS:
            value = getattr(profile, name)
            part = _PII_PART.get(name)  # an operator's read-only view: the viewer's rights decide
            if part is not None and entities.view_as_masks(part):
                value = None if name == "dob" else entities.mask_text(value)
            elif name == "dob" and isinstance(value, str) and value:
                try:
                    value = datetime.strptime(value[:10], "%Y-%m-%d").date()
                except ValueError:
                    value = None
            form[name].data = value
    return form


def _profile_context(form=None):
    history = profiles.list_for(current_user)
    editable = next((p for p in history if p.state == "drafted"), None)
    waiting = next((p for p in history if p.state == "submitted"), None)
    latest = history[-1] if history else None
    return {"history": history, "latest": latest, "editable": editable, "waiting": waiting,
            "latest_entity": entities.profile(latest) if latest else None,
            "form": form or _profile_form(False, editable)}


@bp.get("/profile")
@login_required
def profile():
    return render_page("account/profile.html", **_profile_context())


@bp.post("/profile")
@login_required
def profile_save():
    form = _profile_form()
    ctx_form = form
    if form.validate_on_submit():
        fields = {name: form[name].data for name in PROFILE_FIELDS}
        fields = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in fields.items()}
        try:
            form_nonce.consume_for(form)
            if profiles.open_profile(current_user) is not None:
                profiles.update(current_user, fields, confirm=form.confirm.data)
            else:
                profiles.create(current_user, fields, confirm=form.confirm.data)
        except BarongError as err:
            apply_error(form, err)
            if err.code == "form.replayed":  # a submitted profile's page shows no form to carry the message
                flash(message_for(err.code), "error")
        else:
            flash(_("Your profile was submitted for verification.") if form.confirm.data
                  else _("Your profile draft was saved."), "success")
            return go("account.profile")
    return render_page_or_partial("account/profile.html", "account/_profile_form.html", 422,
                                  **_profile_context(ctx_form))


# ---- identity documents -----------------------------------------------------------------------

CATEGORY_FIELDS = (("front_side", "front_side"), ("back_side", "back_side"), ("selfie", "selfie"))


def _files(field) -> list:
    return [f for f in (field.data or []) if getattr(f, "filename", "")]


def _document_form(formdata=True) -> DocumentForm:
    form = DocumentForm() if formdata else DocumentForm(formdata=None)
    types = [t for t in settings().document_types if t != "Address"]
    form.doc_type.choices = [("", _("Choose…"))] + [(t, _doc_type_label(t)) for t in types]
    return form


def _doc_type_label(doc_type: str) -> str:
    labels = {"Passport": _("Passport"), "Identity card": _("Identity card"),
              "Driver license": _("Driver license"), "Utility Bill": _("Utility bill"),
              "Residental": _("Residence permit"), "Institutional": _("Institutional"), "Address": _("Proof of address")}
    return labels.get(doc_type, doc_type)


def _review_states() -> dict:
    """document_review.document_states in the page's language."""
    return document_review.document_states(current_user, str(get_locale() or "en"))


def _documents_context(form=None, address_form=None, reupload_errors=None) -> dict:
    private = current_user.private_labels()
    review = _review_states()
    by_id = {d["id"]: d for d in review["documents"]}
    rows = []
    for doc in documents.list_for(current_user):
        key = "address" if doc.doc_type == "Address" else "document"
        rows.append({"doc": doc, "entity": entities.document(doc), "type_label": _doc_type_label(doc.doc_type),
                     "state": private.get(key), "review": by_id.get(doc.id)})
    return {"rows": rows, "form": form, "address_form": address_form, "review": review,
            "reupload_form": ReuploadForm(formdata=None), "reupload_errors": reupload_errors or {},
            "max_size": current_app.config["BARONG_UPLOAD_MAX_SIZE"],
            "too_large": message_for("upload.max_size_error"),  # the server's words, shown before sending
            "expire_required": current_app.config["BARONG_REQUIRED_DOCS_EXPIRE"],
            "document_state": private.get("document"), "address_state": private.get("address")}


@bp.get("/documents")
@login_required
def documents_page():
    return render_page("account/documents.html", **_documents_context(form=_document_form(False)))


@bp.post("/documents")
@login_required
def documents_upload():
    """Front side, back side and selfie in one request: each side becomes document rows of
    its category under one identificator; all of it is stored or none (one transaction)."""
    form = _document_form()
    if form.validate_on_submit():
        groups = [(category, name, _files(form[name])) for category, name in CATEGORY_FIELDS]
        if not any(files for _c, _n, files in groups):
            form.front_side.errors = list(form.front_side.errors) + [message_for("resource.document.missing_upload")]
        else:
            identificator, current = None, "front_side"
            try:
                form_nonce.consume_for(form)
                for category, name, files in groups:
                    if not files:
                        continue
                    current = name
                    created = documents.create(current_user, files, form.doc_type.data, form.doc_expire.data,
                                               doc_number=form.doc_number.data.strip(), doc_category=category,
                                               identificator=identificator)
                    identificator = created[0].identificator
            except BarongError as err:
                apply_error(form, err, default_field=current)
            else:
                flash(_("Your documents were uploaded and are waiting for review."), "success")
                return go("account.documents_page")
    return render_page_or_partial("account/documents.html", "account/_document_form.html", 422,
                                  **_documents_context(form=form))


REUPLOAD_SLOTS = ("front_side", "back_side", "selfie")


def _template_document(slot: str):
    """The earlier identity document a re-upload of `slot` copies type, number and expiry from:
    that slot's latest, else the front side's, else any identity document."""
    docs = [d for d in documents.list_for(current_user) if d.doc_type != "Address"]
    for wanted in (slot, "front_side", None):
        for doc in reversed(docs):
            if wanted is None or document_review.slot_of(doc) == wanted:
                return doc
    return None


@bp.post("/documents/reupload/<slot>")
@login_required
def documents_reupload(slot):
    """Send one part of the identity set again (the button beside what the reviewer asked for, or
    beside a part still missing): a new pending document of that category, which puts the
    applicant back in the review queue. An expired document needs the full form (a new expiry)."""
    if slot not in REUPLOAD_SLOTS:
        abort(404)
    form = ReuploadForm()
    errors: dict = {}
    template = _template_document(slot)
    if template is None or not form.validate_on_submit():
        errors[slot] = message_for("resource.document.missing_upload") if template is not None else \
            _("Upload your document with the form below first.")
    else:
        files = _files(form.upload)
        if not files:
            errors[slot] = message_for("resource.document.missing_upload")
        else:
            try:
                form_nonce.consume_for(form)
                documents.create(current_user, files, template.doc_type, template.doc_expire,
                                 doc_number=template.doc_number, doc_category=slot,
                                 identificator=template.identificator)
            except BarongError as err:
                errors[slot] = message_for(err.code)
            else:
                flash(_("Thank you. We received the new file and will review it soon."), "success")
                return go("account.documents_page")
    return render_page("account/documents.html", 422,
                       **_documents_context(form=_document_form(False), reupload_errors=errors))


# ---- proof of address -------------------------------------------------------------------------

def _address_form(formdata=True) -> AddressForm:
    form = AddressForm() if formdata else AddressForm(formdata=None)
    form.country.choices = [("", _("Choose…"))] + country_choices()
    return form


@bp.get("/address")
@login_required
def address():
    return render_page("account/address.html", **_documents_context(address_form=_address_form(False)))


@bp.post("/address")
@login_required
def address_upload():
    form = _address_form()
    if form.validate_on_submit():
        files = _files(form.upload)
        if not files:
            form.upload.errors = list(form.upload.errors) + [message_for("resource.address.missing_upload")]
        else:
            try:
                form_nonce.consume_for(form)
                documents.create_address(current_user, files, form.country.data, form.address.data.strip(),
                                         city=(form.city.data or "").strip(), postcode=(form.postcode.data or "").strip())
            except BarongError as err:
                apply_error(form, err, default_field="upload")
            else:
                flash(_("Your proof of address was uploaded and is waiting for review."), "success")
                return go("account.address")
    return render_page_or_partial("account/address.html", "account/_address_form.html", 422,
                                  **_documents_context(address_form=form))

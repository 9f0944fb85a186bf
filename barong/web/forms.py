"""Flask-WTF forms of the end-user site. They check shape only (present, length,
format of a date); every policy (uniqueness, strength, code validity, limits) is the
services' and comes back as a BarongError placed on the field by `messages.apply_error`."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, EmailField, HiddenField, MultipleFileField, PasswordField,
                     SelectField, StringField)
from wtforms.validators import DataRequired, Length, Optional

from barong.web.form_nonce import NonceField

REQUIRED = _l("This field is required.")


def required():
    return DataRequired(message=REQUIRED)


class SignupForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[required(), Length(max=255)])
    password = PasswordField(_l("Password"), validators=[required(), Length(max=1000)])
    refid = StringField(_l("Referral code (optional)"), validators=[Optional(), Length(max=32)])


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[required(), Length(max=255)])
    password = PasswordField(_l("Password"), validators=[required(), Length(max=1000)])
    next = HiddenField()


class LoginCodeForm(FlaskForm):
    code = StringField(_l("Authentication code"), validators=[required(), Length(max=32)])


class EmailForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[required(), Length(max=255)])


class TokenForm(FlaskForm):
    token = HiddenField(validators=[required()])


class ResetPasswordForm(FlaskForm):
    token = HiddenField(validators=[required()])
    password = PasswordField(_l("New password"), validators=[required(), Length(max=1000)])
    confirm_password = PasswordField(_l("Repeat the new password"), validators=[required(), Length(max=1000)])


class ChangePasswordForm(FlaskForm):
    old_password = PasswordField(_l("Current password"), validators=[required(), Length(max=1000)])
    new_password = PasswordField(_l("New password"), validators=[required(), Length(max=1000)])
    confirm_password = PasswordField(_l("Repeat the new password"), validators=[required(), Length(max=1000)])


class CodeForm(FlaskForm):
    """A TOTP code (2FA enable/disable)."""
    code = StringField(_l("6-digit code"), validators=[required(), Length(max=16)])


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token."""


class PhoneForm(FlaskForm):
    form_nonce = NonceField("phone")
    phone_number = StringField(_l("Phone number"), validators=[required(), Length(max=32)])
    channel = SelectField(_l("Send the code by"), choices=[("sms", _l("SMS")), ("call", _l("Voice call"))],
                          default="sms")


class PhoneVerifyForm(FlaskForm):
    verification_code = StringField(_l("Code"), validators=[required(), Length(max=16)])


class ProfileForm(FlaskForm):
    form_nonce = NonceField("profile")
    first_name = StringField(_l("First name"), validators=[Optional(), Length(max=255)])
    last_name = StringField(_l("Last name"), validators=[Optional(), Length(max=255)])
    dob = DateField(_l("Date of birth"), validators=[Optional()],
                    render_kw={"autocomplete": "bday"})
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=32)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=255)])
    country = SelectField(_l("Country"), validators=[Optional()], choices=[])
    confirm = BooleanField(_l("Submit for verification now (you can't edit it afterwards)"))


class DocumentForm(FlaskForm):
    form_nonce = NonceField("documents")
    doc_type = SelectField(_l("Document type"), validators=[required()], choices=[])
    doc_number = StringField(_l("Document number"), validators=[required(), Length(max=128)])
    doc_expire = DateField(_l("Expiry date"), validators=[Optional()])
    front_side = MultipleFileField(_l("Front side"))
    back_side = MultipleFileField(_l("Back side (if any)"))
    selfie = MultipleFileField(_l("Selfie holding the document"))


class AddressForm(FlaskForm):
    form_nonce = NonceField("address")
    country = SelectField(_l("Country"), validators=[required()], choices=[])
    city = StringField(_l("City"), validators=[Optional(), Length(max=255)])
    postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=32)])
    address = StringField(_l("Address"), validators=[required(), Length(max=255)])
    upload = MultipleFileField(_l("Proof of address (utility bill, bank statement)"))


class ApiKeyCreateForm(FlaskForm):
    form_nonce = NonceField("api_key")
    algorithm = SelectField(_l("Algorithm"), choices=[("HS256", "HS256")], default="HS256")
    scope = StringField(_l("Scope (optional, comma-separated)"), validators=[Optional(), Length(max=255)])
    allowed_ips = StringField(_l("Allowed IPs (optional)"), validators=[Optional(), Length(max=4096)])
    expires_at = StringField(_l("Expires (optional)"), validators=[Optional(), Length(max=64)])
    totp_code = StringField(_l("2FA code"), validators=[required(), Length(max=16)])


class TotpForm(FlaskForm):
    """Confirm an API-key change with a TOTP code."""
    totp_code = StringField(_l("2FA code"), validators=[required(), Length(max=16)])


class ReuploadForm(FlaskForm):
    """One identity document sent again (KYC `retry`, or a part of the set still missing): only
    the file; type, number and expiry come from the applicant's earlier document."""
    form_nonce = NonceField("documents")  # one purpose with the upload form: either consumes the nonce
    upload = MultipleFileField(_l("New file"))

"""Barong error codes → human messages, and which form field each belongs to.

The one place the site turns a service's `BarongError` into words: views call
`apply_error(form, err)` and the message lands next to the field (`err.field`, else
the field this table names, else the `<attribute>.<reason>` prefix of a model error),
or at the top of the form when no field fits.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

MESSAGES = {
    # sign up / model validation
    "email.blank": _l("Enter your email address."),
    "email.invalid": _l("This doesn't look like an email address."),
    "email.taken": _l("An account with this email already exists."),
    "password.blank": _l("Choose a password."),
    "password.requirements": _l("Use 8 to 80 characters with at least one lower-case letter, one upper-case "
                                "letter and one digit."),
    "password.weak": _l("This password is too easy to guess. Make it longer or less predictable."),
    "username.too_short": _l("The username must be at least 4 characters."),
    "username.too_long": _l("The username must be at most 12 characters."),
    "username.invalid": _l("Use only letters and digits in the username."),
    "username.taken": _l("This username is taken."),
    "data.invalid_format": _l("Invalid data."),
    "data.too_long": _l("Too much data."),
    "identity.user.invalid_referral_format": _l("This referral code is not valid."),
    "identity.user.referral_doesnt_exist": _l("This referral code is not valid."),
    "identity.captcha.required": _l("Please complete the captcha."),
    "identity.captcha.mandatory_fields": _l("Please complete the captcha."),
    "identity.captcha.verification_failed": _l("The captcha could not be verified. Try again."),
    # log in
    "identity.session.invalid_params": _l("Wrong email or password."),
    "identity.session.banned": _l("This account is banned."),
    "identity.session.deleted": _l("This account was deleted."),
    "identity.session.not_active": _l("This account is not active."),
    "identity.session.locked": _l("Too many failed attempts. The account is locked for a while; try again "
                                  "later or reset your password."),
    "identity.session.missing_otp": _l("Enter the code from your authenticator app."),
    "identity.session.invalid_otp": _l("This code is not valid. Codes change every 30 seconds and each works "
                                       "once."),
    "identity.session.not_found": _l("You are not signed in."),
    "identity.session.new_network": _l("You are signing in from a network this account has not used before. We "
                                       "sent you an email: approve the network with its link, then sign in again."),
    "identity.session.invalid_network_token": _l("This link is invalid, has expired or was already used."),
    "allowed_ips.invalid": _l("Enter IP addresses or networks (CIDR) separated by commas, at most 50."),
    "expires_at.invalid": _l("Enter a date or moment in the future, e.g. 2027-01-31 or 2027-01-31T12:00:00Z."),
    # confirmation / reset tokens
    "identity.user.active_or_doesnt_exist": _l("This email is already confirmed, or the account no longer "
                                               "exists."),
    "identity.user.utilized_token": _l("This link was already used. Request a new one."),
    "identity.user.passwords_doesnt_match": _l("The two passwords don't match."),
    "jwt.decode_and_verify": _l("This link is invalid or has expired. Request a new one."),
    # 2FA
    "resource.otp.already_enabled": _l("Two-factor authentication is already on."),
    "resource.otp.not_enabled": _l("Two-factor authentication is off."),
    "resource.otp.invalid": _l("This code is not valid. Codes change every 30 seconds and each works once."),
    "resource.otp.missing_code": _l("Enter the 6-digit code."),
    "resource.otp.empty_code": _l("Enter the 6-digit code."),
    "totp.error": _l("This code is not valid. Codes change every 30 seconds and each works once."),
    # password change
    "resource.password.doesnt_match": _l("The two passwords don't match."),
    "resource.password.prev_pass_not_correct": _l("Your current password is not correct."),
    "resource.password.no_change_provided": _l("The new password must differ from the current one."),
    # phone
    "resource.phone.invalid_num": _l("This phone number is not valid. Include the country code, e.g. +44…"),
    "resource.phone.number_exist": _l("This number is already verified on an account."),
    "resource.phone.exists": _l("You already added this number."),
    "resource.phone.doesnt_exist": _l("Add this number first."),
    "resource.phone.verification_invalid": _l("This code is not valid."),
    "resource.phone.invalid_channel": _l("Choose SMS or call."),
    "resource.phone.num_not_reachable": _l("This number can't be reached."),
    "resource.phone.num_not_valid": _l("This phone number is not valid."),
    "resource.phone.sms_content_invalid": _l("The message could not be sent."),
    "resource.phone.unsubscribed_recipient": _l("This number does not accept messages."),
    "resource.phone.twilio_unexpected": _l("The message could not be sent. Try again later."),
    "resource.phone.too_many_requests": _l("Please wait before asking for another code."),
    "resource.phone.empty_phone_number": _l("Enter your phone number."),
    "resource.phone.empty_verification_code": _l("Enter the code you received."),
    # profile
    "state.exists": _l("You already have a profile waiting for review."),
    "resource.profile.doesnt_exist_or_not_editable": _l("Your profile can't be changed any more."),
    "resource.profile.exist": _l("You already have a profile waiting for review."),
    "first_name.invalid": _l("Use letters, spaces, dots, apostrophes and hyphens only."),
    "last_name.invalid": _l("Use letters, spaces, dots, apostrophes and hyphens only."),
    "first_name.too_long": _l("Too long."),
    "last_name.too_long": _l("Too long."),
    "dob.invalid": _l("Enter a valid date of birth."),
    "country.invalid": _l("Choose a country."),
    "country.must have alpha2 or alpha3 format": _l("Choose a country."),
    "dob.invalid_format": _l("Enter a valid date of birth."),
    "country.inclusion": _l("Choose a country."),
    "postcode.invalid": _l("Enter a valid postcode."),
    "city.invalid": _l("Enter a valid city."),
    "address.invalid": _l("Enter a valid address."),
    # documents
    "resource.documents.invalid_format": _l("Enter the expiry date (YYYY-MM-DD)."),
    "resource.documents.expire_not_a_date": _l("Enter the expiry date (YYYY-MM-DD)."),
    "resource.documents.already_expired": _l("This document has expired."),
    "resource.documents.rejected": _l("This document was rejected for good and cannot be sent again."),
    "resource.documents.limit_reached": _l("You have uploaded the most documents allowed."),
    "resource.documents.limit_will_be_reached": _l("That would exceed the number of documents allowed."),
    "resource.documents.doc_category": _l("Unknown document side."),
    "resource.document.missing_upload": _l("Choose at least one file."),
    "resource.document.missing_doc_type": _l("Choose the document type."),
    "resource.document.empty_doc_type": _l("Choose the document type."),
    "resource.document.missing_doc_number": _l("Enter the document number."),
    "resource.document.empty_doc_number": _l("Enter the document number."),
    "resource.address.missing_upload": _l("Choose at least one file."),
    "upload.blank": _l("Choose at least one file."),
    "upload.extension_white_list_error": _l("Only JPG, PNG and PDF files are accepted."),
    "upload.content_type": _l("Only JPG, PNG and PDF files are accepted."),
    "upload.invalid_type": _l("Only JPG, PNG and PDF files are accepted."),
    "upload.min_size_error": _l("This file is empty."),
    "upload.extension_whitelist_error": _l("Only JPG, PNG and PDF files are accepted."),
    "upload.content_type_whitelist_error": _l("This file is not really a JPG, PNG or PDF."),
    "doc_type.inclusion": _l("Choose a document type from the list."),
    "doc_number.invalid": _l("Use letters, digits and hyphens only."),
    "doc_number.blank": _l("Enter the document number."),
    "doc_expire.invalid": _l("Enter a valid date."),
    "server.payload_too_large": _l("The files are too large."),
    # api keys
    "resource.api_key.2fa_disabled": _l("Turn on two-factor authentication first."),
    "resource.api_key.missing_totp": _l("Enter the 6-digit code from your authenticator app."),
    "resource.api_key.invalid_totp": _l("This code is not valid. Codes change every 30 seconds and each works "
                                        "once."),
    "kid.blank": _l("Unsupported algorithm."),
    "algorithm.inclusion": _l("Unsupported algorithm."),
    "state.invalid": _l("The key can't be activated while your account is not active."),
    "state.inclusion": _l("Unknown state."),
    "api_key.could_not_save_secret": _l("The key could not be saved. Try again."),
    "key_holder_account.invalid": _l("Your account can't hold API keys right now."),
    # activity / sessions
    "resource.user.no_activity": _l("No activity yet."),
    "record.not_found": _l("Not found."),
    # general
    "server.too_many_requests": _l("Too many attempts. Please wait a minute and try again."),
    "server.internal_error": _l("Something went wrong on our side. Please try again."),
    "server.bad_request": _l("The request could not be understood."),
    "server.redis.unavailable": _l("The service is briefly unavailable. Please try again in a moment."),
    "csrf": _l("Your form expired. Reload the page and try again."),
    # one-time form nonces (barong/web/form_nonce.py)
    "form.replayed": _l("This form was already sent (a second click?) and was not stored again. Check the page "
                        "before sending it once more."),
    "form.expired": _l("This form has expired. Check the fields and send it again."),
}

#: codes whose message belongs to a particular field of the form that caused them
FIELDS = {
    "identity.session.missing_otp": "code",
    "identity.session.invalid_otp": "code",
    "identity.user.passwords_doesnt_match": "confirm_password",
    "resource.password.doesnt_match": "confirm_password",
    "resource.password.prev_pass_not_correct": "old_password",
    "resource.password.no_change_provided": "new_password",
    "resource.otp.invalid": "code",
    "resource.otp.missing_code": "code",
    "resource.otp.empty_code": "code",
    "totp.error": "code",
    "resource.api_key.missing_totp": "totp_code",
    "resource.api_key.invalid_totp": "totp_code",
    "kid.blank": "algorithm",
    "algorithm.inclusion": "algorithm",
    "allowed_ips.invalid": "allowed_ips",
    "expires_at.invalid": "expires_at",
    "resource.phone.invalid_num": "phone_number",
    "resource.phone.number_exist": "phone_number",
    "resource.phone.exists": "phone_number",
    "resource.phone.num_not_valid": "phone_number",
    "resource.phone.num_not_reachable": "phone_number",
    "resource.phone.empty_phone_number": "phone_number",
    "resource.phone.verification_invalid": "verification_code",
    "resource.phone.empty_verification_code": "verification_code",
    "resource.documents.invalid_format": "doc_expire",
    "resource.documents.expire_not_a_date": "doc_expire",
    "resource.documents.already_expired": "doc_expire",
    "resource.document.missing_doc_number": "doc_number",
    "resource.document.empty_doc_number": "doc_number",
    "resource.document.missing_doc_type": "doc_type",
    "resource.document.empty_doc_type": "doc_type",
    "resource.document.missing_upload": "upload",
    "resource.address.missing_upload": "upload",
    "identity.user.invalid_referral_format": "refid",
    "identity.user.referral_doesnt_exist": "refid",
    "identity.captcha.required": "captcha",
    "identity.captcha.mandatory_fields": "captcha",
    "identity.captcha.verification_failed": "captcha",
}


#: codes about the whole form, never one field (even when the view names a default field)
FORM_LEVEL = {"resource.api_key.2fa_disabled", "identity.session.invalid_params", "identity.session.locked",
              "identity.session.new_network",
              "identity.session.banned", "identity.session.deleted", "identity.session.not_active",
              "resource.documents.limit_reached", "resource.documents.limit_will_be_reached",
              "key_holder_account.invalid", "server.too_many_requests", "form.replayed", "form.expired"}


def message_for(code: str | None) -> str:
    """A human message for `code` in the current language (a generic one when unknown)."""
    if not code:
        return str(MESSAGES["server.internal_error"])
    if code == "upload.max_size_error":
        from flask import current_app

        size = current_app.config["BARONG_UPLOAD_MAX_SIZE"] / (1024 * 1024)
        return str(_l("This file is too large (at most %(size)s MB).", size=f"{size:g}"))
    if code in MESSAGES:
        return str(MESSAGES[code])
    if code.startswith("jwt.decode_and_verify"):
        return str(MESSAGES["jwt.decode_and_verify"])
    if code.endswith(".too_many_requests"):
        return str(MESSAGES["server.too_many_requests"])
    attr, _, reason = code.rpartition(".")
    if reason == "blank":
        return str(_l("This field is required."))
    if reason in ("invalid", "invalid_format", "inclusion"):
        return str(_l("This value is not valid."))
    if reason == "taken":
        return str(_l("This value is already taken."))
    if reason == "too_long":
        return str(_l("Too long."))
    if reason == "too_short":
        return str(_l("Too short."))
    return str(_l("The request could not be completed (%(code)s).", code=code))


def field_for(code: str, form=None, default: str | None = None) -> str | None:
    """The form field a code belongs to: the table above, else a model error's `<attribute>.`
    prefix, else `default`; only names the form has."""
    if code in FORM_LEVEL:
        return None
    candidates = [FIELDS.get(code)]
    head = code.split(".", 1)[0]
    if head not in ("identity", "resource", "server", "jwt", "record", "authz", "totp"):
        candidates.append(head)
    candidates.append(default)
    for name in candidates:
        if name and (form is None or name in form._fields):
            return name
    return None


def apply_error(form, err, default_field: str | None = None) -> None:
    """Put every code of `err` (a BarongError) on its field of `form`, or on the form itself."""
    for code in err.codes:
        name = err.field if err.field and err.field in form._fields else field_for(code, form, default_field)
        target = form._fields[name].errors if name else form.form_errors
        if isinstance(target, tuple):  # a field that was never validated keeps a tuple
            target = form._fields[name].errors = list(target)
        message = message_for(code)
        if message not in target:
            target.append(message)

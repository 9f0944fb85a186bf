"""Small helpers every HTML view uses: page-or-partial rendering (HTMX), redirects
that also work for HTMX requests, safe `next` URLs, and the template context."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (Flask, has_request_context, make_response, redirect, render_template, request,
                   url_for)


def is_htmx() -> bool:
    """An HTMX request that wants a fragment (not a boosted link nor a history restore)."""
    h = request.headers
    return h.get("HX-Request") == "true" and h.get("HX-Boosted") != "true" \
        and h.get("HX-History-Restore-Request") != "true"


def render_page_or_partial(page: str, partial: str, status: int = 200, /, **ctx):
    """The whole page for a normal request; for an HTMX request only `partial`, plus the
    flash messages swapped out-of-band into the page's flash area."""
    if is_htmx():
        body = render_template(partial, **ctx) + render_template("_macros/flashes_oob.html")
        return make_response(body, status)
    return make_response(render_template(page, **ctx), status)


def render_page(page: str, status: int = 200, /, **ctx):
    return make_response(render_template(page, **ctx), status)


def render_whole_page(page: str, status: int = 200, /, **ctx):
    """A full page even for an HTMX form: it replaces the page body instead of the form
    (for results that must not be reachable by a later GET, like recovery codes)."""
    response = render_page(page, status, **ctx)
    if is_htmx():
        response.headers["HX-Retarget"] = "body"
        response.headers["HX-Reswap"] = "innerHTML show:window:top"
    return response


def go(endpoint_or_url: str, **values):
    """Redirect after a successful POST: 303 for browsers, `HX-Redirect` for HTMX."""
    url = endpoint_or_url if endpoint_or_url.startswith("/") else url_for(endpoint_or_url, **values)
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def safe_next(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default` (no open redirects)."""
    if not target:
        return default
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or target.startswith("/api/"):
        return default
    return target


def init_app(app: Flask) -> None:
    from flask_babel import get_locale
    from flask_wtf.csrf import CSRFError

    from barong.web import i18n
    from barong.web.messages import message_for

    @app.context_processor
    def _web_context():
        # templates are also rendered outside requests (mails sent by the events dispatcher)
        in_request = has_request_context()
        return {
            "languages": i18n.LANGUAGE_NAMES,
            "current_locale": str(get_locale() or "en") if in_request and not request.path.startswith("/api/")
            else "en",
            "error_message": message_for,
            "is_htmx": is_htmx() if in_request else False,
        }

    app.after_request(i18n.remember_requested_language)
    app.add_template_filter(describe_device, "device")
    app.add_template_filter(from_timestamp, "from_timestamp")
    app.add_template_filter(activity_action, "activity_action")
    app.add_template_filter(country_name, "country_name")

    @app.errorhandler(CSRFError)
    def _csrf_error(err):
        from barong.errors import is_api_request, json_errors

        if is_api_request():
            return json_errors(["server.bad_request"], 400)
        return render_page("errors/error.html", 400, status=400, message="csrf")


def from_timestamp(value):
    """A unix timestamp (float seconds) → naive UTC datetime, as the models store them."""
    from datetime import datetime, timezone

    return datetime.fromtimestamp(float(value), timezone.utc).replace(tzinfo=None) if value else None


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Chromium/", "Chromium"), ("Safari/", "Safari"), ("curl/", "curl"), ("python", "Python"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def describe_device(user_agent: str | None) -> str:
    """“Chrome on Linux” from a User-Agent (for display only)."""
    from flask_babel import gettext as _

    ua = user_agent or ""
    browser = next((name for token, name in _BROWSERS if token.lower() in ua.lower()), None)
    system = next((name for token, name in _SYSTEMS if token in ua), None)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or (ua[:40] if ua else _("Unknown device"))


def activity_action(action: str | None) -> str:
    """Activity actions as Barong records them, in words."""
    from flask_babel import gettext as _

    names = {
        "login": _("Signed in"), "login::2fa": _("Signed in with 2FA"), "logout": _("Signed out"),
        "signup": _("Account created"), "password change": _("Password changed"),
        "password reset": _("Password reset"), "request password reset": _("Password reset requested"),
        "request QR code for 2FA": _("2FA set-up started"), "enable 2FA": _("2FA turned on"),
        "disable 2FA": _("2FA turned off"), "verify 2FA": _("2FA code checked"),
    }
    return names.get(action or "", action or "—")


def country_name(code: str | None) -> str:
    """An ISO 3166 code in the page's language (“GB” → “United Kingdom” / “Великобритания”)."""
    if not code:
        return ""
    from babel import Locale
    from flask_babel import get_locale

    try:
        names = Locale.parse(str(get_locale() or "en")).territories
    except Exception:  # noqa: BLE001 - unknown locale: show the code
        return code
    if len(code) == 3:
        import pycountry

        found = pycountry.countries.get(alpha_3=code.upper())
        code = found.alpha_2 if found else code
    return names.get(code.upper(), code)

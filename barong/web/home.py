"""The site root and the language switch."""
from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

from barong.web import i18n
from barong.web.support import render_page, safe_next

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("account.home"))
    return render_page("home.html")


@bp.get("/lang/<code>")
def set_language(code):
    """Remember the chosen language in the `lang` cookie and go back (a GET: it only sets a preference)."""
    target = safe_next(request.args.get("next"), url_for("home.index"))
    response = redirect(target)
    if code in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, code, max_age=i18n.COOKIE_MAX_AGE, samesite="Lax", httponly=True)
    return response

"""barong.flaskctx reads Flask's private context variables: this fails if a Flask upgrade moves them."""
from __future__ import annotations

import flask

from barong import flaskctx


def test_outside_any_context_everything_is_none():
    assert (flaskctx.app(), flaskctx.request(), flaskctx.g()) == (None, None, None)


def test_the_same_objects_as_the_proxies(app):
    assert flaskctx.app() is flask.current_app._get_current_object()
    assert flaskctx.g() is flask.g._get_current_object()
    with app.test_request_context("/x?y=1"):
        assert flaskctx.request() is flask.request._get_current_object()
        assert flaskctx.request().args["y"] == "1"
        assert flaskctx.g() is flask.g._get_current_object()

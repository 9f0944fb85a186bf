"""The reference of bench/request_path.py: a bare Flask app with one JSON endpoint, served by
the same gunicorn configuration as Barong (`barong.serve.gunicorn_argv`, i.e. the
redacting access log of barong/gunicorn_conf.py, the same worker class and count).
`granian_app` is the same app in barong.granian_entry's wrapper, as SERVER=granian serves Barong."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/api/v2/barong/identity/ping")
def ping():
    return jsonify(ping="pong")


def _granian_app():
    from barong.granian_entry import GranianEntry

    return GranianEntry(app)


granian_app = _granian_app()

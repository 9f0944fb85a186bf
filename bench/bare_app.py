"""The reference of bench/request_path.py: a bare Flask app with one JSON endpoint, served by
the same gunicorn configuration as Barong (`barong.serve.gunicorn_argv`, i.e. the
redacting access log of barong/gunicorn_conf.py, the same worker class and count)."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/api/v2/barong/identity/ping")
def ping():
    return jsonify(ping="pong")

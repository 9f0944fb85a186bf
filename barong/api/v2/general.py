"""Endpoints mounted under both identity/ and public/: ping, time, version, configs, password/validate."""
from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify

import barong
from barong.api.params import Param, document, use_params


def register(bp: Blueprint, scope: str) -> None:
    @bp.get("/ping")
    @document(summary="Test connectivity")
    def ping():
        return jsonify(ping="pong")

    @bp.get("/time")
    @document(summary="Get server current unix timestamp.")
    def server_time():
        return jsonify(time=int(time.time()))

    @bp.get("/version")
    @document(summary="Get barong version")
    def version():
        import os

        return jsonify(git_tag=os.environ.get("BARONG_GIT_TAG", barong.__version__),
                       git_sha=os.environ.get("BARONG_GIT_SHA", "unknown"),
                       build_date=os.environ.get("BARONG_BUILD_DATE", "1970-01-01T00:00:00+00:00"),
                       version=barong.__version__)

    @bp.get("/configs")
    @document(summary="Get barong configurations")
    def configs():
        from barong.security import password_strength

        cfg = current_app.config
        body = {
            "session_expire_time": cfg["BARONG_SESSION_EXPIRE_TIME"],
            "captcha_type": cfg["BARONG_CAPTCHA"],
            "captcha_id": cfg.get("BARONG_RECAPTCHA_SITE_KEY") if cfg["BARONG_CAPTCHA"] == "recaptcha" else None,
            "phone_verification_type": cfg["BARONG_PHONE_VERIFICATION"],
            "password_min_entropy": int(cfg["BARONG_PASSWORD_MIN_ENTROPY"]),
            "password_regexp": cfg.get("BARONG_PASSWORD_REGEXP") or password_strength.DEFAULT_REGEXP,
        }
        return jsonify({k: v for k, v in body.items() if v is not None})

    @bp.post("/password/validate")
    @use_params(scope, Param("password", required=True), status=201, summary="Password strength testing")
    def password_validate(p):
        from barong.security import password_strength

        entropy = password_strength.entropy(p.get("password") or "",
                                            use_dictionary=current_app.config["BARONG_PASSWORD_USE_DICTIONARY"])
        return jsonify(entropy=entropy), 201

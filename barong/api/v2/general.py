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
        return jsonify(_version_info())

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
            # the operator's pattern as given; the default without Python's inline `(?m)` so a
            # browser can use it as a JavaScript RegExp (the reference: "emit the plain pattern")
            "password_regexp": cfg.get("BARONG_PASSWORD_REGEXP") or password_strength.DEFAULT_REGEXP.removeprefix("(?m)"),
        }
        return jsonify({k: v for k, v in body.items() if v is not None})

    @bp.post("/password/validate")
    @use_params(scope, Param("password", required=True), status=201, summary="Password strength testing")
    def password_validate(p):
        from barong.security import password_strength

        entropy = password_strength.entropy(p.get("password") or "",
                                            use_dictionary=current_app.config["BARONG_PASSWORD_USE_DICTIONARY"])
        return jsonify(entropy=entropy), 201


def _version_info() -> dict:
    """git tag/sha/commit date from BARONG_GIT_TAG / BARONG_GIT_SHA / BARONG_BUILD_DATE (set by a
    release build), else from the checkout's git metadata, read once per process."""
    info = current_app.extensions.get("barong_version")
    if info is not None:
        return info
    import os
    import subprocess

    from barong.config import ROOT

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() or None if out.returncode == 0 else None

    info = {
        "git_tag": os.environ.get("BARONG_GIT_TAG") or git("describe", "--tags", "--abbrev=0") or barong.__version__,
        "git_sha": os.environ.get("BARONG_GIT_SHA") or git("rev-parse", "--short=8", "HEAD") or "unknown",
        "build_date": os.environ.get("BARONG_BUILD_DATE") or git("log", "-1", "--format=%cI") or
        "1970-01-01T00:00:00+00:00",
        "version": barong.__version__,
    }
    current_app.extensions["barong_version"] = info
    return info

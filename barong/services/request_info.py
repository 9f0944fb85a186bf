"""Who is asking, as services need it: IP, user agent, country (no Flask request in services)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import has_request_context, request


@dataclass(frozen=True)
class RequestInfo:
    ip: str = "127.0.0.1"
    user_agent: str = ""
    #: the session id (cookie value hash) of the caller, when there is one
    session_id: str | None = None

    @classmethod
    def current(cls) -> "RequestInfo":
        if not has_request_context():
            return cls()
        from flask import g

        from barong.security.client_ip import remote_ip

        return cls(ip=remote_ip(), user_agent=request.headers.get("User-Agent", ""),
                   session_id=g.get("barong_session_id"))

"""Who is asking, as services need it: IP, user agent, country (no Flask request in services)."""
from __future__ import annotations

from dataclasses import dataclass

from barong import flaskctx
from barong.security.client_ip import remote_ip


@dataclass(frozen=True)
class RequestInfo:
    ip: str = "127.0.0.1"
    user_agent: str = ""
    #: the session id (cookie value hash) of the caller, when there is one
    session_id: str | None = None

    @classmethod
    def current(cls) -> "RequestInfo":
        req = flaskctx.request()
        if req is None:
            return cls()
        return cls(ip=remote_ip(), user_agent=req.environ.get("HTTP_USER_AGENT", ""),
                   session_id=flaskctx.g().get("barong_session_id"))

"""The client's IP address, as Barong computes it (reference/authz.md §2).

Default gateway (cloudflare): walk `X-Forwarded-For` right to left, skipping trusted
proxies (loopback, private ranges, Cloudflare's ranges); the first untrusted entry is
the client. `akamai`: `True-Client-Ip` first. Falls back to `REMOTE_ADDR`.
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache

from barong import flaskctx

TRUSTED = [
    "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22",
    "141.101.64.0/18", "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20",
    "197.234.240.0/22", "198.41.128.0/17", "162.158.0.0/15", "104.16.0.0/12",
    "172.64.0.0/13", "131.0.72.0/22", "2400:cb00::/32", "2606:4700::/32",
    "2803:f800::/32", "2405:b500::/32", "2405:8100::/32", "2a06:98c0::/29", "2c0f:f248::/32",
]
_NETWORKS = [ipaddress.ip_network(n) for n in TRUSTED]


@lru_cache(maxsize=4096)
def is_trusted(ip: str) -> bool:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr.version == n.version and addr in n for n in _NETWORKS)


@lru_cache(maxsize=4096)
def _valid(ip: str) -> bool:
    try:
        ipaddress.ip_address(ip)
        return True
    except ValueError:
        return False


def compute(headers, remote_addr: str | None, gateway: str = "cloudflare") -> str:
    if gateway == "akamai":
        true_client = (headers.get("True-Client-Ip") or "").strip()
        if true_client and _valid(true_client):
            return true_client
    # Only believe X-Forwarded-For when the peer itself is a trusted proxy.
    if remote_addr and not is_trusted(remote_addr):
        return remote_addr
    raw_forwarded = headers.get("X-Forwarded-For")
    if not raw_forwarded and not headers.get("Client-Ip"):
        return remote_addr or "127.0.0.1"  # a direct call from a local peer: nothing to walk
    forwarded = [p.strip() for p in (raw_forwarded or "").split(",") if p.strip()]
    chain = forwarded + ([remote_addr] if remote_addr else [])
    for ip in reversed(chain):
        if _valid(ip) and not is_trusted(ip):
            return ip
    client_ip = (headers.get("Client-Ip") or "").strip()
    if client_ip and _valid(client_ip):
        return client_ip
    for ip in chain:
        if _valid(ip):
            return ip
    return remote_addr or "127.0.0.1"


#: the headers `compute` reads, by their WSGI environ keys
_ENVIRON_KEYS = {"X-Forwarded-For": "HTTP_X_FORWARDED_FOR", "Client-Ip": "HTTP_CLIENT_IP",
                 "True-Client-Ip": "HTTP_TRUE_CLIENT_IP"}


class _EnvironHeaders:
    """`compute`'s headers read straight from the WSGI environ: werkzeug's EnvironHeaders
    raises and catches an exception for every header that is absent, on every request."""

    __slots__ = ("environ",)

    def __init__(self, environ):
        self.environ = environ

    def get(self, name: str, default=None):
        return self.environ.get(_ENVIRON_KEYS[name], default)


def remote_ip() -> str:
    """The current request's client IP (cached on `g`)."""
    req = flaskctx.request()
    if req is None:
        return "127.0.0.1"
    ctx_g = flaskctx.g()
    ip = ctx_g.get("_remote_ip")
    if ip is None:
        environ = req.environ
        ip = compute(_EnvironHeaders(environ), environ.get("REMOTE_ADDR"),
                     flaskctx.app().config.get("BARONG_GATEWAY", "cloudflare"))
        ctx_g._remote_ip = ip
    return ip

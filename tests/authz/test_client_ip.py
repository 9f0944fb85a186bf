"""Client IP (reference/authz.md §2): X-Forwarded-For only through trusted proxies."""
from __future__ import annotations

import pytest

from barong.security.client_ip import compute


@pytest.mark.parametrize("xff,peer,expected", [
    ("", "8.8.8.8", "8.8.8.8"),
    ("1.2.3.4", "127.0.0.1", "1.2.3.4"),
    ("1.2.3.4, 10.0.0.2", "127.0.0.1", "1.2.3.4"),             # trusted hops skipped right to left
    ("6.6.6.6, 1.2.3.4", "127.0.0.1", "1.2.3.4"),              # the first untrusted from the right wins
    ("1.2.3.4, 162.158.1.1", "10.1.1.1", "1.2.3.4"),           # Cloudflare edge is trusted
    ("1.2.3.4", "8.8.8.8", "8.8.8.8"),                         # untrusted peer: header ignored
    ("garbage, 1.2.3.4", "::1", "1.2.3.4"),
    ("10.0.0.5", "127.0.0.1", "10.0.0.5"),                     # only trusted entries: the leftmost
])
def test_forwarded_for(xff, peer, expected):
    assert compute({"X-Forwarded-For": xff}, peer) == expected


def test_client_ip_header_when_no_forwarded_for():
    assert compute({"Client-Ip": "5.5.5.5"}, "127.0.0.1") == "5.5.5.5"


def test_akamai_true_client_ip():
    headers = {"True-Client-Ip": "7.7.7.7", "X-Forwarded-For": "1.2.3.4"}
    assert compute(headers, "127.0.0.1", "akamai") == "7.7.7.7"
    assert compute(headers, "127.0.0.1", "cloudflare") == "1.2.3.4"
    assert compute({"True-Client-Ip": " ", "X-Forwarded-For": "1.2.3.4"}, "127.0.0.1", "akamai") == "1.2.3.4"

"""Every Redis client the app builds has bounded waits and no client-side retries
(barong.services.infra.redis_client): sessions, kv marks, the rate limiter, cache generations."""
from __future__ import annotations

import subprocess
import sys

import pytest

from barong.config import ROOT, ConfigError, from_env
from barong.services.infra import redis_client


def _kwargs(client) -> dict:
    return client.connection_pool.connection_kwargs


def test_the_timeout_is_configurable_and_checked():
    assert from_env({})["BARONG_REDIS_TIMEOUT"] == 0.5
    assert from_env({"BARONG_REDIS_TIMEOUT": "0.2"})["BARONG_REDIS_TIMEOUT"] == 0.2
    for bad in ("abc", "0", "-1"):
        with pytest.raises(ConfigError, match="BARONG_REDIS_TIMEOUT"):
            from_env({"BARONG_REDIS_TIMEOUT": bad})
    assert from_env({})["BARONG_SMTP_TIMEOUT"] == 5.0
    with pytest.raises(ConfigError, match="BARONG_SMTP_TIMEOUT"):
        from_env({"BARONG_SMTP_TIMEOUT": "soon"})


@pytest.mark.parametrize("url,cls", [("redis://127.0.0.1:6379/15", redis_client.GuardedConnection),
                                     ("rediss://127.0.0.1:6380/0", redis_client.GuardedSSLConnection),
                                     ("unix:///tmp/redis.sock", redis_client.GuardedUnixConnection)])
def test_a_client_has_timeouts_no_retries_and_the_breaker(url, cls):
    kwargs = _kwargs(redis_client.connect(url, 0.3))
    assert kwargs["socket_timeout"] == 0.3
    assert kwargs.get("socket_connect_timeout", 0.3) == 0.3  # unix sockets have no connect timeout
    assert kwargs["retry"].get_retries() == 0
    assert redis_client.connect(url).connection_pool.connection_class is cls


def test_every_client_of_a_configured_app_is_bounded(tmp_path):
    """Built in a fresh process, as gunicorn's --preload would (the limiter is a module-level
    extension: configuring it here would rebind the suite's own)."""
    code = (
        "from barong import create_app; from barong.config import from_env; from barong.extensions import limiter;"
        "from barong.services.infra import kv; from barong.authz import process_cache;"
        f"cfg = from_env({{'BARONG_REDIS_URL': 'redis://127.0.0.1:6379/15', 'BARONG_REDIS_TIMEOUT': '0.3',"
        f" 'DATABASE_URL': 'sqlite:///{tmp_path}/x.db'}});"
        f"cfg['BARONG_INSTANCE_PATH'] = {str(tmp_path)!r};"
        "app = create_app(cfg);\n"
        "with app.app_context():\n"
        "    clients = {'limiter': limiter.storage.storage, 'sessions': app.extensions['barong_session_store'].r,"
        " 'kv': kv._redis(), 'generations': process_cache._redis(app)}\n"
        "for name, c in clients.items():\n"
        "    k = c.connection_pool.connection_kwargs\n"
        "    print(name, k['socket_timeout'], k['socket_connect_timeout'], k['retry'].get_retries(),"
        " c.connection_pool.connection_class.__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.strip().splitlines())
    assert lines == {
        "limiter": "0.3 0.3 0 GuardedConnection",
        "sessions": "0.3 0.3 0 GuardedConnection",
        "kv": "0.3 0.3 0 GuardedConnection",
        "generations": "0.2 0.2 0 GuardedConnection",  # process_cache.REDIS_TIMEOUT: on the check's path
    }

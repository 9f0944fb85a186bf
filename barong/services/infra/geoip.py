"""GeoIP lookups from a MaxMind database file (BARONG_GEOIP_DB_PATH); unknown without one."""
from __future__ import annotations

from functools import lru_cache

from flask import current_app, has_app_context

_readers: dict = {}


def _reader():
    if not has_app_context():
        return None
    path = current_app.config.get("BARONG_GEOIP_DB_PATH")
    if not path:
        return None
    if path not in _readers:
        try:
            import maxminddb

            _readers[path] = maxminddb.open_database(path)
        except Exception:
            current_app.logger.warning("GeoIP database %s could not be opened", path)
            _readers[path] = None
    return _readers[path]


def lookup(ip: str) -> dict:
    reader = _reader()
    if reader is None:
        return {}
    return _lookup(reader, ip)


@lru_cache(maxsize=8192)
def _lookup(reader, ip: str) -> dict:
    try:
        rec = reader.get(ip) or {}
    except ValueError:
        return {}
    return {
        "country": ((rec.get("country") or {}).get("names") or {}).get("en"),
        "country_code": (rec.get("country") or {}).get("iso_code"),
        "continent": ((rec.get("continent") or {}).get("names") or {}).get("en"),
    }


def country_name(ip: str) -> str | None:
    return lookup(ip).get("country")


def continent_name(ip: str) -> str | None:
    return lookup(ip).get("continent")

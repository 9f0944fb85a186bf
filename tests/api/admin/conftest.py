"""Admin API fixtures: `api(role)` → a client signed in as a fresh user of that role."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.helpers import UA, login_as

PREFIX = "/api/v2/barong/admin"


@dataclass
class AdminClient:
    client: object
    csrf: str
    user: object

    def _call(self, method, path, **kw):
        headers = kw.pop("headers", {})
        headers.setdefault("X-CSRF-Token", self.csrf)
        return getattr(self.client, method)(PREFIX + path, headers=headers, **kw)

    def get(self, path, **kw):
        return self._call("get", path, **kw)

    def post(self, path, **kw):
        return self._call("post", path, **kw)

    def put(self, path, **kw):
        return self._call("put", path, **kw)

    def delete(self, path, **kw):
        return self._call("delete", path, **kw)


@pytest.fixture
def api(app, make_user):
    def factory(role="superadmin", **kw):
        user = make_user(role=role, **kw)
        c = app.test_client()
        c.environ_base["HTTP_USER_AGENT"] = UA
        return AdminClient(c, login_as(c, user), user)

    return factory


@pytest.fixture
def sa(api):
    return api("superadmin")

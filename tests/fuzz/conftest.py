"""The fuzz figures (operations, requests, 5xx, failed checks per identity) printed at the end,
and the management keychain the signed management fuzz test signs with."""
from __future__ import annotations


def pytest_terminal_summary(terminalreporter):
    import sys

    modules = [m for name, m in list(sys.modules.items()) if name.endswith("test_openapi_fuzz")]
    stats = next((m.STATS for m in modules if getattr(m, "STATS", None)), None)
    if not stats:
        return
    terminalreporter.section("schemathesis figures")
    for identity, f in sorted(stats.items()):
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(f["statuses"].items()))
        terminalreporter.write_line(f"{identity}: {len(f['operations'])} operations, {f['requests']} requests, "
                                    f"{f['5xx']} 5xx, {f['check_failures']} failed checks ({statuses})")


import pytest  # noqa: E402


@pytest.fixture
def fuzz_keychain(app, tmp_path):
    """The management test keychain (tests/api/management/support) for one test, restored after."""
    import yaml

    from barong.config import ROOT
    from barong.services.access import management_keychain
    from tests.api.management.support import keychain_config

    path = tmp_path / "management_api.yml"
    path.write_text(yaml.safe_dump(keychain_config()))
    app.config["BARONG_MANAGEMENT_API_CONFIG"] = path
    yield management_keychain.init_app(app, path)
    management_keychain.init_app(app, ROOT / "config/management_api.yml")

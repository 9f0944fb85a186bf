"""Prints the fuzz figures (operations, requests, 5xx, failed checks per identity) at the end."""
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

"""The service packages keep their layering (docs/architecture.md): a package imports only
packages below it, never barong.web; a lower one signals (barong/signals.py) instead."""
import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parent.parent / "barong" / "services"
LAYERS = ["infra", "delivery", "access", "audit", "accounts", "operators", "verification", "privacy"]


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, []


def _targets(module: str, names: list[str]):
    """The service packages (and web) a `from … import …` statement reaches."""
    parts = module.split(".")
    if parts[:2] == ["barong", "web"]:
        yield "web"
    elif parts[:2] == ["barong", "services"]:
        if len(parts) > 2:
            yield parts[2]
        else:
            yield from (n for n in names if n in LAYERS)


def test_every_service_module_lives_in_a_known_package():
    loose = sorted(p.name for p in SERVICES.glob("*.py") if p.name not in ("__init__.py", "seeding.py"))
    assert loose == [], f"put these in a domain package: {loose}"
    assert sorted(p.name for p in SERVICES.iterdir() if p.is_dir() and p.name != "__pycache__") == sorted(LAYERS)


@pytest.mark.parametrize("package", LAYERS)
def test_packages_import_only_downwards(package):
    allowed = set(LAYERS[: LAYERS.index(package) + 1])
    bad = []
    for path in sorted((SERVICES / package).glob("*.py")):
        for module, names in _imports(path):
            for target in _targets(module, names):
                if target not in allowed:
                    bad.append(f"{package}/{path.name} imports {module} ({target})")
    assert bad == []

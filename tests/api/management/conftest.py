import pytest
import yaml

from barong.services.access import management_keychain
from tests.api.management.support import keychain_config


@pytest.fixture
def keychain(app, tmp_path):
    """A keychain file with every scope configured (see support.keychain_config)."""
    path = tmp_path / "management_api.yml"
    path.write_text(yaml.safe_dump(keychain_config()))
    app.config["BARONG_MANAGEMENT_API_CONFIG"] = path
    chain = management_keychain.init_app(app, path)
    yield chain


@pytest.fixture(autouse=True)
def _restore_keychain(app):
    yield
    from barong.config import ROOT

    management_keychain.init_app(app, ROOT / "config/management_api.yml")

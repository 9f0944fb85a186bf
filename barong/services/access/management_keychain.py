"""The Management API keychain and scopes (`BARONG_MANAGEMENT_API_CONFIG`, Barong's format).

Read once at start-up (`init_app`); a malformed file stops start-up with a
ConfigError naming the file and the problem. Format (see config/management_api.yml):

    keychain:
      applogic: {algorithm: RS256, value: <URL-safe base64 of the public key PEM>}
      peatio:   {algorithm: HS256, value: <shared secret>}
    scopes:
      read_users: {permitted_signers: [applogic, peatio], mandatory_signers: [applogic]}
    jwt: {leeway: 30, iss: …, aud: …}   # optional claim checks
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from flask import Flask, current_app

from barong.config import ConfigError
from barong.security.jws import ClaimOptions, VerifyKey, load_verify_key

EXTENSION = "barong_management_keychain"


@dataclass(frozen=True)
class Scope:
    permitted_signers: tuple[str, ...]
    mandatory_signers: tuple[str, ...]


@dataclass
class Keychain:
    keys: dict[str, VerifyKey] = field(default_factory=dict)
    scopes: dict[str, Scope] = field(default_factory=dict)
    options: ClaimOptions = field(default_factory=ClaimOptions)
    source: str = ""

    def permitted_keys(self, scope: str) -> dict[str, VerifyKey]:
        s = self.scopes[scope]
        return {name: self.keys[name] for name in s.permitted_signers if name in self.keys}


def _signer_list(where: str, raw) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, (str, int)) for x in raw):
        raise ConfigError(f"{where} must be a list of signer names")
    return tuple(str(x) for x in raw)


def parse(raw, source: str = "<config>") -> Keychain:
    """Validate the loaded YAML; raise ConfigError with a clear message."""
    prefix = f"BARONG_MANAGEMENT_API_CONFIG {source}"
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix}: expected a mapping with `keychain` and `scopes` at the top level")
    unknown = set(raw) - {"keychain", "scopes", "jwt"}
    if unknown:
        raise ConfigError(f"{prefix}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))} "
                          "(expected keychain, scopes, jwt)")
    chain = Keychain(source=source)
    keychain = raw.get("keychain") or {}
    if not isinstance(keychain, dict):
        raise ConfigError(f"{prefix}: `keychain` must be a mapping of signer name → {{algorithm, value}}")
    for name, entry in keychain.items():
        name = str(name)
        if not isinstance(entry, dict):
            raise ConfigError(f"{prefix}: keychain.{name} must be a mapping with `algorithm` and `value`")
        try:
            chain.keys[name] = load_verify_key(name, str(entry.get("algorithm") or ""), entry.get("value"))
        except ValueError as exc:
            raise ConfigError(f"{prefix}: keychain.{name}: {exc}") from None
    scopes = raw.get("scopes") or {}
    if not isinstance(scopes, dict):
        raise ConfigError(f"{prefix}: `scopes` must be a mapping of scope name → signers")
    for name, entry in scopes.items():
        name = str(name)
        if not isinstance(entry, dict):
            raise ConfigError(f"{prefix}: scopes.{name} must be a mapping with permitted_signers and "
                              "mandatory_signers")
        permitted = _signer_list(f"{prefix}: scopes.{name}.permitted_signers", entry.get("permitted_signers"))
        mandatory = _signer_list(f"{prefix}: scopes.{name}.mandatory_signers", entry.get("mandatory_signers"))
        if not mandatory:
            raise ConfigError(f"{prefix}: scopes.{name}.mandatory_signers must name at least one signer")
        for signer in permitted + mandatory:
            if signer not in chain.keys:
                raise ConfigError(f"{prefix}: scopes.{name} names signer {signer!r}, which is not in the keychain")
        missing = [s for s in mandatory if s not in permitted]
        if missing:
            raise ConfigError(f"{prefix}: scopes.{name}: mandatory signer(s) {', '.join(missing)} must also be "
                              "permitted_signers")
        chain.scopes[name] = Scope(permitted, mandatory)
    jwt_opts = raw.get("jwt") or {}
    if not isinstance(jwt_opts, dict):
        raise ConfigError(f"{prefix}: `jwt` must be a mapping of claim options")
    try:
        chain.options = ClaimOptions.from_config(jwt_opts)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{prefix}: jwt: {exc}") from None
    return chain


def load(path: str | Path) -> Keychain:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"BARONG_MANAGEMENT_API_CONFIG {path}: file not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"BARONG_MANAGEMENT_API_CONFIG {path}: not valid YAML ({exc})") from None
    return parse(raw, str(path))


def init_app(app: Flask, path: str | Path | None = None) -> Keychain:
    """Load (or reload, e.g. in tests) the keychain into the app."""
    chain = load(path or app.config["BARONG_MANAGEMENT_API_CONFIG"])
    app.extensions[EXTENSION] = chain
    return chain


def keychain() -> Keychain:
    return current_app.extensions[EXTENSION]

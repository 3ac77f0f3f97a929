"""Service configuration: defaults, then a TOML file, then environment variables, then overrides."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "PNEN_CDS_"


@dataclass(frozen=True)
class Config:
    """Everything the service reads from its environment (see docs/configuration in the README)."""

    public_url: str = "http://127.0.0.1:8080"
    trusted_issuers_file: str | None = None
    auth: str = "jwt"
    database_url: str = "sqlite:///pnen-cds.sqlite3"
    valuesets_dir: str | None = None
    # None: {public_url}/app/launch (the dashboard served here); "": no SMART link on cards.
    smart_app_url: str | None = None
    cors_origins: tuple[str, ...] = ()
    # The dashboard's OAuth client id, as registered with the EHR's SMART authorization server.
    smart_client_id: str = "pnen-cds-dashboard"
    fhir_timeout: float = 5.0
    fhir_max_pages: int = 20
    max_request_bytes: int = 5 * 1024 * 1024
    # None: {public_url}/rules (the rule pages served here); "": cards carry no source.url.
    rule_url_base: str | None = None
    dev: bool = False
    # Permit an http:// fhirServer (still allow-listed): loopback tests and benchmarks only.
    allow_insecure_fhir: bool = False
    # Local clinical defaults (consensus-rules.md, "Local defaults"); cards that use one say so.
    local_defaults: Mapping[str, float] = field(default_factory=dict)

    @property
    def auth_enabled(self) -> bool:
        """True unless authentication is explicitly off."""
        return self.auth != "off"


_TUPLE_KEYS = {"cors_origins"}
_FLOAT_KEYS = {"fhir_timeout"}
_INT_KEYS = {"fhir_max_pages", "max_request_bytes"}
_BOOL_KEYS = {"dev", "allow_insecure_fhir"}


def _coerce(key: str, raw: Any) -> Any:
    if key in _TUPLE_KEYS:
        if isinstance(raw, str):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return tuple(str(part) for part in raw)
    if key in _FLOAT_KEYS:
        return float(raw)
    if key in _INT_KEYS:
        return int(raw)
    if key in _BOOL_KEYS:
        return raw if isinstance(raw, bool) else str(raw).lower() in {"1", "true", "yes", "on"}
    return raw


def load_config(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Build the configuration: defaults < TOML file (PNEN_CDS_CONFIG) < environment < overrides."""
    env = os.environ if environ is None else environ
    names = {f.name for f in fields(Config)}
    values: dict[str, Any] = {}
    toml_path = env.get(ENV_PREFIX + "CONFIG")
    if toml_path:
        with Path(toml_path).open("rb") as handle:
            for key, raw in tomllib.load(handle).items():
                if key in names:
                    values[key] = _coerce(key, raw)
    local_defaults = dict(values.pop("local_defaults", {}) or {})
    for name in names - {"local_defaults"}:
        raw_env = env.get(ENV_PREFIX + name.upper())
        if raw_env is not None:
            values[name] = _coerce(name, raw_env)
    for key, raw_env in env.items():
        if key.startswith(ENV_PREFIX + "DEFAULT_"):
            local_defaults[key[len(ENV_PREFIX + "DEFAULT_") :].lower().replace("_", "-")] = float(
                raw_env
            )
    config = replace(Config(), **values)
    if overrides:
        extra = dict(overrides)
        local_defaults.update(extra.pop("local_defaults", {}) or {})
        config = replace(config, **{k: _coerce(k, v) for k, v in extra.items()})
    if config.dev and not config.cors_origins:
        config = replace(config, cors_origins=("*",))
    return _served_defaults(replace(config, local_defaults=local_defaults))


def _served_defaults(config: Config) -> Config:
    """Unset links point at what the service serves itself: rule pages and the dashboard."""
    base = config.public_url.rstrip("/")
    if config.rule_url_base is None:
        config = replace(config, rule_url_base=f"{base}/rules")
    if config.smart_app_url is None:
        config = replace(config, smart_app_url=f"{base}/app/launch")
    return config

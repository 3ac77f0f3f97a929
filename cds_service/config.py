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
    smart_app_url: str | None = None
    cors_origins: tuple[str, ...] = ()
    fhir_timeout: float = 5.0
    fhir_max_pages: int = 20
    # One FHIR search page may be as large as a whole request (a record in prefetch fits in it).
    fhir_max_page_bytes: int = 5 * 1024 * 1024
    # Resources fetched per call, all keys and pages together (the benchmark record has 2,000).
    fhir_max_resources: int = 20_000
    max_request_bytes: int = 5 * 1024 * 1024
    max_feedback_entries: int = 100
    # gunicorn: threads per worker, and seconds a client has to send one request's headers and body.
    threads: int = 4
    read_timeout: float = 10.0
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
_FLOAT_KEYS = {"fhir_timeout", "read_timeout"}
_INT_KEYS = {
    "fhir_max_pages",
    "fhir_max_page_bytes",
    "fhir_max_resources",
    "max_request_bytes",
    "max_feedback_entries",
    "threads",
}
# Feedback entries per request: one multi-row INSERT (SQLite binds at most 32,766 values).
MAX_FEEDBACK_ENTRIES_LIMIT = 1000
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
    if not 1 <= config.max_feedback_entries <= MAX_FEEDBACK_ENTRIES_LIMIT:
        raise ValueError(f"max_feedback_entries must be between 1 and {MAX_FEEDBACK_ENTRIES_LIMIT}")
    return replace(config, local_defaults=local_defaults)

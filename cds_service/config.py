"""Service configuration: defaults, then a TOML file, then environment variables, then overrides."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from consensus.settings import SettingValueError, UnknownSettingError, check_local_defaults

ENV_PREFIX = "PNEN_CDS_"
DEFAULT_PREFIX = ENV_PREFIX + "DEFAULT_"


class ConfigError(ValueError):
    """A setting that cannot be used: the message names it, its value and what is allowed."""


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
    max_request_bytes: int = 5 * 1024 * 1024
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


_AUTH_MODES = ("jwt", "off")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(key: str, raw: Any, where: str) -> Any:
    """The setting's typed value; ConfigError naming `where` (variable or TOML key) if invalid."""
    if raw is None:  # an override that unsets an optional setting
        return None
    try:
        if key in _TUPLE_KEYS:
            if isinstance(raw, str):
                return tuple(part.strip() for part in raw.split(",") if part.strip())
            return tuple(str(part) for part in raw)
        if key in _FLOAT_KEYS:
            value = float(raw)
            if not value > 0:
                raise ValueError
            return value
        if key in _INT_KEYS:
            number = int(raw)
            if number < 1:
                raise ValueError
            return number
    except (TypeError, ValueError):
        kind = "a positive number" if key in _FLOAT_KEYS else "a positive whole number"
        if key in _TUPLE_KEYS:
            kind = "a comma-separated list"
        raise ConfigError(f"{where}={raw!r}: expected {kind}") from None
    if key in _BOOL_KEYS:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text not in _TRUE | _FALSE:
            raise ConfigError(f"{where}={raw!r}: expected true or false")
        return text in _TRUE
    if key == "auth" and raw not in _AUTH_MODES:
        raise ConfigError(f"{where}={raw!r}: expected one of {', '.join(_AUTH_MODES)}")
    if not isinstance(raw, str):
        raise ConfigError(f"{where}={raw!r}: expected a string")
    return raw


def _local_default(where: str, raw: Any) -> float:
    """A local default's number; ConfigError naming `where` when it is not one."""
    if isinstance(raw, bool):
        raise ConfigError(f"{where}={raw!r}: expected a number")
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}={raw!r}: expected a number") from None


def _read_toml(
    path_text: str, names: set[str], origins: dict[str, str]
) -> tuple[dict[str, Any], dict[str, float]]:
    """Settings and local defaults from the TOML file; keys may use '-' or '_' alike."""
    path = Path(path_text)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{ENV_PREFIX}CONFIG={path_text}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{ENV_PREFIX}CONFIG={path_text}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{ENV_PREFIX}CONFIG={path_text}: not valid TOML ({exc})") from None
    values: dict[str, Any] = {}
    local: dict[str, float] = {}
    for key, raw in data.items():
        name = key.replace("-", "_")
        if name == "local_defaults":
            if not isinstance(raw, dict):
                raise ConfigError(f"{path_text}: [local_defaults] must be a table")
            for item, number in raw.items():
                where = f"{path_text}: local_defaults.{item}"
                local[item.replace("_", "-")] = _local_default(where, number)
                origins[item.replace("_", "-")] = where
        elif name in names:
            values[name] = _coerce(name, raw, f"{path_text}: {key}")
        else:
            known = ", ".join(sorted(names | {"local_defaults"}))
            raise ConfigError(f"{path_text}: unknown setting {key!r} (known: {known})")
    return values, local


def load_config(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Build the configuration: defaults < TOML file (PNEN_CDS_CONFIG) < environment < overrides."""
    env = os.environ if environ is None else environ
    names = {f.name for f in fields(Config)}
    names.discard("local_defaults")
    values: dict[str, Any] = {}
    local_defaults: dict[str, float] = {}
    origins: dict[str, str] = {}  # local default → where it was set, for error messages
    toml_path = env.get(ENV_PREFIX + "CONFIG")
    if toml_path:
        values, local_defaults = _read_toml(toml_path, names, origins)
    for name in names:
        variable = ENV_PREFIX + name.upper()
        raw_env = env.get(variable)
        if raw_env is not None:
            values[name] = _coerce(name, raw_env, variable)
    for key, raw_env in env.items():
        if key.startswith(DEFAULT_PREFIX):
            name = key[len(DEFAULT_PREFIX) :].lower().replace("_", "-")
            local_defaults[name] = _local_default(key, raw_env)
            origins[name] = key
    config = replace(Config(), **values)
    if overrides:
        extra = dict(overrides)
        local_defaults.update(extra.pop("local_defaults", {}) or {})
        config = replace(config, **{k: _coerce(k, v, k) for k, v in extra.items()})
    if config.dev and not config.cors_origins:
        config = replace(config, cors_origins=("*",))
    _check_local_defaults(local_defaults, origins)
    return replace(config, local_defaults=local_defaults)


def _check_local_defaults(local_defaults: Mapping[str, float], origins: Mapping[str, str]) -> None:
    """ConfigError naming where an unknown or out-of-range local default was set."""
    for name, value in local_defaults.items():
        try:
            check_local_defaults({name: value})
        except (UnknownSettingError, SettingValueError) as exc:
            message = str(exc.args[0] if exc.args else exc)
            raise ConfigError(f"{origins.get(name, name)}: {message}") from None

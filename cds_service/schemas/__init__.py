"""JSON Schemas (draft 2020-12) for CDS Hooks 2.0.1 bodies, and validation errors by path."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Final
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped, unused-ignore]
from jsonschema.protocols import Validator  # type: ignore[import-untyped, unused-ignore]

__all__ = ["SCHEMA_NAMES", "errors", "format_path", "load_schema", "validator"]

SCHEMA_NAMES: Final[tuple[str, ...]] = ("request", "response", "discovery", "feedback")

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")
_NO_SPACE = re.compile(r"^[^\s\x00-\x1f\x7f]+$")
_SIMPLE_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$\-]*$")
_MAX_REPR = 80
_JSON_TYPES: Final[tuple[tuple[type, str], ...]] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)

PathPart = str | int


def _is_date_time(value: object) -> bool:
    """An RFC 3339 date-time with a time zone (jsonschema checks none without extras)."""
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.upper())  # raises ValueError on a day or hour out of range
    return True


def _is_uri(value: object) -> bool:
    """An absolute URI (a scheme; a host for http and https) without spaces."""
    if not isinstance(value, str):
        return True
    if not _NO_SPACE.match(value):
        return False
    parts = urlsplit(value)  # raises ValueError on a malformed IPv6 host
    if not _SCHEME.match(parts.scheme):
        return False
    if parts.scheme.lower() in ("http", "https"):
        return bool(parts.hostname)
    return bool(parts.netloc or parts.path)


def _format_checker() -> FormatChecker:
    """jsonschema's format checks plus date-time and uri, which it skips without extras."""
    checker = FormatChecker()
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    checker.checks("uri", raises=ValueError)(_is_uri)
    return checker


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed JSON Schema `name` (one of SCHEMA_NAMES); shared, so do not mutate it."""
    if name not in SCHEMA_NAMES:
        raise ValueError(f"unknown schema {name!r}; expected one of {', '.join(SCHEMA_NAMES)}")
    text = resources.files(__name__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def validator(name: str) -> Validator:
    """A cached draft 2020-12 validator for schema `name`, checking formats."""
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    checker = _format_checker()
    result: Validator = Draft202012Validator(schema, format_checker=checker)
    return result


def _json_type(value: object) -> str:
    """The JSON type name of a Python value decoded from JSON."""
    if value is None:
        return "null"
    for py_type, json_name in _JSON_TYPES:
        if isinstance(value, py_type):
            return json_name
    return type(value).__name__


def _short(value: object) -> str:
    """A repr of value cut to a readable length."""
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 1] + "…"


def format_path(parts: Iterable[PathPart]) -> str:
    """A dotted path such as `cards[0].summary`; keys that are not identifiers go in brackets."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _SIMPLE_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _message(keyword: str | None, value: Any, instance: object, default: str) -> str:
    """A short message for a failed keyword, without echoing large instances."""
    if keyword == "type":
        if instance is None:
            return "must not be null"
        expected = [value] if isinstance(value, str) else list(value)
        return f"expected {' or '.join(expected)}, got {_json_type(instance)}"
    if keyword in ("minLength", "minItems", "minProperties") and value == 1:
        return f"must not be empty, got {_short(instance)}"
    if keyword == "maxLength" and isinstance(instance, str):
        return f"must be at most {value} characters long, got {len(instance)}"
    if keyword == "enum":
        return f"{_short(instance)} is not one of {', '.join(map(repr, value))}"
    if keyword == "const":
        return f"must be {value!r}, got {_short(instance)}"
    if keyword == "pattern":
        return f"{_short(instance)} does not match {value}"
    if keyword == "format":
        return f"{_short(instance)} is not a valid {value}"
    return default if len(default) <= 200 else default[:199] + "…"


def _describe(error: Any) -> Iterator[tuple[tuple[PathPart, ...], str]]:
    """(path parts, message) pairs for one jsonschema error, naming missing and extra keys."""
    base: tuple[PathPart, ...] = tuple(error.absolute_path)
    keyword: str | None = error.validator
    value: Any = error.validator_value
    instance: object = error.instance
    if keyword == "required" and isinstance(instance, dict):
        for key in value:
            if key not in instance:
                yield (*base, key), f"{key!r} is a required property"
    elif keyword == "dependentRequired" and isinstance(instance, dict):
        for key, needed in value.items():
            if key in instance:
                for other in needed:
                    if other not in instance:
                        yield (*base, key), f"{other!r} is required when {key!r} is present"
    elif keyword == "additionalProperties" and value is False and isinstance(instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = schema.get("properties", {})
        patterns = list(schema.get("patternProperties", {}))
        for key in instance:
            if key not in known and not any(re.search(p, key) for p in patterns):
                yield (*base, key), "unexpected property"
    elif keyword == "not" or error.schema is False:
        yield base, "not allowed here"
    else:
        yield base, _message(keyword, value, instance, str(error.message))


def _sort_key(parts: tuple[PathPart, ...]) -> tuple[tuple[int, int, str], ...]:
    """Document order: array indexes numerically, keys alphabetically."""
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in parts)


def errors(name: str, instance: object) -> list[tuple[str, str]]:
    """(path, message) for every violation of schema `name`, sorted by path; [] when valid."""
    found: dict[tuple[tuple[PathPart, ...], str], None] = {}
    document: Any = instance  # any decoded JSON value
    for error in validator(name).iter_errors(document):
        for parts, message in _describe(error):
            found[(parts, message)] = None
    ordered = sorted(found, key=lambda item: (_sort_key(item[0]), item[1]))
    return [(format_path(parts), message) for parts, message in ordered]

"""JSON Schemas (draft 2020-12) for CDS Hooks 2.0.1 bodies, and validation errors by path."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
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
Check = Callable[[Any], bool]

# What `_compile` understands: the keywords of the request schema (others disable the fast check).
_ANNOTATIONS: Final[frozenset[str]] = frozenset({"$schema", "$id", "title", "description"})
_KEYWORDS: Final[frozenset[str]] = _ANNOTATIONS | {
    "type",
    "required",
    "properties",
    "additionalProperties",
    "dependentRequired",
    "minLength",
    "pattern",
    "format",
    "const",
    "items",
}
# JSON type → Python types of decoded JSON; narrower than jsonschema where it may be (1.0 is an
# "integer" to jsonschema, not here): the fast check may only say "valid" when jsonschema would.
_PY_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


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


def _valid(_value: object) -> bool:
    return True


def _all_of(checks: list[Check]) -> Check:
    """One predicate from several (a loop: cheaper than all() over a generator)."""
    if len(checks) == 1:
        return checks[0]

    def every(value: object) -> bool:
        for check in checks:
            if not check(value):
                return False
        return True

    return every


def _type_check(names: list[str]) -> Check | None:
    if not all(name in _PY_TYPES for name in names):
        return None
    types = tuple(t for name in names for t in _PY_TYPES[name])
    if bool in types or int not in types:
        return lambda value: isinstance(value, types)
    # bool is an int in Python, never an integer or a number in JSON
    return lambda value: isinstance(value, types) and not isinstance(value, bool)


def _object_check(schema: dict[str, Any], checker: FormatChecker) -> Check | None:
    """required, properties, additionalProperties and dependentRequired, in one pass."""
    required = tuple(schema.get("required", ()))
    properties: dict[str, Check] = {}
    for key, subschema in schema.get("properties", {}).items():
        compiled = _compile(subschema, checker)
        if compiled is None:
            return None
        properties[key] = compiled
    extra_schema = schema.get("additionalProperties", True)
    extra = None if extra_schema is True else _compile(extra_schema, checker)
    if extra_schema is not True and extra is None:
        return None
    dependent = tuple(schema.get("dependentRequired", {}).items())

    def check(value: object) -> bool:
        if not isinstance(value, dict):
            return True  # object keywords say nothing of other types
        for key in required:
            if key not in value:
                return False
        for key, needed in dependent:
            if key in value and not all(other in value for other in needed):
                return False
        for key, item in value.items():
            known = properties.get(key)
            if known is not None:
                if not known(item):
                    return False
            elif extra is not None and not extra(item):
                return False
        return True

    return check


def _compile(schema: Any, checker: FormatChecker) -> Check | None:
    """A predicate true only of instances valid against `schema`, or None if it cannot tell.

    It understands the few keywords of the request schema, and may answer False for a valid
    instance (then the full validator decides): validating a request costs a pass over its top
    level instead of jsonschema's descent into every prefetch key.
    """
    if schema is True:
        return _valid
    if schema is False:
        return lambda _value: False
    if not isinstance(schema, dict) or not set(schema) <= _KEYWORDS:
        return None
    checks: list[Check] = []
    if "type" in schema:
        names = schema["type"]
        type_check = _type_check([names] if isinstance(names, str) else list(names))
        if type_check is None:
            return None
        checks.append(type_check)
    if {"required", "properties", "additionalProperties", "dependentRequired"} & set(schema):
        object_check = _object_check(schema, checker)
        if object_check is None:
            return None
        checks.append(object_check)
    if "items" in schema:
        item = _compile(schema["items"], checker)
        if item is None:
            return None
        checks.append(lambda value: not isinstance(value, list) or all(map(item, value)))
    if "minLength" in schema:
        least = schema["minLength"]
        checks.append(lambda value: not isinstance(value, str) or len(value) >= least)
    if "pattern" in schema:
        pattern = re.compile(schema["pattern"])  # jsonschema: re.search
        checks.append(lambda value: not isinstance(value, str) or bool(pattern.search(value)))
    if "format" in schema:
        name = schema["format"]
        checks.append(lambda value: checker.conforms(value, name))
    if "const" in schema:
        const = schema["const"]
        if not isinstance(const, str):
            return None
        checks.append(lambda value: isinstance(value, str) and value == const)
    return _all_of(checks) if checks else _valid


@cache
def _fast_check(name: str) -> Check | None:
    """Schema `name` compiled by `_compile` (None if it uses keywords not known there)."""
    return _compile(load_schema(name), _format_checker())


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
    fast = _fast_check(name)
    if fast is not None and fast(instance):
        return []  # valid: jsonschema runs only to say what is wrong
    found: dict[tuple[tuple[PathPart, ...], str], None] = {}
    document: Any = instance  # any decoded JSON value
    for error in validator(name).iter_errors(document):
        for parts, message in _describe(error):
            found[(parts, message)] = None
    ordered = sorted(found, key=lambda item: (_sort_key(item[0]), item[1]))
    return [(format_path(parts), message) for parts, message in ordered]

"""Defensive readers for FHIR JSON: wrong shapes raise ShapeError with the element path."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fhir_mappings.facts import PRELIMINARY
from pnen_i18n import _

_DATE = re.compile(r"^(\d{4})(?!\d)(?:-(\d{2})(?:-(\d{2}))?)?")  # '10000-01-01' is no date
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_LOCAL_REF = re.compile(r"([A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


class ShapeError(ValueError):
    """A resource element has the wrong JSON shape; the message starts with its path."""


def obj(parent: dict[str, Any], key: str, path: str = "") -> dict[str, Any] | None:
    """An optional object element."""
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ShapeError(_("{element}: expected an object", element=path + key))
    return value


def arr(parent: dict[str, Any], key: str, path: str = "") -> list[Any]:
    """An optional array element ([] when absent)."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ShapeError(_("{element}: expected an array", element=path + key))
    return value


def objects(parent: dict[str, Any], key: str, path: str = "") -> list[dict[str, Any]]:
    """An optional array of objects."""
    items = arr(parent, key, path)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            element = f"{path}{key}[{i}]"
            raise ShapeError(_("{element}: expected an object", element=element))
    return items


def string(parent: dict[str, Any], key: str, path: str = "") -> str | None:
    """An optional string element."""
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ShapeError(_("{element}: expected a string", element=path + key))
    return value


def number(parent: dict[str, Any], key: str, path: str = "") -> float | None:
    """An optional finite number element (booleans are not numbers)."""
    value = parent.get(key)
    if value is None:
        return None
    kind = type(value)
    if kind is float:
        if value - value == 0.0:  # false for NaN and ±infinity
            return value  # type: ignore[no-any-return]
    elif kind is int:
        try:
            return float(value)
        except OverflowError:
            pass
    else:
        raise ShapeError(_("{element}: expected a number", element=path + key))
    raise ShapeError(_("{element}: expected a finite number", element=path + key))


def fhir_date(parent: dict[str, Any], key: str, path: str = "") -> date | None:
    """A FHIR date or dateTime, reduced to its day (partial dates take the first day)."""
    text = parent.get(key)  # string(), inlined: a record has a few dates per resource
    if text is None:
        return None
    if not isinstance(text, str):
        raise ShapeError(_("{element}: expected a string", element=path + key))
    if len(text) >= 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit():
        try:  # the common full date or dateTime: parsed in C
            return date.fromisoformat(text[:10])
        except ValueError:
            pass
    match = _DATE.match(text)
    if not match:
        raise ShapeError(_("{element}: not a FHIR date", element=path + key))
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    try:
        return date(int(year), int(month), int(day))
    except ValueError as exc:
        raise ShapeError(_("{element}: not a valid date", element=path + key)) from exc


def status_code(resource: dict[str, Any], key: str) -> str | None:
    """A CodeableConcept status (clinicalStatus, verificationStatus): its first code."""
    concept = obj(resource, key)
    if concept is None:
        return None
    for coding in objects(concept, "coding", f"{key}."):
        code = string(coding, "code", f"{key}.coding.")
        if code:
            return code
    return None


def reference(parent: dict[str, Any], key: str, path: str = "") -> str | None:
    """The `reference` string of a Reference element, or None."""
    ref = obj(parent, key, path)
    return string(ref, "reference", f"{path}{key}.") if ref else None


def concept_text(concept: dict[str, Any] | None) -> str:
    """A CodeableConcept's text, else its first display, else its first code."""
    if not concept:
        return ""
    text = concept.get("text")
    if isinstance(text, str) and text:
        return text
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict):
            for key in ("display", "code"):
                value = coding.get(key)
                if isinstance(value, str) and value:
                    return value
    return ""


def all_text(concept: dict[str, Any] | None) -> str:
    """The text and every coding display of a CodeableConcept, joined, for text fallbacks."""
    if not concept:
        return ""
    parts = [concept["text"]] if isinstance(concept.get("text"), str) else []
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and isinstance(coding.get("display"), str):
            parts.append(coding["display"])
    return " | ".join(parts)


def local_ref(ref: str | None) -> str | None:
    """'Type/id' of a relative, absolute or versioned reference ('…/Specimen/s1/_history/2')."""
    if ref is None:
        return None
    match = _LOCAL_REF.search(ref)
    return match.group(1) if match else ref


def ref_of(resource: dict[str, Any]) -> str:
    """'Type/id' of a resource ('Type/?' without a usable id)."""
    rid = resource.get("id")
    kind = resource.get("resourceType", "?")
    return f"{kind}/{rid if isinstance(rid, str) and FHIR_ID.match(rid) else '?'}"


def versioned_ref(resource: dict[str, Any], ref: str | None = None) -> str:
    """'Type/id/_history/v' when a versionId is present, else 'Type/id' (for the audit log).

    `ref`: the resource's ref_of when the caller has it already.
    """
    meta = resource.get("meta")
    version = meta.get("versionId") if isinstance(meta, dict) else None
    base = ref_of(resource) if ref is None else ref
    return f"{base}/_history/{version}" if isinstance(version, str) and version else base


def result_status_flags(status: str | None, counted: frozenset[str]) -> tuple[str, ...] | None:
    """Flags for a result status: None when it must not count, ('preliminary',) when flagged."""
    if status in counted:
        return ()
    if status == "preliminary":
        return (PRELIMINARY,)
    return None

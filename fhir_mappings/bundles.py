"""Prefetch values and search Bundles → resources, next-page links, and what was wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fhir_mappings.facts import DataIssue
from fhir_mappings.shape import FHIR_ID
from pnen_i18n import _

_ERROR_SEVERITIES = {"error", "fatal"}


@dataclass
class Page:
    """The resources of one prefetch value or search page."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    next_url: str | None = None
    issues: list[DataIssue] = field(default_factory=list)
    failed: bool = False
    """True when the value is an error (OperationOutcome, or an error outcome entry): fetch it."""
    aliases: dict[str, str] = field(default_factory=dict)
    """Entry fullUrl (`urn:uuid:…`, absolute URL) → 'Type/id', for references that use it."""


def _outcome_is_error(resource: dict[str, Any]) -> bool:
    issues = resource.get("issue")
    if not isinstance(issues, list):
        return True
    return any(isinstance(i, dict) and i.get("severity") in _ERROR_SEVERITIES for i in issues)


def read_page(key: str, value: Any) -> Page:
    """Read one prefetch value: None → no data; OperationOutcome → failed; Bundle → entries."""
    page = Page()
    if value is None:
        return page
    if not isinstance(value, dict):
        page.issues.append(DataIssue(key, "?", _("prefetch value: expected an object or null")))
        page.failed = True
        return page
    kind = value.get("resourceType")
    if kind == "OperationOutcome":
        page.failed = True
        return page
    if kind != "Bundle":
        page.resources.append(value)
        return page
    links = value.get("link")
    if isinstance(links, list):
        for link in links:
            if isinstance(link, dict) and link.get("relation") == "next":
                url = link.get("url")
                if isinstance(url, str) and url:
                    page.next_url = url
    entries = value.get("entry")
    if entries is None:
        return page
    if not isinstance(entries, list):
        page.issues.append(DataIssue(key, "Bundle", _("entry: expected an array")))
        return page
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problem = _("entry: expected an object")
            page.issues.append(DataIssue(key, f"Bundle.entry[{i}]", problem))
            continue
        resource = entry.get("resource")
        search = entry.get("search")
        mode = search.get("mode") if isinstance(search, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome":
            if mode == "outcome" and _outcome_is_error(resource):
                page.failed = True
            continue
        if resource is None:
            continue
        page.resources.append(resource)
        if "fullUrl" in entry:  # no call for an entry without one
            _add_alias(page.aliases, entry, resource)
    return page


def _add_alias(aliases: dict[str, str], entry: dict[str, Any], resource: Any) -> None:
    """Remember an entry's fullUrl when references may name the resource by it."""
    url = entry.get("fullUrl")
    if not isinstance(url, str) or not url or not isinstance(resource, dict):
        return
    kind, rid = resource.get("resourceType"), resource.get("id")
    if isinstance(kind, str) and isinstance(rid, str) and FHIR_ID.match(rid):
        aliases[url] = f"{kind}/{rid}"


def bundle_aliases(bundle: Any) -> dict[str, str]:
    """Each entry's fullUrl → 'Type/id' (a Bundle file or a transaction given whole)."""
    aliases: dict[str, str] = {}
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            _add_alias(aliases, entry, entry.get("resource"))
    return aliases


def bundle_resources(bundle: Any) -> list[Any]:
    """The resources of a Bundle's entries (a Bundle whose `type` may be missing)."""
    if not isinstance(bundle, dict):
        return []
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return []
    return [e.get("resource") for e in entries if isinstance(e, dict) and "resource" in e]

"""Collects a patient's resources from prefetch, fetching absent keys from fhirServer."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from cds_service.errors import precondition_failed
from cds_service.fhir_client import FetchError, FetchLimit, FhirClient
from fhir_mappings.bundles import Page, read_page
from fhir_mappings.facts import DataIssue
from fhir_mappings.record import Item

log = logging.getLogger("pnen_cds.fetch")
# Enough threads to fetch every prefetch key of a request at once.
FETCH_THREADS = 16
_POOL = ThreadPoolExecutor(max_workers=FETCH_THREADS, thread_name_prefix="fhir-fetch")


@dataclass
class Gathered:
    """Resources by prefetch key, the keys that had to be fetched, and data issues."""

    items: list[Item] = field(default_factory=list)
    issues: list[DataIssue] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    """Bundle entry fullUrl → 'Type/id' (references inside a Bundle may use `urn:uuid:`)."""


def gather(
    prefetch: Mapping[str, Any],
    templates: Mapping[str, str],
    patient_id: str,
    client: Callable[[], FhirClient | None],
) -> Gathered:
    """Every key's resources; 412 (ServiceError) naming the keys that cannot be had.

    A key lost to a fetch limit (page size, resources per call, pages, deadline) has the limit
    named in the 412, so that the EHR's team knows what to change.
    """
    result = Gathered()
    to_fetch: dict[str, str] = {}
    pages: dict[str, Page] = {}
    for key, template in templates.items():
        if key in prefetch:
            page = read_page(key, prefetch[key])
            if page.failed:
                result.issues.extend(page.issues)
            else:
                pages[key] = page
                continue
        to_fetch[key] = template.replace("{{context.patientId}}", patient_id)
    needed = list(to_fetch) + [k for k, p in pages.items() if p.next_url]
    fhir = client() if needed else None
    missing: list[str] = []
    limits: list[str] = []
    if needed and fhir is None:
        missing = needed
    elif fhir is not None:
        server = fhir

        def fetch(key: str) -> tuple[str, Page | FetchError]:
            try:
                if key in to_fetch:
                    return key, server.search(key, to_fetch[key])
                return key, server.follow(key, pages[key])
            except FetchError as exc:
                return key, exc

        # Each fetch runs in the request's context (copied per task: a Context runs in one thread
        # at a time), so what it reports speaks the request's language.
        context = contextvars.copy_context()
        outcomes = (
            [fetch(needed[0])]
            if len(needed) == 1
            else list(_POOL.map(lambda key: context.copy().run(fetch, key), needed))
        )
        for key, fetched in outcomes:
            if isinstance(fetched, FetchError):
                # Logged here, in the request's thread (its correlation id); the reason names
                # no URL, token or resource, the server is shown without userinfo or query.
                log.warning(
                    "FHIR fetch refused or failed",
                    extra={"key": key, "reason": str(fetched), "fhir_server": server.shown_base},
                )
                if isinstance(fetched, FetchLimit):
                    limits.append(str(fetched))
                missing.append(key)
            else:
                pages[key] = fetched
                result.fetched.append(key)
    if missing:
        raise precondition_failed(missing, limits)
    for key in templates:
        if key in pages:
            result.items.extend(zip(repeat(key), pages[key].resources))  # (key, resource) pairs
            result.issues.extend(pages[key].issues)
            result.aliases.update(pages[key].aliases)
    return result

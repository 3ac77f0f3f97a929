"""The demo patients as FHIR Bundles for any R4 server: export them, or post them to one."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import requests

from pnen_demo.patients import DemoPatient, demo_patients, drafts_of, record_of

Resource = dict[str, Any]
FORMATS = ("transaction", "collection")


def transaction(resources: list[Resource]) -> Resource:
    """A transaction Bundle that creates or replaces each resource under its own id (PUT)."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{r['resourceType']}-{r['id']}",
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            }
            for r in resources
        ],
    }


def collection(resources: list[Resource], today: date) -> Resource:
    """A collection Bundle of the resources, stamped with the day its dates were written for."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": today.isoformat(),
        "entry": [
            {"fullUrl": f"urn:uuid:{r['resourceType']}-{r['id']}", "resource": r} for r in resources
        ],
    }


def bundle_for(
    patient: DemoPatient, today: date, form: str, *, with_drafts: bool = False
) -> Resource:
    """The patient's record with dates as of `today`, as a transaction or collection Bundle.

    `with_drafts` adds the patient's draft orders (status draft), for `pnen-cds evaluate
    --hook order-select/order-sign` on the file; a FHIR server gets the record only, since the
    EHR (or the CDS Hooks sandbox) drafts orders itself.
    """
    resources = record_of(patient, today)
    if with_drafts:
        resources += drafts_of(patient, today)
    return transaction(resources) if form == "transaction" else collection(resources, today)


def export(
    folder: Path, today: date, form: str = "transaction", *, with_drafts: bool = False
) -> list[Path]:
    """Write one Bundle file per demo patient into `folder`; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for patient in demo_patients():
        path = folder / f"{patient.id}.json"
        bundle = bundle_for(patient, today, form, with_drafts=with_drafts)
        text = json.dumps(bundle, indent=1, ensure_ascii=False)
        path.write_text(text + "\n", encoding="utf-8")
        written.append(path)
    return written


def load(
    fhir_server: str,
    today: date,
    token: str | None = None,
    report: Callable[[str], None] = print,
    timeout: float = 30,
) -> bool:
    """POST each demo patient's transaction Bundle to the server's base; True when all succeed."""
    headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    ok = True
    with requests.Session() as session:
        for patient in demo_patients():
            body = json.dumps(bundle_for(patient, today, "transaction"))
            try:
                response = session.post(
                    fhir_server.rstrip("/"), data=body, headers=headers, timeout=timeout
                )
            except requests.RequestException as exc:
                from cds_service.cli import network_reason

                # The server cannot be reached: the same for every patient, so said once.
                report(f"--fhir-server {fhir_server}: {network_reason(exc)}")
                return False
            good = response.status_code in (200, 201)
            report(f"{patient.id}: HTTP {response.status_code}")
            ok = ok and good
    return ok

"""`pnen-cds demo` and `pnen-cds fixtures`: the demo's side of the command line."""

from __future__ import annotations

import argparse
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pnen_demo.fhir_server import BANNER, create_fhir_app
from pnen_demo.fixtures import export, load
from pnen_demo.patients import DemoPatient, demo_patients
from pnen_demo.runner import run_in_thread

SCREENS = (("patient-view", "patient-view"), ("order-select", "rx-view"), ("order-sign", "rx-sign"))


def sandbox_urls(
    patient: DemoPatient, fhir_base: str, discovery: str, sandbox: str
) -> list[tuple[str, str]]:
    """(screen, URL) of the CDS Hooks sandbox for each screen that shows this patient's cards."""
    out = []
    for hook, screen in SCREENS:
        if hook != "patient-view" and not patient.drafts:
            continue
        query = {
            "fhirServiceUrl": fhir_base,
            "patientId": patient.id,
            "serviceDiscoveryURL": discovery,
            "hook": hook,
            "screen": screen,
        }
        out.append((screen, f"{sandbox}?{urlencode(query)}"))
    return out


def demo_text(service_url: str, fhir_base: str, sandbox: str) -> str:
    """What `pnen-cds demo` prints: the banner, the URLs, and the sandbox URL per patient."""
    discovery = f"{service_url}/cds-services"
    lines = [
        "=" * 100,
        BANNER,
        "=" * 100,
        f"CDS service (dev mode, no authentication): {discovery}",
        f"Rule pages:                                {service_url}/rules/",
        f"FHIR R4 server (open, demo patients):      {fhir_base}",
        f"SMART configuration:                       {fhir_base}/.well-known/smart-configuration",
        f"Dashboard, standalone launch:              {service_url}/app/launch?iss={fhir_base}",
        "",
        "CDS Hooks sandbox, per demo patient and screen:",
    ]
    for patient in demo_patients():
        lines += ["", f"{patient.id}: {patient.name}", f"  shows: {patient.shows}"]
        for screen, url in sandbox_urls(patient, fhir_base, discovery, sandbox):
            lines.append(f"  {screen:12} {url}")
    lines += [
        "",
        "The sandbox's Rx View drafts the medication you pick (e.g. temozolomide 250 MG Oral "
        "Capsule); it applies only the first action of a suggestion. Ctrl-C stops the demo.",
    ]
    return "\n".join(lines)


def start_demo(host: str, port: int, fhir_port: int, database_url: str | None) -> tuple[Any, Any]:
    """Start the service (dev mode) and the demo FHIR server; both running in threads."""
    from cds_service import create_app

    service_url = f"http://{host}:{port}"
    fhir_app = create_fhir_app(f"http://{host}:{fhir_port}", redirect_uris=[f"{service_url}/app/"])
    overrides: dict[str, Any] = {"dev": True, "auth": "off", "public_url": service_url}
    if database_url:
        overrides["database_url"] = database_url
    service = run_in_thread(create_app(overrides), host, port)
    fhir = run_in_thread(fhir_app, host, fhir_port)
    return service, fhir


def demo(args: argparse.Namespace) -> int:
    """Run the demo until interrupted."""
    from cds_service.loopback import is_loopback_host

    if not is_loopback_host(args.host):
        print("pnen-cds demo: binds loopback only (no authentication)", file=sys.stderr)
        return 2
    service, fhir = start_demo(args.host, args.port, args.fhir_port, args.database_url)
    print(demo_text(service.url, f"{fhir.url}/fhir", args.sandbox), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
        fhir.stop()
    return 0


def fixtures(args: argparse.Namespace) -> int:
    """Export the demo patients as Bundles, or load them into a FHIR server."""
    today = date.fromisoformat(args.today) if args.today else date.today()
    if args.action == "export":
        if args.with_drafts and args.format != "collection":
            print(
                "pnen-cds fixtures: --with-drafts needs --format collection (a FHIR server gets "
                "the record only; the EHR drafts orders itself)",
                file=sys.stderr,
            )
            return 2
        for path in export(Path(args.out), today, args.format, with_drafts=args.with_drafts):
            print(path)
        return 0
    return 0 if load(args.fhir_server, today, args.token) else 1

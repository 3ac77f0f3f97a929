"""Write the ready-made CDS Hooks requests of examples/ from the benchmark patient and drafts,
and an example feedback request.

Usage: python scripts/update_examples.py [--check]   (--check: exit 1 if examples/ is stale)

The requests are built by the same code as `pnen-cds request` (hooks.request_builder), with the
discovery templates of the shipped ValueSets and fixed hookInstance ids, so that they are stable.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cards.build import OVERRIDE_SYSTEM  # noqa: E402
from hooks.knowledge import load_knowledge  # noqa: E402
from hooks.prefetch import prefetch_plan  # noqa: E402
from hooks.request_builder import (  # noqa: E402
    bundle_resources,
    hook_request,
    patient_id_of,
    prefetch_for,
)
from scripts.generated_files import sync  # noqa: E402

EXAMPLES = ROOT / "examples"
PATIENT = ROOT / "tests" / "fixtures" / "benchmark-pnen-patient.json"
DRAFTS = EXAMPLES / "draft-orders.json"
# `pnen-cds demo`'s FHIR server on its default port: it holds the benchmark patient (bench-pnen).
FHIR_SERVER = "http://127.0.0.1:8081/fhir"
# A card uuid for the feedback example; the README's commands put a real card's uuid in its place.
FEEDBACK_CARD = "8d0d4c5e-6a5e-4d7b-9a55-0f1d6c1a0f01"
SELECTED = ["MedicationRequest/draft-cisplatin", "MedicationRequest/draft-etoposide"]


def requests() -> dict[str, dict[str, Any]]:
    """File name → request body."""
    record = bundle_resources(json.loads(PATIENT.read_text(encoding="utf-8")))
    drafts = bundle_resources(json.loads(DRAFTS.read_text(encoding="utf-8")))
    patient_id = patient_id_of(record)
    templates = prefetch_plan(load_knowledge().terms).templates
    prefetch = prefetch_for(record, templates).values
    return {
        "patient-view.json": hook_request(
            "patient-view",
            patient_id,
            prefetch=prefetch,
            hook_instance="8d0d4c5e-6a5e-4d7b-9a55-0f1d6c1a0001",
        ),
        "order-select.json": hook_request(
            "order-select",
            patient_id,
            prefetch=prefetch,
            drafts=drafts,
            selections=SELECTED,
            hook_instance="8d0d4c5e-6a5e-4d7b-9a55-0f1d6c1a0002",
        ),
        "order-sign.json": hook_request(
            "order-sign",
            patient_id,
            prefetch=prefetch,
            drafts=drafts,
            hook_instance="8d0d4c5e-6a5e-4d7b-9a55-0f1d6c1a0003",
        ),
        "patient-view-fhirserver.json": hook_request(
            "patient-view",
            patient_id,
            fhir_server=FHIR_SERVER,
            hook_instance="8d0d4c5e-6a5e-4d7b-9a55-0f1d6c1a0004",
        ),
        "feedback.json": {
            "feedback": [
                {
                    "card": FEEDBACK_CARD,
                    "outcome": "overridden",
                    "overrideReason": {
                        "reason": {"system": OVERRIDE_SYSTEM, "code": "discussed-at-mdt"},
                        "userComment": "discussed at the tumour board",
                    },
                    "outcomeTimestamp": "2026-06-01T10:00:00Z",
                }
            ]
        },
    }


def render(body: dict[str, Any]) -> str:
    """The file text of a request."""
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    """Write examples/, or with --check report whether it is up to date."""
    files = {EXAMPLES / name: render(body) for name, body in requests().items()}
    return sync(files, ROOT, "examples", "--check" in sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())

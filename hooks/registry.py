"""The service table: id → hook and handler; discovery is generated from it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from fhir_mappings.facts import PatientFacts
from fhir_mappings.record import Item
from hooks import order_select, order_sign, patient_view
from hooks.evaluation import HookResult
from hooks.knowledge import Knowledge
from hooks.prefetch import prefetch_plan
from hooks.request import HookRequest
from pnen_i18n import N_, _

Handler = Callable[[HookRequest, PatientFacts, Knowledge, date], HookResult]
USAGE = N_(
    "Needs the prefetch keys of this service (or fhirServer access to fetch them): Patient, "
    "Conditions, "
    "Observations (pathology, tumour markers, molecular, staging, surgical assessment), "
    "Specimens, DiagnosticReports (imaging), MedicationRequests/Statements/Administrations, "
    "ServiceRequests, Procedures, AllergyIntolerances. Synthetic use only until clinically "
    "validated locally."
)


@dataclass(frozen=True)
class Service:
    """One CDS service: its id, hook, wording and handler."""

    id: str
    hook: str
    title: str
    description: str
    handler: Handler


SERVICES: dict[str, Service] = {
    s.id: s
    for s in (
        Service(
            "pnen-patient-view",
            patient_view.HOOK,
            N_("pNEN liver metastases: consensus recommendations"),
            N_(
                "Imaging, PET tracer, biopsy and grading, molecular testing, surgery, transplant "
                "and systemic-therapy recommendations for pancreatic neuroendocrine neoplasms "
                "with liver metastases (2023 Chinese expert consensus; pNET management review)."
            ),
            patient_view.handle,
        ),
        Service(
            "pnen-order-select",
            order_select.HOOK,
            N_("pNEN liver metastases: order check on selection"),
            N_(
                "Checks a selected pNEN order (PET tracer, liver MRI, biopsy, resection, "
                "ablation, embolisation, chemotherapy, tumour markers) against the consensus and "
                "proposes the indicated alternative."
            ),
            order_select.handle,
        ),
        Service(
            "pnen-order-sign",
            order_sign.HOOK,
            N_("pNEN liver metastases: order check before signing"),
            N_(
                "Checks every pNEN order about to be signed against the consensus and proposes "
                "the indicated alternative."
            ),
            order_sign.handle,
        ),
    )
}


def evaluate_record(
    service: Service,
    request: HookRequest,
    items: Iterable[Item],
    knowledge: Knowledge,
    today: date,
    *,
    as_of: bool = False,
    aliases: Mapping[str, str] | None = None,
) -> tuple[PatientFacts, HookResult]:
    """Map a gathered record and run one service over it; `as_of` reads it as it stood on today.

    `aliases` maps Bundle entry fullUrls (e.g. `urn:uuid:…`) to `Type/id` for references.
    """
    facts = knowledge.mapper.map(request.patient_id, items, today, as_of=as_of, aliases=aliases)
    return facts, service.handler(request, facts, knowledge, today)


def discovery(knowledge: Knowledge) -> dict[str, Any]:
    """The discovery document (in the current locale): the services and their prefetch templates."""
    templates = prefetch_plan(knowledge.terms).templates
    return {
        "services": [
            {
                "hook": s.hook,
                "id": s.id,
                "title": _(s.title),
                "description": _(s.description),
                "prefetch": dict(templates),
                "usageRequirements": _(USAGE),
            }
            for s in SERVICES.values()
        ]
    }

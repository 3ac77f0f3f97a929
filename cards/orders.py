"""The order catalogue: how a suggested order becomes a draft FHIR R4 resource."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pnen_i18n import N_, _

PNEN = "http://pnen-cds.org/fhir/CodeSystem/pnen-lm"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@dataclass(frozen=True)
class OrderTemplate:
    """A coded orderable: ServiceRequest (imaging, procedure, test) or MedicationRequest."""

    resource_type: str
    system: str
    code: str
    text: str


ORDERS: dict[str, OrderTemplate] = {
    "pet-ssa": OrderTemplate("ServiceRequest", PNEN, "pet-ssa", N_("68Ga-SSA (DOTATATE) PET/CT")),
    "pet-fdg": OrderTemplate("ServiceRequest", PNEN, "pet-fdg", N_("18F-FDG PET/CT")),
    "pet-exendin": OrderTemplate(
        "ServiceRequest", PNEN, "pet-exendin", N_("68Ga-exendin-4 PET/CT")
    ),
    "pet-dopa": OrderTemplate("ServiceRequest", PNEN, "pet-dopa", N_("18F-DOPA PET/CT")),
    "ct-abdomen-pelvis-multiphase": OrderTemplate(
        "ServiceRequest",
        PNEN,
        "ct-abdomen-pelvis-multiphase",
        N_("Multiphasic contrast-enhanced CT abdomen and pelvis"),
    ),
    "ct-chest": OrderTemplate("ServiceRequest", PNEN, "ct-chest", N_("CT chest")),
    "mri-liver-hepatobiliary": OrderTemplate(
        "ServiceRequest",
        PNEN,
        "mri-liver-hepatobiliary",
        N_("MRI liver with hepatobiliary (liver-specific) contrast"),
    ),
    "mri-liver-dwi": OrderTemplate(
        "ServiceRequest",
        LOINC,
        "30670-4",
        N_("MRI liver without contrast, with diffusion-weighted imaging"),
    ),
    "mgmt-ihc": OrderTemplate("ServiceRequest", PNEN, "mgmt-ihc", N_("MGMT immunohistochemistry")),
    "eus-fnb": OrderTemplate(
        "ServiceRequest", PNEN, "eus-fnb", N_("EUS-guided fine-needle biopsy (FNB needle)")
    ),
    "liver-biopsy-percutaneous": OrderTemplate(
        "ServiceRequest",
        PNEN,
        "liver-biopsy-percutaneous",
        N_("Ultrasound-guided percutaneous liver biopsy"),
    ),
    "tae": OrderTemplate("ServiceRequest", PNEN, "tae", N_("Transarterial embolisation (TAE)")),
    "octreotide-lar": OrderTemplate("MedicationRequest", RXNORM, "7617", N_("octreotide LAR")),
    "lanreotide": OrderTemplate("MedicationRequest", RXNORM, "68092", N_("lanreotide")),
    "surufatinib": OrderTemplate("MedicationRequest", PNEN, "surufatinib", N_("surufatinib")),
    "oxaliplatin": OrderTemplate("MedicationRequest", RXNORM, "32592", N_("oxaliplatin")),
    "capecitabine": OrderTemplate("MedicationRequest", RXNORM, "194000", N_("capecitabine")),
    "temozolomide": OrderTemplate("MedicationRequest", RXNORM, "37776", N_("temozolomide")),
    "fluorouracil": OrderTemplate("MedicationRequest", RXNORM, "4492", N_("fluorouracil")),
    "everolimus": OrderTemplate("MedicationRequest", RXNORM, "141704", N_("everolimus")),
    "sunitinib": OrderTemplate("MedicationRequest", RXNORM, "357977", N_("sunitinib")),
}


def order_resource(key: str, patient_ref: str, resource_id: str) -> dict[str, Any]:
    """A draft, proposed FHIR R4 resource for a catalogue order (`code.text` in the locale)."""
    template = ORDERS[key]
    concept = {
        "coding": [{"system": template.system, "code": template.code, "display": template.text}],
        # What the clinician reads, in the request's language; the Coding keeps its display.
        "text": _(template.text),
    }
    resource: dict[str, Any] = {
        "resourceType": template.resource_type,
        "id": resource_id,
        "status": "draft",
        "intent": "proposal",
        "subject": {"reference": patient_ref},
    }
    if template.resource_type == "MedicationRequest":
        resource["medicationCodeableConcept"] = concept
    else:
        resource["code"] = concept
    return resource

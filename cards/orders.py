"""The order catalogue: how a suggested order becomes a draft FHIR R4 resource."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    "pet-ssa": OrderTemplate("ServiceRequest", PNEN, "pet-ssa", "68Ga-SSA (DOTATATE) PET/CT"),
    "pet-fdg": OrderTemplate("ServiceRequest", PNEN, "pet-fdg", "18F-FDG PET/CT"),
    "pet-exendin": OrderTemplate("ServiceRequest", PNEN, "pet-exendin", "68Ga-exendin-4 PET/CT"),
    "pet-dopa": OrderTemplate("ServiceRequest", PNEN, "pet-dopa", "18F-DOPA PET/CT"),
    "ct-abdomen-pelvis-multiphase": OrderTemplate(
        "ServiceRequest",
        PNEN,
        "ct-abdomen-pelvis-multiphase",
        "Multiphasic contrast-enhanced CT abdomen and pelvis",
    ),
    "ct-chest": OrderTemplate("ServiceRequest", PNEN, "ct-chest", "CT chest"),
    "mri-liver-hepatobiliary": OrderTemplate(
        "ServiceRequest",
        PNEN,
        "mri-liver-hepatobiliary",
        "MRI liver with hepatobiliary (liver-specific) contrast",
    ),
    "mri-liver-dwi": OrderTemplate(
        "ServiceRequest",
        LOINC,
        "30670-4",
        "MRI liver without contrast, with diffusion-weighted imaging",
    ),
    "mgmt-ihc": OrderTemplate("ServiceRequest", PNEN, "mgmt-ihc", "MGMT immunohistochemistry"),
    "eus-fnb": OrderTemplate(
        "ServiceRequest", PNEN, "eus-fnb", "EUS-guided fine-needle biopsy (FNB needle)"
    ),
    "liver-biopsy-percutaneous": OrderTemplate(
        "ServiceRequest",
        PNEN,
        "liver-biopsy-percutaneous",
        "Ultrasound-guided percutaneous liver biopsy",
    ),
    "tae": OrderTemplate("ServiceRequest", PNEN, "tae", "Transarterial embolisation (TAE)"),
    "octreotide-lar": OrderTemplate("MedicationRequest", RXNORM, "7617", "octreotide LAR"),
    "lanreotide": OrderTemplate("MedicationRequest", RXNORM, "68092", "lanreotide"),
    "surufatinib": OrderTemplate("MedicationRequest", PNEN, "surufatinib", "surufatinib"),
    "oxaliplatin": OrderTemplate("MedicationRequest", RXNORM, "32592", "oxaliplatin"),
    "capecitabine": OrderTemplate("MedicationRequest", RXNORM, "194000", "capecitabine"),
    "temozolomide": OrderTemplate("MedicationRequest", RXNORM, "37776", "temozolomide"),
    "fluorouracil": OrderTemplate("MedicationRequest", RXNORM, "4492", "fluorouracil"),
    "everolimus": OrderTemplate("MedicationRequest", RXNORM, "141704", "everolimus"),
    "sunitinib": OrderTemplate("MedicationRequest", RXNORM, "357977", "sunitinib"),
}


def order_resource(key: str, patient_ref: str, resource_id: str) -> dict[str, Any]:
    """A draft, proposed FHIR R4 resource for a catalogue order."""
    template = ORDERS[key]
    concept = {
        "coding": [{"system": template.system, "code": template.code, "display": template.text}],
        "text": template.text,
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

"""Body sites of specimens and results: pancreas, liver, lymph node, another organ, or unknown.

A site may be coded (SNOMED, ICD-O-3 topography under any of its system URIs and in either form,
`C25.0` or `C250`) or only written (`Specimen.collection.bodySite.text`, a coding display).
"""

from __future__ import annotations

import re
from typing import Any

from fhir_mappings.shape import all_text
from fhir_mappings.terminology import ICDO3, Terminology

PANCREAS = "pancreas"
LIVER = "liver"
LYMPH_NODE = "lymph node"
OTHER_ORGAN = "other organ"

ICDO3_SYSTEMS = frozenset(
    {
        ICDO3,
        "urn:oid:2.16.840.1.113883.6.43.1",  # ICD-O-3 by OID (HL7 v3, many US registries)
        "http://hl7.org/fhir/sid/icd-o-3",
        "http://terminology.hl7.org/CodeSystem/icd-o-3-topography",
    }
)
_TOPOGRAPHY = re.compile(r"^C(\d{2})\.?(\d)?$", re.IGNORECASE)
# Order matters: a "peripancreatic lymph node" is a lymph node, not the pancreas.
_CONCEPTS = (
    ("site-lymph-node", LYMPH_NODE),
    ("site-pancreas", PANCREAS),
    ("site-liver", LIVER),
    ("site-other-organ", OTHER_ORGAN),
)
# Chinese site words: CJK has no word boundaries, so these match as substrings.
_CJK = (
    ("淋巴结", LYMPH_NODE),
    ("胰", PANCREAS),
    ("肝", LIVER),
    ("乳腺", OTHER_ORGAN),
    ("肺", OTHER_ORGAN),
    ("骨", OTHER_ORGAN),
    ("前列腺", OTHER_ORGAN),
    ("结肠", OTHER_ORGAN),
    ("直肠", OTHER_ORGAN),
)


# Site names that contain another organ's word: the hepatic flexure is the colon's (结肠肝曲),
# the pancreaticoduodenal nodes are lymph nodes (matched first anyway).
_NOT_THE_ORGAN = re.compile(r"(?i:hepatic\s+flexure)|结肠肝曲|肝曲")


def topography_site(code: str) -> str | None:
    """The site of an ICD-O-3 topography code: C25.x pancreas, C22.0 liver, C77.x lymph nodes."""
    match = _TOPOGRAPHY.match(code.strip())
    if not match:
        return None
    organ, sub = match.group(1), match.group(2)
    if organ == "25":
        return PANCREAS
    if organ == "77":
        return LYMPH_NODE
    if organ == "22":
        # C22.0 is the liver; C22.1 (intrahepatic bile ducts) says nothing about which tumour.
        return LIVER if sub in (None, "0") else None
    return OTHER_ORGAN


def site_class(concept: Any, terms: Terminology) -> str | None:
    """Where a body-site CodeableConcept points: pancreas, liver, lymph node, other organ, None."""
    if not isinstance(concept, dict):
        return None
    concepts = terms.concepts_of(concept)
    for name, site in _CONCEPTS:
        if name in concepts:
            return site
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("system") in ICDO3_SYSTEMS:
            code = coding.get("code")
            found = topography_site(code) if isinstance(code, str) else None
            if found:
                return found
    text = _NOT_THE_ORGAN.sub(" ", all_text(concept))
    if not text.strip():
        return None
    for name, site in _CONCEPTS:
        if terms.text_matches(name, text):
            return site
    for word, site in _CJK:
        if word in text:
            return site
    return None

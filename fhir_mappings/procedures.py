"""Procedure → history facts (fhir-mapping.md, "Procedure" and "Real-world shapes").

Codes come from the ValueSets of each kind: `pnen-lm` codes, CPT and SNOMED CT (see
docs/terminology.md). Decisions where the spec left room:
- CPT 48120 (excision of a pancreatic lesion) is an enucleation: a pancreatectomy for the rules
  that ask whether the primary was resected (curative-intent surgery of the primary).
- CPT 47120 (partial lobectomy: wedge and segmental resections) is parenchymal-sparing; 47122
  (trisegmentectomy), 47125 and 47130 (total left/right lobectomy) are anatomic.
- CPT 47000/47001 (needle biopsy of the liver, percutaneous or during another operation) and
  SNOMED 86259008 (biopsy of liver) are the liver biopsy the pathology rules read.
- CPT 37243 (embolisation of tumours, ischaemia or infarction in any organ) is TAE of the liver
  unless the resource's bodySite names another organ: CPT has no TAE- or TACE-specific code, and
  an embolisation recorded for a uterine fibroid must not count as liver-directed therapy. Its
  text decides between the two: "Chemoembolization (TACE)" is a TACE.
- ICD-10-PCS (http://www.cms.gov/Medicare/Coding/ICD10) names the root operation and body part,
  not the kind of pancreatectomy: resection (0FTG, all of it) and excision (0FBG, part of it: a
  Whipple, a distal pancreatectomy or an enucleation) of the pancreas are `pancreatectomy`, or
  the kind the text names ("Whipple", "distal pancreatectomy"). Liver excision (0FB0-0FB2) is
  parenchymal-sparing, lobe resection (0FT1, 0FT2) anatomic, destruction (0F50-0F52) ablation;
  0F5G8ZZ (endoscopic destruction of the pancreas) is EUS-guided ablation. Diagnostic excisions
  (qualifier X) are biopsies, never resections. Hepatic-artery occlusion (04L3) is not listed:
  PCS does not say it was for a tumour.
- A code the ValueSets do not list, or none, leaves the words: "Whipple", "distal
  pancreatectomy" in the code's text or displays name the kind (flagged "by text"); "Whipple's
  disease" and "Whipple's triad" are not the operation. Chinese names (胰十二指肠切除, 胰体尾切除,
  经肝动脉化疗栓塞, 经肝动脉栓塞, 肝移植) are read as substrings: CJK has no word boundaries.
"""

from __future__ import annotations

import re
from typing import Any

from fhir_mappings.facts import BY_TEXT, LIVER, Fact
from fhir_mappings.observations import LABS, body_site
from fhir_mappings.shape import all_text, fhir_date, obj, objects, ref_of, string
from fhir_mappings.terminology import Terminology
from pnen_i18n import _

PROCEDURE_KINDS = (
    "pancreatoduodenectomy",
    "distal-pancreatectomy",
    "pancreatectomy",
    "enucleation",
    "hepatectomy-parenchymal-sparing",
    "hepatectomy-anatomic",
    "liver-ablation",
    "tae",
    "tace",
    "liver-transplant",
    "eus-fnb",
    "eus-fna",
    "liver-biopsy-percutaneous",
    "eus-ablation",
    "liver-transplant-referral",
)
LAB_ORDER_KINDS = (
    *LABS,
    "mgmt-ihc",
    "sstr2-ihc",
    "ki67",
    "variant-assessment",
    "msi",
    "tmb",
    "pdl1-cps",
)
EMBOLISATION = "tumour-embolisation"
_NAMED_PANCREATECTOMIES = frozenset({"pancreatoduodenectomy", "distal-pancreatectomy"})
# Chinese procedure names (the zh-CN glossary's terms): CJK has no word boundaries, so these
# match as substrings. 经肝动脉化疗栓塞 (TACE) does not contain 肝动脉栓塞 (TAE).
_CJK_PROCEDURES = (
    (re.compile("胰十二指肠切除"), "pancreatoduodenectomy"),
    (re.compile("远端胰腺切除|胰体尾切除|胰尾切除"), "distal-pancreatectomy"),
    (re.compile("全胰(?:腺)?切除"), "pancreatectomy"),
    (re.compile("化疗栓塞"), "tace"),
    (re.compile("肝动脉栓塞"), "tae"),
    (re.compile("肝移植(?!评估|咨询|转诊)"), "liver-transplant"),
)
# Whipple's disease (an infection) and Whipple's triad (insulinoma) are not the operation.
_OTHER_WHIPPLE = re.compile(r"\bwhipple(?:'s|\u2019s|s)?\s+(?:disease|triad)", re.IGNORECASE)
# A completed procedure whose text says the operation was not done ("Exploratory laparotomy;
# Whipple aborted (SMA encasement)") is no resection; its words are not read.
_NOT_DONE = re.compile(
    r"(?i:\b(?:aborted|abandoned|attempted|not\s+(?:performed|done|carried\s+out)|"
    r"unable\s+to|unresectable|open[-\s]and[-\s]close)\b)|中止|放弃|未能切除|无法切除|不可切除"
)
_KINDS = frozenset(PROCEDURE_KINDS)
_LIVER_WORDS = re.compile(r"\b(?:liver|hepatic|hepato\w*)\b", re.IGNORECASE)


def _in_liver_or_unsited(resource: dict[str, Any], terms: Terminology) -> bool:
    """No bodySite recorded, or one that is the liver (by code, else by its words)."""
    sites = objects(resource, "bodySite")
    if not sites:
        return True
    return any(
        body_site(site, terms) == LIVER or bool(_LIVER_WORDS.search(all_text(site)))
        for site in sites
    )


def procedure_kinds(resource: dict[str, Any], terms: Terminology) -> frozenset[str]:
    """The listed procedure kinds a Procedure's or ServiceRequest's code stands for."""
    code = obj(resource, "code")
    concepts = terms.concepts_of(code)
    kinds = concepts & _KINDS
    if EMBOLISATION in concepts and _in_liver_or_unsited(resource, terms):
        # One code for both: the order's own words say whether a drug goes with the particles.
        kinds |= {"tace"} if terms.text_matches("tace", all_text(code)) else {"tae"}
    if "pancreatectomy" in kinds:
        # ICD-10-PCS (and SNOMED 'pancreatectomy') do not say which: the words may ('Whipple').
        named = procedure_kinds_by_text(resource, terms) & _NAMED_PANCREATECTOMIES
        kinds = kinds - {"pancreatectomy"} | named if named else kinds
    return kinds


def procedure_kinds_by_text(resource: dict[str, Any], terms: Terminology) -> frozenset[str]:
    """The listed procedure kinds named in the code's text or displays ('Whipple', 肝移植)."""
    text = _OTHER_WHIPPLE.sub(" ", all_text(obj(resource, "code")))
    if not text.strip() or _NOT_DONE.search(text):
        return frozenset()
    kinds = {kind for kind in PROCEDURE_KINDS if terms.text_matches(kind, text)}
    if not text.isascii():
        kinds |= {kind for pattern, kind in _CJK_PROCEDURES if pattern.search(text)}
    return frozenset(kinds)


def map_procedure(procedure: dict[str, Any], terms: Terminology) -> list[Fact]:
    """A completed Procedure of a listed kind (by code, else by its words), one fact per kind."""
    if (string(procedure, "status") or "").strip().lower() != "completed":
        return []
    kinds = procedure_kinds(procedure, terms)
    flags: tuple[str, ...] = ()
    if not kinds:
        kinds = procedure_kinds_by_text(procedure, terms)
        flags = (BY_TEXT,)
    if not kinds:
        return []
    period = obj(procedure, "performedPeriod")
    when = fhir_date(procedure, "performedDateTime") or (
        fhir_date(period, "start", "performedPeriod.") if period else None
    )
    name = terms.readable(obj(procedure, "code")) or _("procedure")
    text = _("{name} (completed)", name=name)
    return [
        Fact(f"procedure:{kind}", "completed", when, ref_of(procedure), text, flags=flags)
        for kind in sorted(kinds)
    ]

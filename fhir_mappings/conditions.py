"""Condition and AllergyIntolerance → diagnosis facts (fhir-mapping.md, "Conditions")."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fhir_mappings.facts import SYNDROME_NAMES, Fact
from fhir_mappings.observations import staging_fact_texts, staging_texts
from fhir_mappings.shape import (
    concept_text,
    fhir_date,
    obj,
    objects,
    ref_of,
    string,
)
from fhir_mappings.sites import LIVER, PANCREAS, site_class
from fhir_mappings.terminology import Terminology
from fhir_mappings.values import staging_facts
from pnen_i18n import N_, _

MCODE_HISTOLOGY = (
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
)
_ACTIVE = {None, "active", "recurrence", "relapse"}
_REMISSION = {"remission", "inactive", "resolved"}
_PANCREAS_CONCEPTS = frozenset({"site-pancreas", "pancreas-topography"})
UNKNOWN_EXTRAHEPATIC = "extrahepatic-metastasis-unknown"
"""A metastasis whose site is not recorded (ICD-10-CM C79.9): extrahepatic disease unknown."""
_REFUTED = {"refuted", "entered-in-error"}
# The codes of FHIR condition-clinical and condition-ver-status (read case-insensitively, and from
# a display or text that is one of them: 'Resolved', 'entered in error').
_CLINICAL_CODES = frozenset(
    {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
)
_VERIFICATION_CODES = frozenset(
    {"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}
)
_STATUS_SYNONYMS = {"in-remission": "remission"}
# A status word or phrase opening a free text, followed by punctuation: the rest is a remark.
_LEADING_STATUS = re.compile(
    r"\s*((?:in\s+)?[A-Za-z]+(?:[-\s](?:in[-\s])?error)?)\s*(?:[-–—:;,(/]|$)", re.IGNORECASE
)
_ABATEMENT = (
    "abatementDateTime",
    "abatementAge",
    "abatementPeriod",
    "abatementRange",
    "abatementString",
)
FUNCTIONAL_SYNDROMES = (
    "insulinoma",
    "gastrinoma",
    "glucagonoma",
    "vipoma",
    "somatostatinoma",
    "acthoma",
    "carcinoid-syndrome",
)
COMORBIDITIES = ("renal-failure", "liver-failure", "ibd", "chronic-gastritis", "pancreatitis")
# Concepts whose facts count only while the Condition is active (metastases count regardless).
_STATUS_MATTERS = frozenset({*FUNCTIONAL_SYNDROMES, *COMORBIDITIES, "non-functional", "nec"})
# (concept, location value the rules read, how the evidence reads)
_LOCATIONS = (
    ("site-pancreas-head", "head", N_("primary in the head")),
    ("site-pancreas-body", "body", N_("primary in the body")),
    ("site-pancreas-tail", "tail", N_("primary in the tail")),
    (
        "site-pancreas",
        "pancreas (location unknown)",
        N_("primary in the pancreas (location unknown)"),
    ),
)
# How a clinical status (a fact value, canonical) reads in evidence.
_STATUS_NAMES = {
    "remission": N_("remission"),
    "inactive": N_("inactive"),
    "resolved": N_("resolved"),
}


def is_current(resource: dict[str, Any]) -> bool:
    """Active (or no clinical status) and not refuted or entered in error."""
    return clinical_status(resource) in _ACTIVE and verification_status(resource) not in _REFUTED


def clinical_status(resource: dict[str, Any]) -> str | None:
    """A Condition's clinicalStatus code as `read_status` reads it (None when not recorded)."""
    return read_status(resource, "clinicalStatus", _CLINICAL_CODES)[0]


def verification_status(resource: dict[str, Any]) -> str | None:
    """A Condition's verificationStatus code as `read_status` reads it ('entered-in-error')."""
    return read_status(resource, "verificationStatus", _VERIFICATION_CODES)[0]


def _status_word(text: str) -> str:
    word = "-".join(text.strip().casefold().replace("_", " ").split())
    return _STATUS_SYNONYMS.get(word, word)


def read_status(
    resource: dict[str, Any], key: str, known: frozenset[str]
) -> tuple[str | None, bool]:
    """A clinicalStatus or verificationStatus code, and whether it is one of `known`.

    A coding's code in any case ('Remission'), else a display or the text that is one of the
    codes ('Resolved', 'entered in error'). A status that names none of them comes back as
    written (False), for the caller to report; no status at all is (None, True).
    """
    concept = obj(resource, key)
    if concept is None:
        return None, True
    codes: list[str] = []
    written: list[str] = []
    for coding in objects(concept, "coding", f"{key}."):
        code = string(coding, "code", f"{key}.coding.")
        if code:
            codes.append(code)
        display = string(coding, "display", f"{key}.coding.")
        if display:
            written.append(display)
    text = string(concept, "text", f"{key}.")
    if text:
        written.append(text)
    for item in (*codes, *written):
        word = _status_word(item)
        if word in known:
            return word, True
    for item in written:  # free text led by a status: "Active - on lanreotide", "Resolved (2024)"
        lead = _LEADING_STATUS.match(item)
        word = _status_word(lead.group(1)) if lead else ""
        if word in known:
            return word, True
    first = next(iter((*codes, *written)), None)
    return first, first is None


def _morphology_concepts(condition: dict[str, Any], terms: Terminology) -> frozenset[str]:
    found: frozenset[str] = frozenset()
    for ext in objects(condition, "extension"):
        if ext.get("url") == MCODE_HISTOLOGY:
            found = found | terms.concepts_of(obj(ext, "valueCodeableConcept", "extension."))
    return found


def _stage_facts(condition: dict[str, Any], terms: Terminology) -> list[tuple[str, str, str]]:
    """TNM and stage group from `Condition.stage`: the summary, and assessments it contains."""
    found: list[tuple[str, str, str]] = []
    if "stage" not in condition:
        return found
    contained = {
        f"#{c.get('id')}": c
        for c in objects(condition, "contained")
        if c.get("resourceType") == "Observation"
    }
    for i, stage in enumerate(objects(condition, "stage")):
        path = f"stage[{i}]."
        summary = obj(stage, "summary", path)
        if summary is not None:
            texts = staging_texts({"valueCodeableConcept": summary}, f"{path}summary.", terms)
            for kind in ("tnm-t", "tnm-n", "tnm-m", "tnm-stage"):
                for staging in staging_facts((kind,), texts):
                    found += staging_fact_texts(*staging)
        for assessment in objects(stage, "assessment", path):
            observation = contained.get(str(assessment.get("reference")))
            if observation is None:
                continue  # a referenced Observation is read where the record carries it
            concepts = terms.concepts_of(obj(observation, "code", "contained."))
            texts = staging_texts(observation, "contained.", terms)
            for staging in staging_facts(concepts, texts):
                found += staging_fact_texts(*staging)
    return found


def _onset(condition: dict[str, Any]) -> date | None:
    onset = fhir_date(condition, "onsetDateTime")
    period = obj(condition, "onsetPeriod")
    if onset is None and period is not None:
        onset = fhir_date(period, "start", "onsetPeriod.")
    return onset


def map_condition(
    condition: dict[str, Any],
    terms: Terminology,
    problems: list[str] | None = None,
    *,
    as_of: date | None = None,
    ref: str | None = None,
) -> list[Fact]:
    """Facts stated by one Condition; what it could not say is appended to `problems`.

    Metastases count whatever their clinical status; a pNEN in remission, inactive or resolved is
    `pnen-remission` (with its histology and site); the rest counts only while active. With
    `as_of`, a pNEN that abated after that day was still active on it. Statuses are read from
    their code, else from a display or text that names one; an abated Condition without a
    clinical status is inactive (FHIR invariant con-4). `ref`: the Condition's ref_of when the
    caller has it already.
    """
    verification, verification_read = read_status(
        condition, "verificationStatus", _VERIFICATION_CODES
    )
    if verification in _REFUTED:
        return []
    clinical, clinical_read = read_status(condition, "clinicalStatus", _CLINICAL_CODES)
    abated = fhir_date(condition, "abatementDateTime")
    abatement = any(key in condition for key in _ABATEMENT)
    # con-4: an abated Condition is inactive, resolved or in remission; its abatement alone says
    # it is no longer active, and 'inactive' is the parent code of the other two.
    inferred = clinical is None and abatement
    if inferred:
        clinical = "inactive"
    stated = clinical
    if as_of is not None and clinical in _REMISSION and abated is not None and abated > as_of:
        clinical = "active"
    active = clinical in _ACTIVE
    code = obj(condition, "code")
    coded = terms.concepts_of(code)
    concepts = coded | _morphology_concepts(condition, terms)
    body_sites = objects(condition, "bodySite")
    sites: frozenset[str] = frozenset()
    for site in body_sites:
        sites = sites | terms.concepts_of(site)
    # The organ of each site, coded or only written ('Liver', 'pancreatic tail').
    organs = {site_class(site, terms) for site in body_sites} if body_sites else set()
    onset = _onset(condition)
    recorded = fhir_date(condition, "recordedDate")
    when = onset or recorded
    ref = ref_of(condition) if ref is None else ref
    label = terms.readable(code) or _("condition")
    # Fact values are read by the rules: the ValueSet's own display, the same in every language.
    name = terms.readable(code, translated=False) or label
    facts: list[Fact] = []

    def add(kind: str, value: object, text: str, day: date | None = when) -> None:
        facts.append(Fact(kind=kind, value=value, when=day, ref=ref, text=text))

    neuroendocrine = "neuroendocrine-morphology" in concepts
    # mCODE may code the site itself (SNOMED 15776009) with the histology in the extension.
    pancreatic = (
        "site-pancreas" in sites
        or PANCREAS in organs
        or not concepts.isdisjoint(_PANCREAS_CONCEPTS)
    )
    is_pnen = (
        "pnen" in concepts
        or ("pancreas-malignancy" in concepts and neuroendocrine)
        or (neuroendocrine and pancreatic)
    )
    if problems is not None:
        problems += _status_problems(
            (clinical_read, verification_read),
            (stated, verification),
            contradicted=stated in _ACTIVE and stated is not None and abatement,
            matters=is_pnen or not concepts.isdisjoint(_STATUS_MATTERS),
            recognised=bool(concepts),
        )
    in_remission = is_pnen and clinical in _REMISSION
    if is_pnen and active:
        add("pnen", name, label)
    elif in_remission:
        if inferred:
            text = _("{label} (abated; no clinical status recorded: inactive)", label=label)
        else:
            status = _(_STATUS_NAMES[str(clinical)])
            text = _("{label} ({status})", label=label, status=status)
        add("pnen-remission", clinical, text, abated or recorded or onset)
    elif neuroendocrine and not body_sites and not pancreatic and problems is not None:
        problems.append(
            _("a neuroendocrine neoplasm without a body site: not recognised as pancreatic")
        )
    tumour = (is_pnen and active) or in_remission
    if tumour:
        for concept, location, shown in _LOCATIONS:
            if concept in sites:
                add("primary-location", location, _(shown))
                break
        for kind, value, text in _stage_facts(condition, terms):
            add(kind, value, text)
    # A NEC code counts for the pNEN, or alone in Condition.code with no site; a small-cell or
    # NEC morphology of another site's cancer (lung, in the mCODE extension) is not the pNEN's.
    nec_of_pnen = tumour or ("nec" in coded and not body_sites and active)
    if "nec" in concepts and nec_of_pnen:
        subtype = (
            "small-cell"
            if "nec-small-cell" in concepts
            else "large-cell"
            if "nec-large-cell" in concepts
            else "nec"
        )
        add("nec-coded", subtype, _("{label} (neuroendocrine carcinoma code)", label=label))
    if active:
        for syndrome in FUNCTIONAL_SYNDROMES:
            if syndrome in concepts:
                name = _(SYNDROME_NAMES[syndrome])
                # "Gastrinoma (gastrinoma)", "胃泌素瘤（胃泌素瘤）": the name once when they agree
                same = label.strip().casefold() == name.casefold()
                text = label if same else _("{label} ({syndrome})", label=label, syndrome=name)
                add("functional", syndrome, text)
        if "non-functional" in concepts:
            add("non-functional", True, label)
        for comorbidity in COMORBIDITIES:
            if comorbidity in concepts:
                add("comorbidity", comorbidity, label)
    site_names = (terms.readable(s, translated=False) for s in body_sites)
    site_name = ", ".join(n for n in site_names if n)
    if body_sites and not site_name:
        site_name = _("site not named")
    in_liver = "site-liver" in sites or LIVER in organs
    facts += _metastasis_facts(concepts, in_liver, site_name, (name, label), when, ref)
    return facts


def _status_problems(
    read: tuple[bool, bool],
    statuses: tuple[str | None, str | None],
    *,
    contradicted: bool,
    matters: bool,
    recognised: bool,
) -> list[str]:
    """What a Condition's statuses leave unsaid: unread clinical or verification status, con-4.

    Only for Conditions the service reads: the clinical status only where it decides a fact.
    """
    clinical_read, verification_read = read
    clinical, verification = statuses
    problems: list[str] = []
    if matters and not clinical_read:
        problems.append(
            _("clinicalStatus: {status} is not a status the service reads", status=repr(clinical))
        )
    if matters and contradicted:
        problems.append(
            _(
                "clinicalStatus {status} with an abatement: the record contradicts itself; "
                "read as {status}",
                status=repr(clinical),
            )
        )
    if recognised and not verification_read:
        problems.append(
            _(
                "verificationStatus: {status} is not a status the service reads; "
                "counted as not refuted",
                status=repr(verification),
            )
        )
    return problems


# Prefixes of metastasis names (ICD-10-CM C77-C79, C7B; SNOMED) before the site they name.
_SECONDARY_PREFIX = re.compile(
    r"^(?:secondary (?:malignant neoplasm|carcinoid tumou?rs?)|metastatic malignant neoplasm|"
    r"metastas[ie]s)\s+(?:of|to|in)\s+(?:the\s+)?",
    re.IGNORECASE,
)


def metastasis_site(label: str, body_site: str) -> str:
    """The site a metastasis Condition names: its bodySite, else its name without the prefix."""
    site = body_site or _SECONDARY_PREFIX.sub("", label)
    return site[:1].lower() + site[1:] if site[1:2].islower() else site


def _metastasis_facts(
    concepts: frozenset[str],
    in_liver: bool,
    site: str,
    names: tuple[str, str],
    when: date | None,
    ref: str,
) -> list[Fact]:
    """Metastases, ever recorded: liver, extrahepatic, regional nodes (N1) or site unknown.

    `names` is the Condition's name as a value (untranslated) and as the evidence text.
    """
    name, label = names
    secondary = "secondary-malignancy" in concepts
    if "liver-metastasis" in concepts or (secondary and in_liver):
        return [Fact("liver-metastasis", name, when, ref, label)]
    if "extrahepatic-metastasis" in concepts or (secondary and site):
        # The value is the site, for the summary's M1b/M1c sites (CR-8).
        return [Fact("extrahepatic-metastasis", metastasis_site(name, site), when, ref, label)]
    if "regional-nodes" in concepts:
        # Intra-abdominal nodes are regional for the pancreas: N1, never distant disease.
        return [Fact("tnm-n", "N1", when, ref, _("{label} (regional nodes: N1)", label=label))]
    if "metastasis-site-unknown" in concepts or secondary:
        text = _("{label} (site not recorded: extrahepatic disease unknown)", label=label)
        return [Fact(UNKNOWN_EXTRAHEPATIC, name, when, ref, text)]
    return []


def map_allergy(allergy: dict[str, Any], terms: Terminology) -> list[Fact]:
    """A current contrast allergy, or nothing."""
    if not is_current(allergy):
        return []
    code = obj(allergy, "code")
    if not terms.is_a(code, "contrast-allergy"):
        return []
    when = fhir_date(allergy, "recordedDate") or fhir_date(allergy, "onsetDateTime")
    text = concept_text(code) or _("contrast allergy")
    return [Fact(kind="contrast-allergy", value=True, when=when, ref=ref_of(allergy), text=text)]

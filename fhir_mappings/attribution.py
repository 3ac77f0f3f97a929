"""Which cancer a result belongs to, over the whole record (fhir-mapping.md, "Real-world shapes").

Runs after the per-resource mapping. A patient may have another cancer: a result, study or
metastasis linked to it (Observation.focus, the mCODE related-condition and related-primary
extensions, `basedOn` → ServiceRequest.reasonReference/reasonCode, `hasMember`/`derivedFrom` and
DiagnosticReport.result chains, a Specimen from another organ) is not the pNEN's: its facts are
dropped and counted (fact kind `other-cancer-result`). With another active cancer and no link
either way, a tissue result not from the pancreas or liver, and a metastasis outside the liver, is
flagged POSSIBLY_OTHER_CANCER; the consensus layer decides what that leaves unknown.

References resolve through the record only (never fetched): `Type/id`, absolute and versioned
URLs, and Bundle entry fullUrls (`urn:uuid:`) through the aliases gathered with the resources.
Each resource's link is computed once (memoised), so the pass is linear in the record size.

It also reports Conditions that look like a neuroendocrine neoplasm the mapping did not recognise
(a data issue: never silence).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from fhir_mappings.conditions import clinical_status, verification_status
from fhir_mappings.facts import POSSIBLY_OTHER_CANCER, UNKNOWN_SITE, DataIssue, Fact
from fhir_mappings.report_text import report_text
from fhir_mappings.shape import all_text, concept_text, fhir_date, local_ref
from fhir_mappings.sites import (
    ICDO3_SYSTEMS,
    LIVER,
    OTHER_ORGAN,
    PANCREAS,
    site_class,
)
from fhir_mappings.terminology import ICD10CM, Terminology
from fhir_mappings.tumour_words import about_other_tumour
from pnen_i18n import N_, _

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PRIMARY_CANCER_PROFILE = f"{MCODE}mcode-primary-cancer-condition"
SECONDARY_CANCER_PROFILE = f"{MCODE}mcode-secondary-cancer-condition"
RELATED_PRIMARY = f"{MCODE}mcode-related-primary-cancer-condition"
HISTOLOGY = f"{MCODE}mcode-histology-morphology-behavior"
# mCODE STU1 and STU2+ name the link from a result to its cancer differently; both end so.
_RELATED_SUFFIXES = ("related-condition", "related-primary-cancer-condition")

PNEN_KINDS = frozenset({"pnen", "pnen-remission"})
METASTASIS_KINDS = frozenset({"liver-metastasis", "extrahepatic-metastasis"})
TISSUE_RESULT_KINDS = frozenset(
    {
        "ki67",
        "mitotic-count",
        "who-grade",
        "differentiation",
        "gene-alteration",
        "msi",
        "tmb",
        "pdl1-cps",
        "mgmt",
        "sstr2-ihc",
    }
)
"""Facts read from a tumour sample: another cancer's sample gives them too."""

_NOT_COUNTED = frozenset({"refuted", "entered-in-error"})
_ICD10_MALIGNANT = re.compile(r"^C(\d{2})", re.IGNORECASE)
# ICD-10-CM C00–C96 is a malignant neoplasm; these are the pNEN itself or not a primary cancer:
# C25 pancreas (the pNEN or its double coding: a second Condition for the same tumour is common),
# C7A/C7B neuroendocrine tumours and their metastases, C77–C80 secondary or unspecified.
_NOT_OTHER_PRIMARY = re.compile(r"^C(25|7A|7B|77|78|79|80)", re.IGNORECASE)
_ORGANS = {
    "50": N_("breast"),
    "34": N_("lung"),
    "61": N_("prostate"),
    "18": N_("colon"),
    "19": N_("rectum"),
    "20": N_("rectum"),
    "43": N_("melanoma"),
    "56": N_("ovary"),
    "53": N_("cervix"),
    "54": N_("uterus"),
    "64": N_("kidney"),
    "67": N_("bladder"),
    "73": N_("thyroid"),
    "16": N_("stomach"),
    "15": N_("oesophagus"),
    "22": N_("liver (primary liver cancer)"),
}
_NEN_WORDS = re.compile(
    r"neuro-?endocrine|carcinoid|islet[\s-]cell|insulinoma|gastrinoma|glucagonoma|vipoma|"
    r"somatostatinoma|神经内分泌",
    re.IGNORECASE,
)
_NEN_ACRONYMS = re.compile(r"\bp?NE[TCN]s?\b")  # upper case only: "net" is an English word
_NEN_MORPHOLOGY = re.compile(r"^8(24\d|013|041|15[0-6])/?3$")
# ICD-10-CM codes of a neuroendocrine tumour whose site the code names (not the pancreas).
_NEN_ELSEWHERE = re.compile(r"^C7A\.?0[1-9]", re.IGNORECASE)
# How a result set aside reads in evidence, by its resource type: (linked to a cancer on record,
# linked by a reference or reason code only).
_SET_ASIDE = {
    "Observation": (
        N_("result of another cancer ({cancer}, {ref})"),
        N_("result linked to another cancer ({why})"),
    ),
    "DiagnosticReport": (
        N_("report of another cancer ({cancer}, {ref})"),
        N_("report linked to another cancer ({why})"),
    ),
    "Condition": (
        N_("diagnosis of another cancer ({cancer}, {ref})"),
        N_("diagnosis linked to another cancer ({why})"),
    ),
    "ServiceRequest": (
        N_("order of another cancer ({cancer}, {ref})"),
        N_("order linked to another cancer ({why})"),
    ),
    "Procedure": (
        N_("procedure of another cancer ({cancer}, {ref})"),
        N_("procedure linked to another cancer ({why})"),
    ),
}
_MEDICATION_SET_ASIDE = (
    N_("medication of another cancer ({cancer}, {ref})"),
    N_("medication linked to another cancer ({why})"),
)
_SET_ASIDE.update(
    dict.fromkeys(
        ("MedicationRequest", "MedicationStatement", "MedicationAdministration"),
        _MEDICATION_SET_ASIDE,
    )
)
_OTHER_SET_ASIDE = (
    N_("resource of another cancer ({cancer}, {ref})"),
    N_("resource linked to another cancer ({why})"),
)


class Link(NamedTuple):
    """A resource's tie to a cancer: the pNEN, or another cancer (`why`: the reference behind)."""

    pnen: bool
    why: str = ""


MAX_DEPTH = 32
"""Links followed from one resource at most (a chain longer than any real record's; no recursion
limit reached on a hostile one)."""
_MALFORMED = (ValueError, TypeError, AttributeError, KeyError, IndexError)
_PNEN = Link(True)
_VISITING = Link(False, "…")  # a cycle in the record's references: no answer from that path


@dataclass(frozen=True)
class OtherCancer:
    """A malignant-neoplasm Condition that is neither the pNEN nor a metastasis."""

    ref: str
    label: str
    active: bool


def _codings(concept: Any) -> Iterable[dict[str, Any]]:
    if isinstance(concept, dict):
        for coding in concept.get("coding") or []:
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                yield coding


def _profiles(resource: dict[str, Any]) -> list[str]:
    meta = resource.get("meta")
    profiles = meta.get("profile") if isinstance(meta, dict) else None
    return [p for p in profiles if isinstance(p, str)] if isinstance(profiles, list) else []


def _extension_refs(resource: dict[str, Any], suffixes: tuple[str, ...]) -> list[str | None]:
    """The valueReference of each extension whose url ends with one of the suffixes."""
    found: list[str | None] = []
    extensions = resource.get("extension")
    for ext in extensions if isinstance(extensions, list) else []:
        if isinstance(ext, dict) and str(ext.get("url", "")).endswith(suffixes):
            value = ext.get("valueReference")
            if isinstance(value, dict) and isinstance(value.get("reference"), str):
                found.append(value["reference"])
    return found


def _refs(resource: dict[str, Any], key: str) -> list[str | None]:
    """The `reference` strings of a Reference or a list of References."""
    value = resource.get(key)
    items = value if isinstance(value, list) else [value]
    return [
        item["reference"]
        for item in items
        if isinstance(item, dict) and isinstance(item.get("reference"), str)
    ]


def _concepts(resource: dict[str, Any], key: str) -> list[Any]:
    value = resource.get(key)
    return value if isinstance(value, list) else [value] if isinstance(value, dict) else []


def cancer_code_organ(concept: Any, terms: Terminology) -> str | None:
    """The organ of another primary cancer a code names ('breast'), '' if unnamed; None if none."""
    for coding in _codings(concept):
        code = coding["code"]
        if coding.get("system") == ICD10CM and _ICD10_MALIGNANT.match(code):
            if _NOT_OTHER_PRIMARY.match(code):
                continue
            number = code[1:3]
            if number.isdigit() and int(number) <= 96:
                return _ORGANS.get(number, "")
    if "other-primary-cancer" in terms.concepts_of(concept):
        return ""
    return None


def _other_cancer(ref: str, condition: dict[str, Any], terms: Terminology) -> OtherCancer | None:
    """The Condition as another primary cancer, or None (not a cancer, or not recorded so)."""
    if verification_status(condition) in _NOT_COUNTED:
        return None
    if PANCREAS in _sites(condition, terms):
        return None  # the pNEN itself, coded a second time without its histology
    code = condition.get("code")
    if any(
        c.get("system") == ICD10CM and _NOT_OTHER_PRIMARY.match(c["code"]) for c in _codings(code)
    ):
        return None  # a metastasis, regional nodes or the pNEN, whatever profile it declares
    organ = cancer_code_organ(code, terms)
    primary = PRIMARY_CANCER_PROFILE in _profiles(condition) or any(
        "other-primary-cancer" in terms.concepts_of(c) for c in _concepts(condition, "category")
    )
    if organ is None and not primary:
        return None
    # An organ the service names (translated), else the site the record names (as recorded).
    label = (
        _(organ)
        if organ
        else next(
            (concept_text(site) for site in _concepts(condition, "bodySite") if concept_text(site)),
            "",
        )
    )
    label = label or concept_text(code if isinstance(code, dict) else None) or _("another cancer")
    status = clinical_status(condition)
    if status is None and any(key.startswith("abatement") for key in condition):
        status = "inactive"  # FHIR con-4: an abated Condition is not active
    active = status in {None, "active", "recurrence", "relapse"}
    return OtherCancer(ref, label, active)


def _looks_neuroendocrine(condition: dict[str, Any], terms: Terminology) -> bool:
    """A neuroendocrine code, morphology or text whose site is not known to be elsewhere."""
    concepts = [condition.get("code")]
    for ext in condition.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == HISTOLOGY:
            concepts.append(ext.get("valueCodeableConcept"))
    neuroendocrine = False
    for concept in concepts:
        if not isinstance(concept, dict):
            continue
        text = all_text(concept)
        if _NEN_WORDS.search(text) or _NEN_ACRONYMS.search(text):
            neuroendocrine = True
        for coding in _codings(concept):
            code, system = coding["code"], coding.get("system")
            if system == ICD10CM and _NEN_ELSEWHERE.match(code):
                return False  # a NET of a named other site (small intestine, lung, …)
            if system == ICD10CM and code.upper().startswith("C7A"):
                neuroendocrine = True
            if system in ICDO3_SYSTEMS and _NEN_MORPHOLOGY.match(code):
                neuroendocrine = True
        if terms.concepts_of(concept) & {"neuroendocrine-morphology", "nec", "pnen"}:
            neuroendocrine = True
    return neuroendocrine and OTHER_ORGAN not in _sites(condition, terms)


def _sites(condition: dict[str, Any], terms: Terminology) -> set[str | None]:
    """The body sites a Condition names: its bodySite, or its code ('… of lung')."""
    concepts = [*_concepts(condition, "bodySite"), condition.get("code")]
    return {site_class(concept, terms) for concept in concepts}


class _Graph:
    """The record indexed by reference once; each resource's Link computed once."""

    def __init__(
        self,
        resources: Mapping[str, dict[str, Any]],
        aliases: Mapping[str, str],
        pnen_refs: frozenset[str],
        others: Mapping[str, OtherCancer],
        terms: Terminology,
    ) -> None:
        self.resources = resources
        self.aliases = aliases
        self.pnen_refs = pnen_refs
        self.others = others
        self.terms = terms
        self.memo: dict[str, Link | None] = {}
        self.report_links: dict[str, Link | None] = {}
        self.parents: dict[str, list[str]] = {}
        for ref, resource in resources.items():
            kind = resource["resourceType"]
            if kind == "Observation":
                children = _refs(resource, "hasMember")
                for source in _refs(resource, "derivedFrom"):
                    target = self.resolve(source)
                    if target:
                        self.parents.setdefault(ref, []).append(target)
            elif kind == "DiagnosticReport":
                children = _refs(resource, "result")
            else:
                continue
            for child in children:
                target = self.resolve(child)
                if target:
                    self.parents.setdefault(target, []).append(ref)

    def resolve(self, ref: str | None) -> str | None:
        """'Type/id' of a reference inside the record (a fullUrl alias, or a local form)."""
        if ref is None:
            return None
        return self.aliases.get(ref) or local_ref(ref)

    def link(self, ref: str, depth: int = 0) -> Link | None:
        """The cancer a resource belongs to, or None when the record does not say."""
        if ref in self.memo:
            found = self.memo[ref]
            return None if found is _VISITING else found
        if depth > MAX_DEPTH:
            return None
        self.memo[ref] = _VISITING
        try:
            found = self._link(ref, depth + 1)
        except _MALFORMED:
            found = None  # an element of the wrong shape links nothing (mapping reports it)
        self.memo[ref] = found
        return found

    def _link(self, ref: str, depth: int) -> Link | None:
        if ref in self.pnen_refs:
            return _PNEN
        if ref in self.others:
            return Link(False, ref)
        resource = self.resources.get(ref)
        if resource is None:
            return None  # not in the record: references are never fetched one by one
        kind = resource["resourceType"]
        explicit = [
            *_refs(resource, "focus"),
            *_extension_refs(resource, _RELATED_SUFFIXES),
            *_refs(resource, "reasonReference"),
        ]
        reports = [ref] if kind == "DiagnosticReport" else self.parents.get(ref, [])
        tiers: list[list[Link | None]] = [
            [self._target(r, depth) for r in explicit]
            + [self._reason_code(c) for c in _concepts(resource, "reasonCode")]
            + [self._report_text(r) for r in reports if r.startswith("DiagnosticReport/")],
            [self._target(r, depth) for r in _refs(resource, "basedOn")],
            [self._target(r, depth) for r in _refs(resource, "specimen")]
            + [self._target(r, depth) for r in _refs(resource, "parent")],
            [self.link(p, depth) for p in self.parents.get(ref, ())],
        ]
        if kind == "Specimen":
            tiers.insert(0, [self._specimen_site(ref, resource)])
            tiers[2] += [self._target(r, depth) for r in _refs(resource, "request")]
        for tier in tiers:
            decided = _decide(tier)
            if decided is not None:
                return decided
        return None

    def _report_text(self, ref: str) -> Link | None:
        """A report whose text is about another tumour only ("metastatic adenocarcinoma of
        colorectal origin"): it and its results are another cancer's, whatever organ the
        specimen came from (a liver specimen may hold either cancer's metastasis)."""
        if ref not in self.report_links:
            report = self.resources.get(ref)
            text = report_text(report)[0] if report is not None else ""
            self.report_links[ref] = Link(False, ref) if about_other_tumour(text) else None
        return self.report_links[ref]

    def _target(self, ref: str | None, depth: int) -> Link | None:
        target = self.resolve(ref)
        return self.link(target, depth) if target else None

    def _reason_code(self, concept: Any) -> Link | None:
        if cancer_code_organ(concept, self.terms) is not None:
            return Link(False, concept_text(concept) or _("another cancer (reason code)"))
        if "pnen" in self.terms.concepts_of(concept):
            return _PNEN
        return None

    def _specimen_site(self, ref: str, specimen: dict[str, Any]) -> Link | None:
        collection = specimen.get("collection")
        concept = collection.get("bodySite") if isinstance(collection, dict) else None
        site = site_class(concept, self.terms)
        if site in (PANCREAS, LIVER):
            return _PNEN
        # Another organ's sample is another cancer's only when one is on record: the pNEN's
        # own distant metastases (bone, lung) are biopsied too.
        if site == OTHER_ORGAN and self.others:
            return Link(False, ref)
        return None


def _decide(links: Sequence[Link | None]) -> Link | None:
    """One tier's answer: all that answer agree; disagreement is no answer (ambiguous)."""
    answers = [link for link in links if link is not None]
    if not answers:
        return None
    if all(link.pnen for link in answers):
        return _PNEN
    if not any(link.pnen for link in answers):
        return answers[0]
    return None


@dataclass(frozen=True)
class Attributed:
    """Facts after attribution, and the data issues it found."""

    facts: list[Fact]
    issues: list[DataIssue]


def attribute(
    resources: Sequence[tuple[str, dict[str, Any], str]],
    facts: Sequence[Fact],
    terms: Terminology,
    aliases: Mapping[str, str],
    reported: frozenset[str] = frozenset(),
) -> Attributed:
    """Drop facts of another cancer, flag possibly another cancer's, report unknown NENs.

    `resources` are (prefetch key, resource, 'Type/id'); `reported`: references already named by a
    data issue (unreadable), not reported again.
    """
    produced: dict[str, set[str]] = {}
    for fact in facts:
        if fact.ref.startswith("Condition/"):
            produced.setdefault(fact.ref, set()).add(fact.kind)
    pnen_refs = frozenset(ref for ref, kinds in produced.items() if kinds & PNEN_KINDS)
    others: dict[str, OtherCancer] = {}
    issues: list[DataIssue] = []
    out: list[Fact] = []
    for key, resource, ref in resources:
        if resource["resourceType"] != "Condition":
            continue
        kinds = produced.get(ref, set())
        if ref in pnen_refs or kinds & METASTASIS_KINDS or ref in reported:
            continue
        # A functional syndrome (insulinoma) beside a recognised pNEN is read; alone it is not.
        read = bool(kinds - {"nec-coded"}) and bool(pnen_refs)
        try:
            other = _classify(key, ref, resource, terms, issues if not read else [])
        except _MALFORMED:
            continue  # a Condition of the wrong shape names no cancer (mapping reports it)
        if other is not None:
            others[ref] = other
            status = "active" if other.active else "history"
            out.append(Fact("other-cancer", status, _onset(resource), ref, f"{other.label}"))
    if not others:
        return Attributed([*facts, *out], issues)
    by_ref = {ref: r for _, r, ref in resources}
    graph = _Graph(by_ref, aliases, pnen_refs, others, terms)
    active = any(o.active for o in others.values())
    excluded: dict[str, str] = {}
    for fact in facts:
        link = graph.link(fact.ref) if fact.ref in by_ref else None
        if link is not None and not link.pnen:
            excluded.setdefault(fact.ref, link.why)
            continue
        if link is None and active and _possibly_other(fact):
            fact = fact._replace(flags=(*fact.flags, POSSIBLY_OTHER_CANCER))
        out.append(fact)
    for ref, why in excluded.items():
        of_cancer, linked = _SET_ASIDE.get(ref.split("/", 1)[0], _OTHER_SET_ASIDE)
        text = (
            _(of_cancer, cancer=others[why].label, ref=why) if why in others else _(linked, why=why)
        )
        out.append(Fact("other-cancer-result", why, None, ref, text))
    return Attributed(out, issues)


def _classify(
    key: str, ref: str, condition: dict[str, Any], terms: Terminology, issues: list[DataIssue]
) -> OtherCancer | None:
    """Another cancer, or None; an unrecognised neuroendocrine neoplasm is a data issue."""
    if _is_secondary(condition, terms):
        return None
    if _looks_neuroendocrine(condition, terms):
        # An unrecognised NEN is reported, never taken for another cancer.
        if _counts(condition):
            issues.append(
                DataIssue(
                    key,
                    ref,
                    _(
                        "looks like a neuroendocrine neoplasm but was not recognised as a "
                        "pancreatic NEN or a metastasis (code, morphology or body site unknown "
                        "to the service)"
                    ),
                )
            )
        return None
    return _other_cancer(ref, condition, terms)


def ordered_for_other_cancer(draft: Any, other_cancers: frozenset[str], terms: Terminology) -> bool:
    """A draft order whose reason is another cancer on record (not a pNEN order)."""
    if not isinstance(draft, dict) or not other_cancers:
        return False
    if any(local_ref(r) in other_cancers for r in _refs(draft, "reasonReference")):
        return True
    return any(cancer_code_organ(c, terms) is not None for c in _concepts(draft, "reasonCode"))


def _possibly_other(fact: Fact) -> bool:
    """A tissue result not placed in the pancreas or liver, a metastasis outside the liver, or a
    disease status (mCODE's is per cancer: with two active cancers and no focus, "progression"
    may be the other one's)."""
    if fact.kind in TISSUE_RESULT_KINDS:
        return fact.site == UNKNOWN_SITE
    return fact.kind in ("extrahepatic-metastasis", "disease-status")


def _is_secondary(condition: dict[str, Any], terms: Terminology) -> bool:
    if SECONDARY_CANCER_PROFILE in _profiles(condition):
        return True
    return "secondary-malignancy" in terms.concepts_of(condition.get("code"))


def _counts(condition: dict[str, Any]) -> bool:
    return verification_status(condition) not in _NOT_COUNTED


def _onset(condition: dict[str, Any]) -> date | None:
    try:
        return fhir_date(condition, "onsetDateTime") or fhir_date(condition, "recordedDate")
    except ValueError:
        return None  # a malformed date was reported by the Condition mapping already

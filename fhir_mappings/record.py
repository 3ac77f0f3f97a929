"""A patient's FHIR record (resources grouped by prefetch key) → PatientFacts."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fhir_mappings.administrations import Dose, map_administrations, read_administration
from fhir_mappings.attribution import attribute
from fhir_mappings.conditions import map_allergy, map_condition
from fhir_mappings.facts import DataIssue, Fact, PatientFacts, index_facts
from fhir_mappings.medications import map_medication, unreadable_medication
from fhir_mappings.narrative import CodedTissue, is_pathology_report, read_pathology_report
from fhir_mappings.observations import (
    MappingOptions,
    SiteIndex,
    map_observation,
    map_specimen,
)
from fhir_mappings.orders import map_service_request
from fhir_mappings.procedures import map_procedure
from fhir_mappings.reports import map_report
from fhir_mappings.shape import (
    FHIR_ID,
    ShapeError,
    fhir_date,
    local_ref,
    ref_of,
    reference,
    versioned_ref,
)
from fhir_mappings.terminology import Terminology
from pnen_i18n import N_, _

log = logging.getLogger(__name__)

# What a mapper may raise on a resource of an unexpected shape: reported, never a 500.
_UNREADABLE = (ShapeError, TypeError, ValueError, AttributeError, KeyError, IndexError)
_MEDICATIONS = frozenset({"MedicationRequest", "MedicationStatement"})
# (prefetch key, resource, its 'Type/id'): a resource that passed _valid_resources, its reference
# computed once (ref_of checks the id with a regular expression: a fair part of a lab's cost).
Valid = tuple[str, dict[str, Any], str]


def _issue(key: str, resource: dict[str, Any], exc: Exception) -> DataIssue:
    """The data issue for a resource that could not be read (the message names no content)."""
    if isinstance(exc, ShapeError):
        return DataIssue(key, ref_of(resource), str(exc))
    log.warning("unreadable resource %s: %s", ref_of(resource), type(exc).__name__)
    return DataIssue(key, ref_of(resource), _("unreadable resource"))


_EARLIEST = date(1900, 1, 1)
_TOLERANCE = timedelta(days=1)  # time zones: a result from "tomorrow" may be today elsewhere
# A fact's impossible date: (after the latest allowed day, a diagnosis kept undated) → problem.
_DATE_PROBLEMS = {
    (True, True): N_("date in the future: date not used"),
    (True, False): N_("date in the future: not used"),
    (False, True): N_("date before 1900: date not used"),
    (False, False): N_("date before 1900: not used"),
}
# Kinds whose date is a plan, not an event (orders, drafts): never checked against today.
_PLANNED = ("planned", "draft")
# Where each resource type says when it was recorded (for as-of: not yet known on that day).
_RECORDED = {
    "Condition": ("recordedDate",),
    "Observation": ("issued",),
    "DiagnosticReport": ("issued",),
    "MedicationRequest": ("authoredOn",),
    "MedicationStatement": ("dateAsserted",),
    "ServiceRequest": ("authoredOn",),
    "AllergyIntolerance": ("recordedDate",),
}


def _recorded_after(
    resource: dict[str, Any],
    ref: str,
    day: date,
    later: set[str],
    issues: list[DataIssue],
    key: str,
) -> bool:
    """True (and counted in `later`) when the resource was recorded after `day`."""
    try:
        for element in _RECORDED.get(resource["resourceType"], ()):
            recorded = fhir_date(resource, element)
            if recorded is not None and recorded > day:
                later.add(ref)
                return True
    except ShapeError as exc:
        issues.append(DataIssue(key, ref, str(exc)))
        return True
    return False


def _dated_events(
    facts: list[Fact],
    today: date,
    as_of: bool,
    issues: list[DataIssue],
    later: set[str],
    resources: Sequence[Valid],
) -> list[Fact]:
    """Facts whose event date can be used: with `as_of`, none after today (counted in `later`);
    otherwise none after today + 1 day or before 1900 (each reported once per resource)."""
    latest = today if as_of else today + _TOLERANCE
    kept: list[Fact] = []
    reported: dict[str, str] = {}
    for fact in facts:
        when = fact.when
        if when is None or _EARLIEST <= when <= latest or fact.kind.startswith(_PLANNED):
            kept.append(fact)
        elif as_of and when > today:
            later.add(fact.ref)
        else:
            diagnosis = fact.ref.startswith("Condition/")
            if diagnosis:
                # A diagnosis stays on record without its impossible date (the rules then treat
                # it as undated); a result or treatment with an impossible date is not used.
                kept.append(fact._replace(when=None))
            if fact.ref not in reported:
                reported[fact.ref] = _(_DATE_PROBLEMS[(when > latest, diagnosis)])
    if reported:  # rare: the prefetch keys are looked up only then
        keys = {ref: k for k, _r, ref in resources if ref in reported}
        issues.extend(DataIssue(keys.get(ref, ""), ref, p) for ref, p in reported.items())
    return kept


# (prefetch key, resource JSON)
Item = tuple[str, Any]
_FIRST = ("Patient", "Condition", "AllergyIntolerance", "Specimen")


@dataclass(frozen=True)
class RecordMapper:
    """Maps resources to facts with one terminology and one set of site options."""

    terms: Terminology
    options: MappingOptions = MappingOptions()

    def map(
        self,
        patient_id: str,
        items: Iterable[Item],
        today: date,
        *,
        as_of: bool = False,
        aliases: Mapping[str, str] | None = None,
    ) -> PatientFacts:
        """All facts of one patient; malformed resources are skipped and reported.

        Event dates after today (one day's tolerance for time zones) or before 1900 are data
        issues and not used. With `as_of`, the record is read as it stood on `today`: anything
        dated or recorded later is ignored and counted, not reported. `aliases` maps Bundle entry
        fullUrls (`urn:uuid:…`) to 'Type/id', so that references inside a Bundle resolve; facts
        are then attributed to the pNEN or another cancer.
        """
        facts: list[Fact] = []
        issues: list[DataIssue] = []
        used: list[str] = []
        birth_date: date | None = None
        cutoff = today if as_of else None
        aliases = aliases or {}
        valid = self._valid_resources(patient_id, items, issues, set(), aliases)
        later: set[str] = set()
        if as_of:
            valid = [
                (k, r, ref)
                for k, r, ref in valid
                if not _recorded_after(r, ref, today, later, issues, k)
            ]
        first: list[Valid] = []
        rest: list[Valid] = []
        for item in valid:
            (first if item[1]["resourceType"] in _FIRST else rest).append(item)
        specimens: dict[str, str] = {}
        for key, resource, ref in first:
            kind = resource["resourceType"]
            try:
                if kind == "Patient":
                    birth_date = fhir_date(resource, "birthDate")
                    used.append(versioned_ref(resource, ref))
                elif kind == "Specimen":
                    site = map_specimen(resource, self.terms)
                    if site:
                        specimens[ref] = site
                else:
                    problems: list[str] = []
                    produced = (
                        map_condition(resource, self.terms, problems, as_of=cutoff, ref=ref)
                        if kind == "Condition"
                        else map_allergy(resource, self.terms)
                    )
                    issues.extend(DataIssue(key, ref, p) for p in problems)
                    if produced:
                        facts.extend(produced)
                        used.append(versioned_ref(resource, ref))
            except _UNREADABLE as exc:
                issues.append(_issue(key, resource, exc))
        primary = {f.ref for f in facts if f.kind == "pnen"}
        liver = {f.ref for f in facts if f.kind == "liver-metastasis" and f.ref.startswith("Cond")}
        for url, target in aliases.items():  # a result may name them by fullUrl
            if target in specimens:
                specimens[url] = specimens[target]
            if target in primary:
                primary.add(url)
            if target in liver:
                liver.add(url)
        sites = SiteIndex(
            specimens=specimens,
            primary_conditions=frozenset(primary),
            liver_conditions=frozenset(liver),
        )
        # An unknown RxNorm-coded drug matters only for a pNEN (it may be its treatment).
        pnen_known = any(f.kind in ("pnen", "pnen-remission") for f in facts)
        doses: list[Dose] = []  # administrations are read together: cycles form courses
        pathology: list[tuple[str, dict[str, Any]]] = []
        for key, resource, ref in rest:
            kind = resource["resourceType"]
            try:
                if kind == "MedicationAdministration":
                    dose = read_administration(resource, self.terms)
                    if dose:
                        doses.append(dose)
                        used.append(versioned_ref(resource, ref))
                    elif pnen_known:
                        self._unknown_drug(key, resource, issues)
                    continue
                if kind == "DiagnosticReport" and is_pathology_report(resource, self.terms):
                    pathology.append((key, resource))  # read once coded results are known
                    continue
                if kind == "Observation":  # most of a record: mapped without a further call
                    produced, problems = map_observation(
                        resource, self.terms, sites, self.options, ref
                    )
                    if problems:
                        issues.extend(DataIssue(key, ref, p) for p in problems)
                else:
                    produced = self._map_one(kind, resource, ref, today)
            except _UNREADABLE as exc:
                issues.append(_issue(key, resource, exc))
                continue
            if produced:
                facts.extend(produced)
                used.append(versioned_ref(resource, ref) if "meta" in resource else ref)
            elif pnen_known and kind in _MEDICATIONS:
                self._unknown_drug(key, resource, issues)
        if pathology:
            self._read_pathology(pathology, sites, facts, issues, used)
        facts.extend(map_administrations(doses, today))
        facts = _dated_events(facts, today, as_of, issues, later, valid)
        reported = frozenset(i.reference for i in issues)
        attributed = attribute(valid, facts, self.terms, aliases, reported)
        issues.extend(attributed.issues)
        return PatientFacts(
            patient_ref=f"Patient/{patient_id}",
            birth_date=birth_date,
            by_kind=index_facts(attributed.facts),
            data_issues=tuple(issues),
            resources_used=tuple(used),
            ignored_after_as_of=len(later),
        )

    @staticmethod
    def _unknown_drug(key: str, resource: dict[str, Any], issues: list[DataIssue]) -> None:
        """Report a medication nothing here can read or recognise (never silence)."""
        try:
            problem = unreadable_medication(resource)
        except _UNREADABLE:
            return  # the medication's own reading has already reported its shape
        if problem:
            issues.append(DataIssue(key, ref_of(resource), problem))

    def _read_pathology(
        self,
        reports: list[tuple[str, dict[str, Any]]],
        sites: SiteIndex,
        facts: list[Fact],
        issues: list[DataIssue],
        used: list[str],
    ) -> None:
        """Tissue facts from pathology reports' text, where coded results do not give them."""
        coded = CodedTissue.of(facts)
        for key, report in reports:
            try:
                produced, problems = read_pathology_report(
                    report, self.terms, sites, self.options, coded
                )
            except _UNREADABLE as exc:
                issues.append(_issue(key, report, exc))
                continue
            issues.extend(DataIssue(key, ref_of(report), p) for p in problems)
            if produced:
                facts.extend(produced)
                used.append(versioned_ref(report))

    def _map_one(
        self,
        kind: str,
        resource: dict[str, Any],
        ref: str,
        today: date,
    ) -> list[Fact]:
        """The facts of one resource (of type `kind`, not an Observation) read after Conditions."""
        if kind == "DiagnosticReport":
            return map_report(resource, self.terms, ref=ref)
        if kind in ("MedicationRequest", "MedicationStatement"):
            return map_medication(resource, self.terms, today)
        if kind == "Procedure":
            return map_procedure(resource, self.terms)
        if kind == "ServiceRequest":
            return map_service_request(resource, self.terms)
        return []

    def has_pnen(
        self, patient_id: str, items: Iterable[Item], *, aliases: Mapping[str, str] | None = None
    ) -> bool:
        """Whether the record has a pNEN Condition, active or in remission (a cheap first look)."""
        conditions = [
            (k, r) for k, r in items if isinstance(r, dict) and r.get("resourceType") == "Condition"
        ]
        valid = self._valid_resources(patient_id, conditions, [], set(), aliases or {})
        for _key, resource, ref in valid:
            try:
                found = map_condition(resource, self.terms, ref=ref)
                if any(f.kind in ("pnen", "pnen-remission") for f in found):
                    return True
            except ShapeError:
                continue
        return False

    @staticmethod
    def _valid_resources(
        patient_id: str,
        items: Iterable[Item],
        issues: list[DataIssue],
        seen: set[str],
        aliases: Mapping[str, str],
    ) -> list[Valid]:
        """Resources that are JSON objects with a type and an id, of this patient, once each."""
        valid: list[Valid] = []
        patient_ref = f"Patient/{patient_id}"
        for key, resource in items:
            if not isinstance(resource, dict):
                issues.append(DataIssue(key, "?", _("resource: expected an object")))
                continue
            kind = resource.get("resourceType")
            rid = resource.get("id")
            if not isinstance(kind, str) or not kind:
                issues.append(DataIssue(key, "?", _("resourceType: missing")))
                continue
            if not isinstance(rid, str) or not FHIR_ID.match(rid):
                issues.append(DataIssue(key, f"{kind}/?", _("id: missing or not a FHIR id")))
                continue
            ref = f"{kind}/{rid}"
            if ref in seen:
                continue
            seen.add(ref)
            if kind == "Patient":
                if rid != patient_id:
                    issues.append(DataIssue(key, ref, _("another patient than context.patientId")))
                    continue
            else:
                subject = resource.get("subject")
                # The common case, a subject naming this patient exactly, needs no further reading.
                if type(subject) is not dict or subject.get("reference") != patient_ref:
                    excluded = _other_subject(resource, patient_ref, aliases)
                    if excluded:
                        issues.append(DataIssue(key, ref, excluded))
                        continue
            valid.append((key, resource, ref))
        return valid


def _other_subject(
    resource: dict[str, Any], patient_ref: str, aliases: Mapping[str, str]
) -> str | None:
    """Why a resource's subject (or patient) excludes it: a wrong shape or another patient."""
    try:
        subject = reference(resource, "subject") or reference(resource, "patient")
    except ShapeError as exc:
        return str(exc)
    target = (subject if subject == patient_ref else aliases.get(subject or "")) or local_ref(
        subject
    )
    if target and target.startswith("Patient/") and target != patient_ref:
        return _("subject is another patient")
    return None

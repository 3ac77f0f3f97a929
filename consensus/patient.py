"""The definitions of consensus-rules.md ("How rules see a patient") computed over facts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import NamedTuple

from consensus.criteria import (
    MET,
    NOT_MET,
    UNKNOWN,
    Criterion,
    all_of,
    any_of,
    known,
    unknown,
)
from consensus.memo import computed_once
from consensus.months import whole_months, within_months
from consensus.settings import Settings
from fhir_mappings.facts import (
    LIVER,
    POSSIBLY_OTHER_CANCER,
    PRIMARY,
    SYSTEMIC_THERAPY_CLASSES,
    UNKNOWN_SITE,
    Fact,
    Medication,
    PatientFacts,
    Quantity,
)
from pnen_i18n import N_, _

SITES = (PRIMARY, LIVER, UNKNOWN_SITE)
# An enucleation removes the primary tumour: it counts wherever a pancreatectomy does.
PANCREATECTOMIES = (
    "pancreatoduodenectomy",
    "distal-pancreatectomy",
    "pancreatectomy",
    "enucleation",
)
HEPATECTOMIES = ("hepatectomy-parenchymal-sparing", "hepatectomy-anatomic")
LIVER_RESECTIONS = (*HEPATECTOMIES,)
# What clears liver metastases in a curative-intent resection (consensus-rules.md definition).
LIVER_CLEARANCE = (*HEPATECTOMIES, "liver-ablation", "liver-transplant")
ACTIVE = "active"
REMISSION = "remission"
REGIMEN_GAP_DAYS = 30  # spec: drugs started within 30 days of each other form one regimen
CURATIVE = N_("curative-intent resection (no known disease left)")
BIOPSIES = ("eus-fnb", "eus-fna", "liver-biopsy-percutaneous")
TISSUE_KINDS = ("ki67", "mitotic-count", "who-grade", "differentiation")
GRADING_KINDS = ("ki67", "mitotic-count", "who-grade")
C11_MISSING = N_(
    "C 11 potential-resectability data (lesions near the surface and deep-lesion count, "
    "segments or lobe involved, NED achievable with remnant liver ≥ 30 %, > 90 % cytoreduction)"
)


ASSESSMENT_LABELS = {
    "r0-r1-feasible": N_("R0/R1 resection feasibility (surgical assessment)"),
    "remnant-liver-volume": N_("expected remnant liver volume (%)"),
    "ned": N_("NED (no evidence of disease) status"),
    "ned-achievable": N_("whether NED is achievable"),
    "cytoreduction-90-achievable": N_("whether > 90 % cytoreduction is achievable"),
    "deep-lesion-count": N_("number of deep liver lesions"),
    "most-lesions-within-2cm-of-surface": N_(
        "whether most metastases lie within 2 cm of the surface"
    ),
    "liver-segments-involved": N_("number of liver segments involved"),
    "confined-to-one-lobe": N_("whether the metastases are confined to one lobe"),
    "liver-tumor-burden": N_("liver tumour burden (% of liver volume)"),
    "major-vessel-invasion": N_("major intrahepatic vessel invasion (present or absent)"),
    "hormone-symptoms-refractory": N_("whether hormone symptoms are refractory"),
    "splenic-vessel-invasion": N_("splenic-vessel invasion (present or absent)"),
    "tumor-thrombus": N_("tumour thrombus (present or absent)"),
    "high-nodal-risk": N_("risk of nodal metastasis"),
    "primary-resectable": N_("resectability of the primary"),
    "primary-tumor-size": N_("primary tumour size (mm)"),
}


def missing_label(kind: str) -> str:
    """How a card names an open surgical-assessment fact that is not recorded."""
    label = ASSESSMENT_LABELS.get(kind)
    return _(label) if label else kind.replace("-", " ")


def grade_range(value: Quantity, g2_from: float, g3_above: float) -> tuple[int, int]:
    """The WHO grades a value allows: G1 below g2_from, G2 up to g3_above, G3 above it.

    An exact value allows one grade; a bound ('< 5 %') may allow several (G1–G2).
    """
    in_g1 = value.compare("<", g2_from) is not False
    in_g2 = value.compare(">=", g2_from) is not False and value.compare("<=", g3_above) is not False
    in_g3 = value.compare(">", g3_above) is not False
    grades = [grade for grade, possible in ((1, in_g1), (2, in_g2), (3, in_g3)) if possible]
    return min(grades), max(grades)


def ki67_grades(ki67: Quantity) -> tuple[int, int]:
    """WHO 2019 grades from Ki-67: G1 < 3 %, G2 3–20 %, G3 > 20 % (R Table 4, C 4)."""
    return grade_range(ki67, 3, 20)  # WHO 2019: G1 < 3 %, G2 3–20 %, G3 > 20 %


def mitotic_grades(mitoses: Quantity) -> tuple[int, int]:
    """WHO 2019 grades from mitoses per 2 mm²: G1 < 2, G2 2–20, G3 > 20."""
    return grade_range(mitoses, 2, 20)  # WHO 2019: G1 < 2, G2 2–20, G3 > 20 per 2 mm²


def ki67_grade(ki67: Quantity) -> int | None:
    """The WHO grade from Ki-67, or None when a reported bound allows more than one."""
    low, high = ki67_grades(ki67)
    return low if low == high else None


def mitotic_grade(mitoses: Quantity) -> int | None:
    """The WHO grade from mitoses per 2 mm², or None when a bound allows more than one."""
    low, high = mitotic_grades(mitoses)
    return low if low == high else None


ONGOING_STATUSES = frozenset({"active", "on-hold"})
ENDED_STATUSES = frozenset({"completed", "stopped"})
GIVEN_STATUSES = ONGOING_STATUSES | ENDED_STATUSES  # taken, running or not


def taken_during(med: Medication, first: date, last: date, today: date) -> bool | None:
    """Whether a medication was being taken on some day from `first` to `last` (None: unknown).

    Active and on-hold medications run from their start to their end (or to today); completed and
    stopped ones ran from start to end, so without an end it is unknown when they stopped. Other
    statuses (draft, cancelled, intended, not-taken, entered-in-error, unknown) were never taken.
    """
    if med.status not in GIVEN_STATUSES:
        return False
    if med.start is not None and med.start > last:
        return False
    last_taken = med.end
    if last_taken is None and med.status in ONGOING_STATUSES:
        last_taken = today
    if last_taken is None:
        return None  # completed or stopped on a date not recorded
    if last_taken < first:
        return False
    if med.start is not None:
        return True
    # Without a start only the last day taken is known.
    return True if last_taken <= last else None


def _undated_text(fact: Fact) -> str:
    """Which dates of a medication would settle when it was taken: 'start date of … (ref)'."""
    med: Medication = fact.value
    no_end = med.end is None and med.status in ENDED_STATUSES
    if med.start is None and no_end:
        return _("start and end dates of {drug} ({ref})", drug=med.name, ref=fact.ref)
    if no_end:
        return _("end date of {drug} ({ref})", drug=med.name, ref=fact.ref)
    return _("start date of {drug} ({ref})", drug=med.name, ref=fact.ref)


C11_MOST_WITHIN = N_(
    "whether most metastases lie within 3 segments or one lobe, the rest oligometastases"
)


def _only_if_met(criterion: Criterion) -> Criterion:
    """C 11 (2) by the facts that can only show it: ≤ 3 segments involved, or one lobe.

    More segments, or both lobes, do not refute it: "most metastases within 3 segments or a
    single lobe, the lesions beyond oligometastases" allows disease outside them (clinical
    review, finding 2). Those facts leave (2) unknown, never not met.
    """
    if criterion.not_met:
        return Criterion(criterion.name, UNKNOWN, criterion.evidence, (_(C11_MOST_WITHIN),))
    return criterion


@dataclass(frozen=True)
class SiteGrade:
    """The WHO grades a site's results allow (one when exact) and the facts that set them."""

    site: str
    low: int
    high: int
    evidence: tuple[Fact, ...]
    contested: tuple[Fact, ...] = ()
    """Results possibly another cancer's that would change the grade (then left open)."""
    # Grade history: earlier, higher grades are never hidden ("liver G3 on 2025-03-01, G2 on
    # 2026-09-10"), with the results that set them.
    history: tuple[str, ...] = ()
    history_evidence: tuple[Fact, ...] = ()

    @property
    def grade(self) -> int | None:
        """The grade, or None when a reported bound leaves more than one possible."""
        return self.low if self.low == self.high else None

    @property
    def grade_text(self) -> str:
        """'G2', or 'G1–G2' when a bound leaves the grade open."""
        return f"G{self.low}" if self.grade else f"G{self.low}–G{self.high}"

    @property
    def label(self) -> str:
        """'G2 (liver metastasis)'; 'G1–G2 (primary; exact value needed)' for a bound."""
        details = [_(LABEL_SITE_NAMES[self.site])]
        if self.contested:
            details.append(_("a higher result may belong to another cancer"))
        elif not self.grade:
            details.append(_("exact value needed"))
        details += self.history
        return _("{grade} ({details})", grade=self.grade_text, details="; ".join(details))

    @property
    def history_note(self) -> str:
        """'grade history: liver G3 on 2025-03-01, G2 on 2026-09-10' ('' without one)."""
        if not self.history:
            return ""
        return _("grade history: {history}", history="; ".join(self.history))


LABEL_SITE_NAMES = {
    PRIMARY: N_("primary"),
    LIVER: N_("liver metastasis"),
    UNKNOWN_SITE: N_("site unknown"),
}
HISTORY_SITE_NAMES = {PRIMARY: N_("primary"), LIVER: N_("liver"), UNKNOWN_SITE: N_("site unknown")}


def result_grades(fact: Fact) -> tuple[int, int]:
    """The WHO grades one Ki-67, mitotic count or reported grade allows."""
    if fact.kind == "ki67":
        return ki67_grades(fact.value)
    if fact.kind == "mitotic-count":
        return mitotic_grades(fact.value)
    return int(fact.value), int(fact.value)


def grade_history(current: SiteGrade, results: tuple[Fact, ...]) -> SiteGrade:
    """The site grade with its earlier, higher grades (dated results before the current ones)."""
    dates = [f.when for f in current.evidence if f.when]
    since = max(dates) if dates else None
    earlier = [
        (result_grades(f)[0], f)
        for f in results
        if f.site == current.site
        and f.when is not None
        and f not in current.evidence
        and (since is None or f.when < since)
        and result_grades(f)[0] > current.high
    ]
    if not earlier:
        return current
    # One entry per grade and day, oldest first.
    by_day = {
        (f.when, grade): f
        for grade, f in sorted(earlier, key=lambda x: (x[1].when or date.min, x[0]))
    }
    steps = [_("{grade} on {date}", grade="G" + str(grade), date=when) for when, grade in by_day]
    if since:
        now = _("{grade} on {date}", grade=current.grade_text, date=since)
    else:
        now = _("{grade} (undated)", grade=current.grade_text)
    course = _(
        "{site} {steps}, {now}",
        site=_(HISTORY_SITE_NAMES[current.site]),
        steps=", ".join(steps),
        now=now,
    )
    return replace(current, history=(course,), history_evidence=tuple(by_day.values()))


STUDY_NAMES = {
    "pet-fdg": N_("FDG PET"),
    "pet-ssa": N_("68Ga-SSA PET"),
    "ct-abdomen-multiphase": N_("abdominal CT"),
    "mri-liver-hepatobiliary": N_("liver MRI"),
    "mri-liver": N_("liver MRI"),
    "abdominal-imaging": N_("abdominal CT/MRI"),
}
"""Names of the studies that guide a procedure (translated where shown: `_(STUDY_NAMES[kind])`)."""
# Most specific first: a report of several kinds is named by the first (max keeps the first).
GUIDING_IMAGING = (
    "ct-abdomen-multiphase",
    "mri-liver-hepatobiliary",
    "mri-liver",
    "abdominal-imaging",
)


@dataclass(frozen=True)
class StaleStudy:
    """A study that guides a procedure but is older than the local default, with its age."""

    kind: str
    fact: Fact
    months: int

    @property
    def text(self) -> str:
        """'FDG PET of 2024-10-02, 25 months old'."""
        when = self.fact.when.isoformat() if self.fact.when else _("undated")
        study = _(STUDY_NAMES[self.kind]) if self.kind in STUDY_NAMES else self.kind
        return _(
            "{study} of {date}, {months} months old", study=study, date=when, months=self.months
        )


def _site_grades(facts: PatientFacts) -> dict[str, SiteGrade]:
    """Each site's grade: the higher of Ki-67 and mitoses, else the reported grade."""
    grades: dict[str, SiteGrade] = {}
    for site in SITES:
        ki67 = facts.latest("ki67", site)
        mitoses = facts.latest("mitotic-count", site)
        measured = [(ki67_grades(ki67.value), ki67)] if ki67 else []
        if mitoses:
            measured.append((mitotic_grades(mitoses.value), mitoses))
        if measured:
            # The higher of the two (C 2): the range of the maximum of the two ranges.
            low = max(r[0] for r, _ in measured)
            high = max(r[1] for r, _ in measured)
            grades[site] = SiteGrade(site, low, high, tuple(f for _, f in measured))
            continue
        reported = facts.latest("who-grade", site)
        if reported:
            grade = int(reported.value)
            grades[site] = SiteGrade(site, grade, grade, (reported,))
    return grades


def _overall(site_grades: dict[str, SiteGrade]) -> SiteGrade | None:
    """The highest site grade (C 2: treat by the higher grade); None when nothing grades.

    With bounds, the overall grade is open (e.g. G1–G2) while another site could still set it;
    its evidence is then every site that could.
    """
    graded = list(site_grades.values())
    if not graded:
        return None
    top = max(graded, key=lambda g: (g.low, g.high, g.site == LIVER, g.site == PRIMARY))
    low = max(g.low for g in graded)
    high = max(g.high for g in graded)
    # Any site's earlier grade above the overall grade is shown with it (grade history).
    history = tuple(h for g in graded for h in g.history)
    history_evidence = tuple(f for g in graded for f in g.history_evidence)
    evidence = top.evidence
    if low != high:
        contenders = [g for g in graded if g.high >= low]
        evidence = tuple(f for g in contenders for f in g.evidence)
    return SiteGrade(
        top.site, low, high, evidence, history=history, history_evidence=history_evidence
    )


def _latest_by_site(facts: PatientFacts, kind: str) -> dict[str, Fact]:
    found = {site: facts.latest(kind, site) for site in SITES}
    return {site: fact for site, fact in found.items() if fact}


def _ki67_test(latest: list[Fact], name: str, test: str, threshold: float) -> Criterion:
    """Highest of each site's latest Ki-67 against a threshold (see Patient.ki67_criterion)."""
    if not latest:
        return unknown(name, _("Ki-67 index"))
    results = [(f, f.value.compare(test, threshold)) for f in latest]
    if test in ("<", "<="):  # the highest is below T: every site is
        decisive = [f for f, ok in results if ok is False]
        all_pass = all(ok for _, ok in results)
        verdict = False if decisive else (True if all_pass else None)
    else:  # the highest is above T: some site is
        decisive = [f for f, ok in results if ok is True]
        verdict = True if decisive else (False if all(ok is False for _, ok in results) else None)
    if verdict is None:
        open_bounds = [f for f, ok in results if ok is None]
        reported = ", ".join(f.value.display() for f in open_bounds)
        return unknown(name, _("exact Ki-67 (reported as {values})", values=reported), open_bounds)
    return known(name, verdict, decisive or latest)


def _without_flag(facts: PatientFacts, flag: str) -> PatientFacts:
    """The same facts without those carrying `flag`."""
    kept = {
        kind: tuple(f for f in items if flag not in f.flags)
        for kind, items in facts.by_kind.items()
    }
    return replace(facts, by_kind={kind: items for kind, items in kept.items() if items})


@dataclass(frozen=True)
class Regimen:
    """The current systemic therapy: its running drugs, start, latest change and line."""

    drugs: tuple[Fact, ...]
    start: date | None  # earliest start of the running drugs (None: one is undated)
    latest_change: date | None  # latest start of a running drug (adding an agent is a change)
    changed_by: tuple[Fact, ...]  # the running drugs started on the latest change
    line: int | None  # rank among the regimens since the pNEN-LM diagnosis (None: unknown)


def _disease_after(fact: Fact) -> bool | None:
    """True when a status fact shows disease, False when it shows none, None when neither."""
    if fact.kind == "ned":
        return fact.value is not True
    if fact.kind == "pnen-remission":
        return False
    if fact.kind == "disease-status":
        return {"remission": False, "progression": True, "stable": True, "improved": True}.get(
            str(fact.value)
        )
    return True  # a metastasis Condition


# Differentiation classes.
NET = "NET"
NEC = "NEC"
# Compared by rules, so canonical English; marked for the catalogue, shown as `_(G3_UNKNOWN)`.
G3_UNKNOWN = N_("G3, differentiation unknown")
CONFLICT = N_("conflicting differentiation")


class _Reading(NamedTuple):
    """The grading data one reading of the record gives (with or without results possibly
    another cancer's): the overall grade, whether a Ki-67 is on record, each site's grade."""

    grade: SiteGrade | None
    ki67_known: bool
    site_grades: Mapping[str, SiteGrade]


class Patient:
    """One patient's facts seen through the consensus definitions, computed once per request."""

    def __init__(self, facts: PatientFacts, today: date, settings: Settings) -> None:
        # Results possibly another cancer's (fact flag) feed no rule directly: the criteria they
        # could change are evaluated with and without them, and unknown where the two differ.
        self.possibly_other = tuple(
            f for items in facts.by_kind.values() for f in items if POSSIBLY_OTHER_CANCER in f.flags
        )
        self.record = facts
        self.facts = _without_flag(facts, POSSIBLY_OTHER_CANCER) if self.possibly_other else facts
        self.today = today
        self.settings = settings
        self._active: dict[tuple[str, ...], tuple[Fact, ...]] = {}

    # --- attribution to the pNEN or another cancer -----------------------------------------
    @computed_once
    def other_cancers(self) -> tuple[Fact, ...]:
        """Other primary cancers on record that are active."""
        return tuple(f for f in self.facts.all("other-cancer") if f.value == "active")

    def may_be_other_cancer(self, flagged: Iterable[Fact]) -> str:
        """Missing-data text: 'whether Ki-67 30 % (Observation/x) is the pNEN's: … (breast, …)'."""
        what = ", ".join(f"{f.text} ({f.ref})" for f in flagged)
        cancers = "; ".join(f"{f.text}, {f.ref}" for f in self.other_cancers) or _("on record")
        return _(
            "whether {results} is the pNEN's: it may belong to the other cancer ({cancers})",
            results=what,
            cancers=cancers,
        )

    def possibly_other_of(self, *kinds: str) -> tuple[Fact, ...]:
        """Facts of these kinds possibly another cancer's."""
        return tuple(f for f in self.possibly_other if f.kind in kinds)

    # --- diagnoses -------------------------------------------------------------------------
    @computed_once
    def pnen_status_evidence(self) -> tuple[str | None, Fact | None]:
        """The pNEN status ('active', 'remission' or None) and the dated fact that sets it.

        The latest dated evidence wins: the pNEN Conditions (active or in remission), then
        progression, NED not reached or a new metastasis Condition (active again), and a
        remission or NED disease status (in remission). On the same day, disease outweighs
        remission; undated Conditions come first, an active one before one in remission.
        """
        conditions = [(f, ACTIVE) for f in self.facts.all("pnen")]
        conditions += [(f, REMISSION) for f in self.facts.all("pnen-remission")]
        if not conditions:
            return None, None
        events = [(f.when or date.min, status == ACTIVE, f) for f, status in conditions]
        later = [
            *self.facts.all("disease-status"),
            *self.facts.all("ned"),
            *(f for f in self.facts.all("liver-metastasis") if f.ref.startswith("Condition/")),
            *(f for f in self.facts.all("extrahepatic-metastasis")),
        ]
        for fact in later:
            disease = _disease_after(fact)
            if fact.when is None or disease is None:
                continue
            if fact.kind == "disease-status" and fact.value in ("stable", "improved"):
                continue  # disease present but no change of status (spec: progression, NED)
            events.append((fact.when, disease, fact))
        when, disease, fact = max(events, key=lambda e: (e[0], e[1], e[2].ref))
        return (ACTIVE if disease else REMISSION), fact

    @property
    def pnen_status(self) -> str | None:
        """'active', 'remission' (a pNEN history), or None when no pNEN is on record."""
        return self.pnen_status_evidence[0]

    @property
    def in_remission(self) -> bool:
        """The pNEN is in remission."""
        return self.pnen_status == REMISSION

    @computed_once
    def has_pnen(self) -> bool:
        """A pNEN is on record, active or in remission (rules about active disease are gated)."""
        return self.pnen_status is not None

    @computed_once
    def has_liver_mets(self) -> bool:
        """A liver-metastasis Condition, M1a/M1c, or an ENETS liver type is on record."""
        return self.facts.has("liver-metastasis")

    @computed_once
    def pnen_lm(self) -> bool:
        """pNEN with liver metastases (active wherever the registry runs an active-only rule)."""
        return self.has_pnen and self.has_liver_mets

    @computed_once
    def pnen_lm_date(self) -> date | None:
        """The later of the earliest pNEN onset and the earliest liver-metastasis onset."""
        pnen = [f.when for f in self.facts.all("pnen") if f.when]
        metastases = self.facts.all("liver-metastasis")
        # Condition onsets first; M1a/M1c or ENETS-type Observations only when no liver-metastasis
        # Condition is dated (an Observation's date is when it was staged, not the onset).
        liver = [f.when for f in metastases if f.when and f.ref.startswith("Condition/")]
        liver = liver or [f.when for f in metastases if f.when]
        if not pnen or not liver:
            return None
        return max(min(pnen), min(liver))

    @computed_once
    def extrahepatic(self) -> tuple[Fact, ...]:
        """Extrahepatic metastases on record (closed world), not those possibly another cancer's."""
        return self.facts.all("extrahepatic-metastasis")

    @computed_once
    def extrahepatic_unknown(self) -> tuple[Fact, ...]:
        """Metastases recorded without a site (C79.9): extrahepatic disease may be present."""
        return self.facts.all("extrahepatic-metastasis-unknown")

    @computed_once
    def extrahepatic_possible(self) -> tuple[Fact, ...]:
        """Metastases outside the liver that may belong to another cancer on record."""
        return self.possibly_other_of("extrahepatic-metastasis")

    def no_extrahepatic(self, name: str) -> Criterion:
        """No extrahepatic metastasis: not met when one is recorded; unknown when a metastasis
        has no site or may be another cancer's; otherwise met (closed world)."""
        if self.extrahepatic:
            return known(name, False, self.extrahepatic)
        if self.extrahepatic_unknown:
            return unknown(
                name, _("site of the metastasis recorded without one"), self.extrahepatic_unknown
            )
        possible = self.extrahepatic_possible
        if possible:
            return unknown(name, self.may_be_other_cancer(possible), possible)
        return known(name, True, note=_("none recorded"))

    @computed_once
    def functional(self) -> tuple[Fact, ...]:
        """Functional syndromes on record (closed world)."""
        return self.facts.all("functional")

    @computed_once
    def syndromes(self) -> frozenset[str]:
        """Names of the functional syndromes on record."""
        return frozenset(str(f.value) for f in self.functional)

    @property
    def is_functional(self) -> bool:
        """A functional syndrome is recorded."""
        return bool(self.functional)

    @property
    def is_insulinoma(self) -> bool:
        """An insulinoma is recorded."""
        return "insulinoma" in self.syndromes

    # --- grading ---------------------------------------------------------------------------
    def latest_at(self, kind: str, site: str) -> Fact | None:
        """The most recent fact of a kind at one site."""
        return self.facts.latest(kind, site)

    @computed_once
    def site_grades(self) -> dict[str, SiteGrade]:
        """Each site's grade: the higher of Ki-67 and mitoses, else the reported grade."""
        results = tuple(f for kind in GRADING_KINDS for f in self.facts.all(kind))
        return {
            site: grade_history(grade, results) for site, grade in _site_grades(self.facts).items()
        }

    @computed_once
    def _own_overall(self) -> SiteGrade | None:
        """The overall grade from the pNEN's own results (possibly another cancer's left out)."""
        return _overall(self.site_grades)

    @computed_once
    def _overall_with_possibly_other(self) -> SiteGrade | None:
        """The overall grade if the results possibly another cancer's were the pNEN's."""
        return _overall(_site_grades(self.record))

    @computed_once
    def grade_contested(self) -> tuple[Fact, ...]:
        """Results possibly another cancer's that would change the overall grade (else empty)."""
        flagged = self.possibly_other_of(*GRADING_KINDS)
        if not flagged:
            return ()
        own = self._own_overall
        alternative = self._overall_with_possibly_other
        if own is None and alternative is None:
            return ()
        if own is not None and alternative is not None:
            if (own.low, own.high) == (alternative.low, alternative.high):
                return ()
        return flagged

    @computed_once
    def overall_grade(self) -> SiteGrade | None:
        """The highest site grade (C 2: treat by the higher grade); None when nothing grades.

        With bounds, the overall grade is open (e.g. G1–G2) while another site could still set it;
        its evidence is then every site that could. Results possibly another cancer's that would
        change it leave it open between the grades with and without them.
        """
        own = self._own_overall
        contested = self.grade_contested
        alternative = self._overall_with_possibly_other if contested else None
        if own is None or alternative is None:
            return own
        return replace(
            own,
            low=min(own.low, alternative.low),
            high=max(own.high, alternative.high),
            evidence=(*own.evidence, *contested),
            contested=contested,
        )

    @computed_once
    def latest_ki67_by_site(self) -> dict[str, Fact]:
        """Each site's most recent Ki-67."""
        return _latest_by_site(self.facts, "ki67")

    @computed_once
    def highest_ki67(self) -> Fact | None:
        """The maximum over sites of each site's most recent Ki-67 (ranked by value or bound)."""
        latest = list(self.latest_ki67_by_site.values())
        return max(latest, key=lambda f: f.value.effective) if latest else None

    def ki67_criterion(self, name: str, test: str, threshold: float) -> Criterion:
        """Highest Ki-67 compared with a threshold ('<', '<=', '>', '>='); unknown without one.

        "Highest below T" holds when every site's latest Ki-67 is below T; "highest above T" when
        any is. A reported bound that does not decide the test leaves it unknown; so does a Ki-67
        possibly another cancer's that would change the answer.
        """
        own = _ki67_test(list(self.latest_ki67_by_site.values()), name, test, threshold)
        flagged = self.possibly_other_of("ki67")
        if not flagged:
            return own
        everything = list(_latest_by_site(self.record, "ki67").values())
        alternative = _ki67_test(everything, name, test, threshold)
        if alternative.status is own.status:
            return own
        missing = (*own.missing, self.may_be_other_cancer(flagged))
        return Criterion(name, UNKNOWN, (*own.evidence, *flagged), missing)

    # --- differentiation -------------------------------------------------------------------
    @computed_once
    def differentiation_recorded(self) -> Fact | None:
        """The most recent recorded differentiation (any site)."""
        return self.facts.latest("differentiation")

    @computed_once
    def nec_codes(self) -> tuple[Fact, ...]:
        """NEC diagnosis codes on record."""
        return self.facts.all("nec-coded")

    @computed_once
    def differentiation(self) -> tuple[str | None, tuple[Fact, ...]]:
        """NET, NEC, G3 with differentiation unknown, conflicting, or None (unknown).

        Each site's latest recorded differentiation counts: well at one site and poorly at
        another is a conflict (C 2 treats by the higher grade; C 4 asks for MDT review), not
        whichever was recorded last. Without one, a grade decides: G3 (by Ki-67 > 20 %, mitoses
        > 20 or a reported G3) is "G3, differentiation unknown"; G1/G2 with a Ki-67 on record
        is a NET, NECs being high grade by definition.
        """
        by_site = {site: self.latest_at("differentiation", site) for site in SITES}
        recorded = [fact for fact in by_site.values() if fact is not None]
        own = self._differentiation_from(recorded)
        flagged = self.possibly_other_of("differentiation")
        if flagged and self._differentiation_from([*recorded, *flagged])[0] != own[0]:
            return None, (*own[1], *flagged)  # it depends on which cancer a result belongs to
        return own

    @computed_once
    def differentiation_readings(self) -> tuple[str | None, str | None] | None:
        """The class without and with the results possibly another cancer's, when those results
        are why `differentiation` is unknown (None otherwise).

        A breast Ki-67 of 30 % beside a pNEN Ki-67 of 5 % reads NET without it and G3 with
        differentiation unknown with it: a rule that holds for both may still decide.
        """
        flagged = self.possibly_other_of("differentiation", *GRADING_KINDS)
        if self.differentiation[0] is not None or not flagged:
            return None
        recorded = [f for f in (self.latest_at("differentiation", s) for s in SITES) if f]
        own = self._differentiation_from(
            recorded, _Reading(self._own_overall, self.highest_ki67 is not None, self.site_grades)
        )[0]
        record = self.record
        with_flagged = self._differentiation_from(
            [*recorded, *self.possibly_other_of("differentiation")],
            _Reading(self._overall_with_possibly_other, record.has("ki67"), _site_grades(record)),
        )[0]
        return own, with_flagged

    def _differentiation_from(
        self, recorded: list[Fact], reading: _Reading | None = None
    ) -> tuple[str | None, tuple[Fact, ...]]:
        """The differentiation class from these recorded differentiations, codes and grade.

        The grade is the patient's (the overall grade, contested or not) unless `reading` gives
        one reading of the results possibly another cancer's.
        """
        values = {fact.value for fact in recorded}
        codes = self.nec_codes
        if values == {"poorly", "well"}:
            return CONFLICT, (*recorded, *codes)
        if "poorly" in values:
            return NEC, (*recorded, *codes)
        if "well" in values:
            if codes:
                return CONFLICT, (*recorded, *codes)
            return NET, tuple(recorded)
        if codes:
            return NEC, codes
        if reading is None:
            reading = _Reading(self.overall_grade, self.highest_ki67 is not None, self.site_grades)
        grade = reading.grade
        if grade is None:
            return None, ()
        if grade.low == 3:
            return G3_UNKNOWN, grade.evidence
        if grade.high == 3:
            return None, ()  # a bound leaves G3 open: neither NET nor G3 is known
        # NECs are high grade by definition: highest Ki-67 ≤ 20 % with no mitotic count > 20 is a
        # NET. A reported grade or a mitotic count alone does not settle it (no Ki-67: unknown).
        if not reading.ki67_known:
            return None, ()
        evidence = tuple(f for g in reading.site_grades.values() for f in g.evidence)
        return NET, evidence

    @property
    def is_net(self) -> bool:
        """Well-differentiated NET (recorded or inferred from a G1/G2 grade)."""
        return self.differentiation[0] == NET

    @property
    def is_nec(self) -> bool:
        """Poorly differentiated NEC (recorded or coded)."""
        return self.differentiation[0] == NEC

    @property
    def is_g3_unknown(self) -> bool:
        """G3 with no differentiation recorded: neither NET nor NEC."""
        return self.differentiation[0] == G3_UNKNOWN

    @property
    def grade(self) -> int | None:
        """The overall grade number, or None."""
        return self.overall_grade.grade if self.overall_grade else None

    @property
    def is_net_g12(self) -> bool:
        """NET of grade G1 or G2 (a bound such as Ki-67 '< 5 %' counts: G1 or G2 either way)."""
        grade = self.overall_grade
        return self.is_net and grade is not None and grade.high <= 2

    def g1_g2(self, name: str) -> Criterion:
        """Overall grade G1 or G2 as a criterion (unknown without a grade, or an open G2–G3)."""
        grade = self.overall_grade
        contested = self.grade_contested
        if grade is None:
            missing = [_("grade (Ki-67 or mitotic count)")]
            if contested:
                missing.append(self.may_be_other_cancer(contested))
            return unknown(name, missing, contested)
        if grade.high <= 2 or grade.low == 3:
            return known(name, grade.high <= 2, grade.evidence, note=grade.history_note)
        if contested:
            return unknown(name, self.may_be_other_cancer(contested), grade.evidence)
        shown = ", ".join(f.value.display() for f in grade.evidence if f.kind != "who-grade")
        return unknown(
            name,
            _("exact Ki-67 or mitotic count (reported as {values})", values=shown),
            grade.evidence,
        )

    @property
    def is_net_g3(self) -> bool:
        """NET G3 coded: well differentiated recorded and overall grade G3."""
        recorded = self.differentiation_recorded
        return self.is_net and recorded is not None and self.grade == 3

    # --- receptors and markers -------------------------------------------------------------
    @computed_once
    def sstr_pet(self) -> tuple[Fact, ...]:
        """SSTR PET studies on record."""
        return self.facts.all("imaging:pet-ssa")

    @computed_once
    def sstr_scintigraphy(self) -> tuple[Fact, ...]:
        """SSTR scintigraphy (Octreoscan, SRI): SSTR status, never the PET `pet-ssa` asks for."""
        return self.facts.all("imaging:sstr-scintigraphy")

    @computed_once
    def sstr_imaging(self) -> tuple[Fact, ...]:
        """SSTR PET and SSTR scintigraphy studies, oldest first (undated first)."""
        studies = (*self.sstr_pet, *self.sstr_scintigraphy)
        return tuple(sorted(studies, key=lambda f: (f.when or date.min, f.ref)))

    @computed_once
    def sstr_status(self) -> Criterion:
        """SSTR positive (IHC ≥ 2+, positive SSTR PET or scintigraphy), negative, or unknown."""
        threshold = self.settings.value("sstr2-ihc-positive-score")
        results: list[tuple[bool, Fact]] = []
        for fact in self.facts.all("sstr2-ihc"):
            value = str(fact.value)
            if value in ("positive", "negative"):
                results.append((value == "positive", fact))
            else:
                results.append((int(value.rstrip("+")) >= threshold, fact))
        for fact in self.sstr_imaging:
            if fact.value in ("positive", "negative"):
                results.append((fact.value == "positive", fact))
        name = _("SSTR positive")
        positive = [f for ok, f in results if ok]
        if positive:
            return known(name, True, positive)
        if results:
            return known(name, False, [f for _ok, f in results])
        return unknown(name, _("SSTR status (SSTR2 IHC, 68Ga-SSA PET or SSTR scintigraphy result)"))

    @computed_once
    def sstr2_strong(self) -> tuple[Fact, ...]:
        """Evidence of strong SSTR2 expression: IHC 3+ or a positive SSTR PET."""
        strong = [f for f in self.facts.all("sstr2-ihc") if f.value == "3+"]
        strong += [f for f in self.sstr_pet if f.value == "positive"]
        return tuple(strong)

    @computed_once
    def mgmt(self) -> Fact | None:
        """The most recent MGMT IHC score."""
        return self.facts.latest("mgmt")

    def unread(self, *kinds: str) -> tuple[Fact, ...]:
        """Results of these kinds on record whose value could not be read (a data issue each):
        not "none recorded"."""
        return tuple(f for f in self.facts.all("unread-result") if f.value in kinds)

    @property
    def mgmt_high(self) -> bool | None:
        """True for MGMT 2+/3+, False for 0/1+, None when untested."""
        return None if self.mgmt is None else int(self.mgmt.value) >= 2

    # --- course of disease -----------------------------------------------------------------
    @computed_once
    def latest_status(self) -> Fact | None:
        """The most recent disease status (Observation or imaging coded PD)."""
        return self.facts.latest("disease-status")

    @computed_once
    def latest_course(self) -> Fact | None:
        """The most recent disease status or NED record (the summary's latest disease status)."""
        found = [f for k in ("disease-status", "ned") for f in self.facts.all(k) if f.when]
        if not found:
            return self.latest_status
        return max(found, key=lambda f: (f.when or date.min, f.kind == "disease-status", f.ref))

    @property
    def progressing(self) -> bool:
        """The latest disease status is progression."""
        return self.latest_status is not None and self.latest_status.value == "progression"

    @computed_once
    def progressions(self) -> tuple[Fact, ...]:
        """Every progression on record."""
        return tuple(f for f in self.facts.all("disease-status") if f.value == "progression")

    def active(self, *classes: str) -> tuple[Fact, ...]:
        """Active medications of the given classes (asked ~15 times a request: kept per classes)."""
        found = self._active.get(classes)
        if found is None:
            found = self._active[classes] = tuple(
                f for c in classes for f in self.facts.all(f"medication:{c}") if f.value.active
            )
        return found

    def taking(self, name: str, first: date, last: date, *classes: str) -> Criterion:
        """Medications of these classes taken on some day from `first` to `last` (closed world).

        Met with those taken; unknown, naming the dates missing, when some may have been taken;
        otherwise not met ("none recorded").
        """
        taken: list[Fact] = []
        unsure: list[Fact] = []
        for fact in (f for c in classes for f in self.facts.all(f"medication:{c}")):
            verdict = taken_during(fact.value, first, last, self.today)
            if verdict:
                taken.append(fact)
            elif verdict is None:
                unsure.append(fact)
        if taken:
            return known(name, True, taken)
        if unsure:
            return unknown(name, [_undated_text(f) for f in unsure], unsure)
        return known(name, False, note=_("none recorded"))

    @computed_once
    def progression_on_ssa(self) -> Criterion:
        """A progression dated after the start of an SSA that is still active (met: both facts).

        An active SSA without a start date and a dated progression leave it unknown: the
        progression may or may not have come on treatment (clinical review, finding 5).
        """
        name = _("progression on SSA")
        active = self.active("ssa")
        undated: list[Fact] = []
        for ssa in active:
            start = ssa.value.start
            if start is None:
                undated.append(ssa)
                continue
            later = [p for p in self.progressions if p.when and p.when > start]
            if later:
                return known(name, True, (ssa, later[-1]))
        dated = [p for p in self.progressions if p.when]
        if undated and dated:
            return unknown(name, _("start date of the SSA"), (*undated, dated[-1]))
        note = (
            _("no active SSA recorded") if not active else _("no progression since the SSA start")
        )
        return known(name, False, active, note=note)

    @computed_once
    def current_systemic(self) -> tuple[tuple[Fact, ...], date | None]:
        """Active systemic therapy and the earliest start of the running regimen."""
        regimen = self.regimen
        return regimen.drugs, regimen.start

    @computed_once
    def _courses(self) -> tuple[dict[str, date], dict[date, date]] | None:
        """Each systemic drug taken → its course's start; each course → its last day known.

        A drug started while one of the same class was taken in the 30 days before (a renewal,
        a new prescription of the same agent) continues that drug's course. None: a drug is
        undated.
        """
        taken = [
            f
            for c in SYSTEMIC_THERAPY_CLASSES
            for f in self.facts.all(f"medication:{c}")
            if f.value.status in GIVEN_STATUSES
        ]
        unique = sorted(
            {f.ref: f for f in taken}.values(), key=lambda f: (f.value.start or date.min, f.ref)
        )
        if any(f.value.start is None for f in unique):
            return None
        courses: dict[str, date] = {}
        reached: dict[date, date] = {}  # course start → the last day a drug of it was taken
        # Per class: the last day taken so far and the course it belonged to (one pass: linear).
        reach: dict[str, tuple[date, date]] = {}
        for fact in unique:
            med: Medication = fact.value
            day = med.start or date.min  # every start is known here (checked above)
            gap = day - timedelta(days=REGIMEN_GAP_DAYS)
            joined = [reach[c][1] for c in med.classes if c in reach and reach[c][0] >= gap]
            course = min(joined) if joined else day
            courses[fact.ref] = course
            last = med.end or (self.today if med.status in ONGOING_STATUSES else None)
            if last is None:
                continue  # ended on a date not recorded: cannot be renewed
            reached[course] = max(last, reached.get(course, last))
            for c in med.classes:
                if c not in reach or last > reach[c][0]:
                    reach[c] = (last, course)
        return courses, reached

    @computed_once
    def regimen(self) -> Regimen:
        """The current systemic therapy with its start, latest change and line of therapy."""
        running = tuple({f.ref: f for f in self.active(*SYSTEMIC_THERAPY_CLASSES)}.values())
        courses = self._courses
        starts = [f.value.start for f in running]
        # One drug of the regimen without a start date: its start and latest change are unknown.
        if not running or None in starts:
            return Regimen(running, None, None, (), None)
        known_courses = courses[0] if courses else {}
        begun = {f.ref: known_courses.get(f.ref) or f.value.start for f in running}
        start = min(begun.values())
        changed = max(begun.values())
        changed_by = tuple(f for f in running if begun[f.ref] == changed)
        return Regimen(running, start, changed, changed_by, self._line_of(changed))

    def _line_of(self, changed: date) -> int | None:
        """The current line: how many regimens have begun since the pNEN-LM diagnosis.

        Regimens are courses begun within 30 days of the regimen's first one (renewals continue
        their course); a course begun before the diagnosis and still taken at it counts (an SSA
        continued while an agent is added: the addition is the next line). Drugs still running
        belong to the latest line begun: an SSA kept on after an added agent stopped is that
        line's maintenance, not a return to the first line (clinical review CR-1). Any undated
        systemic drug leaves the line unknown.
        """
        if self._courses is None:
            return None
        courses, reached = self._courses
        pnen_onsets = [f.when for f in self.facts.all("pnen") if f.when]
        since = self.pnen_lm_date or min(pnen_onsets, default=None)
        firsts: list[date] = []
        for day in sorted(set(courses.values())):
            if since is not None and day < since and reached.get(day, day) < since:
                continue
            if not firsts or (day - firsts[-1]).days > REGIMEN_GAP_DAYS:
                firsts.append(day)
        begun = [first for first in firsts if first <= max(changed, self.today)]
        # Begun before the diagnosis and still running: the first line since it.
        return len(begun) or 1

    @computed_once
    def prior_regimens(self) -> tuple[Fact, ...]:
        """Systemic drugs given since the pNEN-LM diagnosis that are no longer running."""
        running = {f.ref for f in self.active(*SYSTEMIC_THERAPY_CLASSES)}
        since = self.pnen_lm_date
        given = {
            f.ref: f
            for c in SYSTEMIC_THERAPY_CLASSES
            for f in self.facts.all(f"medication:{c}")
            if f.ref not in running
            and f.value.status in GIVEN_STATUSES
            and f.value.start is not None
            and (since is None or (f.value.end or f.value.start) >= since)
        }
        return tuple(sorted(given.values(), key=lambda f: (f.value.start, f.ref)))

    def stable_months(self, months: int) -> Criterion:
        """No progression in the last N months and a stable/improved status dated ≥ N months ago."""
        cutoff = self.today - timedelta(days=round(months * 30.44))
        name = _("stable disease or stable response ≥ {months} months", months=months)
        recent = [p for p in self.progressions if p.when and p.when > cutoff]
        if recent:
            return known(name, False, recent[-1:])
        # A stable status counts only when it follows the last progression (stable since then).
        last_progression = max((p.when for p in self.progressions if p.when), default=date.min)
        stable = [
            f
            for f in self.facts.all("disease-status")
            if f.value in ("stable", "improved", "remission")
            and f.when
            and last_progression < f.when <= cutoff
        ]
        if stable:
            return known(name, True, stable[-1:])
        return unknown(
            name,
            _("a stable or improved disease status dated ≥ {months} months ago", months=months),
        )

    def stale_study(self, *kinds: str) -> StaleStudy | None:
        """The latest study of these kinds when older than the stale-guiding-study default.

        Stale when more than N calendar months old (a study of 1 March is fresh until 1
        September inclusive with 6 months); None when fresh, undated or none is on record.
        """
        found = [
            (f.when, f.ref, f, k) for k in kinds for f in self.facts.all(f"imaging:{k}") if f.when
        ]
        if not found:
            return None
        when, _, fact, kind = max(found, key=lambda x: (x[0], x[1]))
        limit = self.settings.value("stale-study-months")
        if within_months(when, limit, self.today):
            return None
        return StaleStudy(kind, fact, whole_months(when, self.today))

    # --- procedures and orders -------------------------------------------------------------
    def done(self, *kinds: str) -> tuple[Fact, ...]:
        """Completed procedures of the given kinds."""
        return tuple(f for k in kinds for f in self.facts.all(f"procedure:{k}"))

    def planned(self, *kinds: str) -> tuple[Fact, ...]:
        """Planned (active, on-hold or draft) ServiceRequests of the given kinds."""
        return tuple(f for k in kinds for f in self.facts.all(f"planned:{k}"))

    def imaging(self, *kinds: str) -> tuple[Fact, ...]:
        """Imaging studies of the given kinds."""
        return tuple(f for k in kinds for f in self.facts.all(f"imaging:{k}"))

    @property
    def primary_in_place(self) -> bool:
        """No completed pancreatectomy of any kind, nor an enucleation."""
        return not self.done(*PANCREATECTOMIES)

    @computed_once
    def _curative(self) -> tuple[Criterion, Fact | None]:
        name = _(CURATIVE)
        primary = self.done(*PANCREATECTOMIES)
        if not primary:
            note = _("primary in place: no pancreatectomy recorded")
            return known(name, False, note=note), None
        parts = [primary]
        if self.has_liver_mets:
            liver = self.done(*LIVER_CLEARANCE)
            if not liver:
                note = _(
                    "liver metastases left in place: no liver resection, ablation or transplant"
                )
                return known(name, False, self.facts.all("liver-metastasis")[-1:], note), None
            parts.append(liver)
        for ops in parts:
            if not any(f.when for f in ops):
                missing = _("date of {procedure} ({ref})", procedure=ops[-1].text, ref=ops[-1].ref)
                return unknown(name, missing, ops[-1:]), None
        # Dated by the last of these operations (staged surgery counts from the second stage).
        last = max((f for ops in parts for f in ops if f.when), key=lambda f: (f.when, f.ref))
        operated = last.when or date.min
        after = [
            f
            for f in (
                *self.facts.all("ned"),
                *self.facts.all("disease-status"),
                *self.facts.all("pnen-remission"),
            )
            if f.when is not None and f.when >= operated and _disease_after(f) is not None
        ]
        # A metastasis first recorded after the operation is disease left or come back.
        after += [
            f
            for f in (
                *self.facts.all("liver-metastasis"),
                *self.facts.all("extrahepatic-metastasis"),
            )
            if f.ref.startswith("Condition/") and f.when is not None and f.when > operated
        ]
        if not after:
            missing = _("NED (no evidence of disease) after the operation of {date}", date=operated)
            return unknown(name, missing, (last,)), last
        latest = max(after, key=lambda f: (f.when or date.min, bool(_disease_after(f)), f.ref))
        return known(name, not _disease_after(latest), (last, latest)), last

    @property
    def curative_resection(self) -> Criterion:
        """Curative-intent resection: met, not met, or unknown (NED not recorded after it)."""
        return self._curative[0]

    @property
    def curative_surgery(self) -> Fact | None:
        """The last operation of the curative-intent resection (dated), when there is one."""
        return self._curative[1]

    # --- surgical assessment ---------------------------------------------------------------
    def flag(self, kind: str, name: str | None = None) -> Criterion:
        """A recorded yes/no surgical-assessment fact as a criterion (unknown when absent)."""
        fact = self.facts.latest(kind)
        label = name or kind
        if fact is None:
            return unknown(label, missing_label(kind))
        return known(label, bool(fact.value), (fact,))

    def measure(self, kind: str, name: str, test: str, threshold: float) -> Criterion:
        """A recorded numeric assessment compared with a threshold (unknown when absent)."""
        fact = self.facts.latest(kind)
        if fact is None:
            return unknown(name, missing_label(kind))
        verdict = fact.value.compare(test, threshold)
        if verdict is None:
            reported = fact.value.display()
            missing = _(
                "exact {what} (reported as {value})", what=missing_label(kind), value=reported
            )
            return unknown(name, missing, (fact,))
        return known(name, verdict, (fact,))

    @computed_once
    def enets_type(self) -> Fact | None:
        """The most recent ENETS liver-metastasis type."""
        return self.facts.latest("enets-liver-type")

    @computed_once
    def enets_outdated_by(self) -> Fact | None:
        """The latest progression dated after the ENETS type: the type may no longer hold.

        C 11.1 types liver metastases by their current distribution; progression can change it.
        """
        typed = self.enets_type
        if typed is None or typed.when is None:
            return None
        later = [f for f in self.progressions if f.when is not None and f.when > typed.when]
        return max(later, key=lambda f: (f.when or date.min, f.ref)) if later else None

    def enets_is(self, *types: str) -> bool:
        """The ENETS liver type is one of these (False when unknown)."""
        return self.enets_type is not None and self.enets_type.value in types

    @computed_once
    def remnant_ok(self) -> Criterion:
        """Expected remnant liver volume ≥ 30 % (C 6.2)."""
        return self.measure("remnant-liver-volume", _("remnant liver volume ≥ 30 %"), ">=", 30)

    @computed_once
    def type3_potential(self) -> tuple[Criterion, ...]:
        """C 11 potential resectability: the overall verdict first, then each criterion."""
        c1 = all_of(
            _("(1) most metastases on or within 2 cm of the surface and ≤ 5 deep lesions"),
            self.flag(
                "most-lesions-within-2cm-of-surface", _("most lesions within 2 cm of surface")
            ),
            self.measure("deep-lesion-count", _("≤ 5 deep lesions"), "<=", 5),  # C 11: ≤ 5 deep
        )
        c2 = any_of(
            _("(2) most metastases within 3 segments or one lobe"),
            _only_if_met(
                self.measure(
                    "liver-segments-involved", _("≤ 3 segments involved"), "<=", 3
                ),  # C 11
            ),
            _only_if_met(self.flag("confined-to-one-lobe", _("confined to one lobe"))),
        )
        c3 = all_of(
            _("(3) NED achievable with functional remnant liver ≥ 30 %"),
            self.flag("ned-achievable", _("NED achievable")),
            self.remnant_ok,
        )
        debulk = self.flag("cytoreduction-90-achievable", _("> 90 % tumour reduction achievable"))
        verdict = any_of(
            _("potentially resectable"),
            all_of(_("(1 or 2) and 3"), any_of(_("1 or 2"), c1, c2), c3),
            debulk,
        )
        return (verdict, c1, c2, c3, debulk)

    @computed_once
    def resectability(self) -> Criterion:
        """Liver metastases resectable (met), unresectable (not met), or unknown (C 6.2, C 11)."""
        name = _("liver metastases resectable")
        feasible = self.flag("r0-r1-feasible", _("R0/R1 resection feasible"))
        if feasible.not_met:
            return Criterion(name, NOT_MET, feasible.evidence)
        if self.remnant_ok.not_met:
            return Criterion(name, NOT_MET, self.remnant_ok.evidence)
        if feasible.met and self.remnant_ok.met:
            return Criterion(name, MET, feasible.evidence + self.remnant_ok.evidence)
        if self.enets_is("III") and self.enets_type is not None:
            verdict = self.type3_potential[0]
            if verdict.met:
                return Criterion(
                    name,
                    UNKNOWN,
                    (self.enets_type, *verdict.evidence),
                    (_("R0/R1 feasibility and remnant liver volume after conversion"),),
                    datum=_(
                        "resectability of the liver metastases after conversion (R0/R1 "
                        "feasibility, remnant liver volume)"
                    ),
                )
            missing = () if verdict.not_met else (_(C11_MISSING),)
            note = (
                "" if verdict.not_met else _("ENETS type III with potential resectability unknown")
            )
            return Criterion(name, NOT_MET, (self.enets_type,), missing, note)
        # Here at least one of the two is unknown (neither is not met, not both are met).
        if feasible.unknown and self.remnant_ok.unknown:
            datum = _(
                "resectability of the liver metastases (R0/R1 feasibility, remnant liver volume)"
            )
        elif feasible.unknown:
            datum = _("resectability of the liver metastases (R0/R1 feasibility)")
        else:
            datum = _("resectability of the liver metastases (remnant liver volume)")
        return Criterion(
            name,
            UNKNOWN,
            feasible.evidence + self.remnant_ok.evidence,
            feasible.missing + self.remnant_ok.missing,
            datum=datum,
        )

    @computed_once
    def advanced(self) -> Criterion:
        """Liver metastases unresectable, or extrahepatic metastases recorded."""
        name = _("advanced disease")
        if self.extrahepatic:
            return known(name, True, self.extrahepatic)
        by_liver = self._advanced_by_liver(name)
        # Extrahepatic disease is unknown with a metastasis of no site or possibly another cancer's.
        doubtful = self.no_extrahepatic(name)
        if by_liver.met or not doubtful.unknown:
            return by_liver
        return Criterion(
            name,
            UNKNOWN,
            (*by_liver.evidence, *doubtful.evidence),
            (*by_liver.missing, *doubtful.missing),
        )

    def _advanced_by_liver(self, name: str) -> Criterion:
        """Advanced by the liver metastases alone: unresectable (met), resectable (not met)."""
        if self.resectability.not_met:
            return Criterion(
                name,
                MET,
                self.resectability.evidence,
                self.resectability.missing,
                self.resectability.note,
            )
        if self.resectability.met and self.extrahepatic_unknown:
            return Criterion(
                name,
                UNKNOWN,
                self.resectability.evidence + self.extrahepatic_unknown,
                (_("site of the metastasis recorded without one"),),
            )
        if self.resectability.met:
            return known(name, False, self.resectability.evidence)
        return Criterion(
            name,
            UNKNOWN,
            self.resectability.evidence,
            self.resectability.missing,
            datum=self.resectability.datum,
        )

    # --- vessels of the primary ------------------------------------------------------------
    @computed_once
    def vessel_contact(self) -> dict[str, Fact]:
        """The most recent recorded contact of the primary with each vessel."""
        latest: dict[str, Fact] = {}
        for fact in self.facts.all("vessel-contact"):
            latest[fact.value[0]] = fact
        return latest

    @computed_once
    def primary_tier(self) -> str | None:
        """Resectable, borderline or locally advanced by recorded contact (C 6.1); None if none.

        Vessels not recorded are read as no contact here: `primary_tier_open` names those that
        could still raise the tier, so that no rule treats them as known.
        """
        contact = {v: f.value[1] for v, f in self.vessel_contact.items()}
        if not contact:
            return None
        venous = [contact.get(v) for v in ("SMV", "PV")]
        arterial = {v: contact.get(v) for v in ("SMA", "CT", "CHA")}
        if (
            arterial["SMA"] in ("encasement", "occlusion")
            or arterial["CT"] in ("encasement", "occlusion")
            or "occlusion" in venous
        ):
            return N_("locally advanced")
        if (
            "encasement" in venous
            or arterial["SMA"] == "abutment"
            or arterial["CT"] == "abutment"
            or arterial["CHA"] in ("abutment", "encasement", "occlusion")
        ):
            return N_("borderline")
        return N_("resectable")

    @computed_once
    def primary_tier_open(self) -> tuple[str, ...]:
        """Vessels not recorded whose contact could still raise the tier (empty: tier settled)."""
        tier = self.primary_tier
        if tier is None or tier == "locally advanced":
            return ()
        recorded = set(self.vessel_contact)
        # SMV or PV occlusion, or SMA/CT encasement, would make it locally advanced (C 6.1);
        # each vein counts on its own: an SMV result says nothing of the portal vein (CR-2).
        open_vessels = [v for v in ("SMV", "PV", "SMA", "CT") if v not in recorded]
        if tier == "resectable" and "CHA" not in recorded:
            open_vessels.append("CHA")  # CHA abutment/encasement would make it borderline
        return tuple(open_vessels)

    @computed_once
    def primary_unresectable(self) -> Criterion:
        """Primary recorded not resectable, or locally advanced by vessel contact."""
        name = _("primary unresectable")
        recorded = self.facts.latest("primary-resectable")
        if recorded is not None and recorded.value is False:
            return known(name, True, (recorded,))
        if self.primary_tier == "locally advanced":
            return known(name, True, tuple(self.vessel_contact.values()))
        if recorded is not None:
            return known(name, False, (recorded,))
        if self.primary_tier is not None and not self.primary_tier_open:
            return known(name, False, tuple(self.vessel_contact.values()))
        if self.primary_tier is not None:
            return unknown(
                name,
                _(
                    "contact of the primary with {vessels}",
                    vessels=", ".join(self.primary_tier_open),
                ),
                tuple(self.vessel_contact.values()),
            )
        return unknown(name, _("primary resectability (vessel contact or surgical assessment)"))

    def age(self) -> int | None:
        """Age today in whole years."""
        return self.facts.age_on(self.today)


__all__ = [
    "CONFLICT",
    "G3_UNKNOWN",
    "MET",
    "NEC",
    "NET",
    "NOT_MET",
    "Patient",
    "SiteGrade",
    "UNKNOWN",
    "ki67_grade",
    "mitotic_grade",
]

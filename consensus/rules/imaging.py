"""B. Imaging and PET tracer choice (consensus-rules.md B; C 1).

Decisions where the spec left room (the source was followed):
- Pending orders: an order of the missing study that is already planned (an active, on-hold or
  draft ServiceRequest in the record) is named as pending instead of suggested again (the
  `mgmt-test` pattern). On order hooks a card whose whole point is to add a study stays silent
  when that study is pending or drafted alongside: the clinician has already done what it says.
- `staging-imaging`: studies dated after today do not count. An undated study leaves its part
  unknown (the card asks for its date). When the pNEN-LM diagnosis date is unknown (no onset or
  recorded date on the pNEN or liver-metastasis Condition), the window's start is unknown: a study
  dated within the last 90 days (local default) is in the window whatever the diagnosis date, an
  older one may or may not be, and that part is unknown; the card always says that the diagnosis
  date is missing. A part with no study on record at all is missing whatever the date.
- `liver-mri-hepatobiliary`: "liver resectability being assessed" = any of the C 6.2 / C 6.3 /
  C 11.2 assessment facts recorded: R0/R1 feasibility, remnant liver volume, NED achievable,
  > 90 % cytoreduction achievable, lesions within 2 cm of the surface, deep-lesion count, segments
  involved, confined to one lobe. NED itself (an outcome), tumour burden (C 12, transplant) and
  major-vessel invasion (C 9, type of hepatectomy) are not. With the ENETS type unknown and no
  assessment recorded, the rule stays silent (pointless without data). On order hooks it needs a
  pNEN but not recorded liver metastases (the MRI is how they are mapped). The latest eGFR is
  used. With contrast contraindicated, DWI MRI is suggested first and the hepatobiliary-contrast
  MRI second (not recommended): the allergy fact does not say whether the agent was iodinated or
  gadolinium-based.
- `pet-ssa`: a NET with no grade recorded is "a NET of any grade"; conflicting differentiation
  (well differentiated recorded with an NEC code) gets no card (`g3-net-vs-nec` covers it). A
  result possibly another cancer's that leaves the differentiation unknown still fires it when
  both readings (without and with that result) are a NET or G3 with differentiation unknown.
- `pet-fdg`: C 1.4 indicates FDG PET for "G3 NETs", so an overall grade G3 fires it whatever
  sets the grade (Ki-67, mitoses > 20, or a reported G3) and whatever the Ki-67: a NET G3 by
  mitoses with Ki-67 ≤ 10 % fires. A NET without a Ki-67 and without a G3 grade stays silent (the
  grade is missing, not the FDG PET); when the Ki-67 is unknown but NEC, G3 with differentiation
  unknown or an overall G3 fires the card, the Ki-67 row says so.
- `pet-tracer-mismatch` (b) needs the overall grade G1/G2 besides Ki-67 ≤ 10 %: an overall G3
  (by mitoses or a reported grade) silences it, whatever the Ki-67 (FDG is indicated for G3 NET,
  C 1.4). When the Ki-67 or the grade is unknown (none recorded, or a bound that leaves G3 open)
  and neither is known to fail, the card fires with the missing data listed and still adds the
  SSTR PET, which C 1.4 indicates for NET of every grade. (a) deletes every drafted SSTR PET;
  when an FDG PET is already drafted or planned, the suggestion only deletes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import reduce

from consensus.criteria import (
    Criterion,
    alternatives,
    evidence_of,
    known,
    missing_of,
    unknown,
)
from consensus.patient import CONFLICT, G3_UNKNOWN, GRADING_KINDS, HEPATECTOMIES, NET, Patient
from consensus.prose import percent, then
from consensus.recommendation import (
    OS,
    PV,
    SIGN,
    Action,
    Evaluation,
    Indicator,
    Recommendation,
    RuleInfo,
    Suggestion,
    create,
    delete,
    recommend,
    silent,
)
from consensus.record_notes import enets_reassess_note
from consensus.registry import RuleContext, rule
from fhir_mappings.facts import Fact
from pnen_i18n import N_, _, joined

AREA = "B. Imaging"
HEPATOBILIARY = "mri-liver-hepatobiliary"
INSULINOMA_PET = ("pet-exendin", "pet-dopa")
LIVER_SURGERY = (*HEPATECTOMIES, "liver-ablation")
# C 6.2 (R0/R1, remnant), C 6.3 (NED as the goal), C 11.2 (potential resectability of type III).
RESECTABILITY_FACTS = (
    "r0-r1-feasible",
    "remnant-liver-volume",
    "ned-achievable",
    "cytoreduction-90-achievable",
    "most-lesions-within-2cm-of-surface",
    "deep-lesion-count",
    "liver-segments-involved",
    "confined-to-one-lobe",
)
# (imaging kind on record, catalogue order, name in the card)
STAGING_PARTS = (
    (
        "ct-abdomen-multiphase",
        "ct-abdomen-pelvis-multiphase",
        N_("multiphasic contrast CT abdomen/pelvis"),
    ),
    ("ct-chest", "ct-chest", N_("chest CT")),
)
DIAGNOSIS_DATE = N_(
    "pNEN-LM diagnosis date (onset or recorded date of the pNEN and liver metastases)"
)


def _none_on_record(name: str) -> Criterion:
    """A closed-world 'on record' criterion that is not met."""
    return known(name, False, note=_("none recorded"))


def _pending(ctx: RuleContext, *kinds: str) -> tuple[Fact, ...]:
    """Orders of these kinds planned in the record or drafted in this hook."""
    drafted = tuple(d.as_fact() for d in ctx.drafted(*kinds))
    return (*ctx.patient.planned(*kinds), *drafted)


def _net_or_g3_either_way(p: Patient) -> bool:
    """Results possibly another cancer's leave the differentiation unknown, but without them and
    with them the pNEN is a NET or G3 with differentiation unknown (what pet-ssa asks)."""
    readings = p.differentiation_readings
    return readings is not None and all(r in (NET, G3_UNKNOWN) for r in readings)


def _grade_text(p: Patient) -> str:
    """'NET G2', 'NET G1–G2', 'NET, grade unknown', 'G3, differentiation unknown'."""
    if p.differentiation[0] is None and _net_or_g3_either_way(p):
        return _("NET, or G3 with differentiation unknown")
    if p.is_g3_unknown:
        return _(G3_UNKNOWN)  # the class name is a message (marked in consensus.rules.summary)
    grade = p.overall_grade
    return _("NET {grade}", grade=grade.grade_text) if grade else _("NET, grade unknown")


def _refs(facts: Iterable[Fact]) -> str:
    return ", ".join(dict.fromkeys(f.ref for f in facts))


def _or(names: Iterable[str]) -> str:
    """'A or B' of names already in the current locale."""
    return reduce(lambda first, second: _("{first} or {second}", first=first, second=second), names)


def _listed(names: Iterable[str]) -> str:
    """'A, B' of names already in the current locale (the locale's enumeration comma)."""
    return reduce(lambda first, second: _("{first}, {second}", first=first, second=second), names)


def _and(names: Iterable[str]) -> str:
    """'A and B' of names already in the current locale."""
    return reduce(
        lambda first, second: _("{first} and {second}", first=first, second=second), names
    )


# --- staging-imaging ------------------------------------------------------------------------
def _diagnosis(p: Patient) -> Criterion:
    """The pNEN-LM diagnosis date and the Conditions that set it, or unknown."""
    name = _("pNEN-LM diagnosis date known")
    dated = [
        min((f for f in p.facts.all(kind) if f.when), key=lambda f: f.when or date.min)
        for kind in ("pnen", "liver-metastasis")
        if any(f.when for f in p.facts.all(kind))
    ]
    when = p.pnen_lm_date
    if when is None:
        return unknown(name, _(DIAGNOSIS_DATE), dated)
    return known(name, True, dated, note=_("diagnosed {date} (the later onset)", date=when))


def _staging_part(p: Patient, kind: str, title: str, since: date | None, window: int) -> Criterion:
    """One staging study dated from `since` until today, or a reason it is unknown."""
    today = p.today
    studies = [f for f in p.imaging(kind) if f.when is None or f.when <= today]
    # Without a diagnosis date, a study of the last `window` days is in the window regardless.
    start = since or today - timedelta(days=window)
    name = (
        _("{title} since {date}", title=title, date=since)
        if since
        else _("{title} in the staging window", title=title)
    )
    inside = [f for f in studies if f.when and f.when >= start]
    if inside:
        return known(name, True, inside[-1:])
    undated = [f for f in studies if f.when is None]
    if undated:
        return unknown(
            name, _("date of the {title} ({refs})", title=title, refs=_refs(undated)), undated
        )
    if since is None and studies:
        return unknown(name, _(DIAGNOSIS_DATE), studies[-1:])
    note = _("none recorded") if not studies else _("none recorded in the window")
    return known(name, False, studies[-1:], note=note)


@rule(
    "staging-imaging",
    N_("Staging CT: multiphasic abdomen/pelvis and chest"),
    [PV],
    "C 1",
    AREA,
)
def staging_imaging(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """Multiphasic contrast CT abdomen/pelvis and chest CT from 90 days before diagnosis on."""
    p = ctx.patient
    if not p.pnen_lm:
        return None
    window = round(ctx.settings.value("staging-imaging-window-days"))  # local default: 90 days
    diagnosis = _diagnosis(p)
    since = p.pnen_lm_date - timedelta(days=window) if p.pnen_lm_date else None
    parts = [
        (_staging_part(p, kind, _(title), since, window), order, _(title), p.planned(kind))
        for kind, order, title in STAGING_PARTS
    ]
    if all(c.met for c, *_rest in parts):
        return None
    absent = [(order, title, pending) for c, order, title, pending in parts if c.not_met]
    unclear = [title for c, _order, title, _planned in parts if c.unknown]
    to_order = [(order, title) for order, title, pending in absent if not pending]
    pending = tuple(f for *_rest, planned in absent for f in planned)
    if to_order:
        studies = _or(t for _order, t in to_order)
        summary = (
            _(
                "Staging imaging incomplete: no {studies} on record since {date}",
                studies=studies,
                date=since,
            )
            if since
            else _("Staging imaging incomplete: no {studies} on record", studies=studies)
        )
    elif absent:
        studies = _and(t for _order, t, _planned in absent)
        summary = _("Staging imaging: {studies} ordered, not yet reported", studies=studies)
    else:
        reason = _("diagnosis date unknown") if since is None else _("study date missing")
        summary = _(
            "Staging imaging: cannot confirm the {studies} ({reason})",
            studies=_or(unclear),
            reason=reason,
        )
    advice = _(
        "Multiphasic contrast-enhanced abdominal/pelvic CT plus chest CT (with or without "
        "contrast) is the preferred examination for the diagnosis and staging of pNEN with "
        "liver metastases (C 1)."
    )
    if absent:
        advice = then(advice, _("Missing: {studies}.", studies=_listed(t for _o, t, _p in absent)))
    if pending:
        advice = then(advice, _("Already ordered, no report yet: {refs}.", refs=_refs(pending)))
    if unclear:
        advice = then(advice, _("Not settled by the data: {studies}.", studies=_listed(unclear)))
    if since is None:
        advice = then(
            advice,
            _(
                "The pNEN-LM diagnosis date is not recorded, so the staging window (from "
                "{days} days before the diagnosis) cannot be placed: only studies of the last "
                "{days} days count for certain.",
                days=window,
            ),
        )
    suggestions: tuple[Suggestion, ...] = ()
    if to_order:
        label = _("Order {study}", study=_and(t for _order, t in to_order))
        actions = tuple(create(order, _("Order {study}", study=title)) for order, title in to_order)
        suggestions = (Suggestion(label, actions),)
    criteria = (diagnosis, *(c for c, *_rest in parts))
    return recommend(
        info,
        Indicator.INFO,
        summary,
        advice,
        criteria,
        evidence=(*pending,),
        local_policy=(ctx.settings.describe("staging-imaging-window-days"),),
        suggestions=suggestions,
    )


# --- liver-mri-hepatobiliary ----------------------------------------------------------------
def _contrast(ctx: RuleContext) -> tuple[Criterion, tuple[str, ...]]:
    """Contrast contraindicated: a contrast allergy, or the latest eGFR below the threshold."""
    p = ctx.patient
    name = _("contrast contraindicated (contrast allergy or low eGFR)")
    allergies = p.facts.all("contrast-allergy")
    egfr = p.facts.latest("egfr")
    threshold = ctx.settings.value("contrast-egfr-threshold")
    policy = (ctx.settings.describe("contrast-egfr-threshold"),) if egfr is not None else ()
    low = egfr.value.compare("<", threshold) if egfr is not None else False  # local: eGFR < 30
    found = (*allergies, *((egfr,) if low and egfr is not None else ()))
    if found:
        return known(name, True, found), policy
    if egfr is None:
        return known(name, False, note=_("no contrast allergy or eGFR recorded")), policy
    if low is None:  # a bound such as '< 60' that does not settle the threshold
        exact = _("exact eGFR (reported as {value})", value=egfr.value.display())
        return unknown(name, exact, (egfr,)), policy
    return known(name, False, (egfr,), note=_("no contrast allergy recorded")), policy


def _liver_mri_trigger(ctx: RuleContext) -> tuple[Criterion, ...]:
    """PV: ENETS type I/II or a resectability assessment; orders: a liver resection drafted."""
    p = ctx.patient
    if ctx.on_orders:
        drafted = ctx.drafted_criterion(_("hepatectomy or liver ablation drafted"), *LIVER_SURGERY)
        return (drafted,) if drafted is not None and p.has_pnen else ()
    if not p.pnen_lm:
        return ()
    if p.enets_type is None:
        enets = unknown(_("ENETS type I or II"), _("ENETS liver-metastasis type"))
    else:
        enets = known(_("ENETS type I or II"), p.enets_is("I", "II"), (p.enets_type,))
    assessed = [f for kind in RESECTABILITY_FACTS if (f := p.facts.latest(kind))]
    assessment = known(
        _("liver resectability being assessed"),
        bool(assessed),
        assessed,
        note="" if assessed else _("no resectability assessment recorded"),
    )
    # Silent unless one is met: with the type unknown and nothing assessed, nothing to plan yet.
    return alternatives(enets, assessment) if enets.met or assessment.met else ()


@rule(
    "liver-mri-hepatobiliary",
    N_("Liver MRI with hepatobiliary contrast"),
    [PV, OS, SIGN],
    "C 1.2; C 1.3",
    AREA,
)
def liver_mri_hepatobiliary(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """Liver MRI with a liver-specific agent before resection planning, when none is on record."""
    p = ctx.patient
    trigger = _liver_mri_trigger(ctx)
    if not trigger or p.imaging(HEPATOBILIARY):
        return None
    pending = _pending(ctx, HEPATOBILIARY)
    if pending and ctx.on_orders:
        return None
    contrast, policy = _contrast(ctx)
    criteria = (
        *trigger,
        _none_on_record(_("liver MRI with hepatobiliary contrast on record")),
        contrast,
    )
    advice = _(
        "Multiphase MRI, especially with a liver-specific (hepatobiliary) contrast agent such as "
        "gadoxetate, may detect more liver metastases than CT or conventional MRI (C 1.2, C 1.3) "
        "— useful before planning resection or ablation."
    )
    if contrast.met:
        advice = then(
            advice,
            _(
                "Contrast is contraindicated here: diffusion-weighted MRI (DWI) detects primary "
                "and metastatic lesions without contrast (C 1.2)."
            ),
        )
    reassess = enets_reassess_note(p) if not ctx.on_orders else ""
    if reassess:
        advice = then(advice, reassess)
    suggestions: tuple[Suggestion, ...] = ()
    if pending:
        advice = then(
            advice,
            _(
                "A liver MRI with hepatobiliary contrast is already ordered: {refs}.",
                refs=_refs(pending),
            ),
        )
        summary = _(
            "Liver MRI with hepatobiliary contrast ordered, no report yet; it may show more "
            "liver metastases"
        )
    else:
        order_hepatobiliary = _("Order liver MRI with hepatobiliary contrast")
        hepatobiliary = Suggestion(
            order_hepatobiliary, (create(HEPATOBILIARY, order_hepatobiliary),)
        )
        if contrast.met:
            order_dwi = _("Order liver MRI with DWI, without contrast")
            dwi = Suggestion(order_dwi, (create("mri-liver-dwi", order_dwi),))
            suggestions = (
                dwi,
                Suggestion(hepatobiliary.label, hepatobiliary.actions, is_recommended=False),
            )
        else:
            suggestions = (hepatobiliary,)
        if ctx.on_orders:
            what = _("Liver resection drafted")
        elif trigger[0].met and p.enets_type is not None and p.enets_outdated_by is not None:
            what = _(
                "ENETS type {type} of {date} predates progression",
                type=p.enets_type.value,
                date=p.enets_type.when,
            )
        elif trigger[0].met and p.enets_type is not None:
            what = _("ENETS type {type} liver metastases", type=p.enets_type.value)
        else:
            what = _("Liver resectability under assessment")
        summary = _(
            "{what}: liver MRI with hepatobiliary contrast may detect more metastases; "
            "none on record",
            what=what,
        )
        if contrast.met:
            summary = _(
                "{what}: no hepatobiliary-contrast liver MRI; contrast contraindicated, "
                "consider DWI MRI",
                what=what,
            )
    return recommend(
        info,
        Indicator.INFO,
        summary,
        advice,
        criteria,
        evidence=(*pending, *((p.enets_outdated_by,) if reassess and p.enets_outdated_by else ())),
        local_policy=policy,
        suggestions=suggestions,
    )


# --- pet-ssa ----------------------------------------------------------------------------------
@rule("pet-ssa", N_("68Ga-SSA PET/CT indicated"), [PV], "C 1.4; C 4", AREA)
def pet_ssa(ctx: RuleContext, info: RuleInfo) -> Recommendation | Evaluation | None:
    """SSTR PET for NET of any grade or G3 with differentiation unknown, when none is on record."""
    p = ctx.patient
    if not p.has_pnen or p.is_insulinoma or p.sstr_pet:
        return None
    kind, kind_evidence = p.differentiation
    either_way = kind is None and _net_or_g3_either_way(p)
    if kind is None and not either_way:
        # Neither NET nor NEC known: differentiation (or a Ki-67 that settles it) decides.
        return silent(
            info,
            (
                unknown(
                    _("NET, or G3 with differentiation unknown (not NEC)"),
                    _("differentiation (well or poorly differentiated) or an exact Ki-67"),
                    kind_evidence,
                ),
                known(_("no SSTR PET on record"), True, note=_("none recorded")),
            ),
        )
    if kind not in (NET, G3_UNKNOWN) and not either_way:
        return None
    grade = p.overall_grade
    grade_evidence = grade.evidence if grade else ()
    note = grade.history_note if grade else ""
    if either_way:
        flagged = p.possibly_other_of("differentiation", *GRADING_KINDS)
        grade_evidence = (*grade_evidence, *flagged)
        note = _(
            "whether or not {results} is the pNEN's, the pNEN is a NET or G3 with "
            "differentiation unknown",
            results=joined(f"{f.text} ({f.ref})" for f in flagged),
        )
    criteria = (
        known(
            _grade_text(p),
            True,
            dict.fromkeys((*kind_evidence, *grade_evidence)),
            note=note,
        ),
        # insulinoma: pet-insulinoma
        known(_("insulinoma recorded"), False, note=_("none recorded")),
        _none_on_record(_("SSTR PET on record")),
    )
    advice = _(
        "68Ga-SSA PET/CT is indicated for NET G1, G2 and G3: sensitivity ~{sensitivity} and "
        "specificity ~{specificity} for NET, and it detects up to {detected} of the lesions CT or "
        "MRI miss, inside and outside the liver (C 1.4).",
        sensitivity=percent(92),
        specificity=percent(95),
        detected=percent(67),
    )
    if either_way:
        advice = then(
            advice,
            _(
                "A result possibly another cancer's leaves the grade open, but the SSTR PET is "
                "indicated either way; if the pNEN is G3, SSTR expression also helps separate a "
                "G3 NET from a NEC (C 3, C 4)."
            ),
        )
    if p.is_g3_unknown:
        advice = then(
            advice,
            _(
                "Here the grade is G3 with differentiation unknown: SSTR expression also helps "
                "separate a G3 NET (SSTR2 strongly expressed) from a NEC (weak or absent) "
                "(C 3, C 4)."
            ),
        )
    pending = p.planned("pet-ssa")
    suggestions: tuple[Suggestion, ...] = ()
    if pending:
        advice = then(advice, _("An SSTR PET is already ordered: {refs}.", refs=_refs(pending)))
        summary = _(
            "68Ga-SSA PET/CT ordered, no report yet: indicated for {grade}", grade=_grade_text(p)
        )
    else:
        summary = _(
            "Order 68Ga-SSA PET/CT: indicated for {grade}; no SSTR PET on record",
            grade=_grade_text(p),
        )
        if p.is_g3_unknown:
            summary = _(
                "Order 68Ga-SSA PET/CT: G3, differentiation unknown — SSTR uptake helps "
                "separate G3 NET from NEC"
            )
        order = _("Order 68Ga-SSA PET/CT")
        suggestions = (Suggestion(order, (create("pet-ssa", order),)),)
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=summary,
        advice=advice,
        evidence=(*evidence_of(criteria), *pending),
        criteria=criteria,
        suggestions=suggestions,
    )


# --- pet-fdg ----------------------------------------------------------------------------------
@rule("pet-fdg", N_("18F-FDG PET/CT indicated"), [PV], "C 1.4; C 3", AREA)
def pet_fdg(ctx: RuleContext, info: RuleInfo) -> Recommendation | Evaluation | None:
    """FDG PET for Ki-67 > 10 %, overall grade G3 or NEC, when none is on record."""
    p = ctx.patient
    if not p.has_pnen or p.imaging("pet-fdg"):
        return None
    high = p.ki67_criterion(_("highest Ki-67 > 10 %"), ">", 10)  # C 1.4: Ki-67 > 10 %
    kind, kind_evidence = p.differentiation
    grade = p.overall_grade
    if p.is_nec:
        reason, why = known(_("NEC"), True, kind_evidence), _("NEC")
    elif p.is_g3_unknown:
        reason, why = known(_(G3_UNKNOWN), True, kind_evidence), _(G3_UNKNOWN)
    elif high.met:
        reason, why = high, _("Ki-67 > 10 %")
    elif grade is not None and p.grade == 3:  # C 1.4: FDG PET for G3 NETs, by any measure
        why = _("NET G3") if p.is_net else _("grade G3")
        evidence = dict.fromkeys((*kind_evidence, *grade.evidence))
        reason = known(_("overall grade G3"), True, evidence)
    elif high.unknown:
        # No Ki-67, or a bound across 10 %: the exact value decides (a decision waiting on data).
        no_pet = known(_("no FDG PET on record"), True, note=_("none recorded"))
        return silent(info, (high, no_pet))
    else:
        return None
    criteria: list[Criterion] = [reason]
    if reason is not high:
        criteria.append(high)
    elif kind == CONFLICT:
        conflicting = _("conflicting differentiation")
        criteria.append(known(_("NEC"), False, kind_evidence, note=conflicting))
    else:
        criteria.append(known(_("NEC"), False, kind_evidence))
    criteria.append(_none_on_record(_("FDG PET on record")))
    advice = _(
        "18F-FDG PET/CT is indicated for intermediate-to-high grade NET (Ki-67 > 10 %: some G2, "
        "all G3) and for NEC; FDG-avid disease carries a poorer prognosis (C 1.4)."
    )
    if p.is_net and (high.met or p.grade == 3):
        advice = then(
            advice,
            _(
                "For NET with Ki-67 > {ki67} or grade G3, combined 68Ga-SSA and FDG PET is more "
                "helpful for detection, prognosis and the choice of biopsy site (C 1.4, C 2).",
                ki67=percent(10),
            ),
        )
    pending = p.planned("pet-fdg")
    suggestions: tuple[Suggestion, ...] = ()
    if pending:
        advice = then(advice, _("An FDG PET is already ordered: {refs}.", refs=_refs(pending)))
        summary = _("18F-FDG PET/CT ordered, no report yet: indicated for {reason}", reason=why)
    else:
        summary = _("Order 18F-FDG PET/CT: {reason}; no FDG PET on record", reason=why)
        order = _("Order 18F-FDG PET/CT")
        suggestions = (Suggestion(order, (create("pet-fdg", order),)),)
    return Recommendation(
        rule=info,
        indicator=Indicator.WARNING if p.is_nec else Indicator.INFO,
        summary=summary,
        advice=advice,
        evidence=(*evidence_of(criteria), *pending),
        criteria=tuple(criteria),
        suggestions=suggestions,
    )


# --- pet-insulinoma ---------------------------------------------------------------------------
def _insulinoma_suggestions(adding: bool) -> tuple[Suggestion, ...]:
    """Exendin-4 or DOPA PET (at most one), creating an order and deleting nothing."""
    if adding:  # beside a drafted SSTR PET
        exendin = _("Add 68Ga-exendin-4 PET/CT")
        exendin_order = _("Add 68Ga-exendin-4 (GLP-1R) PET/CT")
        dopa = _("Add 18F-DOPA PET/CT")
    else:
        exendin = _("Order 68Ga-exendin-4 PET/CT")
        exendin_order = _("Order 68Ga-exendin-4 (GLP-1R) PET/CT")
        dopa = _("Order 18F-DOPA PET/CT")
    return (
        Suggestion(exendin, (create("pet-exendin", exendin_order),)),
        Suggestion(dopa, (create("pet-dopa", dopa),)),
    )


@rule(
    "pet-insulinoma",
    N_("Insulinoma: exendin-4 or DOPA PET/CT"),
    [PV, OS, SIGN],
    "C 1.4",
    AREA,
)
def pet_insulinoma(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """Insulinoma without GLP-1R or DOPA PET: suggest one (on orders: beside a drafted SSTR PET)."""
    p = ctx.patient
    if not p.has_pnen or not p.is_insulinoma or p.imaging(*INSULINOMA_PET):
        return None
    insulinoma = known(
        _("insulinoma recorded"), True, [f for f in p.functional if f.value == "insulinoma"]
    )
    none = _none_on_record(_("68Ga-exendin-4 or 18F-DOPA PET on record"))
    pending = _pending(ctx, *INSULINOMA_PET)
    advice = _(
        "SSTR is expressed in only about {share} of insulinomas, so SSTR imaging is insensitive "
        "for them; GLP-1 receptor (68Ga-exendin-4) or 18F-DOPA PET/CT is often used and reaches "
        "a diagnostic accuracy above {accuracy} (C 1.4).",
        share=percent("50–60"),
        accuracy=percent(90),
    )
    if ctx.on_orders:
        drafted = ctx.drafted_criterion(_("SSTR PET drafted"), "pet-ssa")
        if drafted is None or pending:
            return None
        criteria: tuple[Criterion, ...] = (drafted, insulinoma, none)
        summary = _(
            "SSTR PET drafted for an insulinoma (SSTR+ in only ~50–60 %): add exendin-4 "
            "or DOPA PET/CT"
        )
        advice = then(
            advice,
            _(
                "Keep the SSTR PET if SSA or PRRT eligibility matters (metastatic insulinomas "
                "are often SSTR-positive) and add an exendin-4 or DOPA PET/CT."
            ),
        )
        suggestions = _insulinoma_suggestions(adding=True)
    else:
        criteria = (insulinoma, none)
        if pending:
            advice = then(advice, _("Already ordered: {refs}.", refs=_refs(pending)))
            summary = _("Insulinoma: exendin-4 or DOPA PET/CT ordered, no report yet")
            suggestions = ()
        else:
            summary = _(
                "Insulinoma: 68Ga-exendin-4 or 18F-DOPA PET/CT (accuracy > 90 %) is "
                "preferred; none on record"
            )
            suggestions = _insulinoma_suggestions(adding=False)
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=summary,
        advice=advice,
        evidence=(*evidence_of(criteria), *pending),
        criteria=criteria,
        suggestions=suggestions,
    )


# --- pet-tracer-mismatch ----------------------------------------------------------------------
def _sstr_pet_for_nec(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """(a) An SSTR PET drafted for a NEC: replace it with FDG PET."""
    p = ctx.patient
    drafts = ctx.drafted("pet-ssa")
    if not drafts or not p.is_nec:
        return None
    criteria = (
        known(_("SSTR PET drafted"), True, [d.as_fact() for d in drafts]),
        known(_("NEC"), True, p.differentiation[1]),
    )
    fdg_pending = _pending(ctx, "pet-fdg")
    actions: list[Action] = [
        delete(d.ref, _("Remove the drafted SSTR PET ({ref})", ref=d.ref)) for d in drafts
    ]
    advice = _(
        "NECs express SSTR2 weakly or not at all, so an SSTR PET shows little; 18F-FDG PET/CT is "
        "the indicated functional study for NEC (C 1.4, C 3)."
    )
    if fdg_pending:
        refs = _refs(fdg_pending)
        advice = then(advice, _("An FDG PET is already ordered: {refs}.", refs=refs))
        label = _("Remove the drafted SSTR PET (FDG PET already ordered)")
    else:
        actions.append(create("pet-fdg", _("Order 18F-FDG PET/CT")))
        label = _("Replace the SSTR PET with 18F-FDG PET/CT")
    return Recommendation(
        rule=info,
        indicator=Indicator.WARNING,
        summary=_(
            "SSTR PET drafted for a NEC: NECs express SSTR2 weakly or not at all; FDG PET/CT "
            "is the indicated study"
        ),
        advice=advice,
        evidence=(*evidence_of(criteria), *fdg_pending),
        criteria=criteria,
        suggestions=(Suggestion(label, tuple(actions)),),
    )


def _low_grade(p: Patient) -> Criterion:
    """Overall grade G1 or G2: met, not met (G3), or unknown (no grade, or a bound open to G3)."""
    name = _("overall grade G1 or G2")
    grade = p.overall_grade
    if grade is None:
        return unknown(name, _("Ki-67 index"))  # nothing grades, so no Ki-67 either
    if grade.low == 3 or grade.high <= 2:
        return known(name, grade.high <= 2, grade.evidence, note=grade.history_note)
    exact = _("exact grade (the results allow {grade})", grade=grade.grade_text)
    return unknown(name, exact, grade.evidence)


def _fdg_pet_for_low_grade_net(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """(b) An FDG PET drafted for a NET G1/G2 with Ki-67 ≤ 10 % and no SSTR PET: add SSTR PET."""
    p = ctx.patient
    drafts = ctx.drafted("pet-fdg")
    if not drafts or not p.is_net or p.sstr_pet or _pending(ctx, "pet-ssa"):
        return None
    low = p.ki67_criterion(_("highest Ki-67 ≤ 10 %"), "<=", 10)  # C 1.4: FDG for Ki-67 > 10 %
    grade = _low_grade(p)  # C 1.4: FDG for G3 NET, whatever the Ki-67
    if low.not_met or grade.not_met:
        return None
    kind_evidence = p.differentiation[1]
    criteria = (
        known(_("FDG PET drafted"), True, [d.as_fact() for d in drafts]),
        known(_("NET"), True, kind_evidence),
        low,
        grade,
        _none_on_record(_("SSTR PET on record")),
    )
    if low.met and grade.met:
        summary = _(
            "FDG PET drafted for a NET with Ki-67 ≤ 10 %: 68Ga-SSA PET/CT is the indicated "
            "study; consider adding it"
        )
        advice = ""
    else:
        if p.highest_ki67 is None:
            summary = _(
                "FDG PET drafted for a NET with Ki-67 not recorded: 68Ga-SSA PET/CT is the "
                "indicated study for NET"
            )
        else:
            summary = _(
                "FDG PET drafted for a NET of unsettled grade: 68Ga-SSA PET/CT is the "
                "indicated study for NET"
            )
        advice = _(
            "Whether this NET is low grade (Ki-67 ≤ 10 %, G1/G2) is not settled by the record: "
            "{missing}.",
            missing="; ".join(missing_of(criteria)),
        )
    advice = then(
        advice,
        _(
            "In low-grade NET, FDG PET is complementary and prognostic (FDG-avid disease has a "
            "poorer prognosis), but 68Ga-SSA PET/CT is the indicated functional study for NET G1 "
            "and G2; FDG PET is indicated from Ki-67 > 10 % and for G3 (C 1.4). Adding the SSTR "
            "PET keeps the FDG PET: the combination helps detection, prognosis and the choice of "
            "treatment."
        ),
    )
    return recommend(
        info,
        Indicator.INFO,
        summary,
        advice,
        criteria,
        suggestions=(
            Suggestion(_("Add 68Ga-SSA PET/CT"), (create("pet-ssa", _("Add 68Ga-SSA PET/CT")),)),
        ),
    )


@rule(
    "pet-tracer-mismatch",
    N_("PET tracer does not match the tumour"),
    [OS, SIGN],
    "C 1.4; C 3",
    AREA,
)
def pet_tracer_mismatch(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """SSTR PET drafted for a NEC (swap to FDG); FDG PET drafted for a low-grade NET (add SSTR)."""
    if not ctx.patient.has_pnen:
        return None
    return _sstr_pet_for_nec(ctx, info) or _fdg_pet_for_low_grade_net(ctx, info)

"""C. Pathology and biopsy: grading, re-biopsy, G3 NET vs NEC, biopsy technique (C 2, C 4, C 5).

Decisions where the spec left room (the source was followed):
- `grade-discordant`: compares each site's grade as the spec defines it (its most recent Ki-67
  and mitoses, else its reported grade), whatever the dates of the two results; when a result of
  unknown site grades higher than both, the card says that it sets the overall grade.
- `biopsy-both-sites`: "no resection done or planned" means no pancreatectomy or hepatectomy of
  any kind completed, or active, on-hold or drafted. A Ki-67/grade whose site is not recorded
  counts for neither site (the card names it). When a biopsy is already planned, the card names it
  instead of suggesting another.
- `liver-biopsy-approach`: "liver-metastasis pathology" is any tissue result (Ki-67, mitoses,
  grade, differentiation) with the liver as its site; a result whose site is not recorded may be
  one, so it keeps the PV clause silent (unknown is not "none"). On orders, a drafted
  percutaneous liver biopsy counts, and so does a drafted EUS-FNB or EUS-FNA whose
  ServiceRequest.bodySite is the liver (an EUS order without a liver body site is taken as
  sampling the pancreas). On orders a pNEN suffices: the biopsy may be what confirms suspected
  liver metastases. A drafted EUS-FNA also gets C 5.4's advice to use a biopsy (FNB) needle.
- `rebiopsy-progression`: "dated after" is strict — a biopsy or tissue result on the day of the
  progression counts as the re-biopsy. No tissue result or biopsy on record at all meets the
  clause ("none recorded"). An undated progression cannot be placed, and an undated tissue result
  or biopsy could be the re-biopsy: in both cases the rule stays silent (unknown is never met).
- `rebiopsy-inconsistent`: "a positive FDG PET" is the most recent FDG PET (a later negative study
  supersedes an earlier positive one). "Progression within 6 months" counts a progression dated
  after the latest change of the current regimen (the latest start of a running drug: an agent
  added to a running SSA restarts the clock; a renewal of the same agent does not) and at most
  the local default of calendar months later, that last day included; with an undated running
  drug that clause cannot be decided and does not fire. Each clause
  stops once the re-biopsy it asks for is done: a tissue result (Ki-67, mitoses, grade,
  differentiation) or biopsy Procedure dated on or after its FDG PET or progression silences it
  (on the same day counts, as in `rebiopsy-progression`). An undated tissue result or biopsy, or
  an undated FDG PET, leaves that undecided, and the clause stays silent (unknown is never met).
- Stale evidence (spec definition): the study that guides `rebiopsy-progression` is the latest
  FDG PET; "the imaging behind" `biopsy-both-sites` and `liver-biopsy-approach` is the latest
  abdominal CT or liver MRI on record (the studies that show the lesions to sample; a PET is not
  used to plan those biopsies). Older than the local default, it is named with its age and a
  fresh study of the same kind is suggested alongside (a liver MRI without hepatobiliary
  contrast is repeated as the DWI liver MRI of the catalogue); none is suggested when one is
  already planned. With a fresh-study suggestion next to the biopsy, `biopsy-both-sites` allows
  choosing both (selectionBehavior "any").
- `g3-net-vs-nec`: CgA immunostaining (C 4) is not part of the record this service reads, so the
  card asks for it instead of reading serum CgA, which is a different measurement. Only the
  presence of DAXX/ATRX/MEN1 or TP53/RB1 alterations is read (a wild-type result is not mapped).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from consensus.criteria import MET, Criterion, evidence_of, known, unknown
from consensus.months import within_months
from consensus.patient import (
    BIOPSIES,
    CONFLICT,
    GUIDING_IMAGING,
    HEPATECTOMIES,
    PANCREATECTOMIES,
    STUDY_NAMES,
    TISSUE_KINDS,
    Patient,
    Regimen,
    SiteGrade,
    StaleStudy,
)
from consensus.recommendation import (
    OS,
    PV,
    SIGN,
    Evaluation,
    Indicator,
    Recommendation,
    RuleInfo,
    Suggestion,
    create,
    recommend,
    silent,
)
from consensus.registry import RuleContext, rule
from fhir_mappings.facts import LIVER, PRIMARY, UNKNOWN_SITE, Draft, Fact
from pnen_i18n import N_, _

AREA = "C. Pathology and biopsy"
RESECTIONS = (*PANCREATECTOMIES, *HEPATECTOMIES)
SITE_NAMES = {
    PRIMARY: N_("primary"),
    LIVER: N_("liver metastasis"),
    UNKNOWN_SITE: N_("site not recorded"),
}
NET_GENES = ("DAXX", "ATRX", "MEN1")  # C 4: G3 NETs may have ATRX/DAXX or MEN1 mutations
NEC_GENES = ("TP53", "RB1")  # C 3: TP53/RB1 mutations tend to be poorly differentiated NECs


def _site(site: str) -> str:
    """The name of a grade's site ('primary', 'liver metastasis') in the current locale."""
    return _(SITE_NAMES[site])


def _dated(fact: Fact) -> str:
    """'Ki-67 25 % (liver metastasis), 2026-01-10' for a sentence."""
    when = fact.when.isoformat() if fact.when else _("undated")
    return _("{fact}, {date}", fact=fact.text, date=when)


def _dated_list(facts: Iterable[Fact]) -> str:
    """The facts with their dates, separated by '; '."""
    return "; ".join(map(_dated, facts))


def _grade_line(grade: SiteGrade) -> str:
    """'primary: G1 (Ki-67 2 % (primary), 2026-01-10)', with any earlier, higher grade."""
    site, results = _site(grade.site), _dated_list(grade.evidence)
    if grade.history:
        return _(
            "{site}: {grade} ({results}) ({history})",
            site=site,
            grade=grade.grade_text,
            results=results,
            history=grade.history_note,
        )
    return _("{site}: {grade} ({results})", site=site, grade=grade.grade_text, results=results)


# The catalogue order that repeats a stale study of each kind ("a fresh study of the same kind").
FRESH_ORDERS = {
    "pet-fdg": "pet-fdg",
    "pet-ssa": "pet-ssa",
    "ct-abdomen-multiphase": "ct-abdomen-pelvis-multiphase",
    "mri-liver-hepatobiliary": "mri-liver-hepatobiliary",
    "mri-liver": "mri-liver-dwi",
    "abdominal-imaging": "ct-abdomen-pelvis-multiphase",
}
FRESH_PLANNED = {
    "pet-fdg": ("pet-fdg",),
    "pet-ssa": ("pet-ssa",),
    "ct-abdomen-multiphase": ("ct-abdomen-multiphase", "abdominal-imaging"),
    "mri-liver-hepatobiliary": ("mri-liver-hepatobiliary", "mri-liver"),
    "mri-liver": ("mri-liver", "mri-liver-hepatobiliary"),
    "abdominal-imaging": ("abdominal-imaging", "ct-abdomen-multiphase"),
}


# What a stale study guides, for "The <study>, is stale for <this>" (translated where shown).
CHOOSING_LESIONS = N_("choosing the lesions to sample")
TARGETING_LIVER_BIOPSY = N_("targeting the liver biopsy")
PICKING_FDG_AVID = N_("picking the most FDG-avid lesion after this progression")


def _stale_guide(
    ctx: RuleContext, stale: StaleStudy | None, guides: str
) -> tuple[str, tuple[Suggestion, ...], tuple[str, ...], tuple[Fact, ...]]:
    """For a stale guiding study: a sentence, a fresh-study suggestion, the local default, facts.

    Nothing when the study is fresh or none is on record; no suggestion when one is planned.
    `guides` is one of the N_() purposes above. The sentence starts with its separating space.
    """
    if stale is None:
        return "", (), (), ()
    p = ctx.patient
    planned = p.planned(*FRESH_PLANNED.get(stale.kind, (stale.kind,)))
    if planned:
        sentence = _(
            " The {study}, is stale for {purpose}: repeat it before the procedure "
            "(a new one is planned).",
            study=stale.text,
            purpose=_(guides),
        )
    else:
        sentence = _(
            " The {study}, is stale for {purpose}: repeat it before the procedure.",
            study=stale.text,
            purpose=_(guides),
        )
    order = FRESH_ORDERS.get(stale.kind)
    suggestions: tuple[Suggestion, ...] = ()
    if order is not None and not planned:
        label = _("Order a fresh {study}", study=_(STUDY_NAMES[stale.kind]))
        suggestions = (Suggestion(label, (create(order, label),)),)
    policy = (ctx.settings.describe("stale-study-months"),)
    return sentence, suggestions, policy, (stale.fact, *planned)


def _pnen_lm_criterion(p: Patient) -> Criterion:
    """pNEN with liver metastases, with the Conditions behind it."""
    facts = (*p.facts.all("pnen")[:1], *p.facts.all("liver-metastasis")[:1])
    return known(_("pNEN with liver metastases"), True, facts)


@rule(
    "grade-discordant",
    N_("Primary and liver-metastasis grades differ"),
    [PV],
    "C 2",
    AREA,
)
def grade_discordant(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """The primary and the liver metastases have different WHO grades: treat by the higher."""
    p = ctx.patient
    primary, liver = p.site_grades.get(PRIMARY), p.site_grades.get(LIVER)
    if not p.has_pnen or primary is None or liver is None:
        return None
    # Different only when no grade is possible at both sites (a bound such as '< 5 %' allows
    # G1–G2: it differs from G3, but not from G1 or G2).
    if primary.high >= liver.low and liver.high >= primary.low:
        return None
    higher = max(primary, liver, key=lambda g: g.low)
    advice = _(
        "The grades differ — {primary}; {liver}. When the grades of the primary and the "
        "metastases are inconsistent, clinical treatment should follow the higher grade: "
        "{higher}, set by the {site} (C 2).",
        primary=_grade_line(primary),
        liver=_grade_line(liver),
        higher=higher.grade_text,
        site=_site(higher.site),
    )
    overall = p.overall_grade
    evidence = (*primary.evidence, *liver.evidence)
    if overall is not None and overall.site == UNKNOWN_SITE and overall.low > higher.high:
        advice += _(
            " A result whose site is not recorded grades higher still ({grade}: {results}) and "
            "sets the overall grade.",
            grade=overall.grade_text,
            results=_dated_list(overall.evidence),
        )
        evidence += overall.evidence
    return recommend(
        info,
        Indicator.WARNING,
        _(
            "Grade differs: primary {primary}, liver metastasis {liver}; treat by the higher "
            "grade ({higher})",
            primary=primary.grade_text,
            liver=liver.grade_text,
            higher=higher.grade_text,
        ),
        advice,
        evidence=evidence,
    )


@rule(
    "biopsy-both-sites",
    N_("Biopsy both primary and liver metastases"),
    [PV],
    "C 5.2; C 5.3; C 5.4",
    AREA,
)
def biopsy_both_sites(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """Not known resectable, no resection, and Ki-67/grade lacking for the primary or the liver."""
    p = ctx.patient
    if not p.pnen_lm or p.resectability.met:
        return None
    if p.done(*RESECTIONS) or p.planned(*RESECTIONS):
        return None
    graded = {site: p.site_grades.get(site) for site in (PRIMARY, LIVER)}
    lacking = [_site(site) for site, grade in graded.items() if grade is None]
    if not lacking:
        return None
    resectability = p.resectability
    not_resectable = Criterion(
        _("liver metastases not known to be resectable"),
        MET,
        resectability.evidence,
        resectability.missing,
        _("resectability unknown") if resectability.unknown else _("unresectable"),
    )
    criteria = [
        _pnen_lm_criterion(p),
        not_resectable,
        known(_("no resection done or planned"), True, note=_("none recorded")),
    ]
    for site, grade in graded.items():
        name = _("Ki-67 or grade of the {site} on record", site=_site(site))
        criteria.append(known(name, grade is not None, grade.evidence if grade else ()))
    where = (
        _("{first} or {second}", first=lacking[0], second=lacking[1]) if lacking[1:] else lacking[0]
    )
    advice = _(
        "No Ki-67 or grade of the {site} is on record. Biopsy of both the primary and the liver "
        "metastases is advised for patients unsuitable for surgery (C 5.2). EUS-guided FNA/B is "
        "the preferred technique to sample both in one procedure (C 5.3); use a biopsy (FNB) "
        "needle to obtain enough tissue for grading and molecular pathology (C 5.4).",
        site=where,
    )
    # CR-14: a NEC diagnosed on liver tissue is treated medically first (C 7.2); the metastases
    # already give the pathology, so re-biopsy of the primary is generally not needed (C 2).
    nec_on_liver = p.is_nec and graded[LIVER] is not None
    summary = _(
        "Biopsy both primary and liver metastases: no Ki-67 or grade of the {site} on record",
        site=where,
    )
    if nec_on_liver:
        summary = _(
            "NEC diagnosed on liver tissue: biopsy the primary only if it would change "
            "management; do not delay chemotherapy"
        )
        advice += _(
            " Here a NEC is already diagnosed on liver tissue: re-biopsy of the primary is "
            "generally not recommended when the metastases provide adequate pathology (C 2), "
            "and medical therapy comes first (C 7.2). Sample the primary only if it would change "
            "management (e.g. a suspected mixed or discordant tumour), and never at the cost of "
            "delaying first-line chemotherapy."
        )
    elif resectability.unknown:
        advice += _(
            " Liver resectability is not recorded; if resection is an option, its specimen can "
            "provide the pathology instead."
        )
    elsewhere = p.site_grades.get(UNKNOWN_SITE)
    evidence = evidence_of(criteria)
    if elsewhere is not None:
        advice += _(
            " A result whose site is not recorded ({results}) cannot show which lesion was "
            "sampled.",
            results=_dated_list(elsewhere.evidence),
        )
        evidence += elsewhere.evidence
    pending = p.planned(*BIOPSIES)
    suggestions: tuple[Suggestion, ...] = ()
    if pending:
        advice += _(" A biopsy is already planned; make sure it samples both sites.")
        evidence += pending
    elif not nec_on_liver:
        suggestions = (
            Suggestion(
                _("Order EUS-guided FNB of the primary and the liver metastases"),
                (create("eus-fnb", _("Order EUS-guided fine-needle biopsy (FNB needle)")),),
            ),
        )
    # No biopsy is advised for the NEC: no study is needed to choose the lesions to sample.
    guide = None if nec_on_liver else p.stale_study(*GUIDING_IMAGING)
    stale, fresh, policy, stale_facts = _stale_guide(ctx, guide, CHOOSING_LESIONS)
    return recommend(
        info,
        Indicator.INFO,
        summary,
        advice + stale,
        criteria,
        evidence=(*evidence, *stale_facts),
        local_policy=policy,
        suggestions=(*suggestions, *fresh),
        selection_behavior="any" if fresh else "at-most-one",
    )


def _liver_biopsy_drafts(ctx: RuleContext) -> tuple[Draft, ...]:
    """Drafted percutaneous liver biopsies, and drafted EUS-FNB/FNA with a liver body site."""
    eus = tuple(d for d in ctx.drafted("eus-fnb", "eus-fna") if d.order and LIVER in d.order.sites)
    return (*ctx.drafted("liver-biopsy-percutaneous"), *eus)


@rule(
    "liver-biopsy-approach",
    N_("Approach to liver biopsy"),
    [PV, OS, SIGN],
    "C 5.1; C 5.4",
    AREA,
)
def liver_biopsy_approach(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """No liver pathology on record (PV), or a liver biopsy drafted: percutaneous US preferred."""
    p = ctx.patient
    if not p.has_pnen:
        return None
    advice = _(
        "Ultrasound-guided percutaneous liver biopsy is the preferred method; EUS-guided "
        "liver biopsy (EUS-FNA/B) is favoured when the ultrasound-guided biopsy is "
        "unsatisfactory or when the primary must be sampled at the same time (C 5.1)."
    )
    primary_graded = PRIMARY in p.site_grades
    if ctx.on_orders:
        drafts = _liver_biopsy_drafts(ctx)
        if not drafts:
            return None
        evidence = tuple(d.as_fact() for d in drafts)
        eus = [d for d in drafts if d.order and d.order.kinds & {"eus-fnb", "eus-fna"}]
        if eus:
            summary = _(
                "EUS-guided liver biopsy drafted: percutaneous ultrasound-guided biopsy is "
                "preferred unless it fails or the primary is sampled too"
            )
        else:
            summary = _(
                "Liver biopsy drafted: percutaneous ultrasound-guided is preferred; EUS if the "
                "primary must be sampled too"
            )
        if any(d.order and "eus-fna" in d.order.kinds for d in eus):
            advice += _(
                " An EUS-FNA (cytology needle) is drafted: a biopsy (FNB) needle obtains more "
                "tissue for grading and molecular pathology (C 5.4)."
            )
    else:
        # A result whose site is not recorded may be the liver pathology: not known to be absent.
        tissue_sites = {f.site for k in TISSUE_KINDS for f in p.facts.all(k)}
        if not p.pnen_lm or tissue_sites & {LIVER, UNKNOWN_SITE}:
            return None
        evidence = _pnen_lm_criterion(p).evidence
        summary = _(
            "No liver-metastasis pathology on record: ultrasound-guided percutaneous liver "
            "biopsy is preferred"
        )
        earlier = (*p.done("liver-biopsy-percutaneous"), *p.planned("liver-biopsy-percutaneous"))
        if earlier:
            advice += _(
                " A liver biopsy is on record or planned, but no liver pathology result yet."
            )
            evidence += earlier
    if not primary_graded:
        advice += _(
            " No Ki-67 or grade of the primary is on record: an EUS-guided procedure can sample "
            "the primary and the liver metastases together."
        )
    stale, fresh, policy, stale_facts = _stale_guide(
        ctx, p.stale_study(*GUIDING_IMAGING), TARGETING_LIVER_BIOPSY
    )
    return recommend(
        info,
        Indicator.INFO,
        summary,
        advice + stale,
        evidence=(*evidence, *stale_facts),
        local_policy=policy,
        suggestions=fresh,
    )


def _progression_after(
    progression: date, facts: tuple[Fact, ...], name: str, date_of: str
) -> Criterion:
    """Progression dated after every fact given: met, not met, or unknown (an undated fact).

    `date_of` is an N_() message naming what an undated fact lacks, with a `{refs}` placeholder.
    """
    if not facts:
        return known(name, True, note=_("none recorded"))
    dated = [f for f in facts if f.when]
    latest = max(dated, key=lambda f: f.when or date.min) if dated else None
    if latest is not None and latest.when is not None and latest.when >= progression:
        return known(name, False, (latest,))
    undated = [f for f in facts if f.when is None]
    if undated:
        shown = (*undated, *((latest,) if latest else ()))
        return unknown(name, _(date_of, refs=", ".join(f.ref for f in undated)), shown)
    return known(name, True, (latest,) if latest else ())


# What an undated tissue result or biopsy lacks, for `_progression_after`.
TISSUE_DATE = N_("date of the tissue result ({refs})")
BIOPSY_DATE = N_("date of the biopsy ({refs})")


@rule(
    "rebiopsy-progression",
    N_("Re-biopsy on progression"),
    [PV],
    "C 2",
    AREA,
)
def rebiopsy_progression(ctx: RuleContext, info: RuleInfo) -> Recommendation | Evaluation | None:
    """Latest status is progression, later than the latest tissue result and biopsy."""
    p = ctx.patient
    status = p.latest_status
    if not p.has_pnen or not p.progressing or status is None or status.when is None:
        return None
    tissue = tuple(f for k in TISSUE_KINDS for f in p.facts.all(k))
    criteria = (
        known(_("latest disease status is progression"), True, (status,)),
        _progression_after(
            status.when, tissue, _("progression after the latest tissue result"), TISSUE_DATE
        ),
        _progression_after(
            status.when, p.done(*BIOPSIES), _("progression after the latest biopsy"), BIOPSY_DATE
        ),
    )
    if any(c.not_met for c in criteria):
        return None
    if not all(c.met for c in criteria):
        return silent(info, criteria)  # an undated result may be the re-biopsy: its date decides
    fdg = p.facts.latest("imaging:pet-fdg")
    ssa = p.facts.latest("imaging:pet-ssa")
    sites = _("primary and metastases") if p.primary_in_place else _("metastases")
    advice = _(
        "Disease has progressed since the last tissue diagnosis. Re-biopsy of the {sites} is "
        "recommended on progression: it confirms the diagnosis and shows whether the grade has "
        "risen (C 2).",
        sites=sites,
    )
    evidence = evidence_of(criteria)
    stale_pet = p.stale_study("pet-fdg")
    if fdg is not None:
        advice += _(
            " An FDG PET is on record: sample the most FDG-avid lesion, which best reflects the "
            "most proliferative disease."
        )
        evidence += (fdg,)
    else:
        advice += _(
            " No FDG PET is on record: where one can be done, sample the most FDG-avid lesion "
            "(C 2)."
        )
    stale, fresh, policy, stale_facts = _stale_guide(ctx, stale_pet, PICKING_FDG_AVID)
    advice += stale
    advice += _(
        " For multiple liver metastases, guide multi-site biopsy by combined 68Ga-SSA and FDG "
        "PET when possible."
    )
    if ssa is not None:
        evidence += (ssa,)
    if fdg is None:  # no FDG PET to point at (CR-9): the card must not presuppose one
        summary = _(
            "Progression since the last biopsy: re-biopsy {sites}; no FDG PET on record to guide "
            "it (combined 68Ga-SSA + FDG PET, C 2)",
            sites=sites,
        )
    elif stale_pet:
        summary = _(
            "Progression since the last biopsy: re-biopsy {sites}, targeting the most FDG-avid "
            "lesion on a fresh FDG PET",
            sites=sites,
        )
    else:
        summary = _(
            "Progression since the last biopsy: re-biopsy {sites}, targeting the most FDG-avid "
            "lesion",
            sites=sites,
        )
    return recommend(
        info,
        Indicator.WARNING,
        summary,
        advice,
        criteria,
        evidence=(*evidence, *stale_facts),
        local_policy=policy,
        suggestions=fresh,
    )


def _after_change(regimen: Regimen, when: date) -> str:
    """'progression 120 days after starting octreotide (started …)', or after adding an agent."""
    changed = regimen.latest_change or when
    added = ", ".join(dict.fromkeys(f.value.name for f in regimen.changed_by))
    kept = ", ".join(
        dict.fromkeys(f.value.name for f in regimen.drugs if f not in regimen.changed_by)
    )
    days = (when - changed).days
    # One form for every count: the English has always said "days", even for one.
    if kept:
        return _(
            "progression {days} days after adding {added} to {kept} (added {changed})",
            days=days,
            added=added,
            kept=kept,
            changed=changed.isoformat(),
        )
    return _(
        "progression {days} days after starting {added} (started {changed})",
        days=days,
        added=added,
        changed=changed.isoformat(),
    )


def _rebiopsied(p: Patient, since: date | None) -> bool | None:
    """A tissue result or biopsy dated on or after `since` (None: an undated one may be)."""
    done = (*(f for k in TISSUE_KINDS for f in p.facts.all(k)), *p.done(*BIOPSIES))
    if since is not None and any(f.when is not None and f.when >= since for f in done):
        return True
    if since is None or any(f.when is None for f in done):
        return None
    return False


@rule(
    "rebiopsy-inconsistent",
    N_("Re-biopsy: clinical picture inconsistent with grade"),
    [PV],
    "C 2",
    AREA,
)
def rebiopsy_inconsistent(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """FDG-avid disease with G1, or progression within 6 months of starting therapy at G1/G2."""
    p = ctx.patient
    overall = p.overall_grade
    if not p.has_pnen or overall is None or overall.grade is None:
        return None
    found: list[str] = []
    evidence: list[Fact] = []
    policy: tuple[str, ...] = ()
    rapid_found = False
    fdg = p.facts.latest("imaging:pet-fdg")
    # Silent once re-biopsied after the PET, and while that cannot be told (undated).
    if fdg is not None and fdg.value == "positive" and overall.grade == 1:
        if _rebiopsied(p, fdg.when) is False:
            found.append(_("FDG-avid disease with grade G1"))
            evidence.append(fdg)
    regimen = p.regimen
    changed = regimen.latest_change
    if overall.grade in (1, 2) and regimen.drugs and changed is not None:
        # C 2 "rapid clinical progression during treatment": local default, 6 months from the
        # latest change of the current regimen (an agent added to a running SSA restarts it).
        months = ctx.settings.value("rapid-progression-months")
        rapid = [
            (f, f.when)
            for f in p.progressions
            if f.when
            and changed < f.when
            and within_months(changed, months, f.when)
            and _rebiopsied(p, f.when) is False
        ]
        if rapid:
            first, when = rapid[0]
            found.append(
                _(
                    "{progression} with grade G{grade}",
                    progression=_after_change(regimen, when),
                    grade=overall.grade,
                )
            )
            evidence += [*regimen.drugs, first]
            policy = (ctx.settings.describe("rapid-progression-months"),)
            rapid_found = True
    if not found:
        return None
    if rapid_found:
        summary = _(
            "Rapid progression on therapy with grade G{grade}: re-biopsy to re-grade (C 2)",
            grade=overall.grade,
        )
    else:
        summary = _(
            "FDG-avid disease with grade G{grade}: re-biopsy to re-grade (C 2)",
            grade=overall.grade,
        )
    findings = (
        _("{first}; and {second}", first=found[0], second=found[1]) if found[1:] else found[0]
    )
    return Recommendation(
        rule=info,
        indicator=Indicator.WARNING,
        summary=summary,
        advice=_(
            "The clinical picture disagrees with the grade (G{grade}, {site}): {findings}; no "
            "tissue result or biopsy is recorded since. When disease progresses rapidly on "
            "treatment or the clinical presentation is inconsistent with the pathological grade, "
            "re-biopsy to determine the pathological changes and guide treatment (C 2); FDG-avid "
            "lesions best reflect the most proliferative disease.",
            grade=overall.grade,
            site=_site(overall.site),
            findings=findings,
        ),
        evidence=(*overall.evidence, *evidence),
        local_policy=policy,
    )


def _altered(p: Patient, genes: tuple[str, ...]) -> list[Fact]:
    """The most recent alteration per gene among the given genes."""
    latest: dict[str, Fact] = {}
    for fact in p.facts.all("gene-alteration"):
        if fact.value[0] in genes:
            latest[fact.value[0]] = fact
    return [latest[g] for g in genes if g in latest]


def _weak_sstr2(p: Patient) -> list[Fact]:
    """SSTR2 weak or absent: IHC negative, 0 or 1+, or a negative SSTR PET."""
    weak = [f for f in p.facts.all("sstr2-ihc") if f.value in ("negative", "0", "1+")]
    return weak + [f for f in p.sstr_pet if f.value == "negative"]


@rule(
    "g3-net-vs-nec",
    N_("G3 NET or NEC: unresolved or conflicting evidence"),
    [PV],
    "C 3; C 4",
    AREA,
)
def g3_net_vs_nec(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """G3 with differentiation unknown, or conflicting evidence for G3 NET vs NEC: MDT review."""
    p = ctx.patient
    if not p.has_pnen:
        return None
    kind, _basis = p.differentiation
    recorded = p.differentiation_recorded
    net_genes, nec_genes = _altered(p, NET_GENES), _altered(p, NEC_GENES)
    strong, weak = list(p.sstr2_strong), _weak_sstr2(p)
    reasons: list[str] = []
    if p.is_g3_unknown:
        reasons.append(_("G3 with differentiation not recorded"))
    if kind == CONFLICT:
        reasons.append(_("well differentiated recorded but an NEC diagnosis is coded"))
    if p.is_nec and (net_genes or strong):
        reasons.append(_net_conflict(net_genes, strong))
    if p.is_net_g3 and nec_genes:
        reasons.append(
            _(
                "NET G3 recorded but {genes} altered",
                genes="/".join(f.value[0] for f in nec_genes),
            )
        )
    if not reasons:
        return None
    morphology_net = [recorded] if recorded is not None and recorded.value == "well" else []
    morphology_nec = [recorded] if recorded is not None and recorded.value == "poorly" else []
    morphology_nec += list(p.nec_codes)
    for_net = [*morphology_net, *strong, *net_genes]
    for_nec = [*morphology_nec, *weak, *nec_genes]
    grade = p.overall_grade
    grade_facts = grade.evidence if grade is not None else ()
    missing = []
    if recorded is None:
        missing.append(_("morphology (well or poorly differentiated)"))
    if not p.facts.all("sstr2-ihc") and not p.sstr_pet:
        missing.append(_("SSTR2 expression (SSTR2 IHC or 68Ga-SSA PET)"))
    if not (net_genes or nec_genes):
        missing.append(_("DAXX/ATRX/MEN1 and TP53/RB1 status"))
    missing.append(_("CgA immunostaining intensity (stronger in G3 NET)"))

    def listed(facts: list[Fact]) -> str:
        return _dated_list(facts) if facts else _("none on record")

    advice = _(
        "G3 NET and NEC differ in treatment and prognosis; here: {reasons}.\n\n"
        "- Grade: {grade}\n"
        "- Favours G3 NET: {for_net}\n"
        "- Favours NEC: {for_nec}\n\n"
        "G3 NETs are well differentiated (areas of G1/G2 morphology, no or only focal necrosis), "
        "express CK, Syn, CgA, CD56 and SSTR2 strongly (CgA more than NECs) and may carry "
        "ATRX/DAXX or MEN1 mutations; TP53/RB1 mutations point to poorly differentiated NEC, "
        "which expresses SSTR2 weakly or not at all (C 3, C 4). Where pathology cannot separate "
        "them, an MDT review of clinical history, serology, imaging, IHC and genetic findings "
        "should settle the diagnosis before treatment is decided (C 4).",
        reasons="; ".join(reasons),
        grade=listed(list(grade_facts)),
        for_net=listed(for_net),
        for_nec=listed(for_nec),
    )
    if p.is_g3_unknown:
        summary = _(
            "G3, differentiation unknown: NET or NEC changes treatment; review morphology, SSTR2 "
            "and genetics at MDT"
        )
    else:
        summary = _(
            "Conflicting evidence for G3 NET vs NEC: NET or NEC changes treatment; review "
            "morphology, SSTR2 and genetics at MDT"
        )
    return recommend(
        info,
        Indicator.WARNING,
        summary,
        advice,
        evidence=tuple(dict.fromkeys((*grade_facts, *for_net, *for_nec))),
        missing=missing,
    )


def _net_conflict(genes: list[Fact], strong: list[Fact]) -> str:
    """'NEC recorded but DAXX altered and SSTR2 strongly positive': the NET side of a conflict."""
    altered = "/".join(f.value[0] for f in genes)
    if genes and strong:
        return _("NEC recorded but {genes} altered and SSTR2 strongly positive", genes=altered)
    if genes:
        return _("NEC recorded but {genes} altered", genes=altered)
    return _("NEC recorded but SSTR2 strongly positive")


@rule(
    "eus-ablation-not-first-line",
    N_("EUS-guided ablation is not first-line"),
    [OS, SIGN],
    "C 5.5",
    AREA,
)
def eus_ablation_not_first_line(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """An EUS-guided radiofrequency or ethanol ablation drafted."""
    drafts = ctx.drafted("eus-ablation")
    if not ctx.patient.has_pnen or not drafts:
        return None
    return recommend(
        info,
        Indicator.INFO,
        _(
            "EUS-guided ablation drafted: it can reduce tumour load but is not a first-line "
            "treatment (C 5.5)"
        ),
        _(
            "EUS-guided puncture ablation (ethanol or radiofrequency) can be an alternative to "
            "reduce tumour load, relieve symptoms or control the primary locally in patients not "
            "eligible for surgery, but it is not recommended as a first-line treatment: the "
            "evidence is mostly case reports and series, without randomised trials (C 5.5)."
        ),
        evidence=tuple(d.as_fact() for d in drafts),
    )

"""F. Systemic therapy (consensus-rules.md F; C 13–14, R Drug therapy, R PRRT).

Decisions where the spec left room (the source was followed):
- `preop-systemic-mgmt`: "NED not recorded" means no NED that still holds — a NED recorded as
  not reached, none, or a NED yes followed by a progression all fire. "Upfront resection must
  be ruled out first" (the spec) is said as "assess upfront resection first" for type II
  metastases of unknown resectability (clearer: the zh-CN review found "ruled out" readable as
  "not to be done"); potentially
  resectable type III metastases are by C 11 resectable only after conversion, so their card
  asks to reassess R0/R1 feasibility and remnant volume after it. Type III whose C 11 potential
  resectability is unknown or not met gets no card (`type3-potentially-resectable` asks for the
  C 11 data). G3 NET counts (C 11: "some G3"). With MGMT untested the card says to test it
  first but suggests no order (the spec says only "test MGMT first"): `mgmt-test` fires for the
  same patients and suggests the MGMT IHC, so a response carries that suggestion once.
- `adjuvant-ssa`: needs a curative-intent resection (`Patient.curative_resection`: primary out,
  liver metastases resected or ablated, NED after the last operation). Not curative, or NED not
  recorded after it → silent (spec: no surveillance card; decisions waiting on data names it).
  The adjuvant window (local default, 6 calendar months, the last day included) is counted from
  the latest dated liver resection (the spec names "the liver resection's date"; C 14 (1) gives
  no window). An unknown Ki-67 or SSTR status fires as conditional advice without suggestions.
- `adjuvant-continue-regimen`: the latest NED record or progression dated on or after the first
  dated procedure decides: NED yes → met; NED no or a progression → silent; undated records
  cannot be placed (only undated procedures: NED unknown, naming the date). With nothing
  recorded after the procedure the card fires as conditional advice naming the missing NED
  (C 14 (2) covers local therapy — TAE/TACE — as well as surgery, so it does not need a
  curative-intent resection). An unknown ENETS type fires neither (C 14 splits the advice by
  type); NEC neither (C 14: pNETs). Both apply to a pNEN in remission.
- `ssa-first-line`, `targeted-therapy`, `prrt-candidate`: advanced disease unknown (resectability
  unknown, no extrahepatic metastasis) keeps them silent — they treat advanced disease — but they
  return their criteria, so the summary lists resectability under decisions waiting on data.
  Type III with C 11 data unknown counts as advanced and the card lists the missing C 11 data.
- SSA suggestions (lanreotide, octreotide LAR; at most one) are left out for an insulinoma: SSAs
  can worsen hypoglycaemia (spec, `ssa-hormone-control`); the card says why. `ssa-first-line`
  leads with that warning for an insulinoma (summary and detail) instead of recommending an SSA.
- `ssa-hormone-control`: an insulinoma alone gets no card (spec: "other than insulinoma"); an
  insulinoma beside another syndrome gets the card with the hypoglycaemia caution and no SSA
  suggestion. The spec names SSAs "the treatment of choice" and says "not suggested" only for
  insulinoma, so SSAs are suggested for the others. R's metyrapone for ACTHoma is mentioned. A
  PPI is named, not suggested (no catalogue order; the spec names no PPI suggestion).
- `targeted-therapy`: no orders are suggested (the spec names no suggestion). Progression on SSA
  names the second line even when SSTR is negative; SSTR unknown without progression on SSA
  stays silent (the first-line indication is SSTR-negative disease; `pet-ssa` and
  `ssa-first-line` ask for the SSTR study). A targeted agent already active silences the card.
- `prrt-candidate`: "SSTR PET avid" reads the most recent SSTR PET or SSTR scintigraphy
  (Octreoscan; fhir-mapping.md "Imaging") with a coded result (current receptor expression); none
  on record fires with the PET result missing. PRRT already active
  silences it.
- `platinum-for-net`: any one of cisplatin, carboplatin or etoposide drafted for a NET (recorded
  well differentiated, or inferred from a G1/G2 grade) fires, whatever the grade (G3 NET
  included); NEC, G3 with differentiation unknown and conflicting differentiation do not. The
  suggestions (isRecommended false) delete every platinum/etoposide draft in the hook's scope
  and create CAPTEM (MGMT 0/1+), or surufatinib / oxaliplatin + fluorouracil (MGMT 2+/3+; C 13
  "oxaliplatin combined with fluoropyrimidines", fluorouracil being the catalogue's
  fluoropyrimidine as in `mgmt-tmz-mismatch`); with MGMT untested the only suggestion is the
  MGMT test (none when one is already planned), and nothing is deleted.
- A scored SSTR2 IHC result that decides the SSTR status puts the local cut-off in the card.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from consensus.criteria import Criterion, all_of, evidence_of, known, missing_of, negate, unknown
from consensus.months import add_months, within_months
from consensus.patient import LIVER_RESECTIONS, Patient
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
from consensus.rules.molecular import PLATINUM_GENES, mgmt_label
from fhir_mappings.facts import SYSTEMIC_THERAPY_CLASSES, Draft, Fact
from pnen_i18n import N_, _, ngettext

AREA = "F. Systemic therapy"
LOCAL_THERAPIES = ("liver-ablation", "tae", "tace")
TARGETED = ("everolimus", "sunitinib", "surufatinib")
SYNDROME_NAMES = {
    "insulinoma": N_("insulinoma"),
    "gastrinoma": N_("gastrinoma"),
    "glucagonoma": N_("glucagonoma"),
    "vipoma": N_("VIPoma"),
    "somatostatinoma": N_("somatostatinoma"),
    "acthoma": N_("ACTHoma"),
    "carcinoid-syndrome": N_("carcinoid syndrome"),
}
SSTR_WORDS = ("positive", "negative")
INSULINOMA_CAUTION = N_(
    "An insulinoma is recorded: SSAs can worsen hypoglycaemia in insulinoma, so no SSA order is "
    "suggested."
)


HYPOGLYCAEMIA_WARNING = N_(
    "An insulinoma is recorded: SSAs can worsen hypoglycaemia in insulinoma; if an SSA is "
    "considered, monitor blood glucose closely — see `ssa-hormone-control` for SSAs in "
    "hormone control. No SSA order is suggested."
)


def _ssa_suggestions(*keys: str) -> tuple[Suggestion, ...]:
    """One suggestion per SSA, in the order given (the card allows at most one)."""
    labels = {"lanreotide": N_("Order lanreotide"), "octreotide-lar": N_("Order octreotide LAR")}
    return tuple(Suggestion(_(labels[k]), (create(k, _(labels[k])),)) for k in keys)


def _net(p: Patient) -> Criterion:
    """The NET classification as a met criterion, saying when it was inferred from grade."""
    inferred = p.differentiation_recorded is None
    note = _("inferred from grade; no differentiation recorded") if inferred else ""
    return known(_("well-differentiated NET"), True, p.differentiation[1], note=note)


def _no_active(p: Patient, name: str, *classes: str) -> Criterion:
    """No active medication of these classes (closed world: 'none recorded')."""
    found = p.active(*classes)
    return known(name, not found, found, note="" if found else _("none recorded"))


def _sstr_policy(ctx: RuleContext, sstr: Criterion) -> tuple[str, ...]:
    """The local SSTR2 IHC cut-off, when a scored IHC result decides the SSTR status."""
    scored = [f for f in sstr.evidence if f.kind == "sstr2-ihc" and f.value not in SSTR_WORDS]
    return (ctx.settings.describe("sstr2-ihc-positive-score"),) if scored else ()


def _ned_after(p: Patient, done: tuple[Fact, ...]) -> Criterion:
    """NED after surgery or local therapy: the latest NED or progression dated on or after it."""
    name = _("NED after surgery or local therapy")
    dated = [f for f in done if f.when is not None]
    if not dated:
        return unknown(name, _("date of the surgery or local therapy"), done[-1:])
    first = min(f.when for f in dated if f.when is not None)
    after = [
        f for f in (*p.facts.all("ned"), *p.progressions) if f.when is not None and f.when >= first
    ]
    if not after:
        return unknown(name, _("NED status after the surgery or local therapy"), dated[-1:])
    # A progression on the same day as a NED record outweighs it (as in follow-up).
    latest = max(after, key=lambda f: (f.when or date.min, f.kind != "ned"))
    before = [f for f in dated if f.when is not None and latest.when and f.when <= latest.when]
    return known(name, latest.kind == "ned" and latest.value is True, (*before[-1:], latest))


def _ned_now(p: Patient) -> Fact | None:
    """The NED record that still holds: a NED yes with no later NED no or progression."""
    records = [*p.facts.all("ned"), *p.progressions]
    if not records:
        return None
    latest = max(records, key=lambda f: (f.when or date.min, f.kind != "ned"))
    return latest if latest.kind == "ned" and latest.value is True else None


def _by_date(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    """Facts oldest first (undated first), as PatientFacts keeps each kind."""
    return tuple(sorted(facts, key=lambda f: (f.when or date.min, f.ref)))


def _therapies(facts: Iterable[Fact]) -> str:
    """'lanreotide (since 2024-01-02), temozolomide' — one entry per medication resource."""
    seen: dict[str, str] = {}
    for f in facts:
        name = f.value.name
        start = f.value.start
        shown = _("{name} (since {start})", name=name, start=start.isoformat()) if start else name
        seen.setdefault(f.ref, shown)
    return ", ".join(seen.values())


# --- C 13 -----------------------------------------------------------------------------------
def _mgmt_criterion(p: Patient) -> Criterion:
    """MGMT 0/1+ (TMZ-sensitive), 2+/3+, or untested."""
    if p.mgmt is None:
        return unknown(_("MGMT 0/1+"), _("MGMT IHC score (0, 1+, 2+ or 3+)"))
    return known(_("MGMT 0/1+"), p.mgmt_high is False, (p.mgmt,))  # C 13: MGMT-negative = 0/1+


@rule(
    "preop-systemic-mgmt",
    N_("Conversion therapy chosen by MGMT"),
    [PV],
    "C 13; C 11; C 3",
    AREA,
)
def preop_systemic_mgmt(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """NET with type II or potentially resectable type III metastases: MGMT-guided conversion."""
    p = ctx.patient
    if not p.pnen_lm or not p.is_net or p.enets_type is None:
        return None
    if p.enets_is("II"):
        label = "II"
        enets = known(_("ENETS type II"), True, (p.enets_type,))
    elif p.enets_is("III") and p.type3_potential[0].met:
        label = "III"
        verdict = p.type3_potential[0]
        enets = known(
            _("ENETS type III, potentially resectable (C 11)"),
            True,
            (p.enets_type, *verdict.evidence),
        )
    else:
        return None
    resectable = p.resectability
    if resectable.met or p.done(*LIVER_RESECTIONS) or _ned_now(p) is not None:
        return None
    ned = p.facts.latest("ned")
    mgmt = _mgmt_criterion(p)
    criteria = (
        _net(p),
        enets,
        resectable,
        known(_("no liver resection done"), True, note=_("none recorded")),
        known(
            _("NED not recorded"),
            True,
            (ned,) if ned else (),
            note="" if ned else _("none recorded"),
        ),
        mgmt,
    )
    conversion = _(
        "For type II and potentially resectable type III liver metastases that cannot reach NED "
        "or > 90 % resection at first, systemic conversion therapy aims to shrink the tumour to "
        "a resectable state (C 13)."
    )
    pending = p.planned("mgmt-ihc")
    score = mgmt_label(int(p.mgmt.value)) if p.mgmt is not None else ""
    if p.mgmt is None:
        choice = _("test MGMT to choose conversion therapy")
        regimen = _(
            "MGMT is not tested: test MGMT by IHC first (C 3). MGMT 0/1+ favours TMZ-based "
            "regimens with a high ORR — STEM (TMZ + S-1) or CAPTEM (capecitabine + TMZ), ORR "
            "36–57 %; MGMT 2+/3+ favours regimens without TMZ — surufatinib alone, or "
            "oxaliplatin with a fluoropyrimidine (C 13)."
        )
        if pending:
            regimen += " " + _("An MGMT IHC order is already pending.")
    elif mgmt.met:
        choice = _("MGMT {score}, TMZ-based conversion (STEM or CAPTEM)", score=score)
        regimen = _(
            "MGMT is {score} (0/1+): use a TMZ-based regimen with a high ORR — STEM (TMZ + "
            "S-1) or CAPTEM (capecitabine + TMZ); ORR 36–57 % in MGMT 0/1+ tumours (C 13).",
            score=score,
        )
    else:
        choice = _("MGMT {score}, conversion without TMZ", score=score)
        regimen = _(
            "MGMT is {score} (2+/3+): TMZ-based regimens reach an ORR of only ~8–19 %; consider a "
            "regimen without TMZ — surufatinib alone, or oxaliplatin with a fluoropyrimidine "
            "(e.g. FOLFOX) — noting that the evidence for these is limited (C 13).",
            score=score,
        )
    lines = [conversion, regimen, _("Surgery after MDT review and discussion (C 13).")]
    if label == "II" and resectable.unknown:
        summary = _(
            "Type II liver metastases, resectability unknown: assess upfront resection first, "
            "else {choice}",
            choice=choice,
        )
        lines.insert(
            0,
            _(
                "Resectability is not established: assess first whether the metastases can be "
                "resected upfront — resectable metastases (R0/R1 with remnant liver ≥ 30 %) go "
                "to surgery aiming for NED (C 6.2, C 6.3)."
            ),
        )
    else:
        summary = _(
            "Type {label} liver metastases not resectable upfront: {choice}, then MDT",
            label=label,
            choice=choice,
        )
        if label == "III":
            lines.append(
                _(
                    "These type III metastases are potentially resectable (C 11): after "
                    "conversion, reassess R0/R1 feasibility and remnant liver volume for "
                    "resection + ablation."
                )
            )
    outdated = p.enets_outdated_by
    if outdated is not None:
        # CR-16: a type recorded before the latest progression is not headlined as current.
        lines.insert(0, enets_reassess_note(p))
        summary = _(
            "ENETS type {label} of {when} predates progression: re-assess it on current imaging; "
            "{choice}",
            label=label,
            when=p.enets_type.when if p.enets_type else "",
            choice=choice,
        )
    therapy = p.current_systemic[0]
    lines.append(
        _("Current systemic therapy: {therapies}.", therapies=_therapies(therapy))
        if therapy
        else _("No current systemic therapy recorded.")
    )
    given_tmz, rechallenge = _tmz_given(p)
    if rechallenge:
        lines.append(rechallenge)
    return recommend(
        info,
        Indicator.INFO,
        summary,
        " ".join(lines),
        criteria,
        evidence=(*pending, *therapy, *given_tmz, *((outdated,) if outdated else ())),
    )


def _tmz_given(p: Patient) -> tuple[tuple[Fact, ...], str]:
    """Temozolomide regimens given before, and the sentence that says so ('' when none).

    CR-5: a TMZ regimen already given makes a TMZ-based choice a re-challenge question for the
    MDT; every card that proposes one says so.
    """
    given = tuple(f for f in p.prior_regimens if "tmz" in f.value.classes)
    if not given:
        return (), ""
    first = min(f.value.start for f in given if f.value.start)
    return given, _(
        "A temozolomide-based regimen was already given (from {first}): whether to "
        "re-challenge it or to choose a regimen without TMZ is for the MDT to judge from "
        "the response it gave (C 13).",
        first=first,
    )


# --- C 14 -----------------------------------------------------------------------------------
@rule(
    "adjuvant-ssa",
    N_("Adjuvant SSA after curative resection of type I liver metastases"),
    [PV],
    "C 14",
    AREA,
    in_remission=True,
)
def adjuvant_ssa(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """Type I liver metastases resected to NED within the adjuvant window: adjuvant SSA."""
    p = ctx.patient
    if not p.pnen_lm or p.is_nec or not p.enets_is("I") or p.enets_type is None:
        return None
    resections = [f for f in _by_date(p.done(*LIVER_RESECTIONS)) if f.when is not None]
    curative = p.curative_resection
    if not resections or not curative.met or p.active("ssa"):
        return None  # not curative, or NED not recorded after it: no surveillance card (spec)
    resection = resections[-1]
    resected = resection.when or ctx.today
    window = ctx.settings.value("adjuvant-window-months")  # local default
    if not within_months(resected, window, ctx.today):
        return None
    ablations = p.done("liver-ablation")
    sstr = p.sstr_status
    criteria = (
        known(_("ENETS type I"), True, (p.enets_type,)),
        curative,
        known(
            _("liver resection within the last {window:g} months", window=window),
            True,
            (resection,),
            note=_(
                "adjuvant window until {date}", date=add_months(resected, round(window)).isoformat()
            ),
        ),
        p.ki67_criterion(_("highest Ki-67 ≤ 10 %"), "<=", 10),  # C 14 (1): Ki-67 ≤ 10 %
        sstr,
        _no_active(p, _("no active SSA"), "ssa"),
    )
    verdict = all_of("adjuvant SSA indicated", *criteria)
    if verdict.not_met:
        return None
    advice = _(
        "After resection of type I liver metastases with Ki-67 ≤ 10 % and SSTR-positive disease, "
        "adjuvant SSA therapy (octreotide LAR or lanreotide) can be chosen, especially for G2 "
        "(60-month DFS 90.0 vs 76.0 % with observation after R0 resection of G2 pNET); clinical "
        "observation is also an option for a small number of patients (C 14 (1))."
    )
    advice += " " + _(
        "Liver resection: {date}; the adjuvant window is local policy.", date=resected.isoformat()
    )
    if p.grade == 2:
        advice += " " + _("This tumour is G2.")
    if ablations:
        advice += " " + _("The resection was combined with ablation.")
    suggestions: tuple[Suggestion, ...] = ()
    if verdict.unknown:
        names = ", ".join(c.name for c in criteria if c.unknown)
        summary = _(
            "Resected type I liver metastases: adjuvant SSA is an option if {names}", names=names
        )
        advice += " " + _("Not yet established: {names}.", names=names)
    else:
        summary = _(
            "Curative resection of type I liver metastases: adjuvant octreotide LAR or "
            "lanreotide can be chosen"
        )
        if p.is_insulinoma:
            advice += " " + _(INSULINOMA_CAUTION)
        else:
            suggestions = _ssa_suggestions("octreotide-lar", "lanreotide")
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=summary,
        advice=advice,
        evidence=(*evidence_of(criteria), *ablations),
        criteria=criteria,
        missing=missing_of(criteria),
        local_policy=(
            ctx.settings.describe("adjuvant-window-months"),
            *_sstr_policy(ctx, sstr),
        ),
        suggestions=suggestions,
    )


@rule(
    "adjuvant-continue-regimen",
    N_("After NED in type II/III liver metastases: continue the effective regimen"),
    [PV],
    "C 14",
    AREA,
    in_remission=True,
)
def adjuvant_continue_regimen(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """Type II/III liver metastases at NED after surgery or RFA/TAE/TACE: keep the regimen."""
    p = ctx.patient
    if not p.pnen_lm or p.is_nec or not p.enets_is("II", "III") or p.enets_type is None:
        return None
    done = _by_date(p.done(*LIVER_RESECTIONS, *LOCAL_THERAPIES))
    if not done:
        return None
    ned = _ned_after(p, done)
    if ned.not_met:
        return None
    criteria = (
        known(_("ENETS type {type}", type=p.enets_type.value), True, (p.enets_type,)),
        known(_("liver resection or local therapy (RFA, TAE/TACE) done"), True, done),
        ned,
    )
    therapy = p.current_systemic[0]
    history = tuple(f for c in SYSTEMIC_THERAPY_CLASSES for f in p.facts.all(f"medication:{c}"))
    advice = _(
        "Type II/III liver metastases that reached NED after surgery or local treatment (RFA, "
        "TAE/TACE) remain at high risk of recurrence. Evidence for adjuvant therapy is lacking: "
        "continue the effective preoperative regimen, or enrol in a clinical study (C 14 (2))."
    )
    if therapy:
        advice += " " + _("Current systemic therapy: {therapies}.", therapies=_therapies(therapy))
    elif history:
        advice += " " + _(
            "Systemic therapy on record (not active): {therapies}.", therapies=_therapies(history)
        )
    else:
        advice += " " + _("No systemic therapy recorded.")
    if ned.unknown:
        summary = _(
            "Type II/III liver metastases treated locally: if NED was reached, continue the "
            "effective regimen (NED not recorded)"
        )
    else:
        summary = _(
            "NED after surgery/local therapy of type II/III liver metastases: continue the "
            "effective regimen or a trial"
        )
    return recommend(
        info,
        Indicator.INFO,
        summary,
        advice,
        criteria,
        evidence=(*(therapy or history),),
    )


# --- R Drug therapy -------------------------------------------------------------------------
def _advanced_net(p: Patient) -> tuple[Criterion, Criterion] | None:
    """(NET, advanced) for a NET whose disease is advanced or may be (unknown); else None.

    With advanced disease unknown the rules below stay silent but return their criteria, so the
    summary lists resectability as the datum that would settle them.
    """
    if not p.has_pnen or not p.is_net or p.advanced.not_met:
        return None
    return _net(p), p.advanced


@rule(
    "ssa-first-line",
    N_("SSA as first-line antiproliferative therapy"),
    [PV],
    "R Biological therapy",
    AREA,
)
def ssa_first_line(ctx: RuleContext, info: RuleInfo) -> Recommendation | Evaluation | None:
    """Advanced NET, Ki-67 < 10 %, SSTR positive, no active SSA: lanreotide or octreotide LAR."""
    p = ctx.patient
    base = _advanced_net(p)
    if base is None or p.active("ssa"):
        return None
    sstr = p.sstr_status
    criteria = (
        *base,
        p.ki67_criterion(_("highest Ki-67 < 10 %"), "<", 10),  # R Biological therapy: Ki-67 < 10 %
        sstr,
        _no_active(p, _("no active SSA"), "ssa"),
    )
    verdict = all_of("SSA first line", *criteria)
    if verdict.not_met:
        return None
    if base[1].unknown:
        return silent(info, criteria)  # advanced disease unknown: no treatment advice yet
    advice = _(
        "Somatostatin analogues (lanreotide or octreotide LAR) are the first choice of "
        "antiproliferative therapy for pNET with Ki-67 < 10 % and SSTR expression (NCCN, ENETS): "
        "lanreotide prolonged PFS in advanced pNET (CLARINET); octreotide LAR gives a high "
        "disease-control rate. Pasireotide is not first choice (hyperglycaemia in up to 79 %) "
        "(R Biological therapy)."
    )
    suggestions: tuple[Suggestion, ...] = ()
    names = ", ".join(c.name for c in criteria if c.unknown)
    if p.is_insulinoma:
        # Spec: for an insulinoma, say instead that SSAs can worsen hypoglycaemia; no SSA order.
        summary = _(
            "Advanced insulinoma: SSAs can worsen hypoglycaemia — monitor glucose; no SSA suggested"
        )
        advice = _(HYPOGLYCAEMIA_WARNING) + " " + advice
        if verdict.unknown:
            advice += " " + _("Not yet established: {names}.", names=names)
    elif verdict.unknown:
        summary = _(
            "Advanced NET: SSA is first-line antiproliferative therapy if {names}", names=names
        )
        advice += " " + _("Not yet established: {names}.", names=names)
    else:
        ki67 = p.highest_ki67
        summary = (
            _(
                "Advanced NET, Ki-67 {ki67}, SSTR positive: first-line SSA (lanreotide or "
                "octreotide LAR)",
                ki67=ki67.value.display(),
            )
            if ki67
            else _("Advanced NET, SSTR positive: first-line SSA (lanreotide or octreotide LAR)")
        )
        suggestions = _ssa_suggestions("lanreotide", "octreotide-lar")
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=summary,
        advice=advice,
        evidence=evidence_of(criteria),
        criteria=criteria,
        missing=missing_of(criteria),
        local_policy=_sstr_policy(ctx, sstr),
        suggestions=suggestions,
    )


@rule(
    "ssa-hormone-control",
    N_("SSA for hormone excess in functional pNET"),
    [PV],
    "R Biological therapy",
    AREA,
)
def ssa_hormone_control(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """Functional pNET other than insulinoma, no active SSA: SSA for hormone excess; PPI for ZES."""
    p = ctx.patient
    if not p.has_pnen or p.is_nec or p.active("ssa"):
        return None
    others = sorted(p.syndromes - {"insulinoma"})
    if not others:
        return None  # spec: functional pNET other than insulinoma
    names = ", ".join(_(SYNDROME_NAMES[s]) if s in SYNDROME_NAMES else s for s in others)
    criteria = (
        known(
            _("functional pNET other than insulinoma ({names})", names=names),
            True,
            [f for f in p.functional if f.value in others],
        ),
        _no_active(p, _("no active SSA"), "ssa"),
    )
    lines = [
        _(
            "SSAs remain the treatment of choice for hormone excess in functional pNET, before "
            "surgery or when resection is not possible (R Biological therapy)."
        )
    ]
    ppi = p.active("ppi")
    if "gastrinoma" in others:
        lines.append(
            _(
                "Gastrinoma: PPIs control gastric acid hypersecretion (R Biological therapy); "
                "active: {therapies}.",
                therapies=_therapies(ppi),
            )
            if ppi
            else _(
                "Gastrinoma: PPIs control gastric acid hypersecretion (R Biological therapy); "
                "no active PPI recorded."
            )
        )
    if "acthoma" in others:
        lines.append(_("ACTHoma: metyrapone controls ACTH excess (R Biological therapy)."))
    suggestions: tuple[Suggestion, ...] = ()
    if p.is_insulinoma:
        lines.append(_(INSULINOMA_CAUTION))
    else:
        suggestions = _ssa_suggestions("lanreotide", "octreotide-lar")
    acid = "gastrinoma" in others
    summary = (
        _(
            "Functional pNET ({names}): SSA is the treatment of choice for hormone excess; PPI "
            "for acid",
            names=names,
        )
        if acid
        else _(
            "Functional pNET ({names}): SSA is the treatment of choice for hormone excess",
            names=names,
        )
    )
    if len(summary) >= 140:  # card summaries stay under 140 characters (in every language)
        summary = (
            ngettext(
                "Functional pNET ({n} syndrome): SSA is the treatment of choice for hormone "
                "excess; PPI for acid",
                "Functional pNET ({n} syndromes): SSA is the treatment of choice for hormone "
                "excess; PPI for acid",
                len(others),
            )
            if acid
            else ngettext(
                "Functional pNET ({n} syndrome): SSA is the treatment of choice for hormone excess",
                "Functional pNET ({n} syndromes): SSA is the treatment of choice for hormone "
                "excess",
                len(others),
            )
        )
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=summary,
        advice=" ".join(lines),
        evidence=(*evidence_of(criteria), *p.functional, *(ppi if "gastrinoma" in others else ())),
        criteria=criteria,
        suggestions=suggestions,
    )


@rule(
    "targeted-therapy",
    N_("Targeted therapy: everolimus or sunitinib"),
    [PV],
    "R Targeted therapy; C 13",
    AREA,
)
def targeted_therapy(ctx: RuleContext, info: RuleInfo) -> Recommendation | Evaluation | None:
    """Advanced NET, SSTR negative (first line) or progression on SSA (second line)."""
    p = ctx.patient
    base = _advanced_net(p)
    if base is None or p.active(*TARGETED):
        return None
    sstr = p.sstr_status
    progression = p.progression_on_ssa
    # The summary and the advice's lead sentence name the line and its indication.
    if progression.met:
        line = "second"
        summary = _(
            "Advanced NET, progression on SSA: everolimus or sunitinib as second-line therapy "
            "(surufatinib where available)"
        )
        lead = _("This is the **second line** (progression on SSA).")
    elif sstr.not_met:
        line = "first"
        summary = _(
            "Advanced NET, SSTR negative: everolimus or sunitinib as first-line therapy "
            "(surufatinib where available)"
        )
        lead = _("This is the **first line** (SSTR negative).")
    elif progression.unknown:
        line = "second"
        summary = _(
            "Advanced NET, progression on SSA if it followed the SSA start: everolimus or "
            "sunitinib as second-line therapy (surufatinib where available)"
        )
        lead = _("This is the **second line** (progression on SSA if it followed the SSA start).")
    else:
        return None
    # Each line has its own indication: SSTR negative (first), progression on SSA (second,
    # whatever SSTR shows — the SSTR results are then evidence, not a criterion).
    first_line = line == "first"
    indication = negate(_("SSTR negative"), sstr) if first_line else progression
    criteria = (
        *base,
        indication,
        _no_active(p, _("no active everolimus, sunitinib or surufatinib"), *TARGETED),
    )
    if base[1].unknown:
        return silent(info, criteria)  # advanced disease unknown: no treatment advice yet
    return recommend(
        info,
        Indicator.INFO,
        summary,
        lead
        + " "
        + _(
            "Everolimus and sunitinib, the targeted "
            "agents approved for pNET, are recommended as second-line treatment after SSA in "
            "SSTR-positive tumours and as first-line treatment in SSTR-negative tumours; they "
            "prolonged median PFS to 11.0 and 11.4 months against placebo; sunitinib ORR 9–33 % "
            "vs everolimus 5–9.5 % (R Targeted therapy). Where available, surufatinib reached an "
            "ORR of 19.2 % in G1/G2 pNET (SNET-p; C 13)."
        ),
        criteria,
        evidence=() if first_line else sstr.evidence,
        local_policy=_sstr_policy(ctx, sstr),
    )


def _sstr_pet_avid(p: Patient) -> Criterion:
    """The most recent SSTR PET or SSTR scintigraphy with a coded result is positive."""
    results = [f for f in p.sstr_imaging if f.value in ("positive", "negative")]
    if not results:
        return unknown(_("SSTR PET avid"), _("68Ga-SSA PET/CT result"), p.sstr_pet[-1:])
    latest = results[-1]
    pet = latest.kind == "imaging:pet-ssa"
    name = _("SSTR PET avid") if pet else _("SSTR scintigraphy positive")
    return known(name, latest.value == "positive", (latest,))


@rule(
    "prrt-candidate",
    N_("PRRT candidate"),
    [PV],
    "R PRRT",
    AREA,
)
def prrt_candidate(ctx: RuleContext, info: RuleInfo) -> Recommendation | Evaluation | None:
    """SSTR PET avid, advanced NET, progression on SSA: consider 177Lu-DOTATATE PRRT."""
    p = ctx.patient
    base = _advanced_net(p)
    on_ssa = p.progression_on_ssa
    if base is None or on_ssa.not_met or p.active("prrt"):
        return None
    avid = _sstr_pet_avid(p)
    if avid.not_met:
        return None
    criteria = (
        *base,
        on_ssa,
        avid,
        _no_active(p, _("no active PRRT"), "prrt"),
    )
    if base[1].unknown:
        return silent(info, criteria)  # advanced disease unknown: no treatment advice yet
    advice = _(
        "PRRT (177Lu-DOTATATE) can be attempted in advanced NET with high SSTR expression: ORR "
        "16.5–61.3 % in retrospective pNET series, 58 % for pNET in the largest series (610 "
        "patients); no phase 3 data for pNET yet (R PRRT)."
    )
    if on_ssa.unknown:
        advice += " " + _(
            "The SSA's start date is not recorded: PRRT applies if the progression came on SSA."
        )
    if avid.unknown:
        summary = _(
            "Advanced NET progressing on SSA: PRRT can be considered if SSTR PET is avid "
            "(no result on record)"
        )
        advice += " " + _(
            "No 68Ga-SSA PET result is on record: SSTR PET avidity decides eligibility."
        )
    elif on_ssa.unknown:
        summary = _(
            "SSTR PET-avid advanced NET: PRRT if the progression came on SSA (SSA start "
            "not recorded)"
        )
    else:
        summary = _("SSTR PET-avid advanced NET progressing on SSA: consider PRRT (177Lu-DOTATATE)")
    return recommend(info, Indicator.INFO, summary, advice, criteria)


# --- R Chemotherapy -------------------------------------------------------------------------
PLATINUM_ETOPOSIDE = ("cisplatin", "carboplatin", "etoposide")


def _platinum_swaps(drafts: tuple[Draft, ...], p: Patient) -> tuple[Suggestion, ...]:
    """Replace the drafted platinum/etoposide by the C 13 regimen MGMT points to (or test MGMT)."""
    if p.mgmt is None:
        pending = p.planned("mgmt-ihc")
        return (
            ()
            if pending
            else (
                Suggestion(
                    _("Order MGMT immunohistochemistry"),
                    (create("mgmt-ihc", _("Order MGMT IHC")),),
                ),
            )
        )
    removed = tuple(
        delete(d.ref, _("Remove the drafted {name} ({ref})", name=_draft_name(d), ref=d.ref))
        for d in drafts
    )
    regimens: list[tuple[str, tuple[Action, ...]]]
    if p.mgmt_high is False:  # C 13: MGMT 0/1+ → TMZ-based regimen with high ORR (CAPTEM)
        regimens = [
            (
                _("Replace with CAPTEM (capecitabine + temozolomide)"),
                (
                    create("capecitabine", _("Order capecitabine")),
                    create("temozolomide", _("Order temozolomide")),
                ),
            )
        ]
    else:  # C 13: MGMT 2+/3+ → without TMZ: surufatinib alone, or oxaliplatin + fluoropyrimidine
        regimens = [
            (_("Replace with surufatinib"), (create("surufatinib", _("Order surufatinib")),)),
            (
                _("Replace with oxaliplatin + fluorouracil"),
                (
                    create("oxaliplatin", _("Order oxaliplatin")),
                    create("fluorouracil", _("Order fluorouracil")),
                ),
            ),
        ]
    return tuple(
        Suggestion(label, (*removed, *actions), is_recommended=False) for label, actions in regimens
    )


def _draft_name(draft: Draft) -> str:
    """The drafted order's name ('cisplatin'), or 'order'."""
    return draft.order.name if draft.order else _("order")


@rule(
    "platinum-for-net",
    N_("Platinum or etoposide drafted for a well-differentiated NET"),
    [OS, SIGN],
    "R Chemotherapy; C 13; C 3",
    AREA,
)
def platinum_for_net(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """Cisplatin, carboplatin or etoposide drafted for a NET of any grade: a scheme for NEC."""
    p = ctx.patient
    drafts = ctx.drafted(*PLATINUM_ETOPOSIDE)
    if not p.has_pnen or not drafts or not p.is_net:
        return None  # NEC, G3 with differentiation unknown, conflicting or unknown: no card
    grade = p.overall_grade
    net = known(
        _("well-differentiated NET (any grade)"),
        True,
        (*p.differentiation[1], *(grade.evidence if grade else ())),
        note=_("inferred from grade; no differentiation recorded")
        if p.differentiation_recorded is None
        else "",
    )
    names = ", ".join(dict.fromkeys(_draft_name(d) for d in drafts))
    mgmt = _mgmt_criterion(p)
    criteria = (
        known(_("{names} drafted", names=names), True, [d.as_fact() for d in drafts]),
        net,
        mgmt,
    )
    alterations = [f for f in p.facts.all("gene-alteration") if f.value[0] in PLATINUM_GENES]
    advice = " ".join(
        (
            _(
                "The platinum-based scheme (cisplatin + etoposide) is used for pNEC, not for "
                "well-differentiated NET; temozolomide-based or streptozocin-based chemotherapy "
                "(streptozocin alone or with 5-fluorouracil) is used for well-differentiated, "
                "relatively fast-growing NET (R Chemotherapy)."
            ),
            _("This is a well-differentiated NET {grade}.", grade=grade.grade_text)
            if grade
            else _("This is a well-differentiated NET."),
        )
    )
    if p.mgmt is None:
        advice += " " + _(
            "MGMT is not tested: test MGMT by IHC to choose the regimen — 0/1+ favours a "
            "TMZ-based regimen (CAPTEM), 2+/3+ a regimen without TMZ (surufatinib, or "
            "oxaliplatin with a fluoropyrimidine) (C 13, C 3)."
        )
        if p.planned("mgmt-ihc"):
            advice += " " + _("An MGMT IHC order is already on record.")
    elif mgmt.met:
        advice += " " + _(
            "MGMT is {score} (0/1+): a TMZ-based regimen such as CAPTEM "
            "(capecitabine + temozolomide) has a high ORR (36–57 %) (C 13).",
            score=mgmt_label(int(p.mgmt.value)),
        )
    else:
        advice += " " + _(
            "MGMT is {score} (2+/3+): TMZ regimens reach an ORR of only "
            "~8–19 %; consider a regimen without TMZ — surufatinib alone, or oxaliplatin with a "
            "fluoropyrimidine — noting that the evidence for these is limited (C 13).",
            score=mgmt_label(int(p.mgmt.value)),
        )
    given_tmz, rechallenge = _tmz_given(p)
    if rechallenge and (p.mgmt is None or mgmt.met):  # the card proposes (or may) a TMZ regimen
        advice += " " + rechallenge
    else:
        given_tmz = ()
    if alterations:
        genes = ", ".join(dict.fromkeys(f"{f.value[0]} {f.value[1]}" for f in alterations))
        advice += " " + _(
            "{genes} recorded: RB1/BRCA2 alterations may predict response to platinum-based "
            "chemotherapy (C 3).",
            genes=genes,
        )
    suggestions = _platinum_swaps(drafts, p)
    choice = (
        _("test MGMT to choose")
        if p.mgmt is None
        else _("consider CAPTEM")
        if mgmt.met
        else _("consider surufatinib or oxaliplatin + fluoropyrimidine")
    )
    summary = (
        _(
            "{names} drafted for a well-differentiated NET {grade}: a scheme for NEC; {choice}",
            names=names[:1].upper() + names[1:],  # the record's own casing ('CARBOplatin')
            grade=grade.grade_text,
            choice=choice,
        )
        if grade
        else _(
            "{names} drafted for a well-differentiated NET: a scheme for NEC; {choice}",
            names=names[:1].upper() + names[1:],
            choice=choice,
        )
    )
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=summary,
        advice=advice,
        evidence=(*evidence_of(criteria), *alterations, *given_tmz),
        criteria=criteria,
        missing=missing_of(criteria),
        suggestions=suggestions,
    )

"""E. Surgery and liver-directed therapy (consensus-rules.md E; C 6–12, R Surgical management).

Decisions where the spec left room (the source was followed):
- "NET G1–G2" (`liver-resectable-ned`, `primary-resection-low-priority`): a NET whose grade is
  not recorded (well differentiated, no Ki-67, mitoses or grade) fires with the grade listed as
  missing; a patient whose differentiation is unknown altogether gets no card.
- `primary-resectability`: vessel contact is an open fact, so vessels left unrecorded are shown as
  such and the tier reads "… by the vessels recorded" when they could still raise it (C 6.1
  tiers need every artery; SMV and PV are one venous axis). CHA occlusion, which the spec does
  not name, stays borderline as CHA encasement does. A resected primary gets no card.
- `nec-medical-first` on orders: a drafted hepatectomy fires for a NEC even without liver
  metastases on record (liver surgery implies liver disease, coded or not); a drafted
  pancreatectomy needs liver metastases on record, since C 7.2 concerns "pNECs with liver
  metastases". `tae-over-tace` needs liver metastases (R's TAE/TACE section concerns them), and
  not a NEC: R's preference ("TAE and TACE are both effective in NET patients with liver
  metastases … TAE would be preferred") is stated for NET, so a NEC's TACE draft gets no card.
- `splenectomy-decision`: a recorded N1 counts as a high risk of nodal metastasis, and a recorded
  pancreatitis (chronic, or acute as peripancreatic inflammation) as C 10's "chronic pancreatitis,
  and peripancreatic inflammation".
- `lymph-node-dissection`: R "lymph nodes dissection is recommended for NF-pNETs > 2 cm in
  diameter and all functioning pNETs, except insulinoma. This is also applicable for NF-pNETs
  1-2 cm … No lymphadenectomy … NF-pNETs < 1 cm … without any high-risk factors". Bands: > 20 mm
  or T2+ (either recorded one suffices); 10–20 mm, both ends included ("1-2 cm"); < 10 mm, whose
  card lists grade, N category and Ki-67 (R names no high-risk factors; these are the ones the
  spec asks to show). T1 alone (≤ 2 cm) does not separate 1–2 cm from < 1 cm: the card says the
  size decides.
- `primary-resection-low-priority`: C 8.1 weighs comorbidity as operative risk; the service reads
  only renal/liver failure, IBD, chronic gastritis and pancreatitis, so the card names those it
  found (or none recorded) and says that operative risk must be assessed clinically.
- `transplant-milan` on orders: a drafted liver transplant (not only a referral) counts too.
  Criterion (2) "histologically confirmed well-differentiated (G1-G2, Ki-67<10%) NET" uses the
  NET definition of the spec (inferred from grade when differentiation is not recorded, said so).
"""

from __future__ import annotations

from datetime import date

from consensus.criteria import (
    Criterion,
    all_of,
    any_of,
    evidence_of,
    known,
    missing_of,
    negate,
    unknown,
)
from consensus.patient import (
    CONFLICT,
    HEPATECTOMIES,
    NEC,
    NET,
    PANCREATECTOMIES,
    Patient,
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
    delete,
    recommend,
    silent,
)
from consensus.registry import RuleContext, rule
from consensus.rules.biomarkers import COMORBIDITY_NAMES
from fhir_mappings.facts import Fact
from pnen_i18n import N_, _

AREA = "E. Surgery and liver-directed therapy"
VESSELS = (
    ("SMV", N_("superior mesenteric vein (SMV)")),
    ("PV", N_("portal vein (PV)")),
    ("SMA", N_("superior mesenteric artery (SMA)")),
    ("CT", N_("celiac trunk (CT)")),
    ("CHA", N_("common hepatic artery (CHA)")),
)
# How the C 6.1 tier and the recorded vessel contact read on a card (logic uses the keys).
TIER_NAMES = {
    "resectable": N_("resectable"),
    "borderline": N_("borderline"),
    "locally advanced": N_("locally advanced"),
}
CONTACT_NAMES = {
    "none": N_("none"),
    "abutment": N_("abutment"),
    "encasement": N_("encasement"),
    "occlusion": N_("occlusion"),
}
RESECTIONS = (*PANCREATECTOMIES, *HEPATECTOMIES)
# Functional syndromes as recorded (their codes) and the differentiation kinds, for display.
SYNDROMES = (
    N_("insulinoma"),
    N_("gastrinoma"),
    N_("glucagonoma"),
    N_("vipoma"),
    N_("somatostatinoma"),
    N_("acthoma"),
    N_("carcinoid-syndrome"),
)
KIND_NAMES = {NET: N_("NET"), NEC: N_("NEC")}
# The six Milan-NET criteria of C 12, in its order (criterion n is MILAN[n - 1]).
MILAN = (
    N_("no extrahepatic disease"),
    N_("well-differentiated G1–G2 NET with Ki-67 < 10 %"),
    N_("primary tumour resected"),
    N_("liver tumour burden < 50 %"),
    N_("stable disease or stable response ≥ 6 months"),
    N_("age < 60 years"),
)


def _syndromes(codes: list[str]) -> str:
    """Functional syndromes by their recorded codes, comma-separated, in the current locale."""
    return ", ".join(_(code) if code in SYNDROMES else code for code in codes)


def _milan_name(number: int) -> str:
    """'(n) criterion' for Milan-NET criterion n (1–6)."""
    return _("({number}) {criterion}", number=number, criterion=_(MILAN[number - 1]))


def net_g12(p: Patient) -> Criterion | None:
    """'NET G1–G2' as a criterion; None when the patient is not known to have a NET."""
    name = _("well-differentiated NET G1–G2")
    kind, evidence = p.differentiation
    if kind != NET:
        return None
    graded = p.g1_g2(name)
    return Criterion(
        name, graded.status, (*evidence, *graded.evidence), graded.missing, graded.note
    )


def _no_extrahepatic(p: Patient, name: str) -> Criterion:
    """No extrahepatic metastasis (closed world; unknown with one without a site or possibly
    another cancer's)."""
    return p.no_extrahepatic(name)


@rule(
    "primary-resectability",
    N_("Resectability of the primary by vessel contact"),
    [PV],
    "C 6.1",
    AREA,
)
def primary_resectability(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """Resectable, borderline or locally advanced primary by SMV/PV, SMA, CT and CHA contact."""
    p = ctx.patient
    contact = p.vessel_contact
    if not p.has_pnen or not contact or not p.primary_in_place:
        return None
    tier = p.primary_tier
    tier_name = _(TIER_NAMES[tier]) if tier in TIER_NAMES else str(tier)
    still_open = p.primary_tier_open
    unrecorded = ", ".join(still_open)
    tier_text = _("{tier} by the vessels recorded", tier=tier_name) if still_open else tier_name
    lines = []
    for code, name in VESSELS:
        fact = contact.get(code)
        degree = fact.value[1] if fact else None
        shown = (
            _("not recorded")
            if degree is None
            else _(CONTACT_NAMES[degree])
            if degree in CONTACT_NAMES
            else str(degree)
        )
        lines.append(_("- {vessel}: {contact}", vessel=_(name), contact=shown))
    missing = (
        (_("contact of the primary with {vessels} (could change the tier)", vessels=unrecorded),)
        if still_open
        else ()
    )
    summary = _("Primary tumour {tier} by vessel contact (C 6.1)", tier=tier_text)
    if still_open:
        summary = _(
            "Primary tumour {tier} by the vessels recorded so far (C 6.1); {vessels} not recorded",
            tier=tier_name,
            vessels=unrecorded,
        )
    tiers = _(
        "Primary tumour tier: **{tier}**, by pancreatic adenocarcinoma criteria "
        "(C 6.1; abutment ≤ 180°, encasement > 180°): resectable — no arterial contact and "
        "SMV/PV at most abutment; borderline — SMV/PV encasement, SMA or CT abutment, or CHA "
        "abutment/encasement; locally advanced — SMA or CT encasement, or SMV/PV occlusion.",
        tier=tier_text,
    )
    centres = _(
        "PV/SMV resection with reconstruction, or pancreatectomy with celiac-axis "
        "resection to reach R0, should be done only at specialised centres; evidence for "
        "SMA resection and reconstruction is limited and controversial (C 6.1)."
    )
    return recommend(
        info,
        Indicator.INFO,
        summary,
        f"{tiers}\n\n" + "\n".join(lines) + f"\n\n{centres}",
        evidence=tuple(contact[code] for code, _name in VESSELS if code in contact),
        missing=missing,
    )


@rule(
    "liver-resectable-ned",
    N_("Resectable liver metastases: aim for NED"),
    [PV],
    "C 6.2; C 6.3; C 6.4; C 9; R Surgical management",
    AREA,
)
def liver_resectable_ned(ctx: RuleContext, info: RuleInfo) -> Recommendation | Evaluation | None:
    """NET G1–G2 with resectable liver metastases and no extrahepatic disease: resect to NED."""
    p = ctx.patient
    if not p.pnen_lm or p.extrahepatic or p.resectability.not_met:
        return None
    net = net_g12(p)
    if net is None or net.not_met:
        return None
    criteria = [
        net,
        p.resectability,
        _no_extrahepatic(p, _("no extrahepatic metastasis")),
    ]
    if p.resectability.unknown:
        return silent(info, criteria)  # resectability decides it: listed as waiting on data
    invasion = p.facts.latest("major-vessel-invasion")
    evidence = evidence_of(criteria) + ((invasion,) if invasion else ())
    if invasion is not None and invasion.value is True:
        advice = _(
            "Liver metastases are resectable (R0/R1 feasible with remnant liver volume ≥ 30 %, "
            "C 6.2). The goal of surgery is no evidence of disease (NED, C 6.3): resection "
            "combined with radiofrequency ablation where needed (C 6.4); major intrahepatic "
            "vessel invasion is recorded, so anatomic resection may be needed (C 9). Staging "
            "must exclude extra-abdominal disease before radical resection (R Surgical "
            "management)."
        )
    else:
        advice = _(
            "Liver metastases are resectable (R0/R1 feasible with remnant liver volume ≥ 30 %, "
            "C 6.2). The goal of surgery is no evidence of disease (NED, C 6.3): resection "
            "combined with radiofrequency ablation where needed (C 6.4); parenchymal-sparing "
            "hepatectomy is preferred unless tumour invades principal arteries or veins (C 9). "
            "Staging must exclude extra-abdominal disease before radical resection (R Surgical "
            "management)."
        )
    if net.unknown:
        advice += _(" Grade is not recorded: for G3 NET, see `g3-net-surgery` instead.")
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=_(
            "Resectable liver metastases: aim for NED with resection ± RFA, "
            "parenchymal-sparing where possible"
        ),
        advice=advice,
        evidence=evidence,
        criteria=tuple(criteria),
        missing=missing_of(criteria),
    )


@rule(
    "liver-remnant-insufficient",
    N_("Remnant liver volume below 30 %"),
    [PV, OS, SIGN],
    "C 6.2; C 11.1",
    AREA,
)
def liver_remnant_insufficient(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """A hepatectomy planned or drafted while the remnant liver volume is < 30 %."""
    p = ctx.patient
    remnant = p.remnant_ok
    if not p.has_pnen or not remnant.not_met:  # C 6.2: RLV ≥ 30 % needed
        return None
    if ctx.on_orders:
        plan = ctx.drafted_criterion(_("hepatectomy drafted"), *HEPATECTOMIES)
    else:
        planned = p.planned(*HEPATECTOMIES)
        plan = known(_("liver resection planned"), True, planned) if planned else None
    if plan is None:
        return None
    criteria = (plan, remnant)
    rlv = remnant.evidence[0].value.display()
    return Recommendation(
        rule=info,
        indicator=Indicator.WARNING,
        summary=_(
            "Remnant liver volume {volume} (< 30 %): the liver resection is not feasible as "
            "planned",
            volume=rlv,
        ),
        advice=_(
            "Liver metastases are resectable only when R0/R1 resection leaves a remnant liver "
            "volume ≥ 30 % (C 6.2); the recorded volume is below that. Consider resection combined "
            "with ablation, portal vein embolisation, ALPPS (associating liver partition and "
            "portal vein ligation for staged hepatectomy), or conversion therapy first (C 11.1)."
        ),
        evidence=evidence_of(criteria),
        criteria=criteria,
    )


@rule(
    "psh-preferred",
    N_("Parenchymal-sparing hepatectomy preferred"),
    [OS, SIGN],
    "C 9",
    AREA,
)
def psh_preferred(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """An anatomic hepatectomy drafted without major vessel invasion recorded as present."""
    p = ctx.patient
    drafted = ctx.drafted_criterion(_("anatomic hepatectomy drafted"), "hepatectomy-anatomic")
    if not p.pnen_lm or drafted is None:
        return None
    invasion = p.flag("major-vessel-invasion", _("major intrahepatic vessel invasion"))
    if invasion.met:
        return None
    criteria = (drafted, invasion)
    advice = _(
        "Parenchymal-sparing hepatectomy (PSH) is recommended when complete resection is "
        "achievable: it preserves liver for treating recurrence, including re-resection. "
        "Anatomic resection is for tumours invading principal arteries or veins (C 9)."
    )
    summary = _("Anatomic hepatectomy drafted: parenchymal-sparing hepatectomy is preferred (C 9)")
    if invasion.unknown:
        advice += _(
            " Major intrahepatic vessel invasion is not recorded: it is unknown whether "
            "anatomic resection is needed."
        )
        summary = _(
            "Anatomic hepatectomy drafted: parenchymal-sparing hepatectomy is preferred "
            "unless major vessels are invaded (unknown)"
        )
    return recommend(info, Indicator.INFO, summary, advice, criteria)


@rule(
    "g3-net-surgery",
    N_("Surgery for G3 NET liver metastases"),
    [PV, OS, SIGN],
    "C 7.1; R Surgical management",
    AREA,
)
def g3_net_surgery(ctx: RuleContext, info: RuleInfo) -> Recommendation | Evaluation | None:
    """NET G3 with liver metastases: resectable (PV) or with a resection drafted (orders)."""
    p = ctx.patient
    if not p.pnen_lm or not p.is_net_g3:
        return None
    resectable = p.resectability
    if ctx.on_orders:
        trigger = ctx.drafted_criterion(_("pancreatectomy or hepatectomy drafted"), *RESECTIONS)
        if trigger is None:
            return None
        criteria: tuple[Criterion, ...] = (trigger, resectable)
    elif not resectable.not_met:
        criteria = (resectable,)
    else:
        return None
    grade = p.overall_grade
    net_g3 = known(_("NET G3"), True, (*p.differentiation[1], *(grade.evidence if grade else ())))
    criteria = (net_g3, *criteria)
    if not ctx.on_orders and resectable.unknown:
        return silent(info, criteria)  # resectability decides it: listed as waiting on data
    return recommend(
        info,
        Indicator.INFO,
        _(
            "G3 NET with liver metastases: resection may benefit after strict evaluation; "
            "prognosis is poorer than G1/G2"
        ),
        _(
            "After resection, G3 NET liver metastases carry a poorer prognosis than G1/G2 "
            "(median OS ~39 vs ~118–124 months); patients with resectable G3 NET liver "
            "metastases may benefit from surgery after a strict evaluation (C 7.1). The review "
            "advises against palliative hepatectomy in WHO grade 3 or type III liver metastases "
            "(R Surgical management)."
        ),
        criteria,
    )


@rule(
    "nec-medical-first",
    N_("NEC with liver metastases: medical therapy first"),
    [PV, OS, SIGN],
    "C 7.2",
    AREA,
)
def nec_medical_first(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """NEC with liver metastases (PV); a hepatectomy, or a pancreatectomy with them, drafted."""
    p = ctx.patient
    if not p.has_pnen or not p.is_nec:
        return None
    criteria = [known(_("NEC"), True, p.differentiation[1])]
    summary = _(
        "NEC with liver metastases: medical therapy (platinum + etoposide) is first-line, "
        "not surgery"
    )
    if ctx.on_orders:
        # A hepatectomy implies liver disease; a pancreatectomy needs it on record (C 7.2).
        drafts = ctx.drafted(*(RESECTIONS if p.has_liver_mets else HEPATECTOMIES))
        if not drafts:
            return None
        criteria.append(
            known(_("pancreatectomy or hepatectomy drafted"), True, [d.as_fact() for d in drafts])
        )
        if not p.has_liver_mets:
            summary = _(
                "Hepatectomy drafted for a NEC: medical therapy (platinum + etoposide) is "
                "first-line, not surgery"
            )
    elif not p.has_liver_mets:
        return None
    large_cell = [f for f in p.nec_codes if f.value == "large-cell"]
    therapy, _since = p.current_systemic
    advice = _(
        "The prognosis of pancreatic NEC with liver metastases is poor; medical therapy is "
        "first-line: cisplatin or carboplatin with etoposide, FOLFOX, FOLFIRI, or TMZ ± "
        "capecitabine (C 7.2). Large-cell NEC that is resectable may benefit from surgery "
        "(small-sample, low-level evidence)."
    )
    if large_cell:
        advice += _(" Large-cell NEC is recorded.")
    advice += (
        _(
            " Current systemic therapy: {therapies}.",
            therapies=", ".join(f.value.name for f in therapy),
        )
        if therapy
        else _(" No current systemic therapy recorded.")
    )
    return Recommendation(
        rule=info,
        indicator=Indicator.WARNING,
        summary=summary,
        advice=advice,
        evidence=(*evidence_of(criteria), *large_cell, *therapy),
        criteria=tuple(criteria),
    )


def _non_functional(p: Patient) -> Criterion:
    """Non-functional: recorded as such, or no functional syndrome recorded (closed world)."""
    recorded = p.facts.all("non-functional")
    note = "" if recorded else _("no functional syndrome recorded")
    return known(_("non-functional"), not p.is_functional, recorded or p.functional, note=note)


@rule(
    "primary-resection-low-priority",
    N_("Primary resection has low priority"),
    [PV, OS, SIGN],
    "C 8.1",
    AREA,
)
def primary_resection_low_priority(
    ctx: RuleContext, info: RuleInfo
) -> Recommendation | Evaluation | None:
    """Non-functional NET G1/G2, unresectable liver metastases, primary in place and resectable."""
    p = ctx.patient
    if not p.pnen_lm or p.is_functional or not p.primary_in_place:
        return None
    net = net_g12(p)
    unresectable = negate(_("liver metastases unresectable"), p.resectability)
    # Stated so that met is what the rule needs: fires unless the primary is known unresectable.
    primary = negate(_("primary not known to be unresectable"), p.primary_unresectable)
    if net is None or net.not_met or unresectable.not_met or primary.not_met:
        return None
    criteria = [
        _non_functional(p),
        net,
        unresectable,
        known(_("primary in place"), True, note=_("no pancreatectomy recorded")),
        primary,
    ]
    if ctx.on_orders:
        trigger = ctx.drafted_criterion(_("pancreatectomy drafted"), *PANCREATECTOMIES)
        if trigger is None:
            return None
        criteria.append(trigger)
    if unresectable.unknown:
        return silent(info, criteria)  # resectability decides it: listed as waiting on data
    location = p.facts.latest("primary-location")
    where = location.value if location else None
    if where == "head":
        place = _(
            " The primary is in the pancreatic head: pancreatoduodenectomy gives primary "
            "resection a lower priority; use endoscopic or surgical bypass for jaundice or "
            "duodenal obstruction."
        )
    elif where == "body":
        place = _(
            " The primary is in the pancreatic body: distal pancreatectomy carries less "
            "morbidity, which makes primary resection more favourable."
        )
    elif where == "tail":
        place = _(
            " The primary is in the pancreatic tail: distal pancreatectomy carries less "
            "morbidity, which makes primary resection more favourable."
        )
    else:
        place = _(
            " Primary location not recorded: a head primary (pancreatoduodenectomy) gives lower "
            "priority; a body/tail primary (distal pancreatectomy) is more favourable."
        )
    age = p.age()
    comorbid = p.facts.all("comorbidity")
    names = (COMORBIDITY_NAMES[str(f.value)] for f in comorbid)
    found = ", ".join(dict.fromkeys(_(name) for name in names)) or _("none recorded")
    if age is not None:
        context = _(
            " Age {age} years; of the comorbidities this service reads (renal or liver failure, "
            "IBD, chronic gastritis, pancreatitis): {found}. Other comorbidities and the "
            "operative risk are not assessed here: assess them clinically.",
            age=age,
            found=found,
        )
    else:
        context = _(
            " Age unknown; of the comorbidities this service reads (renal or liver failure, "
            "IBD, chronic gastritis, pancreatitis): {found}. Other comorbidities and the "
            "operative risk are not assessed here: assess them clinically.",
            found=found,
        )
    advice = (
        _(
            "Resection of the primary tumour has low priority for non-functional pNET with "
            "unresectable liver metastases; individualise by location, age and comorbidity "
            "(C 8.1)."
        )
        + place
        + context
    )
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=_(
            "Unresectable liver metastases: resection of the non-functional primary has low "
            "priority"
        ),
        advice=advice,
        evidence=(*evidence_of(criteria), *((location,) if location else ()), *comorbid),
        criteria=tuple(criteria),
        missing=missing_of(criteria),
    )


@rule(
    "debulking-functional",
    N_("Debulking for refractory hormone symptoms"),
    [PV],
    "C 8.2",
    AREA,
)
def debulking_functional(ctx: RuleContext, info: RuleInfo) -> Recommendation | Evaluation | None:
    """Functional pNET, unresectable liver metastases, hormone symptoms recorded refractory."""
    p = ctx.patient
    if not p.pnen_lm or not p.is_functional or p.is_nec:
        return None
    unresectable = negate(_("liver metastases unresectable"), p.resectability)
    refractory = p.flag("hormone-symptoms-refractory", _("hormone symptoms refractory"))
    if unresectable.not_met or refractory.not_met:
        return None
    functional = known(
        _("functional pNET ({syndromes})", syndromes=_syndromes(sorted(p.syndromes))),
        True,
        p.functional,
    )
    if unresectable.unknown or refractory.unknown:
        # Both decide it; > 90 % cytoreduction only shapes the advice, so it is not listed.
        return silent(info, (functional, unresectable, refractory))
    cytoreduction = p.flag("cytoreduction-90-achievable", _("> 90 % cytoreduction achievable"))
    criteria = (functional, unresectable, refractory, cytoreduction)
    advice = _(
        "Debulking (cytoreduction) of more than 90 % remains the threshold for symptom "
        "control and survival; > 70 % has been studied but not adopted. TAE of the liver "
        "metastases combined with resection of the primary may suit some patients (C 8.2)."
    )
    if not p.facts.all("medication:ssa"):  # CR-10: routine treatment comes first
        advice += _(
            " No somatostatin analogue is on record: SSAs are the treatment of choice for "
            "hormone excess when resection is not possible (R Biological therapy), so symptoms "
            "are refractory only after an SSA has been tried."
        )
    return recommend(
        info,
        Indicator.INFO,
        _(
            "Refractory hormone symptoms with unresectable liver metastases: consider > 90 % "
            "debulking, or TAE with resection of the primary"
        ),
        advice,
        criteria,
    )


def _nodal_risk(p: Patient) -> Criterion:
    """High risk of nodal metastasis: recorded, or N1 recorded."""
    name = _("high risk of nodal metastasis")
    recorded = p.flag("high-nodal-risk", name)
    stage_n = p.facts.latest("tnm-n")
    if not recorded.met and stage_n is not None and str(stage_n.value).upper().startswith("N1"):
        return known(name, True, (stage_n,))
    return recorded


@rule(
    "splenectomy-decision",
    N_("Splenectomy or spleen preservation at distal pancreatectomy"),
    [OS, SIGN],
    "C 10",
    AREA,
)
def splenectomy_decision(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """A distal pancreatectomy drafted: which C 10 risk factors are recorded, which unknown."""
    p = ctx.patient
    drafted = ctx.drafted_criterion(_("distal pancreatectomy drafted"), "distal-pancreatectomy")
    if not p.has_pnen or drafted is None:
        return None
    pancreatitis = tuple(f for f in p.facts.all("comorbidity") if f.value == "pancreatitis")
    factors = (
        _nodal_risk(p),
        p.flag("splenic-vessel-invasion", _("splenic-vessel invasion")),
        p.flag("tumor-thrombus", _("tumour thrombus")),
        known(
            _("chronic pancreatitis or peripancreatic inflammation"),
            bool(pancreatitis),
            pancreatitis,
            note="" if pancreatitis else _("none recorded"),
        ),
    )
    verdict = any_of(_("splenectomy advisable"), *factors)
    present = ", ".join(c.name for c in factors if c.met)
    unknown_names = ", ".join(c.name for c in factors if c.unknown)
    if verdict.met:
        summary = _("Distal pancreatectomy: splenectomy advisable ({factors})", factors=present)
        advice = _("Splenectomy is advisable: {factors} recorded (C 10).", factors=present)
    elif verdict.not_met:
        summary = _(
            "Distal pancreatectomy: no C 10 risk factor recorded; consider spleen preservation"
        )
        advice = _(
            "No C 10 risk factor for splenectomy is present: consider spleen preservation, "
            "especially in young, low-risk sporadic patients with favourable expected survival."
        )
    else:
        summary = _(
            "Distal pancreatectomy: splenectomy risk factors unknown ({factors})",
            factors=unknown_names,
        )
        advice = _(
            "Not recorded: {factors}. Splenectomy is advisable if any is "
            "present; otherwise spleen preservation may be considered (C 10).",
            factors=unknown_names,
        )
    advice += _(
        " Splenectomy is advisable with a high risk of nodal metastasis, splenic-vessel invasion, "
        "tumour thrombus, chronic pancreatitis or peripancreatic inflammation. When the spleen "
        "is preserved, preserve the splenic vessels: preservation without them (Warshaw) is not "
        "recommended (C 10)."
    )
    criteria = (drafted, *factors)
    return recommend(
        info,
        Indicator.INFO,
        summary,
        advice,
        criteria,
    )


def _size_or_t(p: Patient) -> Criterion:
    """Primary > 2 cm or T2+ from whichever of size and T category is recorded."""
    name = _("primary > 2 cm or T2+")
    parts: list[Criterion] = []
    if p.facts.has("primary-tumor-size"):
        parts.append(p.measure("primary-tumor-size", _("primary > 20 mm"), ">", 20))  # R: > 2 cm
    t_stage = p.facts.latest("tnm-t")
    digit = str(t_stage.value)[1:2] if t_stage else ""
    if t_stage is not None and digit.isdigit():
        parts.append(known(_("T2 or higher"), digit in "234", (t_stage,)))
    if not parts:
        return unknown(name, _("primary tumour size (mm) or T category"))
    return any_of(name, *parts)


OVER_2_CM, FROM_1_TO_2_CM, UNDER_1_CM = "> 2 cm", "1–2 cm", "< 1 cm"


def _size_band(p: Patient) -> tuple[str | None, Criterion]:
    """The R size band of a non-functional primary (> 2 cm or T2+, 1–2 cm, < 1 cm) or None."""
    large = _size_or_t(p)
    if large.met:
        return OVER_2_CM, large
    size = p.facts.latest("primary-tumor-size")
    t_stage = p.facts.latest("tnm-t")
    known_facts = tuple(f for f in (size, t_stage) if f is not None)
    if size is not None:
        value = size.value
        if value.compare(">=", 10) and value.compare("<=", 20):  # R: NF-pNETs 1-2 cm
            return FROM_1_TO_2_CM, known(_("primary 1–2 cm"), True, known_facts)
        if value.compare("<", 10):  # R: NF-pNETs < 1 cm
            return UNDER_1_CM, known(_("primary < 1 cm"), True, known_facts)
        if large.unknown:
            return None, large
        missing = _("exact primary tumour size (reported as {size})", size=value.display())
        return None, unknown(_("primary size band"), missing, known_facts)
    # T1 (≤ 2 cm, limited to the pancreas) or nothing: < 1 cm and 1–2 cm differ; size decides.
    return None, unknown(_("primary size band"), _("primary tumour size (mm)"), known_facts)


def _risk_factors(p: Patient) -> list[str]:
    """Grade, N category and Ki-67 as recorded, for the surgeon's high-risk judgement."""
    grade = p.overall_grade
    nodes = p.facts.latest("tnm-n")
    ki67 = p.highest_ki67
    return [
        _("grade {grade}", grade=grade.label) if grade else _("grade not recorded"),
        _("N category {n}", n=nodes.value) if nodes else _("N category not recorded"),
        _("highest Ki-67 {ki67}", ki67=ki67.value.display()) if ki67 else _("Ki-67 not recorded"),
    ]


@rule(
    "lymph-node-dissection",
    N_("Regional lymph-node dissection"),
    [OS, SIGN],
    "R Lymph nodes dissection",
    AREA,
)
def lymph_node_dissection(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """A pancreatectomy drafted for a pNET: node dissection by syndrome and size (R)."""
    p = ctx.patient
    drafted = ctx.drafted_criterion(_("pancreatectomy drafted"), *PANCREATECTOMIES)
    if not p.has_pnen or p.is_nec or drafted is None:
        return None
    rationale = _(
        " Nodal metastasis is an independent risk factor for disease-free and overall survival "
        "(R Lymph nodes dissection)."
    )
    extra: tuple[Fact, ...] = ()
    if p.is_functional:
        others = sorted(p.syndromes - {"insulinoma"})
        if not others:
            return None  # R: all functioning pNETs except insulinoma
        reason = known(
            _("functional pNET other than insulinoma ({syndromes})", syndromes=_syndromes(others)),
            True,
            [f for f in p.functional if f.value in others],
        )
        summary = _(
            "Pancreatectomy drafted: regional lymph-node dissection recommended ({reason})",
            reason=reason.name,
        )
        advice = (
            _(
                "Regional lymph-node dissection is recommended for every functional pNET except "
                "insulinoma."
            )
            + rationale
        )
    else:
        band, reason = _size_band(p)
        if band == OVER_2_CM:
            summary = _(
                "Pancreatectomy drafted for NF-pNET > 2 cm (or T2+): regional lymph-node "
                "dissection recommended"
            )
            advice = (
                _("Regional lymph-node dissection is recommended for non-functional pNET > 2 cm.")
                + rationale
            )
        elif band == FROM_1_TO_2_CM:
            summary = _(
                "Pancreatectomy drafted for NF-pNET 1–2 cm: regional lymph-node dissection "
                "also applies"
            )
            advice = (
                _(
                    "Regional lymph-node dissection is recommended for non-functional pNET > 2 cm, "
                    "and this also applies to NF-pNET 1–2 cm in diameter."
                )
                + rationale
            )
        elif band == UNDER_1_CM:
            factors = _risk_factors(p)
            summary = _(
                "Pancreatectomy drafted for NF-pNET < 1 cm: no lymphadenectomy unless "
                "high-risk factors"
            )
            advice = _(
                "No lymphadenectomy for non-functional pNET < 1 cm without high-risk factors; "
                "nearly 24 % of resected G1 tumours < 1 cm had nodal metastases (R Lymph nodes "
                "dissection). On record for the surgeon's judgement: {factors}.",
                factors="; ".join(factors),
            )
            grade = p.overall_grade
            nodes = p.facts.latest("tnm-n")
            extra = (*(grade.evidence if grade else ()), *((nodes,) if nodes else ()))
        else:
            summary = _("Pancreatectomy drafted: the primary size decides on lymph-node dissection")
            advice = _(
                "The size of this non-functional primary decides: regional lymph-node dissection "
                "for > 2 cm, also for 1–2 cm; none for < 1 cm without high-risk factors (R Lymph "
                "nodes dissection). Record the primary tumour size."
            )
    criteria = (drafted, reason)
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=summary,
        advice=advice,
        evidence=tuple(dict.fromkeys((*evidence_of(criteria), *extra))),
        criteria=criteria,
        missing=missing_of(criteria),
    )


@rule(
    "type3-potentially-resectable",
    N_("Potentially resectable type III liver metastases"),
    [PV],
    "C 11; C 13",
    AREA,
)
def type3_potentially_resectable(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """ENETS type III liver metastases of a NET: the C 11 potentially-resectable subtype."""
    p = ctx.patient
    if not p.pnen_lm or not p.is_net or not p.enets_is("III") or p.enets_type is None:
        return None
    verdict, c1, c2, c3, debulk = p.type3_potential
    criteria = (verdict, c1, c2, c3, debulk)
    if verdict.met:
        summary = _(
            "Type III liver metastases potentially resectable (C 11): conversion therapy, "
            "then resection + ablation"
        )
        advice = _(
            "These type III liver metastases meet the potentially-resectable subtype. Start "
            "active conversion therapy chosen by MGMT (see `preop-systemic-mgmt`), then aim for "
            "NED by resection with ablation after MDT review (C 11, C 13)."
        )
    elif verdict.not_met:
        summary = _("Type III liver metastases not potentially resectable by C 11 criteria")
        advice = _(
            "These type III liver metastases do not meet the potentially-resectable subtype and "
            "count as unresectable; systemic and liver-directed therapy apply, and liver "
            "transplantation only in strictly selected patients (C 11, C 12)."
        )
    else:
        summary = _("Type III liver metastases: assess potential resectability (C 11 data missing)")
        advice = _(
            "Assess whether these type III liver metastases are potentially resectable: if so, "
            "active conversion therapy, then resection + ablation after MDT review (C 11). "
            "Until then they count as unresectable."
        )
    if p.grade == 3:
        advice += _(' For G3 NET the consensus includes only "some G3" patients (C 11).')
    subtype = _(
        "Potentially resectable = (criterion 1 or 2) and criterion 3, or > 90 % tumour "
        "reduction achievable (C 11). (1) most metastases on or within 2 cm of the liver "
        "surface and ≤ 5 deep lesions that can be ablated; (2) most metastases within 3 "
        "segments or one lobe, the rest oligometastases; (3) NED achievable with functional "
        "remnant liver ≥ 30 %."
    )
    advice += f"\n\n{subtype}"
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=summary,
        advice=advice,
        evidence=(p.enets_type, *evidence_of(criteria)),
        criteria=criteria,
        missing=missing_of(criteria),
    )


def _milan_differentiated(p: Patient) -> Criterion:
    """Milan (2): well-differentiated G1–G2 NET with Ki-67 < 10 %."""
    kind, evidence = p.differentiation
    if kind == NET:
        inferred = p.differentiation_recorded is None
        note = _("inferred from grade; no differentiation recorded") if inferred else ""
        differentiated = known(_("well differentiated"), True, evidence, note=note)
    elif kind is None or kind == CONFLICT:
        differentiated = unknown(_("well differentiated"), _("differentiation"), evidence)
    else:
        shown = _(KIND_NAMES[kind]) if kind in KIND_NAMES else kind
        differentiated = known(_("well differentiated"), False, evidence, note=shown)
    graded = p.g1_g2(_("G1–G2"))
    ki67 = p.ki67_criterion(_("Ki-67 < 10 %"), "<", 10)  # C 12 Milan-NET: Ki-67 < 10 %
    combined = all_of(_milan_name(2), differentiated, graded, ki67)
    notes = [differentiated.note if not differentiated.unknown else "", graded.note]
    note = "; ".join(n for n in notes if n)  # the grade history, when an earlier grade was higher
    return Criterion(combined.name, combined.status, combined.evidence, combined.missing, note)


WHOLE_BODY_STAGING = ("pet-ssa", "pet-fdg", "sstr-scintigraphy")


def _milan_no_extrahepatic(p: Patient) -> Criterion:
    """Milan-NET (1): none recorded is not enough before a transplant, whole-body staging is.

    Extrahepatic metastases are closed-world elsewhere ("none recorded"); for a transplant the
    absence must have been looked for (C 12: extrahepatic spread ruled out before transplant),
    so without a 68Ga-SSA PET, FDG PET or SSTR scintigraphy on record it is unknown (CR-4).
    """
    name = _milan_name(1)
    criterion = _no_extrahepatic(p, name)
    if not criterion.met:
        return criterion
    staging = p.imaging(*WHOLE_BODY_STAGING)
    if not staging:
        return unknown(
            name,
            _(
                "whole-body staging to exclude extrahepatic disease (68Ga-SSA PET/CT; none on "
                "record)"
            ),
        )
    latest = max(staging, key=lambda f: (f.when or date.min, f.ref))
    return known(name, True, (latest,), note=_("none recorded after whole-body staging"))


def milan_criteria(p: Patient) -> tuple[Criterion, ...]:
    """The six Milan-NET criteria (C 12), each met, not met or unknown."""
    done = p.done(*PANCREATECTOMIES)
    age = p.age()
    if age is None:
        young = unknown(_milan_name(6), _("date of birth"))
    else:
        young = known(_milan_name(6), age < 60, note=_("age {age} years", age=age))  # C 12: < 60
    return (
        _milan_no_extrahepatic(p),
        _milan_differentiated(p),
        known(_milan_name(3), bool(done), done, note="" if done else _("none recorded")),
        p.measure("liver-tumor-burden", _milan_name(4), "<", 50),  # C 12
        p.stable_months(6).named(_milan_name(5)),  # C 12
        young,
    )


@rule(
    "transplant-milan",
    N_("Liver transplantation: Milan-NET criteria"),
    [PV, OS, SIGN],
    "C 12",
    AREA,
)
def transplant_milan(ctx: RuleContext, info: RuleInfo) -> Recommendation | Evaluation | None:
    """Milan-NET criteria: unresectable liver metastases (PV), or a drafted transplant referral."""
    p = ctx.patient
    if not p.pnen_lm:
        return None
    unresectable = negate(_("liver metastases unresectable"), p.resectability)
    milan = milan_criteria(p)
    failed = [number for number, c in enumerate(milan, 1) if c.not_met]
    met = sum(c.met for c in milan)
    if ctx.on_orders:
        trigger = ctx.drafted_criterion(
            _("liver transplant referral drafted"),
            "liver-transplant-referral",
            "liver-transplant",
        )
        if trigger is None:
            return None
        context: tuple[Criterion, ...] = (trigger, unresectable)
    elif unresectable.met and not failed:
        context = (unresectable,)
    elif unresectable.unknown and not failed:
        return silent(info, (unresectable, *milan))  # resectability decides it
    else:
        return None
    if failed:
        names = ", ".join(_(MILAN[number - 1]) for number in failed)
        summary = _(
            "Liver transplant referral: Milan-NET criteria not met ({criteria})", criteria=names
        )
        if len(summary) >= 140:  # card summaries stay under 140 characters
            numbers = ", ".join(_("({number})", number=number) for number in failed)
            summary = _(
                "Liver transplant referral: Milan-NET criteria {numbers} not met", numbers=numbers
            )
    else:
        summary = _(
            "Liver transplantation may be considered: {met} of 6 Milan-NET criteria met, "
            "none known to fail",
            met=met,
        )
    criteria = (*context, *milan)
    return recommend(
        info,
        Indicator.WARNING if failed else Indicator.INFO,
        summary,
        _(
            "Liver transplantation may be considered for pNET with unresectable liver metastases, "
            "but indications must be strictly controlled (C 12). Milan-NET criteria: (1) no "
            "extrahepatic disease; (2) well-differentiated G1–G2 NET with Ki-67 < 10 %; (3) "
            "previous primary tumour resection; (4) liver tumour burden < 50 % of liver volume; "
            "(5) stable disease or stable response to treatment for ≥ 6 months; (6) age < 60 "
            "years. Primary resection and locoregional lymph-node dissection are required before "
            "transplantation."
        )
        + _nec_biology_note(p),
        criteria,
    )


def _nec_biology_note(p: Patient) -> str:
    """A caution when TP53 or RB1 is altered: NEC biology, against 'well differentiated'."""
    genes = sorted({str(f.value[0]) for f in p.facts.all("gene-alteration")} & {"TP53", "RB1"})
    if not genes:
        return ""
    altered = (
        genes[0] if len(genes) == 1 else _("{first} and {second}", first=genes[0], second=genes[1])
    )
    return _(
        " {genes} alteration recorded: more typical of NEC than of a "
        "well-differentiated NET (C 3, C 4); confirm the differentiation at the MDT before "
        "referral.",
        genes=altered,
    )


@rule(
    "tae-over-tace",
    N_("TAE preferred over TACE"),
    [OS, SIGN],
    "R Liver transarterial embolization",
    AREA,
)
def tae_over_tace(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """A TACE drafted for liver metastases: TAE has a slightly better toxicity profile."""
    p = ctx.patient
    drafts = ctx.drafted("tace")
    # R compares TAE and TACE in NET liver metastases only: no preference is stated for a NEC.
    if not p.pnen_lm or not drafts or p.is_nec:
        return None
    criteria = (known(_("TACE drafted"), True, [d.as_fact() for d in drafts]),)
    actions = (
        *(delete(d.ref, _("Remove the drafted TACE")) for d in drafts),
        create("tae", _("Order transarterial embolisation (TAE)")),
    )
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=_(
            "TACE drafted: TAE and TACE are both effective; TAE is preferred for its slightly "
            "better toxicity"
        ),
        advice=_(
            "TAE and TACE are both effective for NET liver metastases; TAE is preferred for its "
            "slightly better toxicity profile (R Liver transarterial embolization)."
        ),
        evidence=evidence_of(criteria),
        criteria=criteria,
        suggestions=(Suggestion(_("Replace TACE with TAE"), actions, is_recommended=False),),
    )

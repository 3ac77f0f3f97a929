"""G. Serum biomarkers: CgA confounders, PP rise, gastrin on a PPI (consensus-rules.md G; R).

Decisions where the spec left room (the source was followed):
- "Active on its specimen date" is `Patient.taking`: active and on-hold medications count from
  their start to their end (or today), completed and stopped ones from start to end; drafts,
  cancelled, intended, not-taken and entered-in-error never count. A completed/stopped medication
  without an end date, or one whose start is not recorded, may have been taken: the card fires
  as "possibly", naming the dates that are missing. On orders "active today" uses the same check.
- `cga-confounded`: every CgA result within the window is checked; the card is about the newest
  one with a confounder found (else the newest with a possible one). Comorbidities count while
  recorded as current Conditions, whatever their onset date. Only systemic corticosteroids are
  corticosteroid facts (`fhir_mappings.medications`): ATC H02AB, or an ingredient name with a
  systemic route or form; a topical, ophthalmic, otic, inhaled, nasal or rectal one is not. One
  known by name with no route or form recorded still counts, its evidence flagged "route not
  recorded". R says SSAs "increase" CgA; the card keeps the spec's "SSAs alter it".
- `gastrin-on-ppi`: R asks to stop PPIs "for at least 7 d" before measuring gastrin, so a PPI
  taken on any of the 6 days before the specimen date (on orders: before today) counts too —
  wider than the spec's "active on its specimen date". R writes "A more than 1000-fold increase
  in the serum level of gastrin can be diagnosed as gastrinoma": an evident error for more than
  10 times the upper reference limit (> 1000 pg/mL with a limit of 100 pg/mL); the card says > 10×.
- `pp-rise`: the latest PP result is compared with the most recent earlier result comparable with
  it — as multiples of referenceRange.high when both carry one (fhir-mapping.md), otherwise only
  in the same unit. Without a comparable earlier result (different units, no reference range)
  nothing can be said and the rule stays silent; undated results cannot be ordered and are not
  used. Bounded values count only where the bound proves the rise (an earlier "< x" as x, a later
  "> y" as y); an earlier "> x" or a later "< y" cannot show one. 50 % exactly does not fire
  (R: "an increase > 50%").
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from consensus.criteria import Criterion, known
from consensus.patient import Patient
from consensus.recommendation import (
    OS,
    PV,
    SIGN,
    Indicator,
    Recommendation,
    RuleInfo,
    Suggestion,
    create,
    recommend,
)
from consensus.registry import RuleContext, rule
from fhir_mappings.facts import Fact, Quantity
from pnen_i18n import N_, _

AREA = "G. Serum biomarkers"
CGA_DRUGS = (
    ("ppi", N_("PPI")),
    ("ssa", N_("SSA")),
    ("corticosteroid", N_("systemic corticosteroid")),
)
COMORBIDITY_NAMES = {
    "renal-failure": N_("renal failure"),
    "liver-failure": N_("liver failure/cirrhosis"),
    "ibd": N_("IBD"),
    "chronic-gastritis": N_("chronic gastritis"),
    "pancreatitis": N_("pancreatitis"),
}
PPI_WASHOUT_DAYS = 7  # R Gastrin: stop PPIs "for at least 7 d" before measuring
PP_RISE_PERCENT = Decimal(50)  # R Pancreatic polypeptide: "an increase > 50%"
MAX_NAMED = 3


def _recent(ctx: RuleContext, kind: str) -> list[Fact]:
    """Results of a kind dated within the local 'recent marker' window, newest first."""
    cutoff = ctx.today - timedelta(days=ctx.settings.value("recent-marker-days"))  # local default
    return [f for f in reversed(ctx.patient.facts.all(kind)) if f.when and f.when >= cutoff]


def _short_list(names: list[str]) -> str:
    """'PPI, SSA, renal failure and 2 more' for a summary line."""
    if len(names) <= MAX_NAMED:
        return ", ".join(names)
    # "and 2 more": the English never varied with the count, so one message serves every count.
    return _(
        "{names} and {count} more",
        names=", ".join(names[:MAX_NAMED]),
        count=len(names) - MAX_NAMED,
    )


def _cga_check(
    p: Patient, day: date, on_orders: bool
) -> tuple[list[Criterion], list[str], list[str]]:
    """CgA confounders on a day: the criteria, the names found, the names possibly present."""
    drugs = []
    for cls, label in CGA_DRUGS:
        drug = _(label)
        if on_orders:
            name = _("{drug} active today", drug=drug)
        else:
            name = _("{drug} taken on {date}", drug=drug, date=day.isoformat())
        drugs.append((drug, p.taking(name, day, day, cls)))
    comorbid = p.facts.all("comorbidity")
    comorbidity = known(
        _("renal or liver failure, IBD, chronic gastritis or pancreatitis recorded"),
        bool(comorbid),
        comorbid,
        note="" if comorbid else _("none recorded"),
    )
    found = [drug for drug, c in drugs if c.met]
    found += list(dict.fromkeys(_(COMORBIDITY_NAMES[str(f.value)]) for f in comorbid))
    possible = [drug for drug, c in drugs if c.unknown]
    return [c for _drug, c in drugs] + [comorbidity], found, possible


def _what(found: list[str], possible: list[str]) -> str:
    """The confounders for a summary line: found ones, else the possible ones."""
    if found:
        return _short_list(found)
    return _("possibly {names} (dates not recorded)", names=_short_list(possible))


def _newest_confounded(
    p: Patient, results: list[Fact]
) -> tuple[Fact, list[Criterion], list[str], list[str]] | None:
    """The newest CgA result with a confounder found, else the newest with a possible one."""
    fallback: tuple[Fact, list[Criterion], list[str], list[str]] | None = None
    for result in results:
        if result.when is None:
            continue
        criteria, found, possible = _cga_check(p, result.when, on_orders=False)
        if found:
            return result, criteria, found, possible
        if possible and fallback is None:
            fallback = (result, criteria, found, possible)
    return fallback


@rule(
    "cga-confounded",
    N_("Chromogranin A unreliable with confounders"),
    [PV, OS, SIGN],
    "R Chromogranin A",
    AREA,
)
def cga_confounded(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """A recent CgA result (PV) or a CgA order (OS/SIGN) with a PPI, SSA, steroid or comorbidity."""
    p = ctx.patient
    if not p.has_pnen:
        return None
    policy: tuple[str, ...] = ()
    if ctx.on_orders:
        drafts = ctx.drafted("cga")
        if not drafts:
            return None
        trigger = known(_("chromogranin A drafted"), True, [d.as_fact() for d in drafts])
        checked, found, possible = _cga_check(p, ctx.today, on_orders=True)
        if not (found or possible):
            return None
        summary = _(
            "CgA ordered with {confounders}: the result will be unreliable",
            confounders=_what(found, possible),
        )
        taken_when: str | None = None
    else:
        chosen = _newest_confounded(p, _recent(ctx, "cga"))
        if chosen is None:
            return None
        result, checked, found, possible = chosen
        trigger = known(_("CgA result within the recent window"), True, (result,))
        taken_when = str(result.when)
        summary = _(
            "CgA of {date} is unreliable with {confounders}",
            date=taken_when,
            confounders=_what(found, possible),
        )
        policy = (ctx.settings.describe("recent-marker-days"),)
    criteria = (trigger, *checked)
    advice = _(
        "Chromogranin A is unreliable with these: proton pump inhibitors and steroids raise it, "
        "somatostatin analogues alter it, and renal or liver failure, chronic gastritis, "
        "inflammatory bowel disease and pancreatitis raise it falsely. CgA is a marker for "
        "follow-up and prognosis, not for diagnosis (R Chromogranin A). Compare results of one "
        "assay only (nmol/L, U/L and ng/mL come from different assays; local policy)."
    )
    if found:
        advice += _(" Found: {confounders}.", confounders=", ".join(found))
    if possible and taken_when is None:
        advice += _(
            " Whether {drugs} was being taken today is not recorded (start or end date missing).",
            drugs=", ".join(possible),
        )
    elif possible:
        advice += _(
            " Whether {drugs} was being taken on {date} is not recorded (start or end date "
            "missing).",
            drugs=", ".join(possible),
            date=taken_when,
        )
    return recommend(
        info,
        Indicator.WARNING,
        summary,
        advice,
        criteria,
        local_policy=policy,
    )


def _comparable(earlier: Quantity, latest: Quantity) -> bool | None:
    """True: compare as multiples of the upper reference limit; False: in the unit; None: not."""
    if earlier.reference_high and latest.reference_high:
        return True
    if earlier.unit == latest.unit:
        return False
    return None


def _pp_pair(results: tuple[Fact, ...]) -> tuple[Fact, Fact, bool] | None:
    """The latest PP result, the most recent earlier one comparable with it, and how."""
    dated = [f for f in results if f.when]
    if len(dated) < 2:
        return None
    latest = dated[-1]
    for earlier in reversed(dated[:-1]):
        how = _comparable(earlier.value, latest.value)
        if how is not None:
            return earlier, latest, how
    return None


def _scaled(q: Quantity, by_range: bool) -> Decimal:
    """The value, or its multiple of the upper reference limit (exact decimal arithmetic)."""
    value = Decimal(str(q.value))
    if by_range and q.reference_high:
        return value / Decimal(str(q.reference_high))
    return value


def _rise_percent(earlier: Quantity, latest: Quantity, by_range: bool) -> Decimal | None:
    """The smallest rise in percent the values prove; None when their bounds prove none."""
    if earlier.comparator in (">", ">=") or latest.comparator in ("<", "<="):
        return None
    before, after = _scaled(earlier, by_range), _scaled(latest, by_range)
    if before <= 0:
        return None
    return (after / before - 1) * 100


def _shown(q: Quantity, by_range: bool) -> str:
    """'80 pg/mL' or '80 pg/mL (1.6× ULN)'."""
    if by_range and q.reference_high:
        return _(
            "{value} ({multiple:.3g}× ULN)", value=q.display(), multiple=float(_scaled(q, True))
        )
    return q.display()


@rule(
    "pp-rise",
    N_("Pancreatic polypeptide rise > 50 %"),
    [PV],
    "R Pancreatic polypeptide",
    AREA,
)
def pp_rise(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """Pancreatic polypeptide up > 50 % between the two most recent comparable results."""
    p = ctx.patient
    if not p.has_pnen:
        return None
    pair = _pp_pair(p.facts.all("pancreatic-polypeptide"))
    if pair is None:
        return None
    earlier, latest, by_range = pair
    rise = _rise_percent(earlier.value, latest.value, by_range)
    if rise is None or rise <= PP_RISE_PERCENT:  # R Pancreatic polypeptide: rise > 50 %
        return None
    percent = f"{round(float(rise), 1):g}"
    how = _("as multiples of the upper reference limit") if by_range else _("in the same unit")
    before, after = _shown(earlier.value, by_range), _shown(latest.value, by_range)
    imaging = p.imaging("abdominal-imaging")
    dated_imaging = [f for f in imaging if f.when]
    last_imaging = dated_imaging[-1] if dated_imaging else None
    advice = _(
        "Pancreatic polypeptide rose {percent} % ({before} on {before_date} → {after} on "
        "{after_date}, compared {how}). During follow-up, a PP rise > 50 % correlated with "
        "tumour progression on imaging; PP also rises with exercise, hypoglycaemia and food "
        "intake, so correlate with imaging (R Pancreatic polypeptide).",
        percent=percent,
        before=before,
        before_date=str(earlier.when),
        after=after,
        after_date=str(latest.when),
        how=how,
    )
    summary = _(
        "Pancreatic polypeptide up {percent} % since {date}: correlate with imaging for "
        "progression",
        percent=percent,
        date=str(earlier.when),
    )
    stale = last_imaging is None or (
        last_imaging.when is not None
        and latest.when is not None
        and last_imaging.when < latest.when
    )
    if last_imaging is None:
        advice += _(" No abdominal CT or MRI is on record.")
    elif stale:
        advice += _(
            " The last abdominal CT/MRI ({study}, {date}) predates the rise.",
            study=last_imaging.text,
            date=str(last_imaging.when),
        )
    pending = p.planned("ct-abdomen-multiphase", "abdominal-imaging") if stale else ()
    suggestions: tuple[Suggestion, ...] = ()
    if stale and pending:
        advice += _(
            " Restaging imaging is already ordered: {orders}.",
            orders=", ".join(f.ref for f in pending),
        )
    elif stale:
        # CR-11: imaging is essential for follow-up (C 1); the PP rise asks for a current study.
        advice += _(
            " Consider restaging with multiphasic contrast CT of the abdomen/pelvis (or MRI) "
            "to look for progression (C 1)."
        )
        summary = _(
            "Pancreatic polypeptide up {percent} % since {date}, no CT/MRI since the rise: "
            "consider restaging CT",
            percent=percent,
            date=str(earlier.when),
        )
        title = _("Order multiphasic contrast CT abdomen/pelvis")
        suggestions = (Suggestion(title, (create("ct-abdomen-pelvis-multiphase", title),)),)
    criteria = (known(_("PP rise > 50 % ({how})", how=how), True, (earlier, latest)),)
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=summary,
        advice=advice,
        evidence=(earlier, latest, *((last_imaging,) if last_imaging else ()), *pending),
        criteria=criteria,
        suggestions=suggestions,
    )


@rule(
    "gastrin-on-ppi",
    N_("Gastrin measured or ordered on a proton pump inhibitor"),
    [PV, OS, SIGN],
    "R Gastrin",
    AREA,
)
def gastrin_on_ppi(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """A recent gastrin result (PV) or a gastrin order (OS/SIGN) while a PPI was taken."""
    p = ctx.patient
    if not p.has_pnen:
        return None
    washout = timedelta(days=PPI_WASHOUT_DAYS - 1)
    policy: tuple[str, ...] = ()
    result: Fact | None = None
    if ctx.on_orders:
        drafts = ctx.drafted("gastrin")
        if not drafts:
            return None
        trigger = known(_("gastrin drafted"), True, [d.as_fact() for d in drafts])
        ppi = p.taking(
            _("PPI taken in the last {days} days", days=PPI_WASHOUT_DAYS),
            ctx.today - washout,
            ctx.today,
            "ppi",
        )
        if not (ppi.met or ppi.unknown):
            return None
    else:
        chosen = _newest_on_ppi(p, _recent(ctx, "gastrin"), washout)
        if chosen is None:
            return None
        result, ppi = chosen
        trigger = known(_("gastrin result within the recent window"), True, (result,))
        policy = (ctx.settings.describe("recent-marker-days"),)
    criteria = (trigger, ppi)
    possibly = not ppi.met
    if "gastrinoma" in p.syndromes:
        return _gastrin_in_known_gastrinoma(info, criteria, result, possibly, policy)
    summary = _gastrin_summary(result, possibly)
    advice = _(
        "PPIs raise serum gastrin: stop the PPI, bridging with a histamine H2-receptor blocker, "
        "for at least 7 days before measuring gastrin. A fasting gastrin above 10 times the upper "
        'reference limit supports a gastrinoma (R writes "1000-fold", an evident error for '
        "> 10×, i.e. > 1000 pg/mL with a limit of 100 pg/mL); for values between 1 and 10 times "
        "the limit, a secretin test is needed (secretin 2 U/kg IV; a rise ≥ 120 pg/mL over "
        "baseline is positive). Atrophic gastritis also raises gastrin (R Gastrin)."
    )
    if result is not None and result.value.reference_high:
        multiple = float(_scaled(result.value, True))
        advice += _(
            " This result is {multiple:.3g}× the upper reference limit but cannot be interpreted "
            "while on a PPI.",
            multiple=multiple,
        )
    if ppi.unknown:
        advice += _(" Whether the PPI was being taken then is not recorded.")
    return recommend(
        info,
        Indicator.WARNING,
        summary,
        advice,
        criteria,
        local_policy=policy,
    )


def _gastrin_summary(result: Fact | None, possibly: bool) -> str:
    """The summary for gastrin ordered or measured (possibly) on a PPI: stop it, then measure."""
    if result is None and possibly:
        return _(
            "Gastrin ordered possibly on a PPI: stop the PPI ≥ 7 days before measuring (bridge "
            "with an H2 blocker)"
        )
    if result is None:
        return _(
            "Gastrin ordered on a PPI: stop the PPI ≥ 7 days before measuring (bridge with an H2 "
            "blocker)"
        )
    if possibly:
        return _(
            "Gastrin of {date} possibly measured on a PPI: stop the PPI ≥ 7 days (H2-blocker "
            "bridge) and repeat",
            date=str(result.when),
        )
    return _(
        "Gastrin of {date} measured on a PPI: stop the PPI ≥ 7 days (H2-blocker bridge) and repeat",
        date=str(result.when),
    )


def _gastrin_in_known_gastrinoma(
    info: RuleInfo,
    criteria: tuple[Criterion, ...],
    result: Fact | None,
    possibly: bool,
    policy: tuple[str, ...],
) -> Recommendation:
    """Gastrin on a PPI when the gastrinoma is already diagnosed: never advise stopping the PPI.

    R's PPI withdrawal is a diagnostic step for a suspected gastrinoma. With the gastrinoma on
    record the PPI controls acid hypersecretion (R Biological therapy: PPIs for gastrinoma), and
    stopping it risks ulcer bleeding or perforation (clinical review CR-3; not in the sources).
    """
    if result is None and possibly:
        summary = _(
            "Gastrin ordered possibly on a PPI in a known gastrinoma: keep the PPI; read gastrin "
            "trends with care"
        )
    elif result is None:
        summary = _(
            "Gastrin ordered on a PPI in a known gastrinoma: keep the PPI; read gastrin trends "
            "with care"
        )
    elif possibly:
        summary = _(
            "Gastrin of {date} possibly on a PPI in a known gastrinoma: keep the PPI; read "
            "gastrin trends with care",
            date=str(result.when),
        )
    else:
        summary = _(
            "Gastrin of {date} on a PPI in a known gastrinoma: keep the PPI; read gastrin trends "
            "with care",
            date=str(result.when),
        )
    return recommend(
        info,
        Indicator.INFO,
        summary,
        _(
            "PPIs raise serum gastrin, so values measured on a PPI overstate the tumour's "
            "secretion and are hard to compare (R Gastrin). The gastrinoma is already diagnosed: "
            "the PPI withdrawal the review describes is a diagnostic step and is not advised here, "
            "since the PPI controls acid hypersecretion (R Biological therapy); compare gastrin "
            "only between results taken on the same PPI dose, and follow the disease by imaging."
        ),
        criteria,
        local_policy=policy,
    )


def _newest_on_ppi(
    p: Patient, results: list[Fact], washout: timedelta
) -> tuple[Fact, Criterion] | None:
    """The newest gastrin result taken on a PPI, else the newest possibly taken on one."""
    fallback: tuple[Fact, Criterion] | None = None
    for result in results:
        if result.when is None:
            continue
        name = _(
            "PPI taken in the {days} days up to {date}",
            days=PPI_WASHOUT_DAYS,
            date=str(result.when),
        )
        ppi = p.taking(name, result.when - washout, result.when, "ppi")
        if ppi.met:
            return result, ppi
        if ppi.unknown and fallback is None:
            fallback = (result, ppi)
    return fallback

"""H. Follow-up: imaging after curative-intent resection (consensus-rules.md H; R).

Decisions where the spec left room (the source was followed):
- Curative-intent resection is `Patient.curative_resection` (consensus-rules.md definition): the
  primary out (any pancreatectomy or enucleation) and, where liver metastases were ever recorded,
  a liver resection, ablation or transplant; dated by the last of these; the latest NED, disease
  status, remission Condition or new metastasis on or after that date decides. Not met (primary
  or liver metastases left in place, stable or progressive disease after it) → silent; unknown
  (NED not recorded after it) → silent too (spec: no surveillance card; decisions waiting on data
  names it). Surveillance restarts with each curative operation.
- Interval after the last abdominal CT/MRI (or after the surgery when none since): 12 months
  when that study was done within the first 36 calendar months after surgery, otherwise 24 months
  (R: "every year for the first three years … then every one to two years"; the spec takes 24).
  Calendar months, the last day included (spec, time windows): a study exactly 12 months ago on
  the calendar is not yet overdue, the day after it is.
- High risk (highest Ki-67 > 5 %, or positive lymph nodes: N1 or higher) → the local 6-month
  interval in every year (never longer than the standard one). Risk unknown: overdue by the
  standard interval → due, saying the risk is unknown; overdue only by the high-risk interval →
  "may be due", naming the missing Ki-67 or N category.
- More than 120 calendar months after surgery: silent (R: "for a total of 10 years").
- Every abdominal CT or MRI on record counts (fhir-mapping.md, PET/CT included); undated studies
  cannot be placed and are listed as missing. An abdominal imaging order already planned is named
  instead of being suggested again.
- Applies to a pNEN in remission as well as an active one (spec, pNEN status).
"""

from __future__ import annotations

from consensus.criteria import Criterion, any_of, known, unknown
from consensus.months import add_months, whole_months
from consensus.patient import Patient
from consensus.prose import percent, then
from consensus.recommendation import (
    PV,
    Evaluation,
    Indicator,
    Recommendation,
    RuleInfo,
    Suggestion,
    create,
    silent,
)
from consensus.registry import RuleContext, rule
from pnen_i18n import N_, _

AREA = "H. Follow-up"
YEARLY_PHASE_MONTHS = 36  # R: every year for the first three years after resection
FIRST_INTERVAL_MONTHS = 12  # R: every year
LATER_INTERVAL_MONTHS = 24  # R: then every one to two years
TOTAL_MONTHS = 120  # R: for a total of 10 years
RISK_KI67 = 5  # R: a Ki-67 index greater than 5 %
HIGH_RISK = N_("high risk of recurrence (Ki-67 > {ki67} or positive nodes)")


def _nodes(p: Patient) -> Criterion:
    """Positive lymph nodes (N1 or higher) from the latest N category."""
    name = _("positive lymph nodes (N1)")
    fact = p.facts.latest("tnm-n")
    if fact is None:
        return unknown(name, _("N category (TNM)"))
    digit = str(fact.value)[1:2]
    if digit.isdigit():
        return known(name, digit != "0", (fact,))
    return unknown(name, _("N category (recorded as NX)"), (fact,))


def _risk(p: Patient) -> Criterion:
    """R: Ki-67 > 5 % or any positive lymph node warrants more frequent follow-up."""
    ki67 = p.ki67_criterion(_("highest Ki-67 > {threshold} %", threshold=RISK_KI67), ">", RISK_KI67)
    return any_of(_(HIGH_RISK, ki67=percent(RISK_KI67)), ki67, _nodes(p))


@rule(
    "followup-imaging-due",
    N_("Follow-up imaging due after curative-intent resection"),
    [PV],
    "R Postoperative follow-up",
    AREA,
    in_remission=True,
)
def followup_imaging_due(ctx: RuleContext, info: RuleInfo) -> Recommendation | Evaluation | None:
    """No abdominal CT/MRI within the follow-up interval after a curative-intent resection."""
    p = ctx.patient
    curative, surgery = p.curative_resection, p.curative_surgery
    if curative.unknown:
        return silent(info, (curative,))  # NED not recorded: no card, a decision waiting on data
    if not curative.met or surgery is None or surgery.when is None:
        return None  # not curative: no surveillance card (spec)
    operated = surgery.when
    if not operated <= ctx.today <= add_months(operated, TOTAL_MONTHS):  # R: for 10 years
        return None
    studies = p.imaging("abdominal-imaging")
    dated = [(f.when, f) for f in studies if f.when is not None and f.when >= operated]
    anchor, last = (
        max(dated, key=lambda pair: (pair[0], pair[1].ref)) if dated else (operated, None)
    )
    # R: yearly in years 1–3 (the first 36 calendar months), then every one to two years.
    in_yearly_phase = anchor < add_months(operated, YEARLY_PHASE_MONTHS)
    standard = FIRST_INTERVAL_MONTHS if in_yearly_phase else LATER_INTERVAL_MONTHS
    high = min(ctx.settings.value("followup-high-risk-months"), standard)  # local default
    risk = _risk(p)
    overdue_standard = ctx.today > add_months(anchor, standard)
    overdue_high = ctx.today > add_months(anchor, round(high))
    if risk.met:
        interval, due = high, overdue_high
    elif risk.not_met:
        interval, due = standard, overdue_standard
    else:
        interval, due = (standard if overdue_standard else high), overdue_high
    if not due:
        return None
    maybe = risk.unknown and not overdue_standard
    months = whole_months(anchor, ctx.today)
    if months > interval:
        ago = _("{months} months ago", months=months)
    else:
        ago = _("over {interval:g} months ago", interval=interval)
    within = _("abdominal CT or MRI within {interval:g} months", interval=interval)
    if last is not None:
        study = known(within, False, (last,))
        where = _("last {date} ({ago})", date=anchor, ago=ago)
    else:
        study = known(within, False, note=_("none recorded since the surgery"))
        where = _("none since the surgery of {date} ({ago})", date=operated, ago=ago)
    if maybe:
        summary = _(
            "Follow-up abdominal CT/MRI may be due (recurrence risk unknown): {where}; "
            "interval {interval:g} months",
            where=where,
            interval=interval,
        )
    else:
        summary = _(
            "Follow-up abdominal CT/MRI due: {where}; interval {interval:g} months",
            where=where,
            interval=interval,
        )
    if risk.met:
        why = _(
            "High risk of recurrence: imaging every {interval:g} months (local policy for R's "
            '"increased frequency of follow-up").',
            interval=interval,
        )
    else:
        phase = _("yearly in years 1–3") if in_yearly_phase else _("every two years in years 4–10")
        if last is None:
            why = _(
                "No study since the surgery: the first is due within {months} months ({phase}).",
                months=standard,
                phase=phase,
            )
        else:
            why = _(
                "The last study was in year {year} after surgery: the next is due within "
                "{months} months ({phase}).",
                year=whole_months(operated, anchor) // 12 + 1,
                months=standard,
                phase=phase,
            )
    if risk.unknown:
        why = then(
            why,
            _(
                "If the risk of recurrence is high (Ki-67 > {ki67} or positive nodes, which the "
                "record does not settle), every {months:g} months.",
                ki67=percent(RISK_KI67),
                months=high,
            ),
        )
    advice = _(
        "After resection, follow-up with cross-sectional imaging — triple-phase contrast CT of "
        "the abdomen, or MRI — is advised every year for the first three years, then every one "
        "to two years for a total of 10 years; a Ki-67 index > {ki67} or positive lymph nodes "
        "warrant more frequent follow-up. Serum markers (CgA and the relevant hormone) complement "
        "imaging (R Postoperative follow-up).",
        ki67=percent(RISK_KI67),
    )
    surgery_line = _(
        "Curative-intent surgery: {surgery}, {date}.", surgery=surgery.text, date=operated
    )
    advice += "\n\n" + then(surgery_line, why)
    if p.in_remission:
        advice = then(advice, _("The pNEN is recorded in remission."))
    undated = [f for f in studies if f.when is None]
    undated_dates = (_("date of the abdominal imaging study {ref}", ref=f.ref) for f in undated)
    missing = [*risk.missing, *undated_dates]
    pending = p.planned("abdominal-imaging")
    suggestions: tuple[Suggestion, ...] = ()
    if pending:
        advice = then(advice, _("An abdominal imaging order is already on record."))
    else:
        order = _("Order multiphasic contrast-enhanced CT abdomen and pelvis")
        suggestions = (Suggestion(order, (create("ct-abdomen-pelvis-multiphase", order),)),)
    criteria = (curative, risk, study)
    policy = () if risk.not_met else (ctx.settings.describe("followup-high-risk-months"),)
    evidence = tuple(dict.fromkeys(f for c in criteria for f in c.evidence))
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=summary,
        advice=advice,
        evidence=(*evidence, *undated, *pending),
        criteria=criteria,
        missing=tuple(dict.fromkeys(missing)),
        local_policy=policy,
        suggestions=suggestions,
    )

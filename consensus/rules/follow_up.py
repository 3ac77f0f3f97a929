"""H. Follow-up: imaging after curative-intent resection (consensus-rules.md H; R).

Decisions where the spec left room (the source was followed):
- Resection: R's schedule applies "after surgical resection" of the pNET, so a completed
  pancreatic resection (pancreatoduodenectomy, distal or other pancreatectomy) counts as well as a
  completed liver resection, once NED follows. Years are counted from the latest dated resection
  (surveillance restarts with each curative operation); an undated resection cannot be placed.
- NED is an open fact. The latest NED observation or progression dated on or after the resection
  decides: NED yes → curative-intent resection; NED no or a progression → not in surveillance,
  silent. Nothing recorded after the resection → the card fires with NED listed as missing: this
  schedule is the least frequent one, so imaging is due anyway if disease remains.
- Interval after the last abdominal CT/MRI (or after the resection when none since): 12 months
  when that study was done within the first 3 years after surgery, otherwise 24 months (R:
  "every year for the first three years … then every one to two years"; the spec takes 24). This
  gives R's yearly studies at years 1, 2 and 3, then two-yearly. A study in the interval's last
  day counts: exactly 12 months later is not yet overdue. Months are 30.44 days, as in
  `Patient.stable_months`.
- High risk (highest Ki-67 > 5 %, or positive lymph nodes: N1 or higher) → the local 6-month
  interval in every year (never longer than the standard one). Risk unknown: overdue by the
  standard interval → due, saying the risk is unknown; overdue only by the high-risk interval →
  "may be due", naming the missing Ki-67 or N category.
- More than 10 years after surgery: silent (R: "for a total of 10 years").
- Every abdominal CT or MRI on record counts (fhir-mapping.md, PET/CT included); undated studies
  cannot be placed and are listed as missing. An abdominal imaging order already planned is named
  instead of being suggested again.
"""

from __future__ import annotations

from datetime import date

from consensus.criteria import Criterion, any_of, known, unknown
from consensus.patient import LIVER_RESECTIONS, PANCREATECTOMIES, Patient
from consensus.recommendation import PV, Indicator, Recommendation, RuleInfo, Suggestion, create
from consensus.registry import RuleContext, rule
from fhir_mappings.facts import Fact

AREA = "H. Follow-up"
RESECTIONS = (*LIVER_RESECTIONS, *PANCREATECTOMIES)
MONTH_DAYS = 30.44  # the month length of Patient.stable_months
YEARLY_PHASE_MONTHS = 36  # R: every year for the first three years after resection
FIRST_INTERVAL_MONTHS = 12  # R: every year
LATER_INTERVAL_MONTHS = 24  # R: then every one to two years
TOTAL_MONTHS = 120  # R: for a total of 10 years
RISK_KI67 = 5  # R: a Ki-67 index greater than 5 %
CURATIVE = "curative-intent resection (resection followed by NED)"
HIGH_RISK = "high risk of recurrence (Ki-67 > 5 % or positive nodes)"


def days(months: float) -> int:
    """Whole days in a number of months."""
    return round(months * MONTH_DAYS)


def _curative(p: Patient, surgery: Fact, operated: date) -> Criterion:
    """The resection followed by NED: the latest NED or progression after it decides."""
    after = [
        f
        for f in (*p.facts.all("ned"), *p.progressions)
        if f.when is not None and f.when >= operated
    ]
    if not after:
        return unknown(CURATIVE, f"NED after the resection of {operated}", (surgery,))
    # A progression on the same day as a NED record outweighs it (not in surveillance).
    latest = max(after, key=lambda f: (f.when or date.min, f.kind != "ned"))
    return known(CURATIVE, latest.kind == "ned" and latest.value is True, (surgery, latest))


def _nodes(p: Patient) -> Criterion:
    """Positive lymph nodes (N1 or higher) from the latest N category."""
    name = "positive lymph nodes (N1)"
    fact = p.facts.latest("tnm-n")
    if fact is None:
        return unknown(name, "N category (TNM)")
    digit = str(fact.value)[1:2]
    if digit.isdigit():
        return known(name, digit != "0", (fact,))
    return unknown(name, "N category (recorded as NX)", (fact,))


def _risk(p: Patient) -> Criterion:
    """R: Ki-67 > 5 % or any positive lymph node warrants more frequent follow-up."""
    ki67 = p.ki67_criterion(f"highest Ki-67 > {RISK_KI67} %", ">", RISK_KI67)
    return any_of(HIGH_RISK, ki67, _nodes(p))


def _year(surgery: date, day: date) -> int:
    """The year after surgery that a day falls in (1 = the first twelve months)."""
    return max((day - surgery).days - 1, 0) // days(12) + 1


@rule(
    "followup-imaging-due",
    "Follow-up imaging due after curative-intent resection",
    [PV],
    "R Postoperative follow-up",
    AREA,
    in_remission=True,
)
def followup_imaging_due(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """No abdominal CT/MRI within the follow-up interval after a resection followed by NED."""
    p = ctx.patient
    if not p.has_pnen:
        return None
    resections = [(f.when, f) for f in p.done(*RESECTIONS) if f.when is not None]
    if not resections:
        return None
    operated, surgery = max(resections, key=lambda pair: (pair[0], pair[1].ref))
    since_surgery = (ctx.today - operated).days
    if not 0 <= since_surgery <= days(TOTAL_MONTHS):  # R: follow-up for a total of 10 years
        return None
    curative = _curative(p, surgery, operated)
    if curative.not_met:
        return None
    studies = p.imaging("abdominal-imaging")
    dated = [(f.when, f) for f in studies if f.when is not None and f.when >= operated]
    anchor, last = (
        max(dated, key=lambda pair: (pair[0], pair[1].ref)) if dated else (operated, None)
    )
    # R: yearly in years 1–3, then every one to two years (24 months).
    in_yearly_phase = (anchor - operated).days < days(YEARLY_PHASE_MONTHS)
    standard = FIRST_INTERVAL_MONTHS if in_yearly_phase else LATER_INTERVAL_MONTHS
    high = min(ctx.settings.value("followup-high-risk-months"), standard)  # local default
    risk = _risk(p)
    elapsed = (ctx.today - anchor).days
    overdue_standard = elapsed > days(standard)
    overdue_high = elapsed > days(high)
    if risk.met:
        interval, due = high, overdue_high
    elif risk.not_met:
        interval, due = standard, overdue_standard
    else:
        interval, due = (standard if overdue_standard else high), overdue_high
    if not due:
        return None
    maybe = risk.unknown and not overdue_standard
    whole_months = int(elapsed // MONTH_DAYS)
    ago = (
        f"{whole_months} months ago" if whole_months > interval else f"over {interval:g} months ago"
    )
    interval_text = f"{interval:g} months"
    if last is not None:
        study = known(f"abdominal CT or MRI within {interval_text}", False, (last,))
        where = f"last {anchor} ({ago})"
    else:
        study = known(
            f"abdominal CT or MRI within {interval_text}",
            False,
            note="none recorded since the resection",
        )
        where = f"none since the resection of {operated} ({ago})"
    lead = "may be due (recurrence risk unknown)" if maybe else "due"
    summary = f"Follow-up abdominal CT/MRI {lead}: {where}; interval {interval_text}"
    if risk.met:
        why = (
            f"High risk of recurrence: imaging every {interval_text} (local policy for R's "
            '"increased frequency of follow-up").'
        )
    else:
        if last is None:
            why = f"No study since the resection: the first is due within {standard} months"
        else:
            year = _year(operated, anchor)
            why = f"The last study was in year {year} after surgery: the next is due within "
            why += f"{standard} months"
        why += " (yearly in years 1–3)." if in_yearly_phase else " (every two years in years 4–10)."
    if risk.unknown:
        why += (
            f" If the risk of recurrence is high (Ki-67 > 5 % or positive nodes, which the record "
            f"does not settle), every {high:g} months."
        )
    advice = (
        "After resection, follow-up with cross-sectional imaging — triple-phase contrast CT of "
        "the abdomen, or MRI — is advised every year for the first three years, then every one "
        "to two years for a total of 10 years; a Ki-67 index > 5 % or positive lymph nodes "
        "warrant more frequent follow-up. Serum markers (CgA and the relevant hormone) complement "
        f"imaging (R Postoperative follow-up).\n\nResection: {surgery.text}, {operated}. {why}"
    )
    if curative.unknown:
        advice += (
            " NED after the resection is not recorded; if disease remains, imaging is needed "
            "at least this often."
        )
    undated = [f for f in studies if f.when is None]
    missing = [*curative.missing, *risk.missing]
    missing += [f"date of the abdominal imaging study {f.ref}" for f in undated]
    pending = p.planned("abdominal-imaging")
    suggestions: tuple[Suggestion, ...] = ()
    if pending:
        advice += " An abdominal imaging order is already on record."
    else:
        suggestions = (
            Suggestion(
                "Order multiphasic contrast-enhanced CT abdomen and pelvis",
                (
                    create(
                        "ct-abdomen-pelvis-multiphase",
                        "Order multiphasic contrast-enhanced CT abdomen and pelvis",
                    ),
                ),
            ),
        )
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

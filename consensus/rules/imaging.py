"""B. Imaging and PET tracer choice (consensus-rules.md section B; C 1)."""

from __future__ import annotations

from consensus.criteria import known, unknown
from consensus.recommendation import (
    PV,
    Indicator,
    Recommendation,
    RuleInfo,
    Suggestion,
    create,
)
from consensus.registry import RuleContext, rule


@rule("pet-fdg", "18F-FDG PET/CT indicated", [PV], "C 1.4; C 3", "B. Imaging")
def pet_fdg(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """FDG PET for Ki-67 > 10 %, NEC, or G3 with differentiation unknown, when none is on record."""
    p = ctx.patient
    if not p.has_pnen or p.imaging("pet-fdg"):
        return None
    high = p.ki67_criterion("highest Ki-67 > 10 %", ">", 10)  # C 1.4: Ki-67 > 10 %
    kind, kind_evidence = p.differentiation
    if not (high.met or p.is_nec or p.is_g3_unknown):
        return None
    criteria = [high]
    if p.is_nec:
        criteria.append(known("NEC", True, kind_evidence))
    elif p.is_g3_unknown:
        criteria.append(known("G3, differentiation unknown", True, kind_evidence))
    else:
        criteria.append(unknown("NEC", "differentiation") if kind is None else known("NEC", False))
    criteria.append(known("FDG PET on record", False, note="none recorded"))
    advice = (
        "18F-FDG PET/CT is indicated for intermediate-to-high grade NET (Ki-67 > 10 %: some G2, "
        "all G3) and for NEC; FDG-avid disease carries a poorer prognosis."
    )
    if p.is_net and high.met:
        advice += (
            " For NET with Ki-67 > 10 %, combined 68Ga-SSA and FDG PET is more helpful for "
            "detection, prognosis and the choice of biopsy site."
        )
    return Recommendation(
        rule=info,
        indicator=Indicator.WARNING if p.is_nec else Indicator.INFO,
        summary="Order 18F-FDG PET/CT: "
        + (
            "NEC"
            if p.is_nec
            else "G3, differentiation unknown"
            if p.is_g3_unknown
            else "Ki-67 > 10 %"
        )
        + "; no FDG PET on record",
        advice=advice,
        evidence=tuple(f for c in criteria for f in c.evidence),
        criteria=tuple(criteria),
        suggestions=(
            Suggestion("Order 18F-FDG PET/CT", (create("pet-fdg", "Order 18F-FDG PET/CT"),)),
        ),
    )

"""A. Summary: the one-line picture of the pNEN (consensus-rules.md, section A).

Decisions where the spec left room (the source was followed):
- AJCC 8th edition NET stage groups apply to well-differentiated tumours only (R Staging: NEC
  follows the exocrine pancreatic cancer system). So only NEC is staged without a NET group by the
  spec; G3 with differentiation unknown and conflicting differentiation are too, since either
  could be a NEC: the card shows T, N and M and says why there is no stage group.
- "Any T N1 M0" is stage III with T not recorded as well.
"""

from __future__ import annotations

from consensus.patient import CONFLICT, G3_UNKNOWN, NEC, Patient
from consensus.recommendation import PV, Indicator, Recommendation, RuleInfo
from consensus.record_notes import record_notes
from consensus.registry import RuleContext, rule
from fhir_mappings.facts import LIVER, PRIMARY, Fact

_SITE_NAMES = {PRIMARY: "primary", LIVER: "liver", "unknown": "site unknown"}
# Why a tumour gets no NET stage group (R Staging: NEC is staged as exocrine pancreatic cancer).
_NO_NET_STAGE = {
    NEC: "NEC is staged as exocrine pancreatic cancer; no NET stage group",
    G3_UNKNOWN: "G3 with differentiation unknown: it may be a NEC, which is staged as exocrine "
    "pancreatic cancer; no NET stage group until differentiation is known",
    CONFLICT: "differentiation conflicting: it may be a NEC, which is staged as exocrine "
    "pancreatic cancer; no NET stage group until it is resolved",
}


def ajcc_stage(t: str | None, n: str | None, m: str | None) -> str | None:
    """AJCC 8th edition stage group for pNET from T, N, M; None when they do not settle it."""
    if m and m.upper().startswith("M1"):
        return "IV"  # any M1 (M1a liver, M1b extrahepatic, M1c both)
    if not (n and m) or m.upper() != "M0":
        return None
    n_up = n.upper()
    if n_up.startswith("N1"):
        return "III"  # any T N1 M0, T recorded or not
    t_num = t.upper()[1:2] if t else ""
    if n_up != "N0" or not t_num.isdigit():
        return None
    return {"1": "I", "2": "II", "3": "II", "4": "III"}.get(t_num)


def _tnm(patient: Patient) -> tuple[str | None, str | None, str | None, list[Fact]]:
    found = [patient.facts.latest(k) for k in ("tnm-t", "tnm-n", "tnm-m")]
    values = [str(f.value) if f else None for f in found]
    return values[0], values[1], values[2], [f for f in found if f]


@rule(
    "summary",
    "pNEN summary",
    [PV],
    "C 2; C 4; C 7.1; R Table 4; R Staging",
    "A. Summary",
    in_remission=True,
)
def summary(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """Differentiation, grade and site, Ki-67 by site, ENETS type, stage, SSTR, MGMT, syndrome."""
    p = ctx.patient
    if not p.has_pnen:
        return None
    evidence: list[Fact] = [*p.facts.all("pnen"), *p.facts.all("pnen-remission")]
    kind, kind_evidence = p.differentiation
    evidence += kind_evidence
    grade = p.overall_grade
    parts = [kind or "differentiation unknown"]
    if grade:
        parts.append(grade.label)
        evidence += grade.evidence
    ki67 = [
        f"{_SITE_NAMES[site]} {fact.value.display()} ({fact.when or 'undated'})"
        for site, fact in sorted(p.latest_ki67_by_site.items())
    ]
    evidence += p.latest_ki67_by_site.values()
    lines = [f"- Differentiation: {kind or 'unknown (none recorded)'}"]
    lines.append(
        f"- Overall grade: {grade.label if grade else 'unknown (no Ki-67, mitoses or grade)'}"
    )
    lines.append(f"- Ki-67 by site: {'; '.join(ki67) if ki67 else 'none recorded'}")
    if p.enets_type:
        parts.append(f"ENETS type {p.enets_type.value}")
        evidence.append(p.enets_type)
    lines.append(f"- ENETS liver type: {p.enets_type.value if p.enets_type else 'unknown'}")
    t, n, m, tnm_facts = _tnm(p)
    evidence += tnm_facts
    tnm = " ".join(x for x in (t, n, m) if x)
    if kind not in _NO_NET_STAGE:
        stage = ajcc_stage(t, n, m)
        if stage is None and p.has_liver_mets:
            stage = "IV"  # liver metastases are M1a or M1c
        recorded = p.facts.latest("tnm-stage")
        if recorded:
            evidence.append(recorded)
        stage_text = f"AJCC 8th stage {stage}" if stage else "stage unknown"
        lines.append(f"- Stage: {stage_text}{f' ({tnm})' if tnm else ''}")
        if stage:
            parts.append(f"stage {stage}")
    else:
        lines.append(f"- Stage: {tnm or 'TNM not recorded'} ({_NO_NET_STAGE[str(kind)]})")
    sstr = p.sstr_status
    sstr_text = "positive" if sstr.met else "negative" if sstr.not_met else "unknown"
    evidence += sstr.evidence
    lines.append(f"- SSTR: {sstr_text}")
    parts.append(f"SSTR {sstr_text}")
    if p.mgmt is not None:
        evidence.append(p.mgmt)
        parts.append(f"MGMT {p.mgmt.text.split()[-1]}")
    lines.append(f"- MGMT: {p.mgmt.text.split()[-1] if p.mgmt else 'not tested'}")
    syndromes = ", ".join(sorted(p.syndromes))
    evidence += p.functional
    lines.append(f"- Functional syndrome: {syndromes or 'none recorded'}")
    if syndromes:
        parts.append(syndromes)
    lines += record_notes(p)
    summary_text = "pNEN: " + ", ".join(parts)
    if p.has_liver_mets:
        summary_text = summary_text.replace("pNEN:", "pNEN with liver metastases:", 1)
    if p.in_remission:  # consensus-rules.md: the summary says which status the pNEN has
        summary_text = summary_text.replace("pNEN", "pNEN in remission", 1)
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=summary_text,
        advice="Current picture of the pancreatic neuroendocrine neoplasm; treat by the higher "
        "grade when primary and metastasis differ (C 2).\n\n" + "\n".join(lines),
        evidence=tuple(evidence),
        dashboard_link=True,
    )

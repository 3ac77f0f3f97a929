"""A. Summary: the one-line picture of the pNEN (consensus-rules.md, section A).

Decisions where the spec left room (the source was followed):
- AJCC 8th edition NET stage groups apply to well-differentiated tumours only (R Staging: NEC
  follows the exocrine pancreatic cancer system). So only NEC is staged without a NET group by the
  spec; G3 with differentiation unknown and conflicting differentiation are too, since either
  could be a NEC: the card shows T, N and M and says why there is no stage group.
- "Any T N1 M0" is stage III with T not recorded as well.
- The card summary keeps under 140 characters by adding whole parts in this order while they
  fit (status, differentiation and grade, grade history, stage, latest disease status, current
  therapy, ENETS type, SSTR, MGMT, syndrome): never a truncated word. The detail always shows
  every part.
- Line of systemic therapy: a regimen still running that started before the pNEN-LM diagnosis
  is line 1 (it is the first regimen of the metastatic course); a drug without a start date
  leaves the line unknown.
- Decisions waiting on data are not written here: the evaluation step derives them from every
  rule's criteria (`consensus.decisions_waiting`) and attaches them to this card.
"""

from __future__ import annotations

from consensus.patient import ACTIVE, CONFLICT, G3_UNKNOWN, NEC, REMISSION, Patient
from consensus.recommendation import PV, Indicator, Recommendation, RuleInfo
from consensus.record_notes import enets_reassess_note, record_notes
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


STATUS_WORDS = {ACTIVE: "active", REMISSION: "in remission"}


def pnen_status(p: Patient) -> tuple[str, tuple[Fact, ...]]:
    """'active' or 'in remission', with the pNEN Conditions and the dated fact that decides it."""
    status, decided_by = p.pnen_status_evidence
    conditions = (*p.facts.all("pnen"), *p.facts.all("pnen-remission"))
    extra = (decided_by,) if decided_by is not None and decided_by not in conditions else ()
    return STATUS_WORDS.get(str(status), str(status)), (*conditions, *extra)


def _therapy(p: Patient) -> tuple[str, str, tuple[Fact, ...]]:
    """The current systemic therapy: a short text, a detail line, and the medications."""
    regimen = p.regimen
    if not regimen.drugs:
        return "", "none recorded", ()
    names = ", ".join(dict.fromkeys(str(f.value.name) for f in regimen.drugs))
    since = f" since {regimen.start.isoformat()}" if regimen.start else " (start not recorded)"
    nth = f", line {regimen.line}" if regimen.line else ""
    changed = ""
    if regimen.latest_change and regimen.start and regimen.latest_change != regimen.start:
        changed = f", changed {regimen.latest_change.isoformat()}"  # an agent added
    detail = f"{names}{since}{changed}{nth or ', line unknown'}"
    return f"on {names}{since}{nth}", detail, regimen.drugs


def _fit(head: str, parts: list[str]) -> str:
    """The summary with as many parts as fit under 140 characters, in their order."""
    text = head
    for part in parts:
        candidate = f"{text}, {part}" if text != head else f"{text} {part}"
        if len(candidate) < 140:  # CDS Hooks: summary under 140 characters
            text = candidate
    return text


def _extrahepatic_sites(p: Patient) -> list[str]:
    """Named sites of extrahepatic metastases; 'site not recorded' only when none is named."""
    sites = list(dict.fromkeys(str(f.value) for f in p.extrahepatic))
    named = [s for s in sites if s != "extrahepatic site not recorded"]
    return named or sites


def _m1_spread(p: Patient) -> str | None:
    """'M1a: liver', 'M1b: lung' or 'M1c: liver + lung' from the metastases on record."""
    sites = " + ".join(_extrahepatic_sites(p))
    if p.has_liver_mets and sites:
        return f"M1c: liver + {sites}"
    if sites:
        return f"M1b: {sites}"
    return "M1a: liver" if p.has_liver_mets else None


def _extrahepatic_text(p: Patient) -> str:
    """Each extrahepatic metastasis with its date, or why none is shown."""
    if p.extrahepatic:
        return "; ".join(
            dict.fromkeys(f"{f.value} ({f.when or 'undated'})" for f in p.extrahepatic)
        )
    if p.extrahepatic_unknown:
        return "unknown (a metastasis is recorded without its site)"
    return "none recorded"


def _course_text(fact: Fact) -> str:
    """'progression', 'stable', or 'no evidence of disease' for a NED record."""
    if fact.kind == "ned":
        return "no evidence of disease" if fact.value is True else "disease present (NED: no)"
    return str(fact.value)


@rule(
    "summary",
    "pNEN summary",
    [PV],
    "C 2; C 4; C 7.1; R Table 4; R Staging",
    "A. Summary",
    in_remission=True,
)
def summary(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """Status, course, therapy, differentiation, grade, Ki-67, ENETS type, stage, SSTR, MGMT."""
    p = ctx.patient
    if not p.has_pnen:
        return None
    status, status_evidence = pnen_status(p)
    evidence: list[Fact] = list(status_evidence)
    kind, kind_evidence = p.differentiation
    evidence += kind_evidence
    grade = p.overall_grade
    parts = [kind or "differentiation unknown"]
    if kind == G3_UNKNOWN:
        parts[0] = "G3 (differentiation unknown)"  # the grade is in the class's name (CR-6)
    elif grade:
        parts[0] += f" {grade.grade_text}"
    if grade:
        evidence += (*grade.evidence, *grade.history_evidence)
    if grade and grade.history:
        parts.append(f"({'; '.join(grade.history)})")  # an earlier, higher grade is never hidden
    lines = [f"- pNEN status: {status}"]
    course = p.latest_course
    if course is not None:
        when = course.when.isoformat() if course.when else "undated"
        lines.append(f"- Latest disease status: {_course_text(course)} ({when})")
        evidence.append(course)
    else:
        lines.append("- Latest disease status: none recorded")
    therapy_short, therapy_line, therapy = _therapy(p)
    lines.append(f"- Current systemic therapy: {therapy_line}")
    evidence += therapy
    prior = p.prior_regimens
    if prior:
        given = "; ".join(
            f"{f.value.name} {f.value.start} to {f.value.end}"
            if f.value.end
            else f"{f.value.name} from {f.value.start} ({f.value.status}, end not recorded)"
            for f in prior
        )
        lines.append(f"- Earlier systemic therapy since the diagnosis: {given}")
        evidence += prior
    ki67 = [
        f"{_SITE_NAMES[site]} {fact.value.display()} ({fact.when or 'undated'})"
        for site, fact in sorted(p.latest_ki67_by_site.items())
    ]
    evidence += p.latest_ki67_by_site.values()
    lines.append(f"- Differentiation: {kind or 'unknown (none recorded)'}")
    lines.append(
        f"- Overall grade: {grade.label if grade else 'unknown (no Ki-67, mitoses or grade)'}"
    )
    lines.append(f"- Ki-67 by site: {'; '.join(ki67) if ki67 else 'none recorded'}")
    t, n, m, tnm_facts = _tnm(p)
    evidence += tnm_facts
    tnm = " ".join(x for x in (t, n, m) if x)
    if kind not in _NO_NET_STAGE:
        stage = ajcc_stage(t, n, m)
        if stage is None and (p.has_liver_mets or p.extrahepatic):
            stage = "IV"  # distant metastases are M1 (liver M1a, extrahepatic M1b, both M1c)
        recorded = p.facts.latest("tnm-stage")
        if recorded:
            evidence.append(recorded)
        spread = _m1_spread(p) if stage == "IV" else None
        stage_text = f"AJCC 8th stage {stage}" if stage else "stage unknown"
        stage_text += f" ({spread})" if spread else ""
        lines.append(f"- Stage: {stage_text}{f' ({tnm})' if tnm else ''}")
        if stage:
            # Extrahepatic disease changes the options (C 6.2, C 12): never left out (CR-8).
            parts.append(
                f"stage {stage} ({spread})" if spread and p.extrahepatic else f"stage {stage}"
            )
    else:
        lines.append(f"- Stage: {tnm or 'TNM not recorded'} ({_NO_NET_STAGE[str(kind)]})")
    evidence += p.extrahepatic
    lines.append(f"- Extrahepatic metastases: {_extrahepatic_text(p)}")
    if course is not None:
        parts.append(
            f"{_course_text(course)} {course.when.isoformat() if course.when else '(undated)'}"
        )
    if therapy_short:
        parts.append(therapy_short)
    enets = p.enets_type
    outdated = p.enets_outdated_by
    if enets and outdated:
        parts.append(f"ENETS type {enets.value} ({enets.when}, re-assess)")
        evidence += (enets, outdated)
        lines.append(f"- ENETS liver type: {enets.value} ({enets.when}) — {enets_reassess_note(p)}")
    elif enets:
        parts.append(f"ENETS type {enets.value}")
        evidence.append(enets)
        lines.append(f"- ENETS liver type: {enets.value}")
    else:
        lines.append("- ENETS liver type: unknown")
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
    where = " with liver metastases" if p.has_liver_mets else ""
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=_fit(f"pNEN {status}{where}:", parts),
        advice="Current picture of the pancreatic neuroendocrine neoplasm; treat by the higher "
        "grade when primary and metastasis differ (C 2).\n\n" + "\n".join(lines),
        evidence=tuple(dict.fromkeys(evidence)),
        dashboard_link=True,
        digest=True,
    )

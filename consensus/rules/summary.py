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

from collections.abc import Mapping

from consensus.patient import (
    ACTIVE,
    CONFLICT,
    G3_UNKNOWN,
    HISTORY_SITE_NAMES,
    NEC,
    NET,
    REMISSION,
    Patient,
)
from consensus.recommendation import PV, Indicator, Recommendation, RuleInfo
from consensus.record_notes import enets_reassess_note, record_notes
from consensus.registry import RuleContext, rule
from fhir_mappings.facts import SYNDROME_NAMES, Fact
from pnen_i18n import N_, _

# Why a tumour gets no NET stage group (R Staging: NEC is staged as exocrine pancreatic cancer).
_NO_NET_STAGE = {
    NEC: N_("NEC is staged as exocrine pancreatic cancer; no NET stage group"),
    G3_UNKNOWN: N_(
        "G3 with differentiation unknown: it may be a NEC, which is staged as exocrine "
        "pancreatic cancer; no NET stage group until differentiation is known"
    ),
    CONFLICT: N_(
        "differentiation conflicting: it may be a NEC, which is staged as exocrine "
        "pancreatic cancer; no NET stage group until it is resolved"
    ),
}
# The words shown for canonical values the rules compare (the values themselves stay English).
_KIND_NAMES = {
    NET: N_("NET"),
    NEC: N_("NEC"),
    G3_UNKNOWN: N_("G3, differentiation unknown"),
    CONFLICT: N_("conflicting differentiation"),
}
_COURSE_NAMES = {
    "progression": N_("progression"),
    "remission": N_("remission"),
    "stable": N_("stable"),
    "improved": N_("improved"),
    "undetermined": N_("undetermined"),
}
# An earlier regimen with no end date, by its medication status: a whole sentence each, since a
# medication's 'active' is not the pNEN's 'active' in every language.
_OPEN_REGIMEN = {
    "active": N_("{drug} from {start} (active, end not recorded)"),
    "on-hold": N_("{drug} from {start} (on-hold, end not recorded)"),
    "completed": N_("{drug} from {start} (completed, end not recorded)"),
    "stopped": N_("{drug} from {start} (stopped, end not recorded)"),
    "intended": N_("{drug} from {start} (intended, end not recorded)"),
    "unknown": N_("{drug} from {start} (unknown, end not recorded)"),
}
NO_SITE = N_("extrahepatic site not recorded")  # fhir_mappings' value for a site not named


def _shown(value: object, names: Mapping[str, str]) -> str:
    """A canonical value in the current locale; record text not in `names` as written."""
    text = str(value)
    return _(names[text]) if text in names else text


def _regimen_given(fact: Fact) -> str:
    """An earlier regimen: its drug and dates, or its start and status when its end is missing."""
    drug, start, end, status = fact.value.name, fact.value.start, fact.value.end, fact.value.status
    if end:
        return _("{drug} {start} to {end}", drug=drug, start=start, end=end)
    if str(status) in _OPEN_REGIMEN:
        return _(_OPEN_REGIMEN[str(status)], drug=drug, start=start)
    return _(
        "{drug} from {start} ({status}, end not recorded)", drug=drug, start=start, status=status
    )


def _paren(text: str, detail: str) -> str:
    """'text (detail)', with the current locale's brackets."""
    return _("{text} ({detail})", text=text, detail=detail)


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


STATUS_WORDS = {ACTIVE: N_("active"), REMISSION: N_("in remission")}


def pnen_status(p: Patient) -> tuple[str, tuple[Fact, ...]]:
    """'active' or 'in remission', with the pNEN Conditions and the dated fact that decides it."""
    status, decided_by = p.pnen_status_evidence
    conditions = (*p.facts.all("pnen"), *p.facts.all("pnen-remission"))
    extra = (decided_by,) if decided_by is not None and decided_by not in conditions else ()
    return _shown(status, STATUS_WORDS), (*conditions, *extra)


def _therapy(p: Patient) -> tuple[str, str, tuple[Fact, ...]]:
    """The current systemic therapy: a short text, a detail line, and the medications."""
    regimen = p.regimen
    if not regimen.drugs:
        return "", _("none recorded"), ()
    names = ", ".join(dict.fromkeys(str(f.value.name) for f in regimen.drugs))
    if regimen.start:
        short = _("on {drugs} since {date}", drugs=names, date=regimen.start)
        detail = _("{drugs} since {date}", drugs=names, date=regimen.start)
    else:
        short = _("on {drugs} (start not recorded)", drugs=names)
        detail = _("{drugs} (start not recorded)", drugs=names)
    if regimen.latest_change and regimen.start and regimen.latest_change != regimen.start:
        # an agent added
        detail = _("{therapy}, changed {date}", therapy=detail, date=regimen.latest_change)
    if regimen.line:
        short = _("{therapy}, line {line}", therapy=short, line=regimen.line)
        detail = _("{therapy}, line {line}", therapy=detail, line=regimen.line)
    else:
        detail = _("{therapy}, line unknown", therapy=detail)
    return short, detail, regimen.drugs


def _fit(head: str, parts: list[str]) -> str:
    """The summary with as many parts as fit under 140 characters, in their order."""
    text = head
    for part in parts:
        if text != head:
            candidate = _("{summary}, {part}", summary=text, part=part)
        else:
            candidate = _("{head} {part}", head=text, part=part)
        if len(candidate) < 140:  # CDS Hooks: summary under 140 characters (characters, not bytes)
            text = candidate
    return text


def _extrahepatic_sites(p: Patient) -> list[str]:
    """Named sites of extrahepatic metastases; 'site not recorded' only when none is named."""
    sites = list(dict.fromkeys(str(f.value) for f in p.extrahepatic))
    named = [s for s in sites if s != NO_SITE]
    return [_(s) if s == NO_SITE else s for s in named or sites]


def _m1_spread(p: Patient) -> str | None:
    """'M1a: liver', 'M1b: lung' or 'M1c: liver + lung' from the metastases on record."""
    sites = " + ".join(_extrahepatic_sites(p))
    if p.has_liver_mets and sites:
        return _("M1c: liver + {sites}", sites=sites)
    if sites:
        return _("M1b: {sites}", sites=sites)
    return _("M1a: liver") if p.has_liver_mets else None


def _extrahepatic_text(p: Patient) -> str:
    """Each extrahepatic metastasis with its date, or why none is shown."""
    if p.extrahepatic:
        return "; ".join(
            dict.fromkeys(
                _paren(_shown(f.value, {NO_SITE: NO_SITE}), str(f.when or _("undated")))
                for f in p.extrahepatic
            )
        )
    if p.extrahepatic_unknown:
        return _("unknown (a metastasis is recorded without its site)")
    return _("none recorded")


def _course_text(fact: Fact) -> str:
    """'progression', 'stable', or 'no evidence of disease' for a NED record."""
    if fact.kind == "ned":
        return _("no evidence of disease") if fact.value is True else _("disease present (NED: no)")
    return _shown(fact.value, _COURSE_NAMES)


@rule(
    "summary",
    N_("pNEN summary"),
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
    kind_name = _shown(kind, _KIND_NAMES) if kind else ""
    if kind == G3_UNKNOWN:
        first = _("G3 (differentiation unknown)")  # the grade is in the class's name (CR-6)
    elif grade:
        first = _(
            "{kind} {grade}", kind=kind_name or _("differentiation unknown"), grade=grade.grade_text
        )
    else:
        first = kind_name or _("differentiation unknown")
    parts = [first]
    if grade:
        evidence += (*grade.evidence, *grade.history_evidence)
    if grade and grade.history:
        # an earlier, higher grade is never hidden
        parts.append(_("({history})", history="; ".join(grade.history)))
    lines = [_("- pNEN status: {status}", status=status)]
    course = p.latest_course
    if course is not None:
        when = course.when.isoformat() if course.when else _("undated")
        course_line = _paren(_course_text(course), when)
        lines.append(_("- Latest disease status: {status}", status=course_line))
        evidence.append(course)
    else:
        lines.append(_("- Latest disease status: none recorded"))
    therapy_short, therapy_line, therapy = _therapy(p)
    lines.append(_("- Current systemic therapy: {therapy}", therapy=therapy_line))
    evidence += therapy
    prior = p.prior_regimens
    if prior:
        given = "; ".join(_regimen_given(f) for f in prior)
        lines.append(_("- Earlier systemic therapy since the diagnosis: {therapy}", therapy=given))
        evidence += prior
    ki67 = [
        _(
            "{site} {value} ({date})",
            site=_(HISTORY_SITE_NAMES[site]),
            value=fact.value.display(),
            date=fact.when or _("undated"),
        )
        for site, fact in sorted(p.latest_ki67_by_site.items())
    ]
    evidence += p.latest_ki67_by_site.values()
    lines.append(_("- Differentiation: {kind}", kind=kind_name or _("unknown (none recorded)")))
    overall = grade.label if grade else _("unknown (no Ki-67, mitoses or grade)")
    lines.append(_("- Overall grade: {grade}", grade=overall))
    lines.append(_("- Ki-67 by site: {ki67}", ki67="; ".join(ki67) if ki67 else _("none recorded")))
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
        stage_text = _("AJCC 8th stage {stage}", stage=stage) if stage else _("stage unknown")
        stage_text = _paren(stage_text, spread) if spread else stage_text
        stage_text = _paren(stage_text, tnm) if tnm else stage_text
        lines.append(_("- Stage: {stage}", stage=stage_text))
        if stage:
            # Extrahepatic disease changes the options (C 6.2, C 12): never left out (CR-8).
            parts.append(
                _("stage {stage} ({spread})", stage=stage, spread=spread)
                if spread and p.extrahepatic
                else _("stage {stage}", stage=stage)
            )
    else:
        why_not = _(_NO_NET_STAGE[str(kind)])
        shown = tnm or _("TNM not recorded")
        lines.append(_("- Stage: {stage}", stage=_paren(shown, why_not)))
    evidence += p.extrahepatic
    lines.append(_("- Extrahepatic metastases: {metastases}", metastases=_extrahepatic_text(p)))
    if course is not None:
        parts.append(
            _("{status} {date}", status=_course_text(course), date=course.when)
            if course.when
            else _("{status} (undated)", status=_course_text(course))
        )
    if therapy_short:
        parts.append(therapy_short)
    enets = p.enets_type
    outdated = p.enets_outdated_by
    if enets and outdated:
        parts.append(_("ENETS type {type} ({date}, re-assess)", type=enets.value, date=enets.when))
        evidence += (enets, outdated)
        lines.append(
            _(
                "- ENETS liver type: {type} ({date}) — {note}",
                type=enets.value,
                date=enets.when,
                note=enets_reassess_note(p),
            )
        )
    elif enets:
        parts.append(_("ENETS type {type}", type=enets.value))
        evidence.append(enets)
        lines.append(_("- ENETS liver type: {type}", type=enets.value))
    else:
        lines.append(_("- ENETS liver type: unknown"))
    sstr = p.sstr_status
    sstr_text = _("positive") if sstr.met else _("negative") if sstr.not_met else _("unknown")
    evidence += sstr.evidence
    lines.append(_("- SSTR: {status}", status=sstr_text))
    parts.append(_("SSTR {status}", status=sstr_text))
    if p.mgmt is not None:
        evidence.append(p.mgmt)
        parts.append(_("MGMT {score}", score=p.mgmt.text.split()[-1]))
    unread_mgmt = p.unread("mgmt-ihc")
    if p.mgmt:
        mgmt = p.mgmt.text.split()[-1]
    elif unread_mgmt:
        refs = ", ".join(f.ref for f in unread_mgmt)
        mgmt = _("on record, could not be read ({refs})", refs=refs)
        evidence += unread_mgmt
    else:
        mgmt = _("not tested")
    lines.append(_("- MGMT: {score}", score=mgmt))
    syndromes = ", ".join(_shown(s, SYNDROME_NAMES) for s in sorted(p.syndromes))
    evidence += p.functional
    lines.append(_("- Functional syndrome: {syndromes}", syndromes=syndromes or _("none recorded")))
    if syndromes:
        parts.append(syndromes)
    lines += record_notes(p)
    if p.has_liver_mets:
        head = _("pNEN {status} with liver metastases:", status=status)
    else:
        head = _("pNEN {status}:", status=status)
    advice = _(
        "Current picture of the pancreatic neuroendocrine neoplasm; treat by the higher "
        "grade when primary and metastasis differ (C 2)."
    )
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=_fit(head, parts),
        advice=advice + "\n\n" + "\n".join(lines),
        evidence=tuple(dict.fromkeys(evidence)),
        dashboard_link=True,
        digest=True,
    )

"""D. Molecular: MGMT testing and TMZ choice, actionable alterations (consensus-rules.md D; C 3).

Decisions where the spec left room (the source was followed):
- `mgmt-test`: "progression" is any progression on record, not only the latest status: C 13
  ties MGMT to the choice of systemic regimen, which a past progression already puts on the table.
  An MGMT IHC order that is already planned is named instead of suggested again.
- `mgmt-tmz-mismatch`: C 13 names "surufatinib alone, or oxaliplatin combined with
  fluoropyrimidines". When a fluoropyrimidine is drafted beside the TMZ (CAPTEM, STEM), the
  oxaliplatin suggestion keeps it as the fluoropyrimidine partner instead of adding fluorouracil,
  and the surufatinib suggestion removes it too ("surufatinib alone").
- `molecular-actionable`: C 3 "Immunotherapies are highly effective in MSI/TMB-H/CPS-expressing
  tumors" is tempered by R Immunotherapy ("anti-PD-1 … GEP-NETs … ORR < 10%"), as the spec says.
"""

from __future__ import annotations

from consensus.criteria import alternatives, any_of, known, unknown
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
from consensus.registry import RuleContext, rule
from fhir_mappings.facts import Draft, Fact
from pnen_i18n import N_, _

FLUOROPYRIMIDINES = ("capecitabine", "s1", "fluorouracil")
FLUOROPYRIMIDINE_NAMES = {
    "capecitabine": N_("capecitabine"),
    "s1": N_("S-1"),
    "fluorouracil": N_("fluorouracil"),
}
PLATINUM_GENES = ("RB1", "BRCA2")
TARGETED_GENES = ("NTRK1", "NTRK2", "NTRK3", "RET")
AREA = "D. Molecular"


def mgmt_label(score: int) -> str:
    """'0', '1+', '2+', '3+'."""
    return f"{score}+" if score else "0"


@rule("mgmt-test", N_("MGMT immunohistochemistry indicated"), [PV], "C 3; C 13", AREA)
def mgmt_test(ctx: RuleContext, info: RuleInfo) -> Recommendation | Evaluation | None:
    """MGMT IHC for NET with type II/III liver metastases or progression and no MGMT result."""
    p = ctx.patient
    if not p.pnen_lm or not p.is_net or p.mgmt is not None:
        return None
    progressions = p.progressions
    if p.enets_type is None:
        enets = unknown(_("ENETS type II or III"), _("ENETS liver-metastasis type"))
    else:
        enets = known(_("ENETS type II or III"), p.enets_is("II", "III"), (p.enets_type,))
    progressed = known(
        _("progression recorded"),
        bool(progressions),
        progressions[-1:],
        note="" if progressions else _("none recorded"),
    )
    kind_evidence = p.differentiation[1]
    net_lm = known(
        _("NET with liver metastases"),
        True,
        (*kind_evidence, *p.facts.all("liver-metastasis")[:1]),
    )
    unread = p.unread("mgmt-ihc")
    no_mgmt = (
        known(_("MGMT IHC on record"), False, unread, note=_("on record, could not be read"))
        if unread
        else known(_("MGMT IHC on record"), False, note=_("none recorded"))
    )
    if not (enets.met or progressed.met):
        # Either indication would do: silent, but waiting on the ENETS type when it is unknown.
        either = any_of(_("ENETS type II or III, or progression"), enets, progressed)
        none_yet = known(_("no MGMT IHC on record"), True, note=_("none recorded"))
        return silent(info, (net_lm, either, none_yet)) if either.unknown else None
    criteria = [net_lm, *alternatives(enets, progressed), no_mgmt]
    pending = p.planned("mgmt-ihc")
    advice = _(
        "MGMT immunohistochemistry guides the choice between temozolomide (TMZ)-based regimens "
        "and others: TMZ regimens work well in MGMT 0/1+ tumours and have limited efficacy in "
        "MGMT 2+/3+ tumours (C 3, C 13)."
    )
    suggestions: tuple[Suggestion, ...] = ()
    if unread:
        advice += " " + _(
            "An MGMT result is on record but could not be read ({refs}): read it in the record "
            "before ordering the test again.",
            refs=", ".join(f.ref for f in unread),
        )
    if pending:
        advice += " " + _(
            "An MGMT IHC order is already pending; its result will settle the choice."
        )
        summary = _("MGMT IHC ordered, no result yet: it guides the choice of TMZ-based therapy")
    else:
        summary = (
            _("MGMT result on record could not be read: check it, else test MGMT by IHC")
            if unread
            else _("Test MGMT by IHC (no result on record): it guides the choice of TMZ therapy")
        )
        suggestions = (
            Suggestion(
                _("Order MGMT immunohistochemistry"), (create("mgmt-ihc", _("Order MGMT IHC")),)
            ),
        )
    return Recommendation(
        rule=info,
        indicator=Indicator.INFO,
        summary=summary,
        advice=advice,
        evidence=(*(f for c in criteria for f in c.evidence), *pending),
        criteria=tuple(criteria),
        suggestions=suggestions,
    )


def _swap_suggestions(tmz: tuple[Draft, ...], partners: tuple[Draft, ...]) -> list[Suggestion]:
    """Replace the drafted TMZ with oxaliplatin + fluoropyrimidine, or with surufatinib alone."""
    removed = [delete(d.ref, _("Remove the drafted temozolomide ({ref})", ref=d.ref)) for d in tmz]
    oxaliplatin: list[Action] = [*removed, create("oxaliplatin", _("Order oxaliplatin"))]
    if partners:
        partner = ", ".join(_name(d) for d in partners)
        label = _(
            "Replace temozolomide with oxaliplatin (keep the drafted {partner})", partner=partner
        )
    else:
        oxaliplatin.append(create("fluorouracil", _("Order fluorouracil")))
        label = _("Replace temozolomide with oxaliplatin + fluorouracil (FOLFOX-type)")
    surufatinib: list[Action] = [
        *removed,
        *(
            delete(d.ref, _("Remove the drafted {name} ({ref})", name=_name(d), ref=d.ref))
            for d in partners
        ),
        create("surufatinib", _("Order surufatinib")),
    ]
    return [
        Suggestion(label, tuple(oxaliplatin), is_recommended=False),
        Suggestion(
            _("Replace temozolomide with surufatinib alone"),
            tuple(surufatinib),
            is_recommended=False,
        ),
    ]


def _name(draft: Draft) -> str:
    """The fluoropyrimidine a drafted partner order contains."""
    kinds = draft.order.kinds if draft.order else frozenset()
    return " + ".join(_(FLUOROPYRIMIDINE_NAMES[k]) for k in FLUOROPYRIMIDINES if k in kinds)


@rule(
    "mgmt-tmz-mismatch",
    N_("Temozolomide drafted without MGMT 0/1+"),
    [OS, SIGN],
    "C 3; C 13",
    AREA,
)
def mgmt_tmz_mismatch(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """A TMZ regimen drafted while MGMT is 2+/3+ (warning) or untested (info)."""
    p = ctx.patient
    tmz = ctx.drafted("tmz")
    if not p.has_pnen or not tmz or p.mgmt_high is False:
        return None
    drafted = known(_("temozolomide drafted"), True, [d.as_fact() for d in tmz])
    if p.mgmt is None:
        pending = (*p.planned("mgmt-ihc"), *(d.as_fact() for d in ctx.drafted("mgmt-ihc")))
        criteria = (drafted, unknown(_("MGMT 0/1+"), _("MGMT IHC score (0, 1+, 2+ or 3+)")))
        advice = _(
            "Test MGMT first: TMZ-based regimens reach an ORR of ~36–57 % in MGMT 0/1+ tumours "
            "but only ~8–19 % in MGMT 2+/3+ tumours (C 13); MGMT IHC guides the choice (C 3)."
        )
        suggestions: tuple[Suggestion, ...] = ()
        if pending:
            advice += " " + _("An MGMT IHC order is already on record or drafted.")
        else:
            suggestions = (
                Suggestion(
                    _("Order MGMT immunohistochemistry"),
                    (create("mgmt-ihc", _("Order MGMT IHC")),),
                ),
            )
        return Recommendation(
            rule=info,
            indicator=Indicator.INFO,
            summary=_("Temozolomide drafted with MGMT status unknown: test MGMT IHC first"),
            advice=advice,
            evidence=(*drafted.evidence, *pending),
            criteria=criteria,
            missing=criteria[1].missing,
            suggestions=suggestions,
        )
    score = mgmt_label(int(p.mgmt.value))
    partners = tuple(
        d for d in ctx.drafted(*FLUOROPYRIMIDINES) if d.order and "tmz" not in d.order.kinds
    )
    criteria = (drafted, known(_("MGMT 2+/3+"), True, (p.mgmt,)))  # C 13: MGMT-positive = 2/3+
    return Recommendation(
        rule=info,
        indicator=Indicator.WARNING,
        summary=_(
            "MGMT {score}: TMZ regimens reach ORR ~8–19 % (vs 36–57 % in MGMT 0/1+); "
            "consider a non-TMZ regimen",
            score=score,
        ),
        advice=_(
            "MGMT is {score}. TMZ-based regimens reach an ORR of only ~8–19 % in MGMT 2+/3+ "
            "pNETs, against 36–57 % in MGMT 0/1+ (STEM, E2211; C 13). The consensus suggests "
            "regimens without TMZ for MGMT 2+/3+: surufatinib alone, or oxaliplatin with a "
            "fluoropyrimidine such as FOLFOX — noting that the evidence for these alternatives "
            "is limited (retrospective FOLFOX series, ORR 30–53 %; surufatinib ORR 19.2 % in "
            "SNET-p).",
            score=score,
        ),
        evidence=tuple(f for c in criteria for f in c.evidence)
        + tuple(d.as_fact() for d in partners),
        criteria=criteria,
        suggestions=tuple(_swap_suggestions(tmz, partners)),
    )


# What a gene result records (fact values stay canonical; the card names them in its language).
CHANGES = {"alteration": N_("{gene} alteration"), "fusion": N_("{gene} fusion")}


def _gene_change(fact: Fact) -> str:
    """'RB1 alteration' ('RB1 变异')."""
    gene, change = fact.value[0], fact.value[1]
    return _(CHANGES[change], gene=gene) if change in CHANGES else f"{gene} {change}"


def _latest_genes(facts: tuple[Fact, ...], genes: tuple[str, ...]) -> list[Fact]:
    """The most recent alteration fact per gene among the given genes."""
    latest: dict[str, Fact] = {}
    for fact in facts:
        if fact.value[0] in genes:
            latest[fact.value[0]] = fact
    return [latest[g] for g in genes if g in latest]


def _immune_name(fact: Fact) -> str:
    """'MSI-H', 'TMB-high (12 mutations/Mb)', 'PD-L1 CPS 5'."""
    if fact.kind == "tmb":
        return _("TMB-high ({value})", value=fact.value.display())
    if fact.kind == "pdl1-cps":
        return _("PD-L1 CPS {value}", value=fact.value.display())
    return "MSI-H"


@rule(
    "molecular-actionable",
    N_("Actionable molecular findings"),
    [PV],
    "C 3; R Immunotherapy",
    AREA,
)
def molecular_actionable(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    """RB1/BRCA2 (platinum), MSI-H/TMB-high/PD-L1 CPS (immunotherapy), NTRK/RET (targeted)."""
    p = ctx.patient
    if not p.has_pnen:
        return None
    alterations = p.facts.all("gene-alteration")
    platinum = _latest_genes(alterations, PLATINUM_GENES)
    targeted = _latest_genes(alterations, TARGETED_GENES)
    immune: list[Fact] = []
    policy: list[str] = []
    msi = p.facts.latest("msi")
    if msi is not None and msi.value == "MSI-H":
        immune.append(msi)
    tmb = p.facts.latest("tmb")
    if tmb is not None and tmb.value.compare(">=", ctx.settings.value("tmb-high")):  # local default
        immune.append(tmb)
        policy.append(ctx.settings.describe("tmb-high"))
    cps = p.facts.latest("pdl1-cps")
    if cps is not None and cps.value.compare(">=", ctx.settings.value("pdl1-cps-positive")):
        immune.append(cps)  # local default: CPS positive from 1
        policy.append(ctx.settings.describe("pdl1-cps-positive"))
    if not (platinum or immune or targeted):
        return None
    found: list[str] = []
    lines: list[str] = []
    if platinum:
        names = [_gene_change(f) for f in platinum]
        found += names
        line = "- " + _(
            "{names}: RB1/BRCA2 alterations may predict response to "
            "platinum-based chemotherapy (C 3).",
            names=", ".join(names),
        )
        if ctx.patient.is_net:  # CR-13: platinum-etoposide is the scheme for NEC, not NET
            line += " " + _(
                "For a well-differentiated NET, platinum-etoposide is not a standard regimen "
                "(R Chemotherapy), and an RB1 alteration is unusual (TP53/RB1 point to NEC, C 3): "
                "review the differentiation (C 4)."
            )
        lines.append(line)
    if immune:
        names = [_immune_name(f) for f in immune]
        found += names
        lines.append(
            "- "
            + _(
                "{names}: may suggest immunotherapy (C 3). Anti-PD-1 therapy has an "
                "ORR < 10 % in GEP-NETs overall; PD-L1 expression, high TMB and MSI are more "
                "frequent in poorly differentiated NENs (R Immunotherapy).",
                names=", ".join(names),
            )
        )
    if targeted:
        names = [_gene_change(f) for f in targeted]
        found += names
        lines.append(
            "- "
            + _(
                "{names}: NTRK and RET alterations point to specific targeted therapy (C 3).",
                names=", ".join(names),
            )
        )
    evidence = (*platinum, *immune, *targeted)
    return recommend(
        info,
        Indicator.INFO,
        _("Actionable molecular findings: {findings}", findings=", ".join(found)),
        _("Molecular findings that bear on the choice of therapy:") + "\n\n" + "\n".join(lines),
        evidence=evidence,
        local_policy=tuple(policy),
    )

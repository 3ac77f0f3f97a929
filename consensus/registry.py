"""The rule table: each rule registers its id, hooks and source; hooks evaluate them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from consensus.criteria import Criterion, known
from consensus.patient import ACTIVE, Patient
from consensus.recommendation import ALL_HOOKS, OS, SIGN, Recommendation, RuleInfo
from consensus.settings import Settings
from fhir_mappings.facts import Draft

SOURCE_C = "Chinese expert consensus on pNEN liver metastases (J Pancreatol 2023;6:139–150)"
SOURCE_R = "Review of pancreatic neuroendocrine tumours (serum biomarkers, staging, management)"


@dataclass(frozen=True)
class RuleContext:
    """What a rule sees: the hook, the patient, the relevant draft orders, the local defaults."""

    hook: str
    patient: Patient
    drafts: tuple[Draft, ...] = ()

    @property
    def on_orders(self) -> bool:
        """True on order-select and order-sign."""
        return self.hook in (OS, SIGN)

    @property
    def today(self) -> date:
        """The date of evaluation."""
        return self.patient.today

    @property
    def settings(self) -> Settings:
        """Local defaults in force."""
        return self.patient.settings

    def drafted(self, *kinds: str) -> tuple[Draft, ...]:
        """Draft orders (of this hook's scope) that order any of the given kinds."""
        wanted = frozenset(kinds)
        return tuple(d for d in self.drafts if d.order is not None and d.order.kinds & wanted)

    def drafted_criterion(self, name: str, *kinds: str) -> Criterion | None:
        """The drafts of these kinds as a met criterion; None when none is drafted."""
        drafts = self.drafted(*kinds)
        return known(name, True, [d.as_fact() for d in drafts]) if drafts else None


Evaluate = Callable[[RuleContext, RuleInfo], Recommendation | None]


@dataclass(frozen=True)
class Rule:
    """A registered rule: its identity and its evaluation function."""

    info: RuleInfo
    evaluate: Evaluate

    def run(self, ctx: RuleContext) -> Recommendation | None:
        """Evaluate the rule when it applies to the hook and to the pNEN's status."""
        if ctx.hook not in self.info.hooks or not self.applies_to(ctx.patient):
            return None
        return self.evaluate(ctx, self.info)

    def applies_to(self, patient: Patient) -> bool:
        """An active pNEN for every rule; one in remission only for the rules marked so."""
        status = patient.pnen_status
        return status == ACTIVE or (status is not None and self.info.in_remission)


_RULES: dict[str, Rule] = {}


def rule(
    rule_id: str,
    title: str,
    hooks: Sequence[str],
    citation: str,
    area: str,
    *,
    in_remission: bool = False,
) -> Callable[[Evaluate], Evaluate]:
    """Register a rule function under a stable id (ids never change meaning).

    `in_remission`: the rule also applies to a pNEN in remission (consensus-rules.md, pNEN
    status); every other rule is about active disease and is skipped for one.
    """
    hook_set = frozenset(hooks)
    if not hook_set <= ALL_HOOKS:
        raise ValueError(f"{rule_id}: unknown hook(s) {sorted(hook_set - ALL_HOOKS)}")

    def register(func: Evaluate) -> Evaluate:
        if rule_id in _RULES:
            raise ValueError(f"rule id {rule_id!r} registered twice")
        info = RuleInfo(rule_id, title, hook_set, citation, area, in_remission)
        _RULES[rule_id] = Rule(info, func)
        return func

    return register


def registered() -> tuple[Rule, ...]:
    """Every registered rule, by id."""
    return tuple(_RULES[k] for k in sorted(_RULES))


_HOOK_NAMES = (("patient-view", "PV"), ("order-select", "OS"), ("order-sign", "SIGN"))


def rule_table(rules: Sequence[Rule]) -> str:
    """Markdown tables of the rules by area: id, title, hooks, source (the README's rule list)."""
    out: list[str] = []
    areas: dict[str, list[Rule]] = {}
    for r in sorted(rules, key=lambda r: (r.info.area, r.info.id)):
        areas.setdefault(r.info.area, []).append(r)
    for area, members in areas.items():
        if out:
            out.append("")
        out += [
            f"**{area}**",
            "",
            "| rule id | title | hooks | source |",
            "| --- | --- | --- | --- |",
        ]
        for r in members:
            hooks = ", ".join(short for name, short in _HOOK_NAMES if name in r.info.hooks)
            out.append(f"| `{r.info.id}` | {r.info.title} | {hooks} | {r.info.citation} |")
    return "\n".join(out)

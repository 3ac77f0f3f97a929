"""The rule catalogue (docs/rules.md): every rule with its trigger, hooks, source and decisions."""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from consensus.recommendation import OS, PV, SIGN
from consensus.registry import Rule
from consensus.settings import LOCAL_DEFAULTS

_HOOKS = ((PV, "patient-view"), (OS, "order-select"), (SIGN, "order-sign"))


def _local_defaults_used(rule: Rule) -> list[str]:
    """Local defaults named in the rule's own code (the card labels each one it uses)."""
    source = inspect.getsource(rule.evaluate)
    return [name for name in LOCAL_DEFAULTS if f'"{name}"' in source]


def _module_notes(module_doc: str | None) -> str:
    """The 'Decisions where the spec left room' part of a rule module's docstring."""
    if not module_doc or "Decisions" not in module_doc:
        return ""
    return module_doc[module_doc.index("Decisions") :].strip()


def rule_catalogue(rules: Sequence[Rule]) -> str:
    """Markdown: one section per area, one entry per rule, then the area's decisions."""
    out = [
        "# Rule catalogue",
        "",
        "Generated from the rule definitions by `make readme`; a test fails when it is stale.",
        "C n = question n of the 2023 consensus on pNEN liver metastases; R = a section of the",
        "pNET management review. The full rule contract is [spec/consensus-rules.md]"
        "(spec/consensus-rules.md); the local defaults are in the README's configuration section.",
    ]
    areas: dict[str, list[Rule]] = {}
    for rule in sorted(rules, key=lambda r: (r.info.area, r.info.id)):
        areas.setdefault(rule.info.area, []).append(rule)
    for area, members in areas.items():
        out += ["", f"## {area}"]
        for rule in members:
            hooks = ", ".join(name for hook, name in _HOOKS if hook in rule.info.hooks)
            trigger = inspect.getdoc(rule.evaluate) or ""
            out += [
                "",
                f"### `{rule.info.id}`: {rule.info.title}",
                "",
                f"- **Hooks:** {hooks}",
                f"- **Fires when:** {trigger}",
                f"- **Source:** {rule.info.citation}",
            ]
            defaults = _local_defaults_used(rule)
            if defaults:
                out.append(f"- **Local defaults:** {', '.join(f'`{d}`' for d in defaults)}")
        module = inspect.getmodule(members[0].evaluate)
        notes = _module_notes(module.__doc__ if module else None)
        if notes:
            out += ["", "#### " + notes.splitlines()[0].rstrip(":"), ""]
            out += notes.splitlines()[1:]
    return "\n".join(out) + "\n"

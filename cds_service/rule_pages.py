"""Public rule pages: /rules/ and /rules/{id}, generated from the rule definitions (no token)."""

from __future__ import annotations

import re

from flask import Blueprint, Response, render_template
from markupsafe import Markup, escape

from cards.build import citation_text
from cards.text import EN
from cds_service.api import runtime
from cds_service.errors import not_found
from consensus.descriptions import descriptions
from consensus.registry import Rule
from consensus.settings import LOCAL_DEFAULTS

bp = Blueprint("rules", __name__)
HOOK_NAMES = ("patient-view", "order-select", "order-sign")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline_markdown(text: str, rule_ids: frozenset[str]) -> Markup:
    """The spec's inline Markdown (`code`, **bold**) as safe HTML; rule ids become links."""
    html = str(escape(text))

    def code(match: re.Match[str]) -> str:
        word = match.group(1)
        if word in rule_ids:
            return f'<a href="{word}"><code>{word}</code></a>'
        return f"<code>{word}</code>"

    return Markup(_BOLD.sub(r"<strong>\1</strong>", _CODE.sub(code, html)))


def _rules() -> dict[str, Rule]:
    return {r.info.id: r for r in runtime().knowledge.rules}


@bp.get("/rules/")
def rule_index() -> str:
    """Every rule by area: id, title, hooks, source."""
    areas: dict[str, list[Rule]] = {}
    for r in sorted(_rules().values(), key=lambda r: (r.info.area, r.info.id)):
        areas.setdefault(r.info.area, []).append(r)
    return render_template("rules/index.html", areas=areas, hooks=HOOK_NAMES)


@bp.get("/rules/<rule_id>")
def rule_page(rule_id: str) -> str | Response:
    """One rule: hooks, trigger, card content, local defaults in force, source section."""
    rules = _rules()
    found = rules.get(rule_id)
    if found is None:
        raise not_found(f"no rule {rule_id!r}")
    info = found.info
    description = descriptions().get(rule_id)
    settings = runtime().knowledge.settings
    ids = frozenset(rules)
    defaults = [
        (name, LOCAL_DEFAULTS[name].meaning, settings.describe(name))
        for name in (description.local_defaults if description else ())
    ]
    return render_template(
        "rules/rule.html",
        info=info,
        hooks=[h for h in HOOK_NAMES if h in info.hooks],
        fires_when=inline_markdown(description.fires_when, ids) if description else None,
        card=inline_markdown(description.card, ids) if description else None,
        defaults=defaults,
        source=citation_text(info.citation, EN),
    )

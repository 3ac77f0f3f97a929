"""Recommendations → a plain-text report for a multidisciplinary meeting (`pnen-cds evaluate`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cards.build import basis, labelled, source_line
from cards.columns import pad, wrap
from cards.columns import width as columns
from cards.orders import ORDERS
from cards.text import indicator_text, status_text, wording
from consensus.criteria import Criterion, Status
from consensus.recommendation import Recommendation
from fhir_mappings.facts import DataIssue
from pnen_i18n import N_, _

WIDTH = 100
INDENT = "   "
# What a suggestion's action does, as the report names it (CDS Hooks action types).
ACTIONS = {"create": N_("create"), "delete": N_("delete")}
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class ReportHeader:
    """What the report is about: the file or patient, the hook and the evaluation date."""

    title: str
    patient_ref: str
    hook: str
    today: str


def _plain(text: str) -> str:
    """Markdown emphasis and code marks removed (the report is read in a terminal or printed)."""
    return _CODE.sub(r"\1", _BOLD.sub(r"\1", text))


def _wrap(text: str, indent: str, width: int = WIDTH) -> list[str]:
    """Paragraphs and '- ' list items wrapped at `width`, each line indented."""
    lines: list[str] = []
    for raw in _plain(text).splitlines():
        if not raw.strip():
            if lines and lines[-1]:
                lines.append("")
            continue
        bullet = raw.startswith("- ")
        lines += wrap(
            raw,
            width,
            initial_indent=indent,
            subsequent_indent=indent + ("  " if bullet else ""),
            break_on_hyphens=False,
        )
    while lines and not lines[-1]:
        lines.pop()
    return lines


def criteria_table(criteria: Sequence[Criterion], text: Mapping[str, str]) -> list[str]:
    """Criterion, status and basis in fixed-width columns (the basis wraps in its column)."""
    name_width = min(max(columns(text["criterion"]), *(columns(c.name) for c in criteria)), 44)
    status_width = max(columns(status_text(s)) for s in Status)
    basis_width = max(WIDTH - len(INDENT * 2) - name_width - status_width - 4, 30)
    head = (
        f"{pad(text['criterion'], name_width)}  {pad(text['status'], status_width)}  "
        f"{text['based_on']}"
    )
    rule = f"{'-' * name_width}  {'-' * status_width}  {'-' * min(basis_width, 40)}"
    lines = [INDENT * 2 + head, INDENT * 2 + rule]
    for c in criteria:
        names = wrap(c.name, name_width) or [""]
        based = wrap(_plain(basis(c) or "—"), basis_width, break_on_hyphens=False)
        status = [status_text(c.status)]
        for i in range(max(len(names), len(based))):
            name = names[i] if i < len(names) else ""
            state = status[i] if i < len(status) else ""
            more = based[i] if i < len(based) else ""
            lines.append(
                (
                    INDENT * 2 + f"{pad(name, name_width)}  {pad(state, status_width)}  {more}"
                ).rstrip()
            )
    return lines


def _suggestion_lines(rec: Recommendation) -> list[str]:
    lines: list[str] = []
    for suggestion in rec.suggestions:
        lines.append(f"{INDENT * 2}→ {suggestion.label}")
        for action in suggestion.actions:
            if action.order is not None:
                order = ORDERS[action.order]
                what = f"{order.resource_type} {_(order.text)} [{order.code}]"
            else:
                what = str(action.resource_id)
            lines.append(INDENT * 3 + labelled(_(ACTIONS.get(action.type, action.type)), what))
    return lines


def _section(title: str, body: Iterable[str]) -> list[str]:
    lines = list(body)
    heading = _("{heading}:", heading=title)
    return [f"{INDENT}{heading}", *lines] if lines else []


def recommendation_text(number: int, rec: Recommendation) -> list[str]:
    """One fired rule: summary, rule and source, advice, criteria table, evidence, gaps, orders."""
    text = wording()
    title = f"{number}. [{indicator_text(rec.indicator).upper()}] {rec.summary}"
    lines = [
        *wrap(title, WIDTH, subsequent_indent=INDENT, break_on_hyphens=False),
        INDENT + labelled(text["rule"], f"{rec.rule.id} — {_(rec.rule.title)}"),
        *_wrap(source_line(rec.rule.citation, text), INDENT),
        "",
        *_section(text["recommendation"], _wrap(rec.advice, INDENT * 2)),
    ]
    if rec.waiting:
        waiting = [line for w in rec.waiting for line in _wrap(f"- {w.text}", INDENT * 2)]
        lines += ["", *_section(text["waiting"], waiting)]
    if rec.criteria:
        lines += ["", *_section(text["criteria"], criteria_table(rec.criteria, text))]
    evidence = list(dict.fromkeys(rec.evidence))
    if evidence:
        why = [line for f in evidence for line in _wrap(f"- {f.evidence()}", INDENT * 2)]
        lines += ["", *_section(text["why"], why)]
    missing = list(dict.fromkeys(rec.missing))
    if missing:
        gaps = [line for m in missing for line in _wrap(f"- {m}", INDENT * 2)]
        lines += ["", *_section(text["missing"], gaps)]
    if rec.local_policy:
        policy = [line for p in rec.local_policy for line in _wrap(f"- {p}", INDENT * 2)]
        lines += ["", *_section(text["local_policy"], policy)]
    if rec.suggestions:
        lines += ["", *_section(text["suggestions"], _suggestion_lines(rec))]
    return lines


def text_report(
    header: ReportHeader,
    recs: Sequence[Recommendation],
    issues: Sequence[DataIssue] = (),
) -> str:
    """The whole report: a header, then each recommendation, then the data issues."""
    text = wording()
    lines = [
        f"pnen-cds — {header.title} — {header.hook} — {header.today}",
        f"{header.patient_ref}: {len(recs)} {text['recommendations']}",
        "=" * WIDTH,
    ]
    for i, rec in enumerate(recs, 1):
        lines += ["", *recommendation_text(i, rec), "", "-" * WIDTH]
    if not recs:
        lines += ["", text["no_recommendations"]]
    if issues:
        lines += ["", _("{heading}:", heading=text["data_issues"])]
        lines += [f"{INDENT}- {i.reference} ({i.prefetch_key}): {i.problem}" for i in issues]
    return "\n".join(lines) + "\n"

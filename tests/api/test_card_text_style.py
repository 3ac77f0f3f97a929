"""Card text style over every card of the scenario matrix (issue 9, item 8).

Every request of `test_rule_scenarios` (one firing and one silent request per rule) is posted over
HTTP, and every card in every response — not only the card of the rule under test — is checked
for the patterns a clinician reading them flagged: a date repeated in one line, a plural noun
before a single number ("questions 2"), a section heading with nothing under it, a summary of
140 characters or more, and a missing or mislabelled citation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cards.text import EN
from cds_service import create_app
from consensus.rules import all_rules
from tests.api.test_rule_scenarios import CASES, Scenario, _respond

DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# "questions 2" / "sections Chromogranin A": a plural noun followed by one item (no comma).
PLURAL_ONE = re.compile(r"\b(questions|sections) [^,;*]+?(?=[;*]|$)")
HEADING = re.compile(r"^\*\*[^*]+\*\*$")
SOURCE_LINE = re.compile(rf"^\*{EN['source']}: (.+)\.\*$")
CITATIONS = {r.info.id: r.info.citation for r in all_rules()}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for the module (dev mode, no authentication, temporary SQLite store)."""
    store = tmp_path_factory.mktemp("style") / "store.sqlite3"
    application = create_app({"dev": True, "auth": "off", "database_url": f"sqlite:///{store}"})
    application.config["TESTING"] = True
    yield application
    application.extensions["pnen_cds"].store.close()


def style_problems(card: dict[str, Any]) -> list[str]:
    """Every style problem of one card, as readable messages (empty: the card reads well)."""
    problems: list[str] = []
    rule = card["source"]["topic"]["code"]
    if len(card["summary"]) >= 140:
        problems.append(f"summary of {len(card['summary'])} characters")
    if card["summary"].endswith("…"):  # cut to fit by the card builder: too long as written
        problems.append("summary cut at 140 characters")
    lines = card.get("detail", "").splitlines()
    for line in lines:
        # One evidence item per bullet, per table cell, per '; '-separated fact in a cell.
        for item in re.split(r"; | \| ", line):
            dates = DATE.findall(item)
            repeated = sorted({d for d in dates if dates.count(d) > 1})
            if repeated:
                problems.append(f"date {', '.join(repeated)} repeated in: {item}")
        for match in PLURAL_ONE.finditer(line):
            problems.append(f"plural with one item: {match.group(0)!r}")
    for i, line in enumerate(lines):
        if HEADING.match(line):
            following = [x for x in lines[i + 1 :] if x.strip()]
            nxt = following[0] if following else ""
            if not nxt or HEADING.match(nxt) or SOURCE_LINE.match(nxt):
                problems.append(f"empty section {line}")
        if line.startswith(f"**{EN['recommendation']}.**") and not line.split("**", 2)[2].strip():
            problems.append("empty recommendation")
    sources = [m.group(1) for line in lines if (m := SOURCE_LINE.match(line))]
    if not sources or not sources[-1].strip():
        problems.append("no citation")
    citation = CITATIONS[rule]
    cites_c, cites_r = (
        "C " in f" {citation}",
        any(p.strip().startswith("R ") for p in citation.split(";")),
    )
    expected = (
        EN["label_both"] if cites_c and cites_r else EN["label_R"] if cites_r else EN["label_C"]
    )
    if card["source"]["label"] != expected:
        problems.append(f"source label {card['source']['label']!r} for citation {citation!r}")
    return problems


def test_style_check_catches_each_pattern() -> None:
    bad = {
        "summary": "x" * 140 + "…",
        "detail": "**Recommendation.** \n\n**Why**\n"
        "- lanreotide (started 2024-01-02), 2024-01-02, MedicationRequest/m\n\n"
        "**Missing data**\n\n*Source: consensus, questions 2.*",
        "source": {"label": EN["label_C"], "topic": {"code": "pet-fdg"}},
    }
    found = " | ".join(style_problems(bad))
    for expected in (
        "summary of 141",
        "summary cut at 140 characters",
        "date 2024-01-02 repeated",
        "plural with one item: 'questions 2",
        "empty section **Missing data**",
        "empty recommendation",
    ):
        assert expected in found
    review_only = {**bad, "source": {"label": EN["label_C"], "topic": {"code": "pp-rise"}}}
    assert any("source label" in p for p in style_problems(review_only))


def test_card_text_style_holds_for_every_card_of_the_scenario_matrix(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    problems: list[str] = []
    cards = 0
    for param in CASES:
        for case in param.values:
            if not isinstance(case, Scenario):
                continue
            for card in _respond(client, prefetch_keys, case)["cards"]:
                cards += 1
                code = card["source"]["topic"]["code"]
                problems += [f"{param.id} / {code}: {p}" for p in style_problems(card)]
    assert cards > len(CASES), "the matrix produces cards to check"
    assert not problems, "\n".join(problems)

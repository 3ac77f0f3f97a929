"""The scenario matrix in zh-CN: same decisions as in English, every card Chinese and valid.

Every request of `test_rule_scenarios` (a firing and a silent request per rule) is posted twice,
with and without `Accept-Language: zh-CN`. The language may change the words, never the clinical
result: the same rules fire in the same order with the same indicators and the same suggested
orders. Each Chinese card validates against the CDS Hooks schemas, keeps its summary under 140
characters, and has no English sentence left untranslated (record content such as a drug or study
name as the record wrote it is not ours to translate, and is set aside before looking).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from cds_service import create_app
from tests.api.test_rule_scenarios import CASES, Scenario, _respond
from tests.support.cds_requests import hook_request

CJK = re.compile(r"[\u4e00-\u9fff]")
# What may stay Latin inside Chinese text: references, dates, codes, URLs, tracer and gene names.
NOT_PROSE = re.compile(
    r"`[^`]*`"
    r"|https?://\S+"
    r"|\b[A-Z][A-Za-z]+/[\w.\-]+"  # Type/id references
    r"|\b\d{4}-\d{2}-\d{2}\b"
)
# Three or more English words in a row: a sentence the catalogue did not translate.
ENGLISH_RUN = re.compile(r"\b[A-Za-z][a-z]+(?:[ \-][A-Za-z][a-z]+){2,}\b")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for the module (dev mode, no authentication, temporary SQLite store)."""
    store = tmp_path_factory.mktemp("zh") / "store.sqlite3"
    application = create_app({"dev": True, "auth": "off", "database_url": f"sqlite:///{store}"})
    application.config["TESTING"] = True
    yield application
    application.extensions["pnen_cds"].store.close()


def _record_strings(case: Scenario) -> list[str]:
    """Every string of the request's resources (record content), longest first."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            if len(node) > 3:
                found.add(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk([*case.record, *case.drafts])
    return sorted(found, key=len, reverse=True)


def untranslated(text: str, record: list[str]) -> list[str]:
    """English runs of three or more words left in a Chinese text, record content set aside."""
    for value in record:
        text = text.replace(value, " ")
    return ENGLISH_RUN.findall(NOT_PROSE.sub(" ", text))


def _coding(resource: dict[str, Any]) -> Any:
    """The coded order of a suggested resource (its `text` is in the request's language)."""
    concept = resource.get("code") or resource.get("medicationCodeableConcept") or {}
    return concept.get("coding")


def _decision(card: dict[str, Any]) -> tuple[Any, ...]:
    """What a card decides, whatever its language: rule, urgency, orders."""
    actions = [
        (a["type"], json.dumps(_coding(a.get("resource", {})), sort_keys=True))
        for s in card.get("suggestions", [])
        for a in s.get("actions", [])
    ]
    return (card["source"]["topic"]["code"], card["indicator"], tuple(actions))


def _texts(card: dict[str, Any]) -> list[str]:
    return [
        card["summary"],
        card.get("detail", ""),
        card["source"]["label"],
        card["source"]["topic"].get("display", ""),
        *(s["label"] for s in card.get("suggestions", [])),
        *(a["description"] for s in card.get("suggestions", []) for a in s.get("actions", [])),
        *(r["display"] for r in card.get("overrideReasons", [])),
        *(link["label"] for link in card.get("links", [])),
    ]


def test_untranslated_text_is_found() -> None:
    assert untranslated("建议：consider the liver MRI 以评估", []) == ["consider the liver"]
    assert untranslated("Ki-67 25 %（肝转移灶），2026-09-10，Observation/ki67-2", []) == []
    assert untranslated("在用 Lanreotide Autogel injection", ["Lanreotide Autogel injection"]) == []


def test_every_card_of_the_matrix_decides_the_same_and_reads_chinese(app: Flask) -> None:
    english, chinese = app.test_client(), app.test_client()
    chinese.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    keys = list(english.get("/cds-services").get_json()["services"][0]["prefetch"])
    problems: list[str] = []
    cards = 0
    for param in CASES:
        for case in param.values:
            if not isinstance(case, Scenario):
                continue
            en_cards = _respond(english, keys, case)["cards"]
            zh_cards = _respond(chinese, keys, case)["cards"]  # schema-validated
            if [_decision(c) for c in en_cards] != [_decision(c) for c in zh_cards]:
                problems.append(f"{param.id}: decisions differ between en and zh-CN")
            record = _record_strings(case)
            for card in zh_cards:
                cards += 1
                rule = card["source"]["topic"]["code"]
                if len(card["summary"]) >= 140:
                    problems.append(f"{param.id} / {rule}: summary of {len(card['summary'])}")
                if not CJK.search(card["summary"]):
                    problems.append(f"{param.id} / {rule}: summary not Chinese")
                for text in _texts(card):
                    problems += [
                        f"{param.id} / {rule}: untranslated {run!r}"
                        for run in untranslated(text, record)
                    ]
    assert cards > len(CASES)
    assert not problems, "\n".join(dict.fromkeys(problems))


def test_a_request_without_accept_language_stays_english(app: Flask) -> None:
    client = app.test_client()
    patient = {"resourceType": "Patient", "id": "p1"}
    body = hook_request("patient-view", "p1", prefetch={"patient": patient, "conditions": None})
    response = client.post("/cds-services/pnen-patient-view", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Language"] == "en"

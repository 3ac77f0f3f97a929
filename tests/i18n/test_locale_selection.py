"""Which language a request gets: Accept-Language, else PNEN_CDS_LANGUAGE, else English."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cds_service import create_app
from cds_service.store import audit
from pnen_i18n import _, canonical, negotiate, ngettext, use_locale
from tests.cds_schema import assert_valid_response
from tests.support.cds_requests import bundle_resources, hook_request, patient_id_of, prefetch_for

PV = "/cds-services/pnen-patient-view"
CJK = re.compile(r"[\u4e00-\u9fff]")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("zh-CN", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("zh_CN", "zh-CN"),
        ("ZH-cn", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, zh-CN;q=0.8, en;q=0.5", "zh-CN"),
        ("en;q=0.4, zh-CN;q=0.9", "zh-CN"),
        ("zh-CN;q=0, en", "en"),
        ("zh-TW", "en"),  # Traditional Chinese is not Simplified: the default
        ("zh-Hant-HK, zh-CN;q=0.5", "zh-CN"),
        ("fr, de", "en"),
        ("*", "en"),
        ("zh-CN;q=abc", "en"),  # a malformed weight refuses the entry
        ("", "en"),
        (None, "en"),
    ],
)
def test_accept_language_chooses_a_supported_locale_else_the_default(
    header: str | None, chosen: str
) -> None:
    assert negotiate(header) == chosen


def test_the_deployment_default_applies_when_the_header_names_nothing_supported() -> None:
    assert negotiate("fr", default="zh-CN") == "zh-CN"
    assert negotiate(None, default="zh-CN") == "zh-CN"
    assert negotiate("en", default="zh-CN") == "en"


def test_language_tags_are_canonicalised() -> None:
    assert canonical("zh-hans") == "zh-CN"
    assert canonical("en-GB") == "en"
    assert canonical("zh-Hant") is None
    assert canonical("ja") is None


def test_english_is_the_message_itself_and_chinese_comes_from_the_catalogue() -> None:
    assert _("Missing data") == "Missing data"
    assert _("Table {number}", number=4) == "Table 4"
    assert ngettext("{n} month", "{n} months", 1) == "1 month"
    assert ngettext("{n} month", "{n} months", 3) == "3 months"
    with use_locale("zh-CN"):
        assert _("Missing data") == "缺失数据"
        assert _("Table {number}", number=4) == "表 4"
        assert _("a message no catalogue has") == "a message no catalogue has"
    assert _("Missing data") == "Missing data"  # the locale ends with its block


def _post(client: FlaskClient, bench: dict[str, Any], keys: list[str], **headers: str) -> Any:
    resources = bundle_resources(bench)
    body = hook_request(
        "patient-view", patient_id_of(resources), prefetch=prefetch_for(resources, keys)
    )
    return client.post(PV, json=body, headers=headers)


def _audit_locales(app: Flask) -> list[str]:
    with app.extensions["pnen_cds"].store.engine.connect() as conn:
        return [r.locale for r in conn.execute(select(audit).order_by(audit.c.id))]


def test_a_zh_cn_request_gets_chinese_cards_and_its_locale_is_audited(
    app: Flask, client: FlaskClient, bench_pnen: dict[str, Any], prefetch_keys: list[str]
) -> None:
    response = _post(client, bench_pnen, prefetch_keys, **{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "zh-CN"
    assert "Accept-Language" in response.headers["Vary"]
    body = response.get_json()
    assert_valid_response(body)
    assert body["cards"]
    for card in body["cards"]:
        assert CJK.search(card["summary"]), card["summary"]
        assert len(card["summary"]) < 140  # characters, not bytes
        assert (
            "缺失数据" in card["detail"] or "依据事实" in card["detail"] or "建议" in card["detail"]
        )
    english = _post(client, bench_pnen, prefetch_keys)
    assert english.headers["Content-Language"] == "en"
    assert not any(CJK.search(c["summary"]) for c in english.get_json()["cards"])
    assert _audit_locales(app) == ["zh-CN", "en"]


def test_an_unsupported_language_falls_back_to_english(
    client: FlaskClient, bench_pnen: dict[str, Any], prefetch_keys: list[str]
) -> None:
    response = _post(client, bench_pnen, prefetch_keys, **{"Accept-Language": "fr-FR"})
    assert response.headers["Content-Language"] == "en"
    assert not any(CJK.search(c["detail"]) for c in response.get_json()["cards"])


def test_the_configured_language_is_the_default_and_the_header_still_wins(
    tmp_path: Path, bench_pnen: dict[str, Any]
) -> None:
    app = create_app(
        {
            "dev": True,
            "auth": "off",
            "language": "zh-CN",
            "database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        }
    )
    try:
        client = app.test_client()
        keys = list(client.get("/cds-services").get_json()["services"][0]["prefetch"])
        chinese = _post(client, bench_pnen, keys)
        assert chinese.headers["Content-Language"] == "zh-CN"
        assert CJK.search(chinese.get_json()["cards"][0]["summary"])
        english = _post(client, bench_pnen, keys, **{"Accept-Language": "en"})
        assert not CJK.search(english.get_json()["cards"][0]["summary"])
    finally:
        app.extensions["pnen_cds"].store.close()


def test_discovery_titles_and_descriptions_follow_the_language(client: FlaskClient) -> None:
    english = client.get("/cds-services").get_json()["services"]
    chinese_response = client.get("/cds-services", headers={"Accept-Language": "zh-CN"})
    chinese = chinese_response.get_json()["services"]
    assert chinese_response.headers["Content-Language"] == "zh-CN"
    assert [s["id"] for s in chinese] == [s["id"] for s in english]
    assert [s["prefetch"] for s in chinese] == [s["prefetch"] for s in english]
    for service in chinese:
        assert CJK.search(service["title"]) and CJK.search(service["description"])
    assert english[0]["title"] == "pNEN liver metastases: consensus recommendations"


def test_the_dashboard_page_speaks_the_browser_language(client: FlaskClient) -> None:
    page = client.get("/app/", headers={"Accept-Language": "zh-CN"})
    html = page.get_data(as_text=True)
    assert page.headers["Content-Language"] == "zh-CN"
    assert '<html lang="zh-CN">' in html
    assert "时间线" in html and "pNEN 患者总览" in html
    assert '"lane_diagnosis": "\\u8bca\\u65ad"' in html or '"lane_diagnosis": "诊断"' in html
    english = client.get("/app/").get_data(as_text=True)
    assert '<html lang="en">' in english and "Timeline" in english


def test_the_configured_language_must_be_supported(tmp_path: Path) -> None:
    from cds_service.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="PNEN_CDS_LANGUAGE='fr': expected one of en, zh-CN"):
        load_config(environ={"PNEN_CDS_LANGUAGE": "fr"})
    assert load_config(environ={"PNEN_CDS_LANGUAGE": "zh-Hans"}).language == "zh-CN"


def test_evaluate_writes_the_report_in_the_language_asked_for() -> None:
    patient = ROOT / "pnen_demo" / "patients" / "bench-pnen.json"
    command = [sys.executable, "-m", "cds_service.cli", "evaluate", str(patient)]
    chinese = subprocess.run(
        [*command, "--language", "zh-CN", "--as-of", "2026-11-27"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "条建议" in chinese and "出处" in chinese
    english = subprocess.run(
        [*command, "--as-of", "2026-11-27"], capture_output=True, text=True, check=True
    ).stdout
    assert "recommendation(s)" in english and not CJK.search(english.split("=" * 20)[0])
    refused = subprocess.run([*command, "--language", "fr"], capture_output=True, text=True)
    assert refused.returncode != 0
    assert "--language fr: expected one of en, zh-CN" in refused.stderr

"""The pNEN dashboard in headless Chromium (Playwright driving Debian's Chromium): a full SMART
EHR launch from the demo FHIR server's authorization server, for two demo patients; the charts'
data points read from the Chart.js objects; the recommendations and criteria against the
patient-view hook's cards; a keyboard-only pass. Screenshots go to tests/browser/artifacts/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests

from cds_service import create_app
from hooks.dashboard import dashboard_data
from hooks.knowledge import load_knowledge
from pnen_demo.fhir_server import create_fhir_app
from pnen_demo.patients import demo_patients, evaluate, record_of
from pnen_demo.runner import free_port, run_in_thread
from tests.support.cds_requests import hook_request

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI requires Chromium for the browser tests (.ci/run installs it)")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

ARTIFACTS = Path(__file__).parent / "artifacts"
PATIENTS = ["bench-pnen", "demo-mgmt-tmz"]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The service (dev mode) and the demo FHIR server, each on a free loopback port."""
    service_port, fhir_port = free_port(), free_port()
    service_url = f"http://127.0.0.1:{service_port}"
    store = tmp_path_factory.mktemp("dashboard") / "store.sqlite3"
    app = create_app(
        {
            "dev": True,
            "auth": "off",
            "public_url": service_url,
            "database_url": f"sqlite:///{store}",
        }
    )
    fhir_app = create_fhir_app(
        f"http://127.0.0.1:{fhir_port}", redirect_uris=[f"{service_url}/app/"]
    )
    service = run_in_thread(app, "127.0.0.1", service_port)
    fhir = run_in_thread(fhir_app, "127.0.0.1", fhir_port)
    try:
        yield service_url, f"{fhir.url}/fhir"
    finally:
        service.stop()
        fhir.stop()
        app.extensions["pnen_cds"].store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium under Playwright (never a downloaded browser)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


def _ehr_launch(
    browser: Browser, service: str, fhir_base: str, patient: str, locale: str = "en-US"
) -> Page:
    """What the sandbox does for a card's SMART link: get a launch id, open the app with it.

    `locale` is the browser's language (Playwright sends it as Accept-Language).
    """
    launch = requests.post(
        f"{fhir_base}/_services/smart/Launch",
        json={"launchUrl": f"{service}/app/launch", "parameters": {"patient": patient}},
        timeout=10,
    ).json()["launch_id"]
    page = browser.new_page(viewport={"width": 1200, "height": 900}, locale=locale)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The pages' Content-Security-Policy must block nothing the dashboard needs.
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{service}/app/launch?iss={fhir_base}&launch={launch}")
    page.wait_for_selector("body[data-ready]", timeout=30000)
    assert page.get_attribute("body", "data-ready") == "true", page.inner_text("#status")
    assert errors == []
    assert page.url.startswith(f"{service}/app/")
    return page


def _expected(patient_id: str) -> dict[str, Any]:
    """The dashboard data the service computes for the patient (the charts must show it)."""
    patient = next(p for p in demo_patients() if p.id == patient_id)
    knowledge = load_knowledge()
    today = date.today()
    facts = knowledge.mapper.map(patient.id, [("x", r) for r in record_of(patient, today)], today)
    return dashboard_data(facts, evaluate(patient, "patient-view", today), knowledge.cards, today)


CHART_POINTS = """() => {
  const c = window.pnenDashboard.charts;
  const pts = d => d.data.map(p => [new Date(p.x).toISOString().slice(0, 10), p.y]);
  return {
    ki67: c.ki67.data.datasets.filter(d => !d.band).map(d => [d.label, pts(d)]),
    bands: c.ki67.data.datasets.filter(d => d.band).map(d => d.data.map(p => p.y)),
    markers: c.markers.map(m => [m.data.datasets[0].label, pts(m.data.datasets[0]),
                                 m.options.plugins.therapyPeriods.periods.length]),
    timeline: c.timeline.data.datasets.reduce((n, d) => n + d.data.length, 0),
  };
}"""


@pytest.mark.parametrize("patient", PATIENTS)
def test_ehr_launch_draws_the_patients_charts_and_the_hooks_recommendations(
    browser: Browser, servers: tuple[str, str], patient: str
) -> None:
    service, fhir_base = servers
    page = _ehr_launch(browser, service, fhir_base, patient)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{patient}.png"), full_page=True)
    expected = _expected(patient)
    drawn = page.evaluate(CHART_POINTS)
    assert drawn["ki67"] == [
        [f"Ki-67, {site}", [[p["date"], p["value"]] for p in points]]
        for site, points in expected["ki67"]["series"].items()
    ]
    assert drawn["bands"] == [[3, 3], [20, 20]]
    assert drawn["markers"] == [
        [
            f"{m['name']} ({m['unit']})",
            [[p["date"], p["value"]] for p in m["points"]],
            len([t for t in expected["therapies"] if t["start"]]),
        ]
        for m in expected["markers"]
    ]
    dated = [e for e in expected["timeline"] if e["date"] and e["lane"] != "therapy"]
    therapy_points = sum(2 if t["end"] else 1 for t in expected["therapies"] if t["start"])
    assert drawn["timeline"] == len(dated) + therapy_points
    cards = requests.post(
        f"{service}/cds-services/pnen-patient-view",
        json=hook_request("patient-view", patient, fhir_server=fhir_base),
        timeout=30,
    ).json()["cards"]
    shown = page.eval_on_selector_all("article[data-rule]", "els => els.map(e => e.dataset.rule)")
    assert shown == [c["source"]["topic"]["code"] for c in cards]
    for card in cards:
        article = page.locator(f"article[data-rule='{card['source']['topic']['code']}']")
        assert card["summary"] in article.locator("h3").inner_text()
        rows = article.locator("table tbody tr").all_inner_texts()
        for row in rows:
            name, status, _ = row.split("\t", 2)
            assert f"| {name} | **{status}** |" in card["detail"]
        assert len(rows) == card["detail"].count("| **")
    page.close()


def test_a_chinese_browser_gets_the_dashboard_and_its_recommendations_in_chinese(
    browser: Browser, servers: tuple[str, str]
) -> None:
    service, fhir_base = servers
    page = _ehr_launch(browser, service, fhir_base, "bench-pnen", locale="zh-CN")
    page.screenshot(path=str(ARTIFACTS / "dashboard-zh-CN.png"), full_page=True)
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.inner_text("#timeline-title") == "时间线"
    assert "条建议" in page.inner_text("#status")
    cards = requests.post(
        f"{service}/cds-services/pnen-patient-view",
        json=hook_request("patient-view", "bench-pnen", fhir_server=fhir_base),
        headers={"Accept-Language": "zh-CN"},
        timeout=30,
    ).json()["cards"]
    for card in cards:
        article = page.locator(f"article[data-rule='{card['source']['topic']['code']}']")
        assert card["summary"] in article.locator("h3").inner_text()
        for row in article.locator("table tbody tr").all_inner_texts():
            name, status, _ = row.split("\t", 2)
            assert status in ("满足", "不满足", "未知")
            assert f"| {name} | **{status}** |" in card["detail"]
    page.close()


def test_dashboard_can_be_used_with_the_keyboard_alone(
    browser: Browser, servers: tuple[str, str]
) -> None:
    service, fhir_base = servers
    page = _ehr_launch(browser, service, fhir_base, "demo-mgmt-tmz")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to recommendations"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "recommendations"
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "document.activeElement.tagName + ' ' + document.activeElement.textContent"
    )
    assert focused.startswith("SUMMARY ")
    is_open = "document.activeElement.parentElement.open"
    assert page.evaluate(is_open) is True
    page.keyboard.press("Enter")
    assert page.evaluate(is_open) is False
    page.keyboard.press("Enter")
    assert page.evaluate(is_open) is True
    labels = page.eval_on_selector_all(
        "canvas", "els => els.map(e => e.getAttribute('aria-label'))"
    )
    assert labels and all(labels)
    page.emulate_media(media="print")
    assert page.locator("nav").is_hidden() and page.locator("#print").is_hidden()
    page.screenshot(path=str(ARTIFACTS / "dashboard-print.png"))
    page.close()


def test_standalone_launch_without_iss_says_how_to_start(
    browser: Browser, servers: tuple[str, str]
) -> None:
    service, _ = servers
    page = browser.new_page()
    page.goto(f"{service}/app/launch")
    assert "?iss=" in page.inner_text("#status")
    page.close()


def test_standalone_launch_with_iss_alone_opens_the_servers_default_patient(
    browser: Browser, servers: tuple[str, str]
) -> None:
    service, fhir_base = servers
    page = browser.new_page()
    page.goto(f"{service}/app/launch?iss={fhir_base}")
    page.wait_for_selector("body[data-ready]", timeout=30000)
    assert page.get_attribute("body", "data-ready") == "true", page.inner_text("#status")
    assert page.inner_text("#patient").startswith("Patient/bench-pnen")
    page.close()

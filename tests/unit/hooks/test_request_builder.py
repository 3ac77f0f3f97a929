"""`pnen-cds request` and the request builder: what an EHR would send for a record."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from cds_service import create_app
from cds_service.cli import main
from hooks.request_builder import prefetch_for, split_drafts
from tests.cds_schema import assert_valid, assert_valid_response

ROOT = Path(__file__).resolve().parents[3]
PATIENT = ROOT / "tests" / "fixtures" / "benchmark-pnen-patient.json"
DRAFTS = ROOT / "examples" / "draft-orders.json"
LOINC = "http://loinc.org"


def _observation(oid: str, system: str, code: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p"},
    }


TEMPLATES = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": f"Observation?patient={{{{context.patientId}}}}&code={LOINC}|29593-1",
    "observations2": f"Observation?patient={{{{context.patientId}}}}&code={LOINC}|9811-1",
}


def test_observations_go_to_the_key_whose_template_names_their_code() -> None:
    ki67 = _observation("k", LOINC, "29593-1")
    cga = _observation("c", LOINC, "9811-1")
    built = prefetch_for([ki67, cga], TEMPLATES)
    assert built.values["observations"]["entry"] == [{"resource": ki67}]
    assert built.values["observations2"]["entry"] == [{"resource": cga}]
    assert built.values["conditions"] == {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [],
    }
    assert built.unmatched == ()


def test_an_observation_no_template_names_is_kept_and_listed_or_left_out_when_strict() -> None:
    local = _observation("local-ki67", "urn:oid:1.2.3", "KI67")
    assert prefetch_for([local], TEMPLATES).values["observations"]["entry"] == [{"resource": local}]
    strict = prefetch_for([local], TEMPLATES, strict=True)
    assert strict.values["observations"]["entry"] == []
    assert strict.unmatched == ("Observation/local-ki67",)


def test_drafts_are_split_from_the_record_on_order_hooks_only() -> None:
    draft = {"resourceType": "ServiceRequest", "id": "d", "status": "draft"}
    active = {"resourceType": "ServiceRequest", "id": "a", "status": "active"}
    assert split_drafts([draft, active], "order-sign") == ([active], [draft])
    assert split_drafts([draft, active], "patient-view") == ([draft, active], [])


def _with_drafts(tmp_path: Path) -> Path:
    bundle = json.loads(PATIENT.read_text())
    bundle["entry"] += json.loads(DRAFTS.read_text())["entry"]
    path = tmp_path / "patient-with-drafts.json"
    path.write_text(json.dumps(bundle))
    return path


@pytest.mark.parametrize("hook", ["patient-view", "order-select", "order-sign"])
def test_request_prints_a_valid_request_for_each_hook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], hook: str
) -> None:
    assert main(["request", str(_with_drafts(tmp_path)), "--hook", hook]) == 0
    body = json.loads(capsys.readouterr().out)
    assert_valid("request", body)
    assert body["hook"] == hook and body["context"]["patientId"] == "bench-pnen"
    assert "observations" in body["prefetch"] and body["prefetch"]["patient"]["id"] == "bench-pnen"
    if hook != "patient-view":
        drafted = {e["resource"]["id"] for e in body["context"]["draftOrders"]["entry"]}
        assert drafted == {"draft-cisplatin", "draft-etoposide", "draft-tace", "draft-cga"}


def test_request_with_a_fhir_server_sends_no_prefetch(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["request", str(PATIENT), "--fhir-server", "https://ehr.example/fhir"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["fhirServer"] == "https://ehr.example/fhir" and "prefetch" not in body


@pytest.fixture
def live_service(tmp_path: Path) -> Iterator[str]:
    app = create_app({"dev": True, "auth": "off", "database_url": f"sqlite:///{tmp_path}/s.db"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        app.extensions["pnen_cds"].store.close()


def test_request_posts_to_a_running_service_and_prints_its_cards(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], live_service: str
) -> None:
    url = f"{live_service}/cds-services/pnen-order-sign"
    argv = ["request", str(_with_drafts(tmp_path)), "--hook", "order-sign", "--post", url]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == "HTTP 200"
    answer = json.loads(captured.out)
    assert_valid_response(answer)
    assert "tae-over-tace" in {c["source"]["topic"]["code"] for c in answer["cards"]}


def test_request_names_an_unreachable_service_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["request", str(PATIENT), "--post", "http://127.0.0.1:9/cds-services/pnen-patient-view"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pnen-cds request: --post http://127.0.0.1:9/") and "\n" not in err

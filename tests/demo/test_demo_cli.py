"""`pnen-cds demo` and `pnen-cds fixtures`: the commands a user runs to try the service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from cds_service.cli import main
from pnen_demo.cli import demo_text, sandbox_urls
from pnen_demo.patients import demo_patients
from pnen_demo.runner import free_port

SANDBOX = "https://sandbox.cds-hooks.org/"


def test_fixtures_export_writes_one_transaction_bundle_per_demo_patient(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bundles"
    code = main(
        [
            "fixtures",
            "export",
            "--format",
            "transaction",
            "--out",
            str(out),
            "--today",
            "2030-01-01",
        ]
    )
    assert code == 0
    files = sorted(out.glob("*.json"))
    assert [f.stem for f in files] == sorted(p.id for p in demo_patients())
    assert capsys.readouterr().out.split() == [
        str(f) for f in sorted(files, key=lambda f: [p.id for p in demo_patients()].index(f.stem))
    ]
    bundle = json.loads((out / "demo-nec.json").read_text())
    assert bundle["type"] == "transaction"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["request"] == {
            "method": "PUT",
            "url": f"{resource['resourceType']}/{resource['id']}",
        }
    onset = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == "nec-pnen-1")
    assert onset["onsetDateTime"] == "2029-11-02"  # 60 days before the day written for


def test_fixtures_export_as_collection_stamps_the_day(tmp_path: Path) -> None:
    assert main(["fixtures", "export", "--format", "collection", "--out", str(tmp_path)]) == 0
    bundle = json.loads((tmp_path / "bench-pnen.json").read_text())
    assert bundle["type"] == "collection" and "timestamp" in bundle


def test_fixtures_load_reports_failure_when_the_server_cannot_be_reached(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["fixtures", "load", "--fhir-server", f"http://127.0.0.1:{free_port()}/fhir"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and "connection refused" in out[0] and "ConnectionError" not in out[0]


def test_sandbox_urls_carry_the_fhir_server_patient_discovery_hook_and_screen() -> None:
    patient = next(p for p in demo_patients() if p.id == "demo-mgmt-tmz")
    urls = dict(
        sandbox_urls(
            patient, "http://127.0.0.1:8081/fhir", "http://127.0.0.1:8080/cds-services", SANDBOX
        )
    )
    assert set(urls) == {"patient-view", "rx-view", "rx-sign"}
    query = parse_qs(urlsplit(urls["rx-sign"]).query)
    assert query == {
        "fhirServiceUrl": ["http://127.0.0.1:8081/fhir"],
        "patientId": ["demo-mgmt-tmz"],
        "serviceDiscoveryURL": ["http://127.0.0.1:8080/cds-services"],
        "hook": ["order-sign"],
        "screen": ["rx-sign"],
    }


def test_patients_without_drafts_get_the_patient_view_screen_only() -> None:
    patient = next(p for p in demo_patients() if not p.drafts)
    assert [s for s, _ in sandbox_urls(patient, "f", "d", SANDBOX)] == ["patient-view"]


def test_demo_banner_says_the_fhir_server_is_a_development_tool() -> None:
    text = demo_text("http://127.0.0.1:8080", "http://127.0.0.1:8081/fhir", SANDBOX)
    assert "development tool" in text.splitlines()[1]
    assert text.count(SANDBOX + "?") == sum(1 + 2 * bool(p.drafts) for p in demo_patients())


def test_demo_refuses_a_non_loopback_address(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--host", "0.0.0.0"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_pnen_cds_demo_serves_the_service_and_the_fhir_server(tmp_path: Path) -> None:
    port, fhir_port = free_port(), free_port()
    exe = Path(sys.executable).with_name("pnen-cds")
    command = [
        str(exe),
        "demo",
        "--port",
        str(port),
        "--fhir-port",
        str(fhir_port),
        "--database-url",
        f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    ]
    log = tmp_path / "demo.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env=dict(os.environ)
        )
        try:
            deadline = time.monotonic() + 60
            while "Ctrl-C" not in log.read_text() and time.monotonic() < deadline:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.2)
            service, fhir = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{fhir_port}/fhir"
            discovery = requests.get(f"{service}/cds-services", timeout=10)
            assert discovery.status_code == 200
            assert requests.get(f"{fhir}/metadata", timeout=10).json()["fhirVersion"] == "4.0.1"
            body = {
                "hook": "patient-view",
                "hookInstance": "demo-check",
                "fhirServer": fhir,
                "context": {"patientId": "demo-nec", "userId": "Practitioner/x"},
            }
            cards = requests.post(
                f"{service}/cds-services/pnen-patient-view", json=body, timeout=30
            )
            codes = [c["source"]["topic"]["code"] for c in cards.json()["cards"]]
            assert (
                codes
                == next(p for p in demo_patients() if p.id == "demo-nec").cards["patient-view"]
            )
            summary = next(
                c for c in cards.json()["cards"] if c["source"]["topic"]["code"] == "summary"
            )
            assert summary["links"][0]["url"] == f"{service}/app/launch"
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    out = log.read_text()
    assert "development tool" in out
    assert f"fhirServiceUrl=http%3A%2F%2F127.0.0.1%3A{fhir_port}%2Ffhir" in out


def test_exported_demo_patients_with_drafts_give_their_order_hook_cards_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pnen_demo.patients import demo_patients

    argv = ["fixtures", "export", "--format", "collection", "--with-drafts", "--out", str(tmp_path)]
    assert main(argv) == 0
    capsys.readouterr()
    for patient in demo_patients():
        for hook in patient.order_hooks:
            assert (
                main(
                    [
                        "evaluate",
                        str(tmp_path / f"{patient.id}.json"),
                        "--hook",
                        hook,
                        "--format",
                        "json",
                    ]
                )
                == 0
            )
            cards = json.loads(capsys.readouterr().out)["cards"]
            assert [c["source"]["topic"]["code"] for c in cards] == patient.cards[hook], (
                patient.id,
                hook,
            )


def test_drafts_are_only_exported_in_a_collection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fixtures", "export", "--with-drafts", "--out", str(tmp_path)]) == 2
    assert "--format collection" in capsys.readouterr().err

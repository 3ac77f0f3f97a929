"""The pnen-cds command: evaluate a patient file offline, list the rules, print discovery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cds_service.cli import main
from tests.cds_schema import assert_valid, assert_valid_response

FIXTURES = Path(__file__).parent.parent / "fixtures"
PNEN = FIXTURES / "benchmark-pnen-patient.json"


def test_evaluate_prints_a_readable_report_for_the_benchmark_patient(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["evaluate", str(PNEN)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pnen-cds — benchmark-pnen-patient.json — patient-view — ")
    assert "Patient/bench-pnen:" in out
    assert "Rule: summary — pNEN summary" in out
    assert "Criteria:" in out and "Status" in out


def test_evaluate_json_is_a_valid_cds_hooks_response(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(PNEN), "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert_valid_response(body)
    assert "summary" in {c["source"]["topic"]["code"] for c in body["cards"]}


def test_evaluate_reads_ndjson(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = json.loads(PNEN.read_text())
    ndjson = tmp_path / "patient.ndjson"
    ndjson.write_text("\n".join(json.dumps(e["resource"]) for e in bundle["entry"]) + "\n")
    assert main(["evaluate", str(ndjson), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["cards"]


def test_evaluate_order_sign_reads_draft_orders_from_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = json.loads(PNEN.read_text())
    bundle["entry"].append(
        {
            "resource": {
                "resourceType": "ServiceRequest",
                "id": "draft-tace",
                "status": "draft",
                "intent": "order",
                "subject": {"reference": "Patient/bench-pnen"},
                "code": {
                    "coding": [
                        {"system": "http://pnen-cds.org/fhir/CodeSystem/pnen-lm", "code": "tace"}
                    ]
                },
            }
        }
    )
    path = tmp_path / "with-draft.json"
    path.write_text(json.dumps(bundle))
    assert main(["evaluate", str(path), "--hook", "order-sign", "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert_valid_response(body)
    codes = {c["source"]["topic"]["code"] for c in body["cards"]}
    assert "tae-over-tace" in codes and "summary" not in codes


def test_evaluate_a_missing_file_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "/nonexistent/patient.json"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_discovery_prints_the_discovery_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discovery"]) == 0
    assert_valid("discovery", json.loads(capsys.readouterr().out))


def test_rules_lists_every_rule_with_hooks_and_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_id = {r["id"]: r for r in rows}
    assert by_id["transplant-milan"]["hooks"] == ["order-select", "order-sign", "patient-view"]
    assert by_id["transplant-milan"]["source"] == "C 12"


def test_evaluate_as_of_reads_the_record_as_it_stood_that_day(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The benchmark pNEN was diagnosed on 2021-09-09: before that the record has no pNEN.
    assert main(["evaluate", str(PNEN), "--as-of", "2021-06-01"]) == 0
    before = capsys.readouterr().out
    header = before.splitlines()[0]
    assert header.startswith(
        "pnen-cds — benchmark-pnen-patient.json — patient-view — as of 2021-06-01; "
    )
    ignored = int(header.split("; ")[1].split()[0])
    assert ignored > 0 and header.endswith(f"{ignored} results dated after 2021-06-01 ignored")
    assert "Rule: summary" not in before
    assert main(["evaluate", str(PNEN), "--as-of", "2022-01-01"]) == 0
    after = capsys.readouterr().out
    assert "Rule: summary — pNEN summary" in after


def test_evaluate_today_is_an_alias_of_as_of(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(PNEN), "--today", "2021-06-01", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["cards"] == []

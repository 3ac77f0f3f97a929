"""A newcomer's mistakes: each gives one line naming the argument or setting, and exit status 2."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from cds_service import cli
from cds_service.cli import main

FIXTURES = Path(__file__).parent.parent / "fixtures"
PNEN = FIXTURES / "benchmark-pnen-patient.json"


def _fails_with_one_line(
    argv: Sequence[str], capsys: pytest.CaptureFixture[str], *expected: str
) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """`serve` must fail before gunicorn starts: record any attempt to run it."""
    started: list[object] = []
    monkeypatch.setattr("cds_service.server.run_server", lambda *a: started.append(a))
    return started


def test_evaluate_names_a_date_that_is_not_iso(capsys: pytest.CaptureFixture[str]) -> None:
    _fails_with_one_line(
        ["evaluate", str(PNEN), "--today", "01/06/2026"], capsys, "--today 01/06/2026", "YYYY-MM-DD"
    )


def test_evaluate_names_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    _fails_with_one_line(["evaluate", "no-such.json"], capsys, "no-such.json", "no such file")


def test_evaluate_names_a_file_that_is_not_fhir_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("this is not json\n")
    _fails_with_one_line(["evaluate", str(broken)], capsys, "broken.json:1", "not JSON")


def test_evaluate_names_a_file_without_a_patient(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = json.loads(PNEN.read_text())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Patient"]
    path = tmp_path / "no-patient.json"
    path.write_text(json.dumps(bundle))
    _fails_with_one_line(["evaluate", str(path)], capsys, "no Patient")


def test_order_select_without_a_draft_is_refused_like_the_api(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _fails_with_one_line(
        ["evaluate", str(PNEN), "--hook", "order-select"], capsys, "no draft order"
    )


def _with_draft(tmp_path: Path) -> Path:
    bundle = json.loads(PNEN.read_text())
    bundle["entry"].append(
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "id": "d-etoposide",
                "status": "draft",
                "intent": "order",
                "subject": {"reference": "Patient/bench-pnen"},
                "medicationCodeableConcept": {"text": "etoposide"},
            }
        }
    )
    path = tmp_path / "with-draft.json"
    path.write_text(json.dumps(bundle))
    return path


def test_a_selection_without_its_type_is_refused_naming_the_flag_and_its_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _fails_with_one_line(
        [
            "evaluate",
            str(_with_draft(tmp_path)),
            "--hook",
            "order-select",
            "--select",
            "d-etoposide",
        ],
        capsys,
        "--select d-etoposide: does not match a draft order",
        "MedicationRequest/d-etoposide",
    )
    assert "No recommendations" not in line and "context.selections" not in line


def test_a_selection_on_order_sign_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fails_with_one_line(
        ["evaluate", str(_with_draft(tmp_path)), "--hook", "order-sign", "--select", "x/y"],
        capsys,
        "--select",
        "order-select only",
    )


def test_an_unknown_local_default_names_the_variable_and_the_known_ones(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PNEN_CDS_DEFAULT_FOO", "1")
    _fails_with_one_line(
        ["evaluate", str(PNEN)], capsys, "PNEN_CDS_DEFAULT_FOO", "foo", "known:", "tmb-high"
    )


def test_a_non_numeric_local_default_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PNEN_CDS_DEFAULT_TMB_HIGH", "ten")
    _fails_with_one_line(
        ["evaluate", str(PNEN)],
        capsys,
        "PNEN_CDS_DEFAULT_TMB_HIGH='ten'",
        "expected a number between 1 and 100",
    )


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("PNEN_CDS_DEFAULT_RECENT_MARKER_DAYS", "-5", "between 1 and 365"),
        ("PNEN_CDS_DEFAULT_SSTR2_IHC_POSITIVE_SCORE", "5", "between 1 and 3"),
        ("PNEN_CDS_DEFAULT_SSTR2_IHC_POSITIVE_SCORE", "2.5", "whole number"),
        ("PNEN_CDS_DEFAULT_TMB_HIGH", "nan", "finite number"),
    ],
)
def test_a_local_default_out_of_range_is_refused(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    allowed: str,
) -> None:
    monkeypatch.setenv(variable, value)
    _fails_with_one_line(["evaluate", str(PNEN)], capsys, variable, allowed)


def test_a_missing_config_file_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PNEN_CDS_CONFIG", "/nowhere/pnen.toml")
    _fails_with_one_line(
        ["evaluate", str(PNEN)], capsys, "PNEN_CDS_CONFIG=/nowhere/pnen.toml", "no such file"
    )


def test_a_config_file_that_is_not_toml_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = tmp_path / "pnen.toml"
    toml.write_text("public_url = \n")
    monkeypatch.setenv("PNEN_CDS_CONFIG", str(toml))
    _fails_with_one_line(["evaluate", str(PNEN)], capsys, "pnen.toml", "not valid TOML")


def test_an_unknown_toml_setting_is_named_with_the_known_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = tmp_path / "pnen.toml"
    toml.write_text("fhir_timeuot = 3\n")
    monkeypatch.setenv("PNEN_CDS_CONFIG", str(toml))
    _fails_with_one_line(
        ["evaluate", str(PNEN)], capsys, "unknown setting 'fhir_timeuot'", "fhir_timeout"
    )


def test_a_local_default_at_the_toml_top_level_is_to_be_moved_under_local_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = tmp_path / "pnen.toml"
    toml.write_text("recent_marker_days = 60\n")
    monkeypatch.setenv("PNEN_CDS_CONFIG", str(toml))
    _fails_with_one_line(
        ["evaluate", str(PNEN)], capsys, "'recent_marker_days'", "move it under [local_defaults]"
    )


@pytest.mark.parametrize("key", ["recent-marker-days", "recent_marker_days"])
def test_local_defaults_in_toml_take_either_key_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    toml = tmp_path / "pnen.toml"
    toml.write_text(f"[local_defaults]\n{key} = 60\n")
    monkeypatch.setenv("PNEN_CDS_CONFIG", str(toml))
    from cds_service.config import load_config

    assert load_config().local_defaults == {"recent-marker-days": 60}
    assert main(["evaluate", str(PNEN)]) == 0


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PNEN_CDS_AUTH", "maybe", "expected one of jwt, off"),
        ("PNEN_CDS_FHIR_TIMEOUT", "soon", "expected a positive number"),
        ("PNEN_CDS_FHIR_TIMEOUT", "-1", "expected a positive number"),
        ("PNEN_CDS_MAX_REQUEST_BYTES", "5MB", "expected a positive whole number"),
        ("PNEN_CDS_ALLOW_INSECURE_FHIR", "perhaps", "expected true or false"),
    ],
)
def test_a_bad_service_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.setenv(variable, value)
    _fails_with_one_line(["evaluate", str(PNEN)], capsys, f"{variable}='{value}'", expected)


def test_serve_with_a_bad_setting_fails_once_before_gunicorn_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_server: list[object]
) -> None:
    monkeypatch.setenv("PNEN_CDS_DEFAULT_RECENT_MARKER_DAYS", "-5")
    _fails_with_one_line(["serve", "--dev"], capsys, "PNEN_CDS_DEFAULT_RECENT_MARKER_DAYS")
    assert not no_server


def test_serve_with_an_issuers_file_that_is_not_json_fails_before_gunicorn_starts(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_server: list[object],
) -> None:
    issuers = tmp_path / "issuers.json"
    issuers.write_text("{not json")
    monkeypatch.setenv("PNEN_CDS_TRUSTED_ISSUERS_FILE", str(issuers))
    _fails_with_one_line(["serve"], capsys, "PNEN_CDS_TRUSTED_ISSUERS_FILE", "not JSON")
    assert not no_server


def test_serve_with_a_missing_issuers_file_fails_before_gunicorn_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_server: list[object]
) -> None:
    monkeypatch.setenv("PNEN_CDS_TRUSTED_ISSUERS_FILE", "/nowhere/issuers.json")
    _fails_with_one_line(["serve"], capsys, "/nowhere/issuers.json")
    assert not no_server


def test_serve_dev_refuses_a_public_address(
    capsys: pytest.CaptureFixture[str], no_server: list[object]
) -> None:
    _fails_with_one_line(["serve", "--dev", "--host", "0.0.0.0"], capsys, "--host 0.0.0.0")
    assert not no_server


def test_serve_dev_banner_says_authentication_is_off(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_server: list[object],
) -> None:
    monkeypatch.setenv("PNEN_CDS_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("PNEN_CDS_DEFAULT_RECENT_MARKER_DAYS", "60")
    assert main(["serve", "--dev", "--port", "8123"]) == 0
    err = capsys.readouterr().err
    assert "pnen-cds serving on http://127.0.0.1:8123" in err
    assert "authentication OFF" in err and "loopback only" in err
    assert f"database: sqlite:///{tmp_path / 'db.sqlite3'}" in err
    assert "rules" in err and "ValueSets" in err
    assert "recent-marker-days = 60 (shipped 90)" in err
    assert no_server


def test_serve_without_issuers_warns_loudly_that_every_call_will_be_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_server: list[object],
) -> None:
    monkeypatch.setenv("PNEN_CDS_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert main(["serve"]) == 0
    err = capsys.readouterr().err
    assert "mode: production" in err
    assert "WARNING: no trusted issuer" in err and "401" in err


def test_the_banner_hides_a_database_password() -> None:
    assert cli._describe_database("postgresql+psycopg://app:s3cret@db/pnen") == (
        "postgresql+psycopg://app:***@db/pnen"
    )


def test_feedback_report_refuses_a_database_that_does_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _fails_with_one_line(["feedback-report"], capsys, "pnen-cds.sqlite3", "no such file")
    assert not (tmp_path / "pnen-cds.sqlite3").exists()


def test_feedback_report_names_the_database_and_shows_no_rate_without_feedback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cds_service.store import AuditEntry, Store

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    store = Store.open(url)
    store.record_audit(
        AuditEntry(
            service="pnen-patient-view",
            hook_instance="h-1",
            patient_ref="Patient/p",
            rule_ids=("summary",),
            cards=(("c-1", "summary"),),
            resources_used=(),
            elapsed_ms=1.0,
        )
    )
    store.close()
    monkeypatch.setenv("PNEN_CDS_DATABASE_URL", url)
    assert main(["feedback-report"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"Database: {url}"
    row = next(line for line in out.splitlines() if line.startswith("summary"))
    assert row.split() == ["summary", "1", "0", "-", "-"]
    assert "0%" not in row


def test_help_lists_every_command_and_shows_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("serve", "evaluate", "request", "discovery", "rules", "feedback-report"):
        assert command in out
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "(default: 8080)" in out and "(default: 127.0.0.1)" in out


def test_audit_prune_removes_rows_older_than_the_limit_and_says_what_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime, timedelta

    from cds_service.store import AuditEntry, Store

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    store = Store.open(url)
    for age in (100, 10):
        store.record_audit(
            AuditEntry(
                service="pnen-patient-view",
                hook_instance=f"h-{age}",
                patient_ref="Patient/p",
                rule_ids=("summary",),
                cards=((f"c-{age}", "summary"),),
                resources_used=(),
                elapsed_ms=1.0,
                at=datetime.now(UTC) - timedelta(days=age),
            )
        )
    store.close()
    monkeypatch.setenv("PNEN_CDS_DATABASE_URL", url)
    assert main(["audit", "prune", "--older-than-days", "30"]) == 0
    out = capsys.readouterr().out
    assert "1 audit rows and 1 card records older than 30 days" in out and url in out
    monkeypatch.setenv("PNEN_CDS_AUDIT_RETENTION_DAYS", "5")
    assert main(["audit", "prune"]) == 0  # the configured retention is the default
    assert "1 audit rows" in capsys.readouterr().out


def test_audit_prune_needs_an_age_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PNEN_CDS_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    _fails_with_one_line(
        ["audit", "prune"], capsys, "--older-than-days", "PNEN_CDS_AUDIT_RETENTION_DAYS"
    )
    _fails_with_one_line(["audit", "prune", "--older-than-days", "0"], capsys, "≥ 1")


def test_a_retention_that_is_not_a_whole_number_of_days_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PNEN_CDS_AUDIT_RETENTION_DAYS", "a year")
    _fails_with_one_line(
        ["audit", "prune"], capsys, "PNEN_CDS_AUDIT_RETENTION_DAYS='a year'", "whole number"
    )


def test_the_service_applies_the_configured_retention(tmp_path: Path) -> None:
    from cds_service import create_app

    app = create_app(
        {
            "dev": True,
            "auth": "off",
            "database_url": f"sqlite:///{tmp_path / 's.db'}",
            "audit_retention_days": 30,
        }
    )
    store = app.extensions["pnen_cds"].store
    assert store._retention is not None  # the background pruner runs in this worker
    store.close()
    assert store._retention is None


@pytest.mark.parametrize(
    ("variables", "setting"),
    [
        ({"PNEN_CDS_DEV": "true", "PNEN_CDS_AUTH": "off"}, "development mode"),
        ({"PNEN_CDS_DEV": "true"}, "development mode"),
        ({"PNEN_CDS_AUTH": "off"}, "authentication off"),
    ],
)
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "127.0.0.1.nip.io"])
def test_serve_refuses_a_non_loopback_host_in_dev_mode_or_without_authentication_however_set(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_server: list[object],
    variables: dict[str, str],
    setting: str,
    host: str,
) -> None:
    monkeypatch.setenv("PNEN_CDS_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    _fails_with_one_line(["serve", "--host", host], capsys, f"--host {host}", setting)
    assert not no_server


def test_serve_refuses_a_non_loopback_host_when_the_toml_file_sets_dev(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_server: list[object],
) -> None:
    toml = tmp_path / "pnen-cds.toml"
    toml.write_text(f'dev = true\ndatabase_url = "sqlite:///{tmp_path / "db.sqlite3"}"\n')
    monkeypatch.setenv("PNEN_CDS_CONFIG", str(toml))
    _fails_with_one_line(["serve", "--host", "0.0.0.0"], capsys, "development mode")
    assert not no_server


def test_serve_without_authentication_on_loopback_says_so_truthfully(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_server: list[object],
) -> None:
    monkeypatch.setenv("PNEN_CDS_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("PNEN_CDS_AUTH", "off")
    assert main(["serve", "--host", "::1"]) == 0
    assert "AUTHENTICATION OFF (PNEN_CDS_AUTH=off) - loopback only" in capsys.readouterr().err
    assert no_server


def test_the_dev_banner_never_claims_loopback_only_for_another_host() -> None:
    from cds_service.config import load_config

    config = load_config({"dev": True, "auth": "off"}, environ={})
    knowledge, issuers = cli._checked_runtime_parts(config)
    banner = cli.startup_banner(config, knowledge, issuers, "0.0.0.0", 8080)
    assert "loopback only" not in banner and "bound to 0.0.0.0" in banner

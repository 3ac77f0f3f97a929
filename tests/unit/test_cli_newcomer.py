"""A newcomer's trial from the README: every mistake is one line naming it, exit status 2."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from cds_service.cli import main, parser

FIXTURES = Path(__file__).parent.parent / "fixtures"
PNEN = FIXTURES / "benchmark-pnen-patient.json"


def _one_line(err: str, *expected: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def _fails_with_one_line(
    argv: Sequence[str], capsys: pytest.CaptureFixture[str], *expected: str
) -> str:
    assert main(argv) == 2
    return _one_line(capsys.readouterr().err, *expected)


def _usage_fails_with_one_line(
    argv: Sequence[str], capsys: pytest.CaptureFixture[str], *expected: str
) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    return _one_line(capsys.readouterr().err, *expected, "(see --help)")


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """`serve` must fail before gunicorn starts: record any attempt to run it."""
    started: list[Any] = []
    monkeypatch.setattr("cds_service.server.run_server", lambda *a: started.append(a))
    return started


@pytest.fixture(autouse=True)
def _own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No stray database in the checkout; no PNEN_CDS_* variable of the caller's shell."""
    monkeypatch.chdir(tmp_path)
    for variable in list(os.environ):
        if variable.startswith("PNEN_CDS_") and not variable.startswith("PNEN_CDS_TEST_"):
            monkeypatch.delenv(variable)


# 1. No traceback for a bad database URL, site ValueSet folder, date or server option.


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("bogus://x", "unsupported database 'bogus'"),
        ("notaurl", "not a database URL"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/pnen", "cannot be opened"),
    ],
)
@pytest.mark.parametrize(
    "argv", [["feedback-report"], ["audit", "prune", "--older-than-days", "30"], ["serve"]]
)
def test_a_database_url_that_cannot_be_used_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_server: list[Any],
    url: str,
    expected: str,
    argv: list[str],
) -> None:
    monkeypatch.setenv("PNEN_CDS_DATABASE_URL", url)
    _fails_with_one_line(argv, capsys, "PNEN_CDS_DATABASE_URL=", expected)
    assert not no_server


def test_the_database_error_hides_its_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PNEN_CDS_DATABASE_URL", "postgresql+psycopg://app:s3cret@127.0.0.1:1/db")
    line = _fails_with_one_line(["feedback-report"], capsys, "app:***@")
    assert "s3cret" not in line


def test_serve_refuses_a_sqlite_file_in_a_folder_that_does_not_exist(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_server: list[Any]
) -> None:
    monkeypatch.setenv("PNEN_CDS_DATABASE_URL", "sqlite:////nonexistent/pnen.sqlite3")
    _fails_with_one_line(
        ["serve", "--dev"], capsys, "PNEN_CDS_DATABASE_URL=", "no folder /nonexistent"
    )
    assert not no_server


@pytest.mark.parametrize(
    "argv", [["evaluate", str(PNEN)], ["request", str(PNEN)], ["discovery"], ["serve", "--dev"]]
)
def test_a_missing_site_valueset_folder_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_server: list[Any],
    argv: list[str],
) -> None:
    monkeypatch.setenv("PNEN_CDS_VALUESETS_DIR", "/nonexistent")
    _fails_with_one_line(argv, capsys, "PNEN_CDS_VALUESETS_DIR=/nonexistent", "does not exist")


@pytest.mark.parametrize("action", ["export", "load"])
def test_fixtures_name_a_date_that_is_not_iso(
    capsys: pytest.CaptureFixture[str], action: str
) -> None:
    argv = ["fixtures", action, "--today", "01/06/2026"]
    if action == "load":
        argv += ["--fhir-server", "http://127.0.0.1:1/fhir"]
    _usage_fails_with_one_line(
        argv, capsys, f"pnen-cds fixtures {action}:", "--today", "'01/06/2026'", "YYYY-MM-DD"
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["serve", "--port", "99999"], "from 1 to 65535"),
        (["serve", "--port", "0"], "from 1 to 65535"),
        (["serve", "--workers", "-1"], "at least 0"),
        (["serve", "--timeout", "0"], "at least 1"),
        (["demo", "--fhir-port", "70000"], "from 1 to 65535"),
    ],
)
def test_a_server_option_out_of_range_is_refused_before_starting(
    capsys: pytest.CaptureFixture[str],
    no_server: list[Any],
    argv: list[str],
    expected: str,
) -> None:
    _usage_fails_with_one_line(argv, capsys, argv[1], expected)
    assert not no_server


def test_the_highest_port_is_accepted(
    capsys: pytest.CaptureFixture[str], no_server: list[Any]
) -> None:
    assert main(["serve", "--dev", "--port", "65535"]) == 0
    assert no_server[0][2] == 65535


# 2. In development, links follow the address served.


def test_serve_dev_on_another_port_links_to_that_port(
    capsys: pytest.CaptureFixture[str], no_server: list[Any]
) -> None:
    assert main(["serve", "--dev", "--port", "8099"]) == 0
    config = no_server[0][0]
    assert config.public_url == "http://127.0.0.1:8099"
    assert config.rule_url_base == "http://127.0.0.1:8099/rules"
    assert config.smart_app_url == "http://127.0.0.1:8099/app/launch"
    assert "public URL (JWT aud): http://127.0.0.1:8099" in capsys.readouterr().err


def test_serve_dev_keeps_a_public_url_that_is_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_server: list[Any]
) -> None:
    monkeypatch.setenv("PNEN_CDS_PUBLIC_URL", "http://localhost:9000")
    assert main(["serve", "--dev", "--port", "8099"]) == 0
    assert no_server[0][0].public_url == "http://localhost:9000"


def test_production_keeps_the_default_public_url_and_warns(
    capsys: pytest.CaptureFixture[str], no_server: list[Any]
) -> None:
    assert main(["serve", "--port", "8099"]) == 0
    assert no_server[0][0].public_url == "http://127.0.0.1:8080"
    assert "PNEN_CDS_PUBLIC_URL is the default" in capsys.readouterr().err


# 3, 4. Order hooks without drafts, and a selection that is not a draft.


def test_order_sign_without_a_draft_says_so_like_order_select(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = _fails_with_one_line(
        ["evaluate", str(PNEN), "--hook", "order-sign"], capsys, "--hook order-sign", "no draft"
    )
    assert "no active pNEN" not in line


def test_a_file_of_several_patients_is_refused_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = json.loads(PNEN.read_text())
    bundle["entry"].append({"resource": {"resourceType": "Patient", "id": "other-patient"}})
    path = tmp_path / "two.json"
    path.write_text(json.dumps(bundle))
    for command in ("evaluate", "request"):
        _fails_with_one_line(
            [command, str(path)], capsys, "2 patients", "bench-pnen", "other-patient"
        )


# 5. Argument mistakes: one line, the command named, exit 2.


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["evaluate", str(PNEN), "--hook", "order-sing"], "pnen-cds evaluate: argument --hook"),
        (["evaluate", str(PNEN), "--format", "xml"], "invalid choice: 'xml'"),
        (["evalute", str(PNEN)], "pnen-cds: argument COMMAND: invalid choice: 'evalute'"),
        (
            ["evaluate", str(PNEN), "--hok", "order-sign"],
            "pnen-cds evaluate: unrecognized arguments: --hok order-sign (did you mean --hook?)",
        ),
        (["discovery", "--format", "json"], "pnen-cds discovery: unrecognized arguments"),
        (["evaluate"], "pnen-cds evaluate: the following arguments are required: file"),
        ([], "pnen-cds: the following arguments are required: COMMAND"),
        (["audit", "prune", "--older-than-days", "abc"], "pnen-cds audit prune: argument"),
        (["fixtures", "export", "--format", "csv"], "pnen-cds fixtures export: argument"),
        (["demo", "--port", "x"], "pnen-cds demo: argument --port"),
    ],
)
def test_an_argument_mistake_is_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    _usage_fails_with_one_line(argv, capsys, expected)


# 6. Hints for settings.


def test_a_non_numeric_local_default_states_the_allowed_range(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PNEN_CDS_DEFAULT_RECENT_MARKER_DAYS", "abc")
    _fails_with_one_line(
        ["evaluate", str(PNEN)],
        capsys,
        "PNEN_CDS_DEFAULT_RECENT_MARKER_DAYS='abc'",
        "expected a whole number between 1 and 365",
    )


def test_an_sstr2_score_written_2_plus_is_read_as_2(monkeypatch: pytest.MonkeyPatch) -> None:
    from cds_service.config import load_config

    monkeypatch.setenv("PNEN_CDS_DEFAULT_SSTR2_IHC_POSITIVE_SCORE", "3+")
    assert load_config().local_defaults == {"sstr2-ihc-positive-score": 3}
    monkeypatch.setenv("PNEN_CDS_DEFAULT_RECENT_MARKER_DAYS", "90+")  # a '+' only on scores
    with pytest.raises(ValueError, match="between 1 and 365"):
        load_config()


def test_an_unknown_pnen_cds_variable_is_named_with_the_closest_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PNEN_CDS_DATABSE_URL", "sqlite:///x")
    monkeypatch.setenv("PNEN_CDS_TEST_POSTGRES", "ignored by the check")
    monkeypatch.setenv("PNEN_CDS_DEFAULT_TMB_HIGH", "12")
    assert main(["evaluate", str(PNEN)]) == 0
    _one_line(
        capsys.readouterr().err,
        "pnen-cds evaluate: warning: PNEN_CDS_DATABSE_URL",
        "did you mean PNEN_CDS_DATABASE_URL?",
    )


def test_serve_names_an_unknown_variable_at_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_server: list[Any]
) -> None:
    monkeypatch.setenv("PNEN_CDS_FOO", "1")
    assert main(["serve", "--dev"]) == 0
    assert "warning: PNEN_CDS_FOO is not a pnen-cds setting" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["notaurl", "ftp://host/x", "http://"])
def test_a_public_url_must_be_http(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    monkeypatch.setenv("PNEN_CDS_PUBLIC_URL", url)
    _fails_with_one_line(["evaluate", str(PNEN)], capsys, "PNEN_CDS_PUBLIC_URL=", "http(s) URL")


# 7. Help: every option explained, its default shown once.


def _parsers(top: object) -> list[Any]:
    import argparse

    found = [top]
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _parsers(sub)
    return found


def test_every_option_of_every_command_has_help_with_its_default_once() -> None:
    for command in _parsers(parser()):
        text = command.format_help()
        assert "(default: None)" not in text, command.prog
        assert "(default: False)" not in text, command.prog
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction) or not action.option_strings:
                continue
            assert action.help, (command.prog, action.option_strings)
        for line in text.splitlines():
            assert line.count("default") <= 1, line


def test_demo_help_shows_its_ports() -> None:
    demo = next(p for p in _parsers(parser()) if p.prog == "pnen-cds demo")
    text = " ".join(demo.format_help().split())
    assert "port of the CDS service (default: 8080)" in text
    assert "(default: 8081)" in text


# 8. Network errors in plain words.


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:1/cds-services/pnen-patient-view", "connection refused"),
        ("notaurl", "not an http(s) URL"),
        ("http://", "invalid URL"),
    ],
)
def test_request_post_failures_give_a_readable_reason(
    capsys: pytest.CaptureFixture[str], url: str, expected: str
) -> None:
    line = _fails_with_one_line(["request", str(PNEN), "--post", url], capsys, "--post", expected)
    assert "Error" not in line


def test_fixtures_load_to_a_dead_server_says_connection_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["fixtures", "load", "--fhir-server", "http://127.0.0.1:1/fhir"]) == 1
    _one_line(
        capsys.readouterr().out, "--fhir-server http://127.0.0.1:1/fhir", "connection refused"
    )


def test_feedback_entries_over_the_limit_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PNEN_CDS_MAX_FEEDBACK_ENTRIES", "5000")
    _fails_with_one_line(
        ["evaluate", str(PNEN)], capsys, "PNEN_CDS_MAX_FEEDBACK_ENTRIES", "expected 1 to 1000"
    )


def test_a_worker_count_from_the_environment_is_checked_like_the_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_server: list[Any]
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "many")
    _usage_fails_with_one_line(["serve", "--dev"], capsys, "--workers", "'many'")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert main(["serve", "--dev"]) == 0
    assert no_server[0][3] == 3


def test_demo_refuses_one_port_for_both_servers(capsys: pytest.CaptureFixture[str]) -> None:
    _fails_with_one_line(
        ["demo", "--port", "8094", "--fhir-port", "8094"], capsys, "--fhir-port 8094", "two"
    )


def test_a_hook_instance_must_be_a_uuid(capsys: pytest.CaptureFixture[str]) -> None:
    _usage_fails_with_one_line(
        ["request", str(PNEN), "--hook-instance", "xyz"], capsys, "--hook-instance", "UUID"
    )
    given = "8d0d4c5e-6a5e-4d7b-9a55-0f1d6c1a00ff"
    assert main(["request", str(PNEN), "--hook-instance", given]) == 0
    assert json.loads(capsys.readouterr().out)["hookInstance"] == given

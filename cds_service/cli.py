"""The pnen-cds command: serve, evaluate, discovery, rules, feedback-report, demo, fixtures."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from cards.report import ReportHeader, text_report
from cds_service.config import Config, load_config
from hooks.evaluation import HookResult

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.dev:
        if not _is_loopback(args.host):
            print(
                "pnen-cds: --dev runs without authentication and binds loopback only",
                file=sys.stderr,
            )
            return 2
        overrides = {"dev": True, "auth": "off"}
    config = load_config(overrides)
    if config.public_url == Config.public_url and not args.dev:
        print(
            "pnen-cds: warning: PNEN_CDS_PUBLIC_URL is the default; tokens' aud must match it",
            file=sys.stderr,
        )
    if config.auth_enabled and not config.trusted_issuers_file:
        print(
            "pnen-cds: no PNEN_CDS_TRUSTED_ISSUERS_FILE: every call will be refused (401); "
            "use --dev for a local trial",
            file=sys.stderr,
        )
    from cds_service.server import run_server

    run_server(config, args.host, args.port, args.workers, args.timeout)
    return 0


def read_resources(path: Path) -> list[dict[str, Any]]:
    """Resources of a FHIR Bundle (JSON) or of NDJSON (one resource per line)."""
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            if data.get("resourceType") == "Bundle":
                return [
                    e["resource"]
                    for e in data.get("entry") or []
                    if isinstance(e, dict) and isinstance(e.get("resource"), dict)
                ]
            return [data]
    resources = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SystemExit(f"pnen-cds: {path}:{number}: not JSON ({exc.msg})") from exc
            if isinstance(item, dict):
                resources.append(item)
    return resources


def evaluate_file(
    path: Path, hook: str, selections: Sequence[str], config: Config, today: date
) -> tuple[str, HookResult]:
    """Evaluate a patient file offline: the patient reference and the hook's result."""
    from cards import CardOptions
    from hooks.knowledge import load_knowledge
    from hooks.registry import SERVICES
    from hooks.request import HookRequest

    knowledge = load_knowledge(
        config.valuesets_dir,
        config.local_defaults,
        CardOptions(rule_url_base=config.rule_url_base, smart_app_url=config.smart_app_url),
    )
    resources = read_resources(path)
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    patient_id = str(patients[0].get("id")) if patients else "unknown"
    drafts: tuple[Any, ...] = ()
    if hook != "patient-view":
        drafts = tuple(
            r
            for r in resources
            if r.get("resourceType") in ("ServiceRequest", "MedicationRequest")
            and r.get("status") == "draft"
        )
    record = [r for r in resources if r not in drafts]
    request = HookRequest(
        hook=hook,
        hook_instance="cli",
        patient_id=patient_id,
        prefetch={},
        fhir_server=None,
        access_token=None,
        draft_orders=drafts,
        selections=tuple(selections) or tuple(f"{d['resourceType']}/{d.get('id')}" for d in drafts),
    )
    service = next(s for s in SERVICES.values() if s.hook == hook)
    facts = knowledge.mapper.map(patient_id, [("file", r) for r in record], today)
    return request.patient_ref, service.handler(request, facts, knowledge, today)


def _evaluate(args: argparse.Namespace) -> int:
    config = load_config()
    path = Path(args.file)
    if not path.is_file():
        print(f"pnen-cds: {path}: no such file", file=sys.stderr)
        return 2
    today = date.fromisoformat(args.today) if args.today else date.today()
    patient_ref, result = evaluate_file(path, args.hook, args.select or (), config, today)
    if args.format == "json":
        print(json.dumps(result.response(), indent=2, ensure_ascii=False))
    else:
        header = ReportHeader(path.name, patient_ref, args.hook, today.isoformat())
        print(text_report(header, result.recommendations, result.data_issues), end="")
    return 0


def _discovery(_: argparse.Namespace) -> int:
    from hooks.knowledge import load_knowledge
    from hooks.registry import discovery

    config = load_config()
    print(json.dumps(discovery(load_knowledge(config.valuesets_dir)), indent=2))
    return 0


def _rules(args: argparse.Namespace) -> int:
    from consensus.registry import rule_table
    from consensus.rules import all_rules

    rules = all_rules()
    if args.format == "json":
        rows = [
            {
                "id": r.info.id,
                "title": r.info.title,
                "hooks": sorted(r.info.hooks),
                "source": r.info.citation,
                "area": r.info.area,
            }
            for r in rules
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print(rule_table(rules))
    return 0


def _feedback_report(args: argparse.Namespace) -> int:
    from cds_service.store import Store

    config = load_config()
    store = Store.open(config.database_url)
    try:
        stats = store.feedback_report()
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps([s.as_json() for s in stats], indent=2))
        return 0
    if not stats:
        print("No cards issued and no feedback stored yet.")
        return 0
    print(f"{'rule id':32} {'cards':>6} {'fback':>6} {'accept':>7} {'override':>9}")
    for s in stats:
        print(
            f"{s.rule_id:32} {s.cards_issued:>6} {s.feedback:>6} "
            f"{s.acceptance_rate:>7.0%} {s.override_rate:>9.0%}"
        )
        for reason, count in s.override_reasons:
            print(f"{'':34}override: {reason} ×{count}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pnen_demo.cli import demo  # the demo is a development tool, imported only here

    return demo(args)


def _fixtures(args: argparse.Namespace) -> int:
    from pnen_demo.cli import fixtures

    return fixtures(args)


def _demo_commands(sub: Any) -> None:
    """`demo` and `fixtures`: the demo patients, a demo FHIR server, the sandbox URLs."""
    run = sub.add_parser("demo", help="run the service and a demo FHIR server for the sandbox")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8080)
    run.add_argument("--fhir-port", type=int, default=8081)
    run.add_argument("--database-url", help="store for feedback and audit (default: the usual)")
    run.add_argument(
        "--sandbox", default="https://sandbox.cds-hooks.org/", help="CDS Hooks sandbox base URL"
    )
    run.set_defaults(func=_demo)
    fx = sub.add_parser("fixtures", help="export or load the demo patients")
    actions = fx.add_subparsers(dest="action", required=True)
    ex = actions.add_parser("export", help="write one FHIR Bundle per demo patient")
    ex.add_argument("--format", default="transaction", choices=["transaction", "collection"])
    ex.add_argument("--out", default="demo-patients", help="folder to write into")
    ex.add_argument("--today", help="the day the dates are written for (YYYY-MM-DD)")
    ex.set_defaults(func=_fixtures)
    ld = actions.add_parser("load", help="POST each patient's transaction Bundle to a FHIR server")
    ld.add_argument("--fhir-server", required=True, help="FHIR base URL")
    ld.add_argument("--token", help="bearer token for the FHIR server")
    ld.add_argument("--today", help="the day the dates are written for (YYYY-MM-DD)")
    ld.set_defaults(func=_fixtures)


def parser() -> argparse.ArgumentParser:
    """The argument parser of the pnen-cds command."""
    top = argparse.ArgumentParser(prog="pnen-cds", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the production WSGI server (gunicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 0)))
    serve.add_argument("--timeout", type=int, default=30)
    serve.add_argument("--dev", action="store_true", help="loopback only, no authentication")
    serve.set_defaults(func=_serve)
    ev = sub.add_parser("evaluate", help="evaluate a FHIR Bundle or NDJSON file offline")
    ev.add_argument("file")
    ev.add_argument(
        "--hook", default="patient-view", choices=["patient-view", "order-select", "order-sign"]
    )
    ev.add_argument("--select", action="append", help="Type/id of a selected draft (order-select)")
    ev.add_argument("--format", default="text", choices=["text", "json"])
    ev.add_argument("--today", help="evaluate as of this date (YYYY-MM-DD)")
    ev.set_defaults(func=_evaluate)
    disc = sub.add_parser("discovery", help="print the discovery document")
    disc.set_defaults(func=_discovery)
    rules = sub.add_parser("rules", help="list every rule id with its hooks and source section")
    rules.add_argument("--format", default="markdown", choices=["markdown", "json"])
    rules.set_defaults(func=_rules)
    fb = sub.add_parser("feedback-report", help="acceptance and override rates per rule")
    fb.add_argument("--format", default="text", choices=["text", "json"])
    fb.set_defaults(func=_feedback_report)
    _demo_commands(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())

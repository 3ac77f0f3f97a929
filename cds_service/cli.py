"""The pnen-cds command: serve, evaluate, request, discovery, rules, feedback-report, audit,
demo, fixtures."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from cards.report import ReportHeader, text_report
from cds_service.config import Config, ConfigError, load_config, unknown_variables
from cds_service.loopback import is_loopback_host
from fhir_mappings.bundles import bundle_aliases
from hooks.evaluation import HookResult
from pnen_i18n import SUPPORTED_LOCALES, _, canonical, use_locale

HOOK_CHOICES = ["patient-view", "order-select", "order-sign"]


class UsageError(Exception):
    """A mistake in the command line or its input: one line for the user, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print `pnen-cds <cmd>: <message> (see --help)` and exit 2."""
        self.exit(2, f"{self.prog}: {message} (see --help)\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """Parse; an unknown argument is named by the command it was given to (with a guess)."""
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            guesses = [
                close[0]
                for extra in extras
                if extra.startswith("--")
                for close in [difflib.get_close_matches(extra, self._option_string_actions, 1)]
                if close
            ]
            hint = f" (did you mean {', '.join(guesses)}?)" if guesses else ""
            self.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        return parsed, extras


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults shown once: not for unset options, switches, or help that states its default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" in text
            or action.default is None
            or action.default is False
            or action.default == argparse.SUPPRESS
        ):
            return text
        return super()._get_help_string(action) or text


def _in_range(low: int, high: int | None) -> Any:
    """An argparse type: a whole number from `low` to `high` (no upper limit when None)."""

    def whole(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = None
        if number is None or number < low or (high is not None and number > high):
            limit = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number {limit}")
        return number

    whole.__name__ = "whole number"
    return whole


def _iso_date(text: str) -> str:
    """An argparse type: a YYYY-MM-DD date (kept as text)."""
    try:
        date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a date as YYYY-MM-DD") from None
    return text


def _uuid(text: str) -> str:
    """An argparse type: a UUID (CDS Hooks' hookInstance), kept as written."""
    try:
        uuid.UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a UUID") from None
    return text


PORT = _in_range(1, 65535)


def _describe_database(url: str) -> str:
    """The database URL without its password (the store's own rendering)."""
    from cds_service.store import shown_url

    return shown_url(url)


def _knowledge(config: Config, cards: Any = None) -> Any:
    """The service's knowledge; UsageError naming PNEN_CDS_VALUESETS_DIR when it cannot load."""
    from hooks.knowledge import load_knowledge

    try:
        return load_knowledge(config.valuesets_dir, config.local_defaults, cards)
    except (OSError, ValueError) as exc:
        raise UsageError(f"PNEN_CDS_VALUESETS_DIR={config.valuesets_dir}: {exc}") from None


def _database_url(config: Config) -> Any:
    """The parsed PNEN_CDS_DATABASE_URL; UsageError when it is not a SQLite or PostgreSQL URL."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    shown = _describe_database(config.database_url)
    try:
        parsed = make_url(config.database_url)
    except ArgumentError:
        raise UsageError(
            f"PNEN_CDS_DATABASE_URL={shown}: not a database URL "
            "(expected sqlite:///FILE or postgresql+psycopg://USER@HOST/DB)"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise UsageError(
            f"PNEN_CDS_DATABASE_URL={shown}: unsupported database "
            f"{parsed.get_backend_name()!r} (use sqlite or postgresql)"
        )
    return parsed


def _open_store(config: Config) -> Any:
    """Store.open, with a database that cannot be reached as one line naming the variable."""
    from sqlalchemy.exc import SQLAlchemyError

    from cds_service.store import Store

    _database_url(config)
    try:
        return Store.open(config.database_url)
    except (SQLAlchemyError, OSError, ValueError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise UsageError(
            f"PNEN_CDS_DATABASE_URL={_describe_database(config.database_url)}: cannot be "
            f"opened ({reason[0] if reason else type(exc).__name__})"
        ) from None


def _checked_runtime_parts(config: Config) -> tuple[Any, Any]:
    """Knowledge and trusted issuers as the workers will load them; UsageError when unusable."""
    from cds_service.auth import TrustedIssuers

    knowledge = _knowledge(config)
    database = _database_url(config)
    if database.get_backend_name() == "postgresql":
        _open_store(config).close()  # a server that cannot be reached: say so before gunicorn
    elif database.database and database.database != ":memory:":
        folder = Path(database.database).parent
        if not folder.is_dir():
            raise UsageError(
                f"PNEN_CDS_DATABASE_URL={config.database_url}: no folder {folder} for the "
                "SQLite file"
            )
    try:
        issuers = TrustedIssuers.load(config.trusted_issuers_file)
    except OSError as exc:
        raise UsageError(
            f"PNEN_CDS_TRUSTED_ISSUERS_FILE={config.trusted_issuers_file}: {exc.strerror}"
        ) from None
    except ValueError as exc:
        raise UsageError(f"PNEN_CDS_TRUSTED_ISSUERS_FILE: {exc}") from None
    return knowledge, issuers


def startup_banner(config: Config, knowledge: Any, issuers: Any, host: str, port: int) -> str:
    """What a starting server says about itself: mode, URLs, store, issuers, knowledge."""
    from consensus.settings import LOCAL_DEFAULTS

    lines = [f"pnen-cds serving on http://{host}:{port}"]
    # Each claim is derived from what will actually run, never assumed from the mode.
    bound = "loopback only" if is_loopback_host(host) else f"bound to {host}"
    if config.dev:
        auth = "authentication OFF" if not config.auth_enabled else "authentication on"
        cors = (
            "CORS open to every origin (not the dashboard)"
            if "*" in config.cors_origins
            else f"CORS origins: {', '.join(config.cors_origins) or 'none'}"
        )
        lines.append(f"  mode: DEVELOPMENT - {auth}, {bound}, {cors}")
    elif config.auth_enabled:
        lines.append("  mode: production - every call needs a CDS Hooks JWT")
    else:
        lines.append(f"  mode: AUTHENTICATION OFF (PNEN_CDS_AUTH=off) - {bound}")
    lines.append(f"  public URL (JWT aud): {config.public_url}")
    lines.append(f"  database: {_describe_database(config.database_url)}")
    if config.auth_enabled:
        if len(issuers):
            lines.append(f"  trusted issuers: {len(issuers)}")
        else:
            lines.append(
                "  WARNING: no trusted issuer (PNEN_CDS_TRUSTED_ISSUERS_FILE unset or empty): "
                "every call will be refused with 401; use --dev for a local trial"
            )
    site = f", site folder {config.valuesets_dir}" if config.valuesets_dir else ""
    lines.append(
        f"  knowledge: {len(knowledge.rules)} rules, "
        f"{len(knowledge.terms.concepts)} ValueSets{site}"
    )
    changed = [
        f"{name} = {value:g} (shipped {LOCAL_DEFAULTS[name].value:g})"
        for name, value in sorted(config.local_defaults.items())
        if value != LOCAL_DEFAULTS[name].value
    ]
    lines.append(f"  local defaults changed: {'; '.join(changed) if changed else 'none'}")
    return "\n".join(lines)


def served_url(host: str, port: int) -> str:
    """http://host:port of a bound address (an IPv6 literal in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _serve(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.dev:
        overrides = {"dev": True, "auth": "off"}
    config = load_config(overrides)
    if (config.dev or not config.auth_enabled) and not is_loopback_host(args.host):
        # Development mode or authentication off, however set (flag, environment, TOML file):
        # every interface would serve patient data to anyone.
        setting = "development mode" if config.dev else "authentication off"
        raise UsageError(
            f"--host {args.host}: {setting} serves loopback only (127.0.0.1, ::1 or localhost)"
        )
    if args.dev and config.public_url == Config.public_url:
        # Unset in development: links on cards and pages point at the address actually served.
        config = load_config({**overrides, "public_url": served_url(args.host, args.port)})
    knowledge, issuers = _checked_runtime_parts(config)
    if config.public_url == Config.public_url and not args.dev:
        print(
            "pnen-cds: warning: PNEN_CDS_PUBLIC_URL is the default; tokens' aud must match it",
            file=sys.stderr,
        )
    print(startup_banner(config, knowledge, issuers, args.host, args.port), file=sys.stderr)
    from cds_service.server import run_server

    run_server(config, args.host, args.port, args.workers, args.timeout)
    return 0


def read_resources(path: Path, aliases: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Resources of a FHIR Bundle (JSON) or of NDJSON (one resource per line).

    `aliases`, when given, receives the Bundle's entry fullUrls → 'Type/id' (references inside a
    Bundle may use `urn:uuid:`).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read ({exc})") from None
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            if data.get("resourceType") == "Bundle":
                if aliases is not None:
                    aliases.update(bundle_aliases(data))
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
                raise UsageError(
                    f"{path}:{number}: not JSON ({exc.msg}); expected a FHIR Bundle or NDJSON"
                ) from None
            if isinstance(item, dict):
                resources.append(item)
    return resources


def _record(path: Path, aliases: dict[str, str] | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The patient id and resources of a file; UsageError when it names no patient."""
    from hooks.request_builder import patient_id_of

    resources = read_resources(path, aliases)
    patients = sorted(
        {
            str(r["id"])
            for r in resources
            if r.get("resourceType") == "Patient" and isinstance(r.get("id"), str) and r["id"]
        }
    )
    if len(patients) > 1:
        raise UsageError(
            f"{path}: {len(patients)} patients ({', '.join(patients)}); expected the file of one "
            "patient"
        )
    try:
        return patient_id_of(resources), resources
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from None


def _as_request(
    hook: str, patient_id: str, drafts: Sequence[dict[str, Any]], selections: Sequence[str]
) -> Any:
    """The HookRequest the API would read, or UsageError with the same problems as its 400."""
    from hooks.request import RequestError, parse_request
    from hooks.request_builder import hook_request

    if selections and hook != "order-select":
        raise UsageError("--select: applies to --hook order-select only")
    body = hook_request(
        hook, patient_id, drafts=drafts, selections=list(selections) or None, hook_instance="cli"
    )
    if hook != "patient-view" and not drafts:
        verb = "select" if hook == "order-select" else "sign"
        raise UsageError(
            f"--hook {hook}: the file has no draft order (a MedicationRequest or "
            f"ServiceRequest with status draft) to {verb}"
        )
    try:
        return parse_request(hook, body)
    except RequestError as exc:
        problems = "; ".join(_as_flag(p.path, selections) + p.message for p in exc.problems)
        drafted = ", ".join(f"{d['resourceType']}/{d.get('id')}" for d in drafts)
        raise UsageError(f"{problems} (--select takes Type/id of a draft: {drafted})") from None


def _as_flag(path: str, selections: Sequence[str]) -> str:
    """'--select VALUE: ' for the API's `context.selections[i]` path, else 'path: '."""
    prefix = "context.selections["
    if path.startswith(prefix) and path.endswith("]") and path[len(prefix) : -1].isdigit():
        index = int(path[len(prefix) : -1])
        if index < len(selections):
            return f"--select {selections[index]}: "
    return f"{path}: "


def evaluate_file(
    path: Path,
    hook: str,
    selections: Sequence[str],
    config: Config,
    today: date,
    *,
    as_of: bool = False,
) -> tuple[str, HookResult, int]:
    """Evaluate a patient file offline: patient reference, result, resources ignored as of today."""
    from cards import CardOptions
    from hooks.registry import SERVICES, evaluate_record
    from hooks.request_builder import split_drafts

    knowledge = _knowledge(
        config, CardOptions(rule_url_base=config.rule_url_base, smart_app_url=config.smart_app_url)
    )
    aliases: dict[str, str] = {}
    patient_id, resources = _record(path, aliases)
    record, drafts = split_drafts(resources, hook)
    request = _as_request(hook, patient_id, drafts, selections)
    service = next(s for s in SERVICES.values() if s.hook == hook)
    items = [("file", r) for r in record]
    facts, result = evaluate_record(
        service, request, items, knowledge, today, as_of=as_of, aliases=aliases
    )
    return request.patient_ref, result, facts.ignored_after_as_of


def _day(flag: str, text: str | None) -> date:
    """A YYYY-MM-DD argument (today when absent)."""
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag} {text}: expected a date as YYYY-MM-DD") from None


def _language(args: argparse.Namespace, config: Config) -> str:
    """--language, else PNEN_CDS_LANGUAGE (config), as a supported locale."""
    if args.language is None:
        return config.language
    locale = canonical(args.language)
    if locale is None:
        raise UsageError(
            f"--language {args.language}: expected one of {', '.join(SUPPORTED_LOCALES)}"
        )
    return locale


def _evaluate(args: argparse.Namespace) -> int:
    config = load_config()
    path = Path(args.file)
    as_of = args.as_of is not None
    today = _day("--as-of/--today", args.as_of)
    with use_locale(_language(args, config)):
        patient_ref, result, ignored = evaluate_file(
            path, args.hook, args.select or (), config, today, as_of=as_of
        )
        if args.format == "json":
            print(json.dumps(result.response(), indent=2, ensure_ascii=False))
        else:
            when = today.isoformat()
            if as_of:
                when = _(
                    "as of {date}; {ignored} results dated after {date} ignored",
                    date=when,
                    ignored=ignored,
                )
            header = ReportHeader(path.name, patient_ref, args.hook, when)
            print(text_report(header, result.recommendations, result.data_issues), end="")
    return 0


def _request(args: argparse.Namespace) -> int:
    from hooks.prefetch import prefetch_plan
    from hooks.request_builder import full_urls_of, hook_request, prefetch_for, split_drafts

    config = load_config()
    aliases: dict[str, str] = {}  # kept as entry fullUrls: urn:uuid references must resolve
    patient_id, resources = _record(Path(args.file), aliases)
    record, drafts = split_drafts(resources, args.hook)
    _as_request(args.hook, patient_id, drafts, args.select or ())
    prefetch = None
    if not args.fhir_server:
        templates = prefetch_plan(_knowledge(config).terms).templates
        built = prefetch_for(record, templates, strict=args.strict, full_urls=full_urls_of(aliases))
        prefetch = built.values
        if built.unmatched:
            placed = "left out" if args.strict else "placed under the first Observation key"
            print(
                f"pnen-cds request: {len(built.unmatched)} resource(s) no discovery template "
                f"would fetch were {placed}: {', '.join(built.unmatched[:5])}"
                + (" …" if len(built.unmatched) > 5 else ""),
                file=sys.stderr,
            )
    body = hook_request(
        args.hook,
        patient_id,
        prefetch=prefetch,
        fhir_server=args.fhir_server,
        drafts=drafts,
        selections=args.select or None,
        hook_instance=args.hook_instance,
    )
    if not args.post:
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return 0
    return _post(args.post, body)


def network_reason(exc: Exception) -> str:
    """A readable reason for a failed HTTP call (what requests' exception class means)."""
    import requests

    if isinstance(exc, (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return "not an http(s) URL"
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.URLRequired)):
        return "invalid URL"
    if isinstance(exc, requests.exceptions.Timeout):
        return "no answer in time (timed out)"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error (certificate or protocol)"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        if "Connection refused" in text:
            return "connection refused (is the server running on that port?)"
        if "Name or service not known" in text or "getaddrinfo" in text:
            return "host name not found"
        return "could not connect"
    return type(exc).__name__


def _post(url: str, body: dict[str, Any]) -> int:
    import requests

    try:
        response = requests.post(url, json=body, timeout=30)
    except requests.RequestException as exc:
        raise UsageError(f"--post {url}: {network_reason(exc)}") from None
    print(f"HTTP {response.status_code}", file=sys.stderr)
    try:
        print(json.dumps(response.json(), indent=2, ensure_ascii=False))
    except ValueError:
        print(response.text)
    return 0 if response.ok else 1


def _discovery(_: argparse.Namespace) -> int:
    from hooks.registry import discovery

    config = load_config()
    print(json.dumps(discovery(_knowledge(config)), indent=2))
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

    config = load_config()
    url = config.database_url
    store = _open_existing_store(config)
    try:
        stats = store.feedback_report()
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps([s.as_json() for s in stats], indent=2))
        return 0
    print(f"Database: {_describe_database(url)}")
    if not stats:
        print("No cards issued and no feedback stored yet.")
        return 0
    print(f"{'rule id':32} {'cards':>6} {'fback':>6} {'accept':>7} {'override':>9}")
    for s in stats:
        accept = f"{s.acceptance_rate:.0%}" if s.feedback else "-"
        override = f"{s.override_rate:.0%}" if s.feedback else "-"
        print(f"{s.rule_id:32} {s.cards_issued:>6} {s.feedback:>6} {accept:>7} {override:>9}")
        for reason, count in s.override_reasons:
            print(f"{'':34}override: {reason} ×{count}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pnen_demo.cli import demo  # the demo is a development tool, imported only here

    if args.port == args.fhir_port:
        raise UsageError(
            f"--port {args.port} --fhir-port {args.fhir_port}: the service and the demo FHIR "
            "server need two different ports"
        )
    return demo(args)


def _fixtures(args: argparse.Namespace) -> int:
    from pnen_demo.cli import fixtures

    return fixtures(args)


def _demo_commands(sub: Any) -> None:
    """`demo` and `fixtures`: the demo patients, a demo FHIR server, the sandbox URLs."""
    helpful = HelpFormatter
    run = sub.add_parser(
        "demo",
        help="run the service and a demo FHIR server for the sandbox",
        formatter_class=helpful,
    )
    run.add_argument("--host", default="127.0.0.1", help="loopback address to bind both servers")
    run.add_argument("--port", type=PORT, default=8080, help="port of the CDS service")
    run.add_argument(
        "--fhir-port", type=PORT, default=8081, help="port of the demo FHIR server (/fhir)"
    )
    run.add_argument(
        "--database-url",
        metavar="URL",
        help="store for feedback and audit (default: PNEN_CDS_DATABASE_URL, else "
        "sqlite:///pnen-cds.sqlite3)",
    )
    run.add_argument(
        "--sandbox", default="https://sandbox.cds-hooks.org/", help="CDS Hooks sandbox base URL"
    )
    run.set_defaults(func=_demo)
    fx = sub.add_parser(
        "fixtures", help="export or load the demo patients", formatter_class=helpful
    )
    actions = fx.add_subparsers(dest="action", required=True, metavar="ACTION")
    ex = actions.add_parser(
        "export", help="write one FHIR Bundle per demo patient", formatter_class=helpful
    )
    ex.add_argument(
        "--format",
        default="transaction",
        choices=["transaction", "collection"],
        help="Bundle type (transaction: ready to POST to a FHIR server)",
    )
    ex.add_argument("--out", default="demo-patients", help="folder to write into")
    ex.add_argument(
        "--with-drafts",
        action="store_true",
        help="add each patient's draft orders (collection only), for evaluate --hook order-*",
    )
    ex.add_argument(
        "--today",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="the day the dates are written for (default: today)",
    )
    ex.set_defaults(func=_fixtures)
    ld = actions.add_parser(
        "load",
        help="POST each patient's transaction Bundle to a FHIR server",
        formatter_class=helpful,
    )
    ld.add_argument("--fhir-server", required=True, metavar="URL", help="FHIR base URL")
    ld.add_argument("--token", help="bearer token for the FHIR server (default: none)")
    ld.add_argument(
        "--today",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="the day the dates are written for (default: today)",
    )
    ld.set_defaults(func=_fixtures)


def _open_existing_store(config: Config) -> Any:
    """The configured store; UsageError when its SQLite file does not exist (never create it)."""
    url = config.database_url
    parsed = _database_url(config)
    database = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if database and database != ":memory:" and not Path(database).is_file():
        raise UsageError(
            f"database {url}: no such file in {Path.cwd()} (run where `pnen-cds serve` runs, "
            "or set PNEN_CDS_DATABASE_URL)"
        )
    return _open_store(config)


def _audit_prune(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    config = load_config()
    days = args.older_than_days
    if days is None:
        days = config.audit_retention_days
    if days is None:
        raise UsageError(
            "--older-than-days: required when PNEN_CDS_AUDIT_RETENTION_DAYS is not set"
        )
    if days < 1:
        raise UsageError(f"--older-than-days {days}: expected a whole number of days ≥ 1")
    store = _open_existing_store(config)
    try:
        cutoff = datetime.now(UTC) - timedelta(days=days)
        result = store.prune_audit(cutoff)
    finally:
        store.close()
    print(
        f"Database: {_describe_database(config.database_url)}: {result.audit_rows} audit rows "
        f"and {result.cards} card records older than {days} days ({cutoff:%Y-%m-%d %H:%M} UTC) "
        "pruned; feedback kept"
    )
    return 0


def _patient_file_arguments(command: argparse.ArgumentParser) -> None:
    """The patient file, hook and selected drafts that `evaluate` and `request` both take."""
    command.add_argument("file", help="FHIR Bundle (JSON) or NDJSON file of one patient")
    command.add_argument("--hook", default="patient-view", choices=HOOK_CHOICES, help="hook to run")
    command.add_argument(
        "--select",
        action="append",
        metavar="Type/id",
        help="a selected draft (order-select; repeatable; default: every draft)",
    )


def parser() -> argparse.ArgumentParser:
    """The argument parser of the pnen-cds command."""
    helpful = HelpFormatter
    top = OneLineParser(
        prog="pnen-cds",
        description="pNEN liver-metastasis CDS Hooks service: serve it, evaluate or build "
        "requests offline, list its rules and discovery document, report feedback.",
        formatter_class=helpful,
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser(
        "serve", help="run the production WSGI server (gunicorn)", formatter_class=helpful
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind")
    serve.add_argument("--port", type=PORT, default=8080, help="port to bind (1-65535)")
    serve.add_argument(
        "--workers",
        type=_in_range(0, None),
        default=os.environ.get("WEB_CONCURRENCY", "0"),  # a string default goes through type
        help="worker processes (0: cores + 1; env WEB_CONCURRENCY)",
    )
    serve.add_argument(
        "--timeout", type=_in_range(1, None), default=30, help="seconds before a stuck worker"
    )
    serve.add_argument(
        "--dev", action="store_true", help="development: loopback only, no authentication"
    )
    serve.set_defaults(func=_serve)
    ev = sub.add_parser(
        "evaluate",
        help="evaluate a FHIR Bundle or NDJSON file offline (a report for the MDT)",
        formatter_class=helpful,
    )
    _patient_file_arguments(ev)
    ev.add_argument("--format", default="text", choices=["text", "json"], help="output format")
    ev.add_argument(
        "--as-of",
        "--today",
        dest="as_of",
        metavar="YYYY-MM-DD",
        help="evaluate the record as it stood on this date: later entries ignored",
    )
    ev.add_argument(
        "--language",
        metavar="LANG",
        help=f"language of the report ({', '.join(SUPPORTED_LOCALES)}; default: "
        "PNEN_CDS_LANGUAGE, else en)",
    )
    ev.set_defaults(func=_evaluate)
    rq = sub.add_parser(
        "request",
        help="build a CDS Hooks request from a FHIR Bundle or NDJSON file",
        formatter_class=helpful,
    )
    _patient_file_arguments(rq)
    rq.add_argument(
        "--fhir-server", metavar="URL", help="send fhirServer instead of prefetch (no token)"
    )
    rq.add_argument(
        "--hook-instance", metavar="UUID", type=_uuid, help="hookInstance (default: random)"
    )
    rq.add_argument(
        "--strict",
        action="store_true",
        help="leave out Observations whose codes no discovery template names",
    )
    rq.add_argument("--post", metavar="URL", help="POST the request to this service URL")
    rq.set_defaults(func=_request)
    disc = sub.add_parser("discovery", help="print the discovery document", formatter_class=helpful)
    disc.set_defaults(func=_discovery)
    rules = sub.add_parser(
        "rules",
        help="list every rule id with its hooks and source section",
        formatter_class=helpful,
    )
    rules.add_argument(
        "--format", default="markdown", choices=["markdown", "json"], help="output format"
    )
    rules.set_defaults(func=_rules)
    fb = sub.add_parser(
        "feedback-report",
        help="acceptance and override rates per rule (from PNEN_CDS_DATABASE_URL)",
        description="Acceptance and override rates per rule, read from PNEN_CDS_DATABASE_URL "
        "(default sqlite:///pnen-cds.sqlite3, relative to the current folder: run it where "
        "`pnen-cds serve` runs).",
        formatter_class=helpful,
    )
    fb.add_argument("--format", default="text", choices=["text", "json"], help="output format")
    fb.set_defaults(func=_feedback_report)
    audit = sub.add_parser("audit", help="audit log maintenance", formatter_class=helpful)
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    prune = audit_sub.add_parser(
        "prune",
        help="delete audit rows older than N days (feedback is kept)",
        formatter_class=helpful,
    )
    prune.add_argument(
        "--older-than-days",
        type=int,
        metavar="N",
        help="age limit in days (default: PNEN_CDS_AUDIT_RETENTION_DAYS)",
    )
    prune.set_defaults(func=_audit_prune)
    _demo_commands(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script: mistakes give one line and exit status 2."""
    args = parser().parse_args(argv)
    for variable, closest in unknown_variables(os.environ):
        hint = f" (did you mean {closest}?)" if closest else ""
        print(
            f"pnen-cds {args.command}: warning: {variable} is not a pnen-cds setting and is "
            f"ignored{hint}",
            file=sys.stderr,
        )
    try:
        code: int = args.func(args)
    except (UsageError, ConfigError) as exc:
        print(f"pnen-cds {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python's documented idiom
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())

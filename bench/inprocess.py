"""In-process cost of one pNEN patient-view call: mapping, rules + cards, the whole request.

No server, no wrk: CPU time (`time.process_time`) per run of each phase over the benchmark pNEN
patient, so that two trees can be compared on a loaded machine (run each tree's copy with its own
python, alternately), plus the mapping of the patient grown to 1,000, 2,000 and 4,000 resources
(it must stay linear). `--only PHASE` runs one phase `--runs` times and prints nothing else: for a
deterministic count under `valgrind --tool=callgrind` (with `--callgrind`, the counters are dumped
just before and after the loop, so the second dump is the loop alone); with `--profile`, its
cProfile instead.

`--language zh-CN` measures the same calls in Chinese (Accept-Language for the request; the
mapping and rules inside that locale), for the cost of localisation.

Usage: python bench/inprocess.py [--runs N] [--language L] [--only mapping|rules|request]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import scaled  # noqa: E402

from cds_service import create_app  # noqa: E402
from hooks.knowledge import load_knowledge  # noqa: E402
from hooks.patient_view import handle  # noqa: E402
from hooks.request import parse_request  # noqa: E402
from tests.support.cds_requests import (  # noqa: E402
    bundle_resources,
    hook_request,
    patient_id_of,
    prefetch_for,
)

FIXTURES = ROOT / "tests" / "fixtures"
SERVICE = "pnen-patient-view"
TODAY = date.today()


def items_of(prefetch: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(prefetch key, resource) pairs, as the service hands them to the mapper."""
    out: list[tuple[str, dict[str, Any]]] = []
    for key, value in prefetch.items():
        if value.get("resourceType") == "Bundle":
            out.extend((key, e["resource"]) for e in value.get("entry", []))
        else:
            out.append((key, value))
    return out


def cpu_ms(action: Callable[[], object], runs: int) -> float:
    """CPU milliseconds per call of `action`, over `runs` calls after one warm-up call."""
    action()
    started = time.process_time()
    for _ in range(runs):
        action()
    return (time.process_time() - started) / runs * 1000


def dump() -> None:
    """Dump (and zero) this process's callgrind counters."""
    subprocess.run(["callgrind_control", "--dump", str(os.getpid())], check=True)


def main() -> int:
    """Time each phase and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="calls per measured phase")
    parser.add_argument("--only", choices=("mapping", "rules", "request"))
    parser.add_argument("--profile", action="store_true", help="cProfile the --only phase")
    parser.add_argument("--callgrind", action="store_true", help="dump callgrind around --only")
    parser.add_argument("--language", help="measure in this language (e.g. zh-CN)")
    args = parser.parse_args()
    if args.language:  # imported only when asked: the script also runs on trees without it
        from contextlib import ExitStack

        from pnen_i18n import use_locale

        stack = ExitStack()
        stack.enter_context(use_locale(args.language))
    headers = {"Accept-Language": args.language} if args.language else {}
    resources = bundle_resources(json.loads((FIXTURES / "benchmark-pnen-patient.json").read_text()))
    knowledge = load_knowledge()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {"dev": True, "auth": "off", "database_url": f"sqlite:///{Path(tmp) / 'db.sqlite3'}"}
        )
        client = app.test_client()
        keys = list(client.get("/cds-services").get_json()["services"][0]["prefetch"])

        def body_for(records: list[dict[str, Any]]) -> dict[str, Any]:
            prefetch = prefetch_for(records, keys)
            return hook_request("patient-view", patient_id_of(records), prefetch=prefetch)

        body = body_for(resources)
        # Sent as bytes: encoding the body is the client's work, not the service's.
        raw = json.dumps(body).encode()
        request = parse_request("patient-view", body)
        items = items_of(request.prefetch)
        facts = knowledge.mapper.map(request.patient_id, items, TODAY)
        # As `pnen-cds serve` does once a worker has loaded: collections scan request garbage only.
        gc.freeze()
        phases: dict[str, Callable[[], object]] = {
            "mapping": lambda: knowledge.mapper.map(request.patient_id, items, TODAY),
            "rules": lambda: handle(request, facts, knowledge, TODAY),
            "request": lambda: client.post(
                f"/cds-services/{SERVICE}",
                data=raw,
                content_type="application/json",
                headers=headers,
            ),
        }
        if args.only:
            phases[args.only]()  # warm-up: first-use imports and caches are start-up cost
            profile = cProfile.Profile() if args.profile else None
            if profile:
                profile.enable()
            if args.callgrind:
                dump()
            for _ in range(args.runs):
                phases[args.only]()
            if args.callgrind:
                dump()
            if profile:
                profile.disable()
                pstats.Stats(profile).sort_stats(
                    os.environ.get("PROFILE_SORT", "tottime")
                ).print_stats(int(os.environ.get("PROFILE_LINES", "40")))
            return 0
        print(f"in-process, benchmark pNEN patient ({len(resources)} resources), CPU ms per call")
        print(f"{'phase':40} {'CPU ms':>8}")
        labels = {
            "mapping": "mapping (RecordMapper.map)",
            "rules": "rules + cards (patient-view handle)",
            "request": "whole request (Flask test client)",
        }
        for name, action in phases.items():
            print(f"{labels[name]:40} {cpu_ms(action, args.runs):>8.3f}")
        print("\nmapping of the record grown to N resources (linear: ms per resource flat)")
        print(f"{'resources':>9} {'CPU ms':>9} {'µs/resource':>12}")
        for size in (1000, 2000, 4000):
            grown = parse_request("patient-view", body_for(scaled(resources, size)))
            grown_items = items_of(grown.prefetch)
            runs = max(args.runs // 40, 3)
            spent = cpu_ms(
                partial(knowledge.mapper.map, grown.patient_id, grown_items, TODAY), runs
            )
            print(f"{size:>9} {spent:>9.2f} {spent / size * 1000:>12.2f}")
        app.extensions["pnen_cds"].store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

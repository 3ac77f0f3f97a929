"""pnen-cds benchmark: the production server under load from wrk, with JWT auth and the audit write.

Starts `pnen-cds serve` (gunicorn) on loopback with authentication on, pre-mints one RS384 token
per request (each needs its own jti), drives the server with wrk (a Lua script cycles through the
tokens), and prints p50/p95/p99 latency, throughput and per-worker resident memory for:
the benchmark pNEN patient with full prefetch, the same without prefetch (fetched from a loopback
FHIR server), and the patient without pNEN, at 1 and 16 concurrent clients; then a scaling table
(30, 120, 500, 2000 resources in prefetch). `--short` runs each scenario for about a second.

Usage: python bench/run.py [--short] [--workers N] [--duration S] [--json FILE]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.cds_requests import (  # noqa: E402
    bundle_resources,
    hook_request,
    patient_id_of,
    prefetch_for,
)
from tests.support.fhir_server import serve_fhir  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
LUA = Path(__file__).with_name("tokens.lua")
ISSUER = "https://bench-ehr.example.org"
KID = "bench-key-1"
SERVICE = "pnen-patient-view"
TARGETS = {
    "p50_1_client_ms": 10.0,
    "throughput_16_rps": 150.0,
    "p99_16_clients_ms": 150.0,
    "p50_non_pnen_ms": 3.0,
    "rss_per_worker_mb": 150.0,
}


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian packages when missing (root only)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench: wrk is required (apt-get install wrk)")
    return found


class Signer:
    """An RS384 key registered as a trusted issuer; mints one token per request."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        public.update({"kid": KID, "alg": "RS384", "use": "sig"})
        self.jwks = {"keys": [public]}

    def issuers_file(self, folder: Path, fhir_servers: list[str]) -> Path:
        """The trusted-issuers JSON the service reads."""
        path = folder / "issuers.json"
        path.write_text(
            json.dumps(
                {
                    "issuers": [
                        {
                            "iss": ISSUER,
                            "jwks": self.jwks,
                            "fhir_servers": fhir_servers,
                            # Tokens are minted ahead of a scenario, to last all of it.
                            "max_token_lifetime": 600,
                        }
                    ]
                }
            )
        )
        return path

    def tokens(self, audience: str, count: int) -> list[str]:
        """`count` tokens, each with its own jti, valid for ten minutes."""
        now = int(time.time())
        out = []
        for _ in range(count):
            claims = {
                "iss": ISSUER,
                "sub": "bench-client",
                "aud": audience,
                "iat": now,
                "exp": now + 600,
                "jti": uuid.uuid4().hex,
            }
            out.append(
                jwt.encode(claims, self.key, algorithm="RS384", headers={"kid": KID, "typ": "JWT"})
            )
        return out


@contextmanager
def server(config: dict[str, str], port: int, workers: int) -> Iterator[list[int]]:
    """Run `pnen-cds serve` until the block ends; yields the worker pids."""
    env = {**os.environ, **config}
    exe = Path(sys.executable).with_name("pnen-cds")
    command = [
        str(exe),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError as exc:
                if proc.poll() is not None:
                    raise SystemExit(
                        "bench: server exited:\n" + proc.stderr.read().decode()[-2000:]
                    ) from exc
                time.sleep(0.1)
        time.sleep(1.0)  # let every worker finish loading
        children = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        yield [int(pid) for pid in children]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, in seconds (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_wrk(
    wrk: str,
    url: str,
    body: dict[str, Any],
    tokens: list[str],
    clients: int,
    seconds: float,
    folder: Path,
    language: str = "",
) -> dict[str, float]:
    """One wrk run: latency percentiles (ms), requests/s, errors; `language`: Accept-Language."""
    body_file = folder / "body.json"
    body_file.write_text(json.dumps(body))
    token_file = folder / "tokens.txt"
    token_file.write_text("\n".join(tokens) + "\n")
    threads = min(clients, 2)
    env = {
        **os.environ,
        "BENCH_BODY": str(body_file),
        "BENCH_TOKENS": str(token_file),
        "BENCH_THREADS": str(threads),
        "BENCH_LANGUAGE": language,
    }
    result = subprocess.run(
        [
            wrk,
            "-t",
            str(threads),
            "-c",
            str(clients),
            "-d",
            f"{max(seconds, 1):.0f}s",
            "--timeout",
            "5s",
            "-s",
            str(LUA),
            url,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=seconds + 60,
    )
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise SystemExit(f"bench: wrk failed:\n{result.stdout}\n{result.stderr}")
    stats: dict[str, float] = json.loads(line[len("BENCH_JSON ") :])
    return stats


def stored(database: Path) -> tuple[int, int]:
    """(audit rows, bytes of the SQLite file) after copying the WAL into it."""
    import sqlite3

    with sqlite3.connect(database, timeout=30) as conn:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        (rows,) = conn.execute("SELECT count(*) FROM audit").fetchone()
    return int(rows), database.stat().st_size


def tokens_needed(seconds: float, clients: int) -> int:
    """Single-use tokens for a run at up to 800 req/s (1 client: 400 req/s): a first guess."""
    rate = 400 if clients == 1 else 800
    return int(rate * (max(seconds, 1) + 1))


def measured(
    wrk: str,
    url: str,
    body: dict[str, Any],
    signer: Signer,
    clients: int,
    seconds: float,
    folder: Path,
    language: str = "",
    pids: list[int] | None = None,
) -> dict[str, float]:
    """A wrk run in which every request carried a token of its own, with the CPU it cost.

    Tokens are single-use (replayed jti → 401), and wrk cycles through the list: a run that sent
    more requests than it had tokens measured some fast rejections. It is run again with enough.
    CPU per request (the workers', and this process's: the loopback FHIR server's threads) is
    taken around the kept run only, never the minting of its tokens.
    """
    count = tokens_needed(seconds, clients)
    while True:
        tokens = signer.tokens(url, count)
        workers_before = sum(cpu_seconds(pid) for pid in pids or ())
        own_before = cpu_seconds(os.getpid())
        stats = run_wrk(wrk, url, body, tokens, clients, seconds, folder, language)
        if stats["requests"] <= count:
            served = max(stats["requests"], 1)
            workers = sum(cpu_seconds(pid) for pid in pids or ()) - workers_before
            stats["worker_cpu_ms"] = workers / served * 1000
            stats["fhir_cpu_ms"] = (cpu_seconds(os.getpid()) - own_before) / served * 1000
            return stats
        count = int(stats["requests"] * 1.3)


def scaled(resources: list[dict[str, Any]], target: int) -> list[dict[str, Any]]:
    """The benchmark patient trimmed or grown (more dated CgA/NSE results) to `target` resources."""
    core = [r for r in resources if r["resourceType"] != "Observation"]
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    markers = [o for o in observations if o["code"]["coding"][0]["code"] in ("9811-1", "15060-7")]
    pathology = [o for o in observations if o not in markers]
    out = core + pathology
    i = 0
    while len(out) < target:
        extra = copy.deepcopy(markers[i % len(markers)])
        extra["id"] = f"{extra['id']}-x{i}"
        out.append(extra)
        i += 1
    return out[:target] if len(out) > target else out


def main() -> int:
    """Run the benchmark and print the results table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="about a second per scenario")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    seconds = 1.0 if args.short else args.duration
    wrk = ensure_wrk()
    signer = Signer()
    pnen = bundle_resources(json.loads((FIXTURES / "benchmark-pnen-patient.json").read_text()))
    other = bundle_resources(json.loads((FIXTURES / "benchmark-non-pnen-patient.json").read_text()))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {"workers": args.workers, "scenarios": [], "scaling": []}
    with tempfile.TemporaryDirectory() as tmp, serve_fhir(pnen + other, page_size=100) as (fhir, _):
        folder = Path(tmp)
        database = folder / "bench.sqlite3"
        config = {
            "PNEN_CDS_PUBLIC_URL": base,
            "PNEN_CDS_AUTH": "jwt",
            "PNEN_CDS_TRUSTED_ISSUERS_FILE": str(signer.issuers_file(folder, [fhir])),
            "PNEN_CDS_DATABASE_URL": f"sqlite:///{database}",
            "PNEN_CDS_ALLOW_INSECURE_FHIR": "1",
        }
        url = f"{base}/cds-services/{SERVICE}"
        with server(config, port, args.workers) as pids:
            discovery_keys = list(_discovery_keys(signer, base))
            scenarios = {
                "pNEN, full prefetch": hook_request(
                    "patient-view", patient_id_of(pnen), prefetch=prefetch_for(pnen, discovery_keys)
                ),
                "pNEN, no prefetch (loopback FHIR)": hook_request(
                    "patient-view", patient_id_of(pnen), fhir_server=fhir, token="bench"
                ),
                # The same request in Chinese: the cost of localisation (issue 12: under 5 %).
                "pNEN, full prefetch, zh-CN": hook_request(
                    "patient-view", patient_id_of(pnen), prefetch=prefetch_for(pnen, discovery_keys)
                ),
                "no pNEN, full prefetch": hook_request(
                    "patient-view",
                    patient_id_of(other),
                    prefetch=prefetch_for(other, discovery_keys),
                ),
            }
            # Warm every worker first (imports on first use, connections, caches): a cold first
            # call per worker is start-up cost, not steady-state latency. Not measured.
            warm = max(args.workers * 2, 4)
            for body in scenarios.values():
                run_wrk(wrk, url, body, signer.tokens(url, tokens_needed(1, warm)), warm, 1, folder)
            for name, body in scenarios.items():
                for clients in (1, 16):
                    rows_before, bytes_before = stored(database)
                    language = "zh-CN" if name.endswith("zh-CN") else ""
                    # CPU per request: the service's workers, and this process (the loopback
                    # FHIR server's threads; idle in the scenarios with full prefetch).
                    stats = measured(
                        wrk, url, body, signer, clients, seconds, folder, language, pids
                    )
                    rows_after, bytes_after = stored(database)
                    # Bytes the store grows per audited call (SQLite pages: indexes included;
                    # a run repeated for want of tokens adds its rows too).
                    stats["stored_bytes"] = (bytes_after - bytes_before) / max(
                        rows_after - rows_before, 1
                    )
                    results["scenarios"].append({"scenario": name, "clients": clients, **stats})
            for size in (30, 120, 500, 2000):
                resources = scaled(pnen, size)
                body = hook_request(
                    "patient-view", "bench-pnen", prefetch=prefetch_for(resources, discovery_keys)
                )
                for clients in (1, 16):
                    stats = measured(wrk, url, body, signer, clients, seconds, folder)
                    results["scaling"].append({"resources": size, "clients": clients, **stats})
            results["rss_mb"] = {str(pid): round(rss_mb(pid), 1) for pid in pids}
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def _discovery_keys(signer: Signer, base: str) -> Iterator[str]:
    import urllib.request

    url = f"{base}/cds-services"
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {signer.tokens(url, 1)[0]}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        services = json.load(response)["services"]
    yield from services[0]["prefetch"]


def report(results: dict[str, Any]) -> None:
    """Print the results and the targets of service-contract.md."""
    print(f"pnen-cds benchmark — {results['workers']} gunicorn workers, JWT auth on, audit on")
    print(
        f"{'scenario':36} {'clients':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'req/s':>8} {'errors':>6} {'CPU/req ms':>10} {'FHIR CPU':>8} {'stored B':>8}"
    )
    for row in results["scenarios"]:
        print(
            f"{row['scenario']:36} {row['clients']:>7} {row['p50']:>8.2f} {row['p95']:>8.2f} "
            f"{row['p99']:>8.2f} {row['rps']:>8.1f} {row['errors']:>6.0f} "
            f"{row['worker_cpu_ms']:>10.2f} {row['fhir_cpu_ms']:>8.2f} "
            f"{row['stored_bytes']:>8.0f}"
        )
    print(
        "CPU/req: the service's workers per answered request; FHIR CPU: the loopback FHIR "
        "server (this process) per request; stored B: bytes the SQLite store grew per audited "
        "call (one row, its cards and index entries; short runs round to whole pages)."
    )
    print("\nscaling (pNEN patient, full prefetch)")
    print(f"{'resources':>9} {'clients':>7} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for row in results["scaling"]:
        print(
            f"{row['resources']:>9} {row['clients']:>7} {row['p50']:>8.2f} {row['p99']:>8.2f} "
            f"{row['rps']:>8.1f}"
        )
    rss = results.get("rss_mb", {})
    print("\nresident memory per worker (MB): " + ", ".join(f"{v}" for v in rss.values()))
    rows = {(r["scenario"], r["clients"]): r for r in results["scenarios"]}
    full = "pNEN, full prefetch"
    measured = {
        "p50_1_client_ms": rows[(full, 1)]["p50"],
        "throughput_16_rps": rows[(full, 16)]["rps"],
        "p99_16_clients_ms": rows[(full, 16)]["p99"],
        "p50_non_pnen_ms": rows[("no pNEN, full prefetch", 1)]["p50"],
        "rss_per_worker_mb": max(rss.values()) if rss else 0.0,
    }
    print("\ntargets (service-contract.md):")
    for key, target in TARGETS.items():
        value = measured[key]
        ok = value >= target if key.startswith("throughput") else value <= target
        print(
            f"  {key:22} {value:8.2f}  target {'≥' if key.startswith('throughput') else '≤'} "
            f"{target:g}  {'met' if ok else 'NOT MET'}"
        )


if __name__ == "__main__":
    sys.exit(main())

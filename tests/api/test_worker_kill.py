"""Durability under load: a gunicorn worker killed mid-load loses no acknowledged feedback.

The production server (`pnen-cds serve`, two workers) takes feedback and hook calls from several
client threads; one worker is killed with SIGKILL while they run (gunicorn starts a new one).
Every feedback entry and every hook call answered 200 must be in the store afterwards: the
service commits before it answers. Runs against SQLite and, when available, PostgreSQL.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cds_service.store import Store, audit, feedback
from tests.support.databases import BACKENDS, empty_database

pytestmark = pytest.mark.slow
SERVICE = "pnen-patient-view"


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store database."""
    with empty_database(request.param, tmp_path) as database_url:
        yield database_url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _workers(master: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def _post(port: int, path: str, body: dict[str, object]) -> int:
    """POST JSON; the status, or 0 when the connection broke (the killed worker's calls)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        connection.close()


def _feedback(card: str) -> dict[str, object]:
    return {
        "feedback": [
            {
                "card": card,
                "outcome": "overridden",
                "outcomeTimestamp": "2026-01-01T00:00:00Z",
                "overrideReason": {"userComment": "kill test"},
            }
        ]
    }


def _hook_call(instance: str) -> dict[str, object]:
    return {
        "hook": "patient-view",
        "hookInstance": instance,
        "context": {"patientId": "p1", "userId": "Practitioner/1"},
        "prefetch": {"patient": {"resourceType": "Patient", "id": "p1"}, "conditions": None},
    }


def test_a_killed_worker_loses_no_acknowledged_feedback_or_audit(url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PNEN_CDS_DATABASE_URL": url}
    exe = Path(sys.executable).with_name("pnen-cds")
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(exe), "serve", "--dev", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    acknowledged_feedback: list[str] = []
    acknowledged_calls: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(number: int) -> None:
        sequence = 0
        while not stop.is_set():
            sequence += 1
            card = f"kill-{number}-{sequence}-{uuid.uuid4().hex[:8]}"
            if _post(port, f"/cds-services/{SERVICE}/feedback", _feedback(card)) == 200:
                with lock:
                    acknowledged_feedback.append(card)
            if _post(port, f"/cds-services/{SERVICE}", _hook_call(card)) == 200:
                with lock:
                    acknowledged_calls.append(card)

    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(_workers(server.pid)) < 2:
            time.sleep(0.1)
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        victim = _workers(server.pid)[0]
        os.kill(victim, signal.SIGKILL)  # mid-load, without any chance to clean up
        time.sleep(1.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert victim not in _workers(server.pid), "gunicorn replaced the killed worker"
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    assert len(acknowledged_feedback) > 20 and len(acknowledged_calls) > 20
    store = Store.open(url)
    try:
        with store.engine.connect() as conn:
            stored_cards = set(conn.execute(select(feedback.c.card_uuid)).scalars())
            stored_calls = set(conn.execute(select(audit.c.hook_instance)).scalars())
    finally:
        store.close()
    assert set(acknowledged_feedback) <= stored_cards
    assert set(acknowledged_calls) <= stored_calls

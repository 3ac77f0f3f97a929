"""The production server over real HTTP: slow clients, no version banner, private files, 415.

One `pnen-cds serve --dev` (gunicorn, two workers) per module, with a 2-second request read
timeout so that the slow-client cases stay short.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cds_requests import hook_request
from tests.support.served import Served, serve

pytestmark = pytest.mark.slow
PV = "/cds-services/pnen-patient-view"
READ_TIMEOUT = 2


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("served")


@pytest.fixture(scope="module")
def served(home: Path) -> Iterator[Served]:
    env = {
        "HOME": str(home),
        "XDG_RUNTIME_DIR": "",
        "PNEN_CDS_DATABASE_URL": f"sqlite:///{home / 'pnen-cds.sqlite3'}",
        "PNEN_CDS_READ_TIMEOUT": str(READ_TIMEOUT),
    }
    with serve(home, env, ("--dev", "--workers", "2"), umask=0o022) as running:
        yield running


def _request(
    port: int, method: str, path: str, body: bytes | None = None, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _slow_header_client(port: int, stop: threading.Event) -> None:
    """Send a request line, then one header byte at a time, never finishing the headers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(f"POST {PV} HTTP/1.1\r\nHost: x\r\n".encode())
            while not stop.wait(0.2):
                sock.sendall(b"X")
        except OSError:
            return  # the server hung up on us: what it should do


def test_health_probes_keep_answering_while_three_clients_send_headers_slowly(
    served: Served,
) -> None:
    stop = threading.Event()
    slow = [
        threading.Thread(target=_slow_header_client, args=(served.port, stop)) for _ in range(3)
    ]
    for thread in slow:
        thread.start()
    time.sleep(0.5)  # the slow clients have their connections
    outcomes: list[int | str] = []
    try:
        for _ in range(12):
            try:
                outcomes.append(_request(served.port, "GET", "/healthz")[0])
            except OSError as exc:  # includes a probe timing out
                outcomes.append(type(exc).__name__)
            time.sleep(0.25)
    finally:
        stop.set()
        for thread in slow:
            thread.join(timeout=15)
    assert outcomes == [200] * 12


def test_a_client_that_never_finishes_its_request_is_disconnected(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=READ_TIMEOUT * 5) as sock:
        sock.sendall(f"POST {PV} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n".encode())
        try:
            answer = sock.recv(1024)
        except ConnectionResetError:
            answer = b""
    assert answer == b""  # closed by the server, well before this socket's own timeout


def test_a_body_that_stops_arriving_is_cut_at_the_read_timeout(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=READ_TIMEOUT * 5) as sock:
        sock.sendall(
            f"POST {PV} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n\r\n{".encode()
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400")  # a short body, not a thread held forever


def test_responses_carry_no_server_version_banner(served: Served) -> None:
    status, headers, _ = _request(served.port, "GET", "/healthz")
    assert status == 200
    assert "server" not in {name.lower() for name in headers}


def test_no_control_socket_is_created_in_the_users_home(served: Served, home: Path) -> None:
    assert not (home / ".gunicorn").exists()  # gunicorn's default: one path shared per user


def test_the_dev_banner_says_fhir_fetches_are_limited_to_loopback(served: Served) -> None:
    assert "fhirServer is contacted only on loopback addresses" in served.output()


def test_a_text_plain_post_is_a_415_over_http(served: Served) -> None:
    body = json.dumps(hook_request("patient-view", "p1", prefetch={"patient": None}))
    status, _, payload = _request(
        served.port, "POST", PV, body.encode(), **{"Content-Type": "text/plain"}
    )
    assert status == 415
    assert json.loads(payload)["error"].startswith("Content-Type must be application/json")


def test_store_files_created_by_serve_are_owner_only(served: Served, home: Path) -> None:
    request = hook_request("patient-view", "p1", prefetch={"patient": None, "conditions": None})
    status, _, _ = _request(
        served.port,
        "POST",
        PV,
        json.dumps(request).encode(),
        **{"Content-Type": "application/json"},
    )
    assert status == 200
    files = sorted(home.glob("pnen-cds.sqlite3*"))
    assert {f.name for f in files} >= {"pnen-cds.sqlite3", "pnen-cds.sqlite3-wal"}
    assert {f.name: stat.S_IMODE(os.stat(f).st_mode) for f in files} == {
        f.name: 0o600 for f in files
    }


def _raw_answer(port: int, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send raw bytes, read the whole answer (gunicorn closes after its own errors)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "414"),
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: " + b"b" * 20000 + b"\r\n\r\n",
            "431",
        ),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n", "400"),
        (b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", "400"),
    ],
)
def test_errors_the_http_server_answers_itself_are_json_too(
    served: Served, request_bytes: bytes, status: str
) -> None:
    line, headers, body = _raw_answer(served.port, request_bytes)
    assert line.startswith(f"HTTP/1.1 {status}")
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    assert int(headers["content-length"]) == len(body)
    assert isinstance(json.loads(body)["error"], str)

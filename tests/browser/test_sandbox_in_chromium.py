"""A real browser calls the service the way the CDS Hooks sandbox does: from another origin.

The production server (`pnen-cds serve --dev`, gunicorn) runs on one loopback port; a page served
from another port (a different origin) runs `fetch()` in headless Chromium: discovery, then a
patient-view call with prefetch, one that makes the service fetch from a loopback FHIR server,
and a malformed call whose 400 must still be readable (CORS headers on errors). The page writes
what it saw into the DOM, which Chromium dumps.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.cds_schema import assert_valid_response
from tests.conftest import load_fixture
from tests.support.cds_requests import bundle_resources, hook_request, patient_id_of, prefetch_for
from tests.support.fhir_server import serve_fhir

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI requires Chromium for the browser tests (.ci/run installs it)")
    pytest.skip(
        "Chromium is not installed: run `bash .ci/ensure-chromium.sh` (apt-get install chromium), "
        "or `make test`, which does",
        allow_module_level=True,
    )

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>pnen-cds browser check</title></head>
<body><pre id="result">pending</pre>
<script>
const base = %(base)s;
const calls = %(calls)s;
async function run() {
  const out = {};
  const discovery = await fetch(base + "/cds-services");
  out.discovery = {status: discovery.status, ids: (await discovery.json()).services.map(s => s.id)};
  for (const [name, body] of Object.entries(calls)) {
    const response = await fetch(base + "/cds-services/pnen-patient-view", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    out[name] = {
      status: response.status,
      correlation: response.headers.get("X-Correlation-ID"),
      body: await response.json(),
    };
  }
  return out;
}
run().then(
  out => { document.getElementById("result").textContent = JSON.stringify(out); },
  err => { document.getElementById("result").textContent = "ERROR " + err; },
);
</script></body></html>
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"pnen-cds serve exited:\n{log.read_text()[-2000:]}") from None
            time.sleep(0.1)
    raise RuntimeError("pnen-cds serve did not start")


@pytest.fixture
def service(tmp_path: Path) -> Iterator[str]:
    """`pnen-cds serve --dev` (the README's command) on a free loopback port."""
    port = _free_port()
    env = {**os.environ, "PNEN_CDS_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}"}
    exe = Path(sys.executable).with_name("pnen-cds")
    command = [str(exe), "serve", "--dev", "--port", str(port), "--workers", "1"]
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            _wait_for_port(port, proc, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _serve_page(html: str) -> tuple[ThreadingHTTPServer, str]:
    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            data = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/check.html"


def _chromium_dom(url: str, profile: Path) -> str:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=20000",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    return done.stdout


def _result(dom: str) -> dict[str, Any]:
    start = dom.index('<pre id="result">') + len('<pre id="result">')
    text = dom[start : dom.index("</pre>", start)]
    assert not text.startswith(("pending", "ERROR")), f"the page did not finish: {text[:500]}"
    result: dict[str, Any] = json.loads(
        text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    )
    return result


def _rule_ids(body: dict[str, Any]) -> set[str]:
    return {card["source"]["topic"]["code"] for card in body["cards"]}


def test_a_browser_on_another_origin_gets_discovery_cards_and_readable_errors(
    service: str, tmp_path: Path
) -> None:
    resources = bundle_resources(load_fixture("benchmark-pnen-patient.json"))
    patient_id = patient_id_of(resources)
    with serve_fhir(resources) as (fhir_base, fhir_data):
        keys = list(json.loads(_get(f"{service}/cds-services"))["services"][0]["prefetch"])
        calls = {
            "prefetch": hook_request(
                "patient-view", patient_id, prefetch=prefetch_for(resources, keys)
            ),
            "fhirServer": hook_request("patient-view", patient_id, fhir_server=fhir_base),
            "malformed": '{"hook": "patient-view", "context": ',
        }
        page = PAGE % {"base": json.dumps(service), "calls": json.dumps(calls)}
        server, url = _serve_page(page)
        try:
            result = _result(_chromium_dom(url, tmp_path / "chromium-profile"))
        finally:
            server.shutdown()
            server.server_close()
        assert fhir_data.requests, "the service fetched the record from the FHIR server"
    assert result["discovery"] == {
        "status": 200,
        "ids": ["pnen-patient-view", "pnen-order-select", "pnen-order-sign"],
    }
    for name in ("prefetch", "fhirServer"):
        call = result[name]
        assert call["status"] == 200
        assert call["correlation"], "X-Correlation-ID is exposed to the browser"
        assert_valid_response(call["body"])
        assert "summary" in _rule_ids(call["body"])
    assert _rule_ids(result["prefetch"]["body"]) == _rule_ids(result["fhirServer"]["body"])
    assert result["malformed"]["status"] == 400
    assert result["malformed"]["body"]["details"][0]["path"] == "(body)"


def _get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        text: str = response.read().decode()
        return text

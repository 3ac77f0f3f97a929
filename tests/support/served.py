"""`pnen-cds serve` (gunicorn) run as a subprocess on a free loopback port, for HTTP-level tests."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Served:
    """A running server: its port and the file its output goes to."""

    port: int
    log: Path

    def output(self) -> str:
        """Everything the server wrote so far (stdout and stderr)."""
        return self.log.read_text(encoding="utf-8", errors="replace")


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


@contextmanager
def serve(
    folder: Path,
    env: Mapping[str, str],
    args: Sequence[str] = ("--dev",),
    *,
    umask: int = 0o022,
) -> Iterator[Served]:
    """Run `pnen-cds serve ARGS` with `env` added until the block ends (started when healthy)."""
    port = free_port()
    log = folder / "serve.log"
    exe = Path(sys.executable).with_name("pnen-cds")
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(exe), "serve", *args, "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
            umask=umask,
        )
        try:
            deadline = time.monotonic() + 60
            while not _answers(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("pnen-cds serve did not start:\n" + log.read_text())
                time.sleep(0.1)
            yield Served(port, log)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

"""Run WSGI apps on loopback ports in background threads (the demo and its tests)."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Running:
    """A WSGI server answering in a background thread."""

    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        """http://host:port of the server."""
        return f"http://{self.server.host}:{self.server.port}"

    def stop(self) -> None:
        """Stop answering and wait for the thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class _Quiet(WSGIRequestHandler):
    """No access log line per request (the demo prints its URLs; the tests read responses)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Log nothing."""


def run_in_thread(app: Any, host: str, port: int) -> Running:
    """Serve `app` (threaded) on host:port from a daemon thread."""
    server = make_server(host, port, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, name=f"wsgi-{port}", daemon=True)
    thread.start()
    return Running(server, thread)

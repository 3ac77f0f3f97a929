"""The production WSGI server: gunicorn with an app built in each worker after fork."""

from __future__ import annotations

import gc
import os
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson
from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication
from gunicorn.http import wsgi
from gunicorn.workers.gthread import ThreadWorker

from cds_service.config import Config

# The service's files (SQLite store, WAL, lock) hold patient references: owner-only, whatever
# umask the service was started with.
PRIVATE_UMASK = 0o077


def default_workers() -> int:
    """One worker per core plus one (CPU-bound work, short requests)."""
    return (os.cpu_count() or 1) + 1


class _ReadDeadlineSocket(socket.socket):
    """A client socket whose reads of one request (headers and body) end at a deadline.

    A client that sends its request slowly (slow headers or body) holds a worker thread while it
    does; past the deadline the socket reads as closed, so gunicorn drops the connection (or the
    app sees a short body, a 400) and the thread is free again.
    """

    read_timeout: float = 10.0
    deadline: float | None = None

    def start_request(self) -> None:
        """Forget the previous request's deadline: the next read starts a new one."""
        self.deadline = None

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """Read with the time left before the request's deadline; b"" once it has passed."""
        if self.gettimeout() == 0.0:
            return super().recv(bufsize, flags)  # non-blocking (a poller probe): no deadline
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + self.read_timeout
        remaining = self.deadline - now
        if remaining <= 0:
            return b""
        super().settimeout(remaining)
        try:
            return super().recv(bufsize, flags)
        except TimeoutError:
            return b""
        finally:
            super().settimeout(None)


def _without_server_header(
    default_headers: Callable[[Any], list[str]],
) -> Callable[[Any], list[str]]:
    """gunicorn's default response headers without `Server: gunicorn` (no version banner)."""

    def headers(response: Any) -> list[str]:
        return [h for h in default_headers(response) if not h.lower().startswith("server:")]

    headers.__wrapped__ = default_headers  # type: ignore[attr-defined]
    return headers


def _write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own error answer (bad request line or header, 414, 431) as JSON, not HTML."""
    body = orjson.dumps({"error": f"{reason}: {mesg}" if mesg else reason})
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    gunicorn_util.write_nonblock(sock, head.encode("latin-1") + body)


class ReadTimeoutWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker, with a deadline on reading each request and no Server banner.

    The threads of a worker answer health probes and other calls while slow clients hold some of
    them; the deadline frees those threads (sync workers, one request each, stalled entirely).
    """

    read_timeout: float = 10.0

    def init_process(self) -> None:
        """Strip the Server header in this worker process, then start as gunicorn does."""
        if not hasattr(wsgi.Response.default_headers, "__wrapped__"):
            wsgi.Response.default_headers = _without_server_header(wsgi.Response.default_headers)
        # Errors gunicorn answers before the app sees the request follow the JSON contract too.
        gunicorn_util.write_error = _write_json_error
        super().init_process()

    def accept(self, listener: Any) -> None:
        """Accept as gunicorn does, on a socket with a read deadline."""
        real_accept = listener.accept

        def accept_with_deadline() -> tuple[socket.socket, Any]:
            client, address = real_accept()
            wrapped = _ReadDeadlineSocket(
                client.family, client.type, client.proto, fileno=client.detach()
            )
            wrapped.read_timeout = self.read_timeout
            return wrapped, address

        super().accept(_Listener(listener, accept_with_deadline))

    def handle(self, conn: Any) -> Any:
        """Handle one request on a connection; its reads get a fresh deadline."""
        if isinstance(conn.sock, _ReadDeadlineSocket):
            conn.sock.start_request()
        return super().handle(conn)


class _Listener:
    """A listening socket whose accept() is replaced; everything else is the socket's own."""

    def __init__(self, listener: Any, accept: Callable[[], tuple[socket.socket, Any]]) -> None:
        self._listener = listener
        self.accept = accept

    def __getattr__(self, name: str) -> Any:
        return getattr(self._listener, name)


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, config: Config, options: dict[str, Any]) -> None:
        self.pnen_config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from cds_service import create_app

        app = create_app(self.pnen_config)
        # Everything loaded so far (modules, terminology, rules) lives as long as the worker:
        # move it out of the collector's view, so full collections scan only request garbage.
        gc.freeze()
        return app


def gunicorn_options(
    config: Config, host: str, port: int, workers: int, timeout: int
) -> dict[str, Any]:
    """The gunicorn settings of `pnen-cds serve`."""
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers or default_workers(),
        "worker_class": f"{ReadTimeoutWorker.__module__}.{ReadTimeoutWorker.__qualname__}",
        "threads": config.threads,
        "timeout": timeout,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "preload_app": False,
        "proc_name": "pnen-cds",
        # The control socket is one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl): a second
        # instance would take it over. Operators use signals or systemd instead.
        "control_socket_disable": True,
    }


def startup_notes(config: Config) -> list[str]:
    """What the operator must know before the first call (printed once by `serve`)."""
    notes = []
    if config.dev:
        notes.append(
            "development mode: authentication off, CORS open to any origin on /cds-services; "
            "fhirServer is contacted only on loopback addresses or when listed under "
            "fhir_servers in the trusted-issuers file"
        )
    return notes


def run_server(config: Config, host: str, port: int, workers: int, timeout: int) -> None:
    """Serve until stopped; each worker opens its own store connection and loads knowledge."""
    from cds_service.store import Store

    os.umask(PRIVATE_UMASK)  # before the store (and anything else) creates a file
    Store.open(config.database_url).close()  # create or migrate the store once, before forking
    for note in startup_notes(config):
        print(f"pnen-cds: {note}", file=sys.stderr)
    ReadTimeoutWorker.read_timeout = config.read_timeout  # inherited by the forked workers
    _Server(config, gunicorn_options(config, host, port, workers, timeout)).run()

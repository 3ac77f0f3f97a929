"""The production WSGI server: gunicorn with an app built in each worker after fork."""

from __future__ import annotations

import gc
import os
from typing import Any

from gunicorn.app.base import BaseApplication

from cds_service.config import Config


def default_workers() -> int:
    """One sync worker per core plus one (CPU-bound work, short requests)."""
    return (os.cpu_count() or 1) + 1


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


def run_server(config: Config, host: str, port: int, workers: int, timeout: int) -> None:
    """Serve until stopped; each worker opens its own store connection and loads knowledge."""
    from cds_service.store import Store

    Store.open(config.database_url).close()  # create or migrate the store once, before forking
    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers or default_workers(),
        "worker_class": "sync",
        "timeout": timeout,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "preload_app": False,
        "proc_name": "pnen-cds",
    }
    _Server(config, options).run()

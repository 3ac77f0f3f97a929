"""WSGI entry for any WSGI server: `gunicorn cds_service.wsgi:app` (configuration from env)."""

from __future__ import annotations

from cds_service import create_app

app = create_app()

"""Empty test databases: a new SQLite file, or a new schema on PNEN_CDS_TEST_POSTGRES_URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text

POSTGRES_URL = os.environ.get("PNEN_CDS_TEST_POSTGRES_URL")
# Parameters for a fixture over both databases; PostgreSQL is skipped without a server.
BACKENDS: list[Any] = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not POSTGRES_URL,
                reason='no PostgreSQL: run `eval "$(bash .ci/postgres.sh start)"` (sets '
                "PNEN_CDS_TEST_POSTGRES_URL), or `make test`, which starts one",
            ),
        ],
    ),
]


@contextmanager
def empty_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of an empty store database, removed afterwards (PostgreSQL: its own schema)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'store.sqlite3'}"
        return
    assert POSTGRES_URL is not None
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(POSTGRES_URL)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

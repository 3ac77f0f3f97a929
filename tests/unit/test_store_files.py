"""The SQLite store's files are private to the service user, whatever the umask it started with."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from cds_service.store import AuditEntry, Store


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The common default umask (files 0644), restored afterwards."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
def test_a_new_sqlite_store_and_its_wal_shm_and_lock_files_are_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "pnen-cds.sqlite3"
    store = Store.open(f"sqlite:///{database}")
    try:
        store.record_audit(AuditEntry("pnen-patient-view", "h1", "Patient/p1", [], [], [], 1.0))
        files = sorted(tmp_path.iterdir())
        names = {f.name for f in files}
        assert {
            "pnen-cds.sqlite3",
            "pnen-cds.sqlite3-wal",
            "pnen-cds.sqlite3-shm",
            "pnen-cds.sqlite3.migrate-lock",
            "pnen-cds.sqlite3.write-lock",  # writers queue on it (Store._writing)
        } <= names
        assert {f.name: _mode(f) for f in files} == {name: 0o600 for name in names}
    finally:
        store.close()


@pytest.mark.usefixtures("permissive_umask")
def test_an_existing_store_file_keeps_the_mode_its_operator_chose(tmp_path: Path) -> None:
    database = tmp_path / "shared.sqlite3"
    Store.open(f"sqlite:///{database}").close()
    database.chmod(0o640)  # e.g. readable by a backup group
    Store.open(f"sqlite:///{database}").close()
    assert _mode(database) == 0o640


def test_writers_of_an_in_memory_store_need_no_lock_file(tmp_path: Path) -> None:
    store = Store.open("sqlite://")
    try:
        store.record_audit(AuditEntry("pnen-patient-view", "h1", "Patient/p1", [], [], [], 1.0))
        assert store.seen("iss", "jti-1", 2e9) is False
        assert not list(tmp_path.iterdir())
    finally:
        store.close()

"""Files at rest (issue 13): every file Staffel writes that holds personal data is readable by
its own account only (0600), and the data directory only it can enter (0700), also when the
process runs with the usual umask 022: the SQLite store with its ``-wal`` and ``-shm`` (SQLite
gives them the database file's mode), keys, and what the command line writes (exports, bundles).
SQLite only: PostgreSQL keeps its files itself (docs/data-protection.md)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.app import create_app
from bootstrap import build_case_application, build_services
from tests.support.api import AGENTUR, RECOGNIZED, Api, settings_for

STAFFEL = str(Path(sys.executable).with_name("staffel"))


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The process's umask as most systems set it (group and others may read new files)."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(folder: Path) -> dict[str, int]:
    """The mode of ``folder`` ("." ) and of everything below it."""
    found = {".": mode(folder)}
    for path in folder.rglob("*"):
        found[str(path.relative_to(folder))] = mode(path)
    return found


def open_to_others(found: dict[str, int]) -> dict[str, str]:
    """The entries that group or others may read, write or enter."""
    return {name: oct(m) for name, m in found.items() if m & 0o077}


def served(settings: Settings) -> Iterator[Api]:
    services = build_services(settings)
    client = TestClient(create_app(settings, services))
    client.__enter__()
    try:
        yield Api(app=client.app, services=services, client=client)  # type: ignore[arg-type]
    finally:
        client.__exit__(None, None, None)
        services.close()


def test_the_service_creates_its_store_keys_and_data_directory_private_under_umask_022(
    tmp_path: Path, umask_022: None
) -> None:
    data = tmp_path / "data"
    url = f"sqlite:///{data}/staffel.db"
    for api in served(settings_for(url, data_dir=data, master_key=None)):
        case_id = str(api.register()["case_id"])
        api.record(case_id, RECOGNIZED)
        api.settle()
        assert api.client.get(f"/cases/{case_id}", headers=api.agentur).status_code == 200
        found = modes(data)  # while the service runs: the write-ahead log and its index exist

    assert {"staffel.db", "staffel.db-wal", "staffel.db-shm", "master.key"} <= set(found)
    assert found["."] == 0o700
    assert open_to_others(found) == {}
    assert open_to_others(modes(data)) == {}  # and after it stopped


def test_a_store_outside_the_data_directory_is_private_too(tmp_path: Path, umask_022: None) -> None:
    store = tmp_path / "elsewhere" / "cases" / "staffel.db"
    settings = Settings(database_url=f"sqlite:///{store}", data_dir=tmp_path / "data")
    app = build_case_application(settings)
    try:
        assert app.recorder.max_notification_id() in (None, 0)
        found = modes(store.parent)
    finally:
        app.close()

    assert {"staffel.db", "staffel.db-wal", "staffel.db-shm"} <= set(found), found
    assert open_to_others(found) == {}
    assert mode(tmp_path / "data") == 0o700


def test_files_an_earlier_version_left_open_are_closed_to_others_on_start(
    tmp_path: Path, umask_022: None
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)
    (data / "staffel.db").touch()
    (data / "staffel.db").chmod(0o644)

    app = build_case_application(
        Settings(database_url=f"sqlite:///{data}/staffel.db", data_dir=data)
    )
    app.close()

    assert mode(data) == 0o700
    assert open_to_others(modes(data)) == {}


def staffel(env: dict[str, str], *argv: str, stdout: Path | None = None) -> str:
    """``staffel ARGV`` in a fresh process with umask 022 (as a shell would start it)."""
    with (stdout or Path(os.devnull)).open("a") as out:
        done = subprocess.run(
            [STAFFEL, *argv], env=env, stdout=out, stderr=subprocess.PIPE, text=True,
            umask=0o022, check=False, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_the_command_line_creates_its_store_and_writes_exports_private_under_umask_022(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    env = {
        **os.environ,
        "STAFFEL_DATABASE_URL": f"sqlite:///{data}/staffel.db",
        "STAFFEL_DATA_DIR": str(data),
    }
    env.pop("STAFFEL_MASTER_KEY", None)  # the key file is made in the data directory
    staffel(env, "info")
    for api in served(settings_for(env["STAFFEL_DATABASE_URL"], data_dir=data, master_key=None)):
        api.register(headers=None)
        api.settle()
    export = tmp_path / "export.jsonl"
    export.touch()
    export.chmod(0o644)  # as ``staffel audit export > export.jsonl`` leaves it to us

    staffel(env, "audit", "export", stdout=export)

    assert AGENTUR in export.read_text("utf-8")
    assert mode(export) == 0o600
    assert mode(data) == 0o700
    assert open_to_others(modes(data)) == {}

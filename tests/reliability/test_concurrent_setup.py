"""Two processes started at the same instant on a fresh store both come up: schema creation is
serialised (an advisory lock on PostgreSQL, the file lock and busy timeout on SQLite)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import create_database

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 2
STARTER = """
import sys, time
from bootstrap import build_services
from tests.support.api import settings_for
url, at, data_dir = sys.argv[1], float(sys.argv[2]), sys.argv[3]
settings = settings_for(url, data_dir=data_dir)
while time.time() < at:
    pass
services = build_services(settings)
services.close()
print("up")
"""


def start_two(url: str, data_dirs: tuple[Path, Path]) -> list[subprocess.CompletedProcess[str]]:
    at = time.time() + 2.0  # both processes have imported everything by then
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, url, str(at), str(data_dir)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for data_dir in data_dirs
    ]
    done = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return done


def assert_both_up(done: list[subprocess.CompletedProcess[str]]) -> None:
    for p in done:
        # up: the store's tables made, the workers started (a runner's retry of its first
        # round beside another process's runner is the runners' business, ADR 0004)
        assert p.returncode == 0, p.stderr[-4000:]
        assert p.stdout.splitlines()[-1] == "up", p.stdout


@pytest.mark.postgres
def test_two_processes_start_at_once_on_a_fresh_postgres_database(
    postgres_server: str, tmp_path: Path
) -> None:
    for round_ in range(ROUNDS):
        url = create_database("staffel_start")
        assert_both_up(start_two(url, (tmp_path / f"a{round_}", tmp_path / f"b{round_}")))


def test_two_processes_start_at_once_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        data_dir = tmp_path / f"data{round_}"
        url = f"sqlite:///{data_dir}/staffel.db"
        assert_both_up(start_two(url, (data_dir, data_dir)))

"""A served HTTP worker settles its heap once its startup is done (``api.app.settle_the_heap``):
what startup made is frozen out of the collector's sight, so a full collection scans only what
requests made since, and the youngest generation is collected less often. A test's app never
does it: a frozen heap in the test process would keep every later test's garbage.

Each case runs in a process of its own: freezing is for the whole process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.processes import production_env

PROBE = """
import gc, json, sys
from fastapi.testclient import TestClient
from api.app import create_app, serve_app
app = serve_app() if sys.argv[1] == "served" else create_app()
before = gc.get_freeze_count()
with TestClient(app) as client:
    healthy = client.get("/healthz").status_code
    print(json.dumps({"before": before, "frozen": gc.get_freeze_count(),
                      "young": gc.get_threshold()[0], "healthz": healthy}))
"""


def probe(kind: str, tmp_path: Path) -> dict[str, int]:
    env = production_env(f"sqlite:///{tmp_path / 'staffel.sqlite'}", tmp_path / "var")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, kind],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_served_worker_freezes_what_its_startup_made(tmp_path: Path) -> None:
    served = probe("served", tmp_path)
    assert served["healthz"] == 200
    assert served["before"] == 0
    # the modules, the app and the services: tens of thousands of objects, none scanned again
    assert served["frozen"] > 50_000
    assert served["young"] == 10_000


def test_an_app_built_for_tests_leaves_the_collector_as_it_is(tmp_path: Path) -> None:
    built = probe("built", tmp_path)
    assert built["healthz"] == 200
    assert built["frozen"] == 0
    assert built["young"] == 700

"""Two real deployments on loopback, each with its own PostgreSQL database: the Agentur für
Arbeit Saarland's (A) and the municipal Jobcenter St. Wendel's (B), each other's peers
(``demo.federation.prepare``), each a ``staffel serve`` process.

A case recognised at A is offered by A's policy to St. Wendel; A's outbox must retry (B is not up
yet) and A is killed (SIGKILL) between retries and restarted. B's caseworker reads the history and
accepts with its version and digest while A is down again (SIGKILL), so B's outbox must hold and
retry the receipt until A is back. Then: exactly one acceptance and one jurisdiction change in
each store, the same events 1..N+2 in both, no duplicate history entry at either, the case held by
St. Wendel at both, and A's former holder refused (403) when it writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import httpx
import pytest

from adapters.chain_check import verify_case
from adapters.federation.bundle import build_bundle, build_receipt
from adapters.federation.signing import load_or_create_key
from adapters.settings import DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER, Settings
from adapters.views.queries import CaseQueries
from adapters.views.store import ViewStoreMixin
from bootstrap import build_case_application
from demo.federation import prepare
from domain.aggregates import case_events as ev
from domain.application import StaffelApplication
from tests.conftest import create_database
from tests.support.federation import (
    PROBLEM,
    SAARLAND,
    ST_WENDEL,
    bearer,
    count_of,
    new_secret,
    stored_events,
    unique_bamf,
)
from tests.support.processes import StaffelProcess, free_port
from workers.projections import build_view_store

pytestmark = pytest.mark.postgres
T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll ``probe`` until it returns something other than None."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@dataclass
class Server:
    """One deployment: its ``staffel serve`` process and, for looking behind it, its store."""

    name: str
    env: dict[str, str]
    port: int
    log: Path
    process: StaffelProcess | None = None
    app: StaffelApplication = field(init=False)
    store: ViewStoreMixin = field(init=False)

    def __post_init__(self) -> None:
        self.app = build_case_application(
            Settings(database_url=self.env["STAFFEL_DATABASE_URL"], data_dir=self.data_dir)
        )  # the server's own data directory: the same master key
        self.store = build_view_store(self.app)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=15)

    @property
    def data_dir(self) -> Path:
        return Path(self.env["STAFFEL_DATA_DIR"])

    def auth(self, sub: str, org: str) -> dict[str, str]:
        return bearer(self.env["STAFFEL_JWT_SECRET"], sub, org)

    def start(self) -> Server:
        self.process = StaffelProcess(["serve", "--port", str(self.port)], self.env, self.log)
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        def ready() -> bool | None:
            assert self.process is not None
            assert self.process.alive(), self.log.read_text()
            try:
                return True if self.http.get("/readyz").status_code == 200 else None
            except httpx.HTTPError:
                return None

        eventually(ready, timeout, f"{self.name} to be ready")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def close(self) -> None:
        self.stop()
        self.http.close()
        self.app.close()

    # -- looking behind it --------------------------------------------------------------------

    def version_of(self, case_id: UUID) -> int:
        return len(list(self.app.recorder.select_events(case_id)))

    def outbox(self, case_id: UUID) -> list[dict[str, Any]]:
        with self.store.cursor() as curs:
            curs.execute(
                self.store.sql(
                    "SELECT kind, version, attempts, state, last_error FROM outbox"
                    " WHERE case_id = %s ORDER BY kind, version"
                ),
                (str(case_id),),
            )
            return [dict(r) for r in curs.fetchall()]

    def history(self, case_id: UUID) -> Any:
        return CaseQueries(self.store).history(str(case_id))


@pytest.fixture
def servers(postgres_server: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    port_a, port_b = free_port(), free_port()
    env_a, env_b = prepare(tmp_path, port_a, port_b)
    made: list[Server] = []
    try:
        for name, env, port in (("A", env_a, port_a), ("B", env_b, port_b)):
            env.update({
                "STAFFEL_SEED": "false",
                "STAFFEL_DATABASE_URL": create_database(f"staffel_fed_{name.lower()}"),
                "STAFFEL_JWT_SECRET": new_secret(),
                "STAFFEL_JWT_ISSUER": DEFAULT_JWT_ISSUER,  # what the tests' tokens name
                "STAFFEL_JWT_AUDIENCE": DEFAULT_JWT_AUDIENCE,
                "STAFFEL_LOG_FORMAT": "json",
                "PYTHONUNBUFFERED": "1",
            })  # fmt: skip
            made.append(Server(name, env, port, tmp_path / f"server-{name}.log"))
        yield made[0], made[1]
    finally:
        for server in made:
            server.close()


def test_a_handover_between_two_servers_survives_killing_the_sender(
    servers: tuple[Server, Server],
) -> None:
    a, b = servers
    saarland_at_a = a.auth("cw-saarland", SAARLAND)
    st_wendel_at_b = b.auth("t.weber", ST_WENDEL)

    # -- A registers and recognises; B is not up, so A's outbox keeps retrying the bundle --------
    a.start().wait_ready()
    registered = a.http.post(
        "/cases",
        json={"person": {"given_name": "Rahel", "family_name": "Tesfaye",
                         "birth_date": "1994-03-07", "nationality": "ER"},
              "bamf_file_number": unique_bamf(), "residence_municipality": "St. Wendel",
              "legal_status": "asylum_seeker", "office": "St. Wendel"},
        headers=saarland_at_a,
    )  # fmt: skip
    assert registered.status_code == 201, registered.text
    case_id = UUID(registered.json()["case_id"])
    for event in (
        {"type": "NoteRecorded", "text": "Erstgespräch in St. Wendel"},
        {"type": "AsylumRecognized", "protection": "refugee", "decided_on": "2026-04-20"},
    ):
        recorded = a.http.post(f"/cases/{case_id}/events", json=event, headers=saarland_at_a)
        assert recorded.status_code == 201, recorded.text

    def retried_twice() -> list[dict[str, Any]] | None:
        jobs = [j for j in a.outbox(case_id) if j["kind"] == "bundle"]
        return jobs if jobs and jobs[0]["attempts"] >= 2 else None

    jobs = eventually(retried_twice, 30, "A's outbox to retry the bundle")
    assert jobs[0]["state"] == "pending", jobs
    n = a.version_of(case_id)
    assert n == 4  # registered, note, recognised, offered by the policy
    a.kill()  # between retries, the bundle still undelivered

    # -- B comes up, A restarts: the outbox delivers --------------------------------------------
    b.start()
    a.start()
    b.wait_ready()
    a.wait_ready()

    def read_at_b() -> dict[str, Any] | None:
        response = b.http.get(f"/cases/{case_id}/history", headers=st_wendel_at_b)
        return response.json() if response.status_code == 200 else None

    read = eventually(read_at_b, 40, "the bundle to arrive at B")
    assert (read["version"], read["digest"]) == (n, a.app.get_case(case_id).digest)
    assert [e["version"] for e in read["entries"]] == list(range(1, n + 1))

    # -- A is down when B's caseworker accepts: B's outbox holds the receipt and retries ---------
    a.kill()
    killed = time.monotonic()
    accepted = b.http.post(
        f"/cases/{case_id}/handover/accept",
        json={"version": read["version"], "digest": read["digest"]},
        headers=st_wendel_at_b,
    )
    assert accepted.status_code == 202, accepted.text
    assert b.version_of(case_id) == n, "B must not record the acceptance itself"
    a.start().wait_ready()

    def switched_at_both() -> bool | None:
        return True if a.version_of(case_id) == b.version_of(case_id) == n + 2 else None

    # B's outbox backs off while A is down (doubling, workers/outbox.py): its next try can come
    # as long after A is back as A was down (a slow restart under load: 84 s in all, seen)
    outage = time.monotonic() - killed
    eventually(
        switched_at_both, 40 + 2 * outage, "the receipt to reach A and its answer to reach B"
    )

    # -- late duplicates: the bundle again into B, the receipt again into A -------------------
    head_a, head_b = a.app.recorder.max_notification_id(), b.app.recorder.max_notification_id()
    bundle = build_bundle(
        a.app, case_id, SAARLAND, load_or_create_key(a.data_dir / "signing-key.pem"), ST_WENDEL
    )
    again = b.http.post("/handovers/inbox", json=bundle)
    assert again.status_code == 200, again.text
    assert again.json()["new_events"] == 0
    receipt = build_receipt(
        case_id, n, read["digest"], ST_WENDEL, "t.weber",
        load_or_create_key(b.data_dir / "signing-key.pem"),
    )  # fmt: skip
    replayed = a.http.post("/handovers/receipts", json=receipt)
    assert replayed.status_code in (200, 201), replayed.text
    assert replayed.json()["version"] == n + 2

    # -- both deployments settle: views caught up, outboxes empty ------------------------------
    def settled() -> bool | None:
        histories = [s.history(case_id) for s in (a, b)]
        outboxes = [j for s in (a, b) for j in s.outbox(case_id)]
        done = all(h is not None and h.version == n + 2 for h in histories)
        return True if done and all(j["state"] == "delivered" for j in outboxes) else None

    eventually(settled, 40, "both deployments' views and outboxes to settle")
    assert a.app.recorder.max_notification_id() == head_a
    assert b.app.recorder.max_notification_id() == head_b

    # -- exactly one switch, identical streams, no duplicate history entry -----------------------
    sent, received = stored_events(a.app, case_id), stored_events(b.app, case_id)
    assert [e.version for e in sent] == list(range(1, n + 3))
    assert received == sent
    assert received[n - 1].hash == read["digest"]
    for server in (a, b):
        assert count_of(server.app, case_id, ev.HandoverAccepted) == 1, server.name
        assert count_of(server.app, case_id, ev.JurisdictionChanged) == 1, server.name
        assert verify_case(server.app, case_id) == [], server.name
        assert server.app.get_case(case_id).holder == ST_WENDEL, server.name
        history = server.history(case_id)
        assert [e["version"] for e in history.entries] == list(range(1, n + 3)), server.name
        assert [e["hash"] for e in history.entries] == [e.hash for e in sent], server.name
    assert [j["kind"] for j in b.outbox(case_id)] == ["receipt"]

    # -- the former holder can no longer write, at either deployment ------------------------------
    for server in (a, b):
        refused = server.http.post(
            f"/cases/{case_id}/events",
            json={"type": "NoteRecorded", "text": "noch eine Notiz"},
            headers=server.auth("cw-saarland", SAARLAND),
        )
        assert refused.status_code == 403, (server.name, refused.text)
        assert refused.headers["content-type"].startswith(PROBLEM)
    assert (a.version_of(case_id), b.version_of(case_id)) == (n + 2, n + 2)

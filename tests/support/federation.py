"""Givens for the handover tests: deployments built in-process (one, or two configured as each
other's peers by ``demo.federation.prepare``), and ways to look at what a store holds."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from fastapi.testclient import TestClient

import demo
from adapters.auth import mint
from adapters.chain_check import stored_state
from adapters.orgs import Organisations
from adapters.settings import Settings
from adapters.views.store import ViewStoreMixin
from api.app import create_app
from bootstrap import Services, build_services
from demo.federation import prepare
from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.application import StaffelApplication
from domain.values import LegalStatus, Person
from domain.writes import Recorded
from projections.registry import PROJECTIONS
from tests.support.builders import a_person
from workers.handover_policy import PolicyWorker
from workers.outbox import Outbox
from workers.projections import run_once

ORGS_FILE = demo.ORGS_FILE
AGENTUR = "agentur-aachen-dueren"  # Kreis Heinsberg's Agentur (scenario 2, one deployment)
JOBCENTER = "jobcenter-heinsberg"
SAARLAND = "agentur-saarland"  # scenario 1: the Agentur's deployment A ...
ST_WENDEL = "jobcenter-st-wendel"  # ... hands over to the municipal Jobcenter's deployment B

_DEMO_ORGS = Organisations.load(None)
HEINSBERG_PLACES: tuple[str, ...] = _DEMO_ORGS.get(JOBCENTER).serves  # type: ignore[union-attr]
ST_WENDEL_PLACES: tuple[str, ...] = _DEMO_ORGS.get(ST_WENDEL).serves  # type: ignore[union-attr]

PROBLEM = "application/problem+json"
UNUSED_PORT = 9  # the discard port: nothing listens, an outbox that tries gets refused


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def bearer(secret: str, sub: str, org: str, role: str = "caseworker") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(secret, sub=sub, org=org, roles=[role])}"}


def unique_bamf() -> str:
    return f"{secrets.randbelow(9 * 10**6) + 10**6}-{secrets.randbelow(900) + 100}"


def register(
    app: StaffelApplication,
    by: Actor,
    residence: str,
    *,
    person: Person | None = None,
    legal_status: LegalStatus = LegalStatus.ASYLUM_SEEKER,
) -> Recorded:
    with acting_as(by):
        return app.register_case(
            person=person or a_person(),
            bamf_file_number=unique_bamf(),
            residence_municipality=residence,
            legal_status=legal_status,
        )


# -- one deployment, in-process ---------------------------------------------------------------


@dataclass
class Deployment:
    """A deployment's services (background runner not started) and an HTTP client on its app."""

    services: Services
    client: TestClient
    secret: str

    @property
    def app(self) -> StaffelApplication:
        return self.services.cases

    @property
    def store(self) -> ViewStoreMixin:
        return self.services.supervisor.store

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def auth(self, sub: str, org: str, role: str = "caseworker") -> dict[str, str]:
        return bearer(self.secret, sub, org, role)

    def catch_up(self) -> None:
        """Bring every projection up to the end of the log."""
        for projection in PROJECTIONS:
            run_once(self.app, projection, self.store)

    @property
    def policy(self) -> PolicyWorker:
        found = [p for p in self.services.supervisor.processes if isinstance(p, PolicyWorker)]
        assert len(found) == 1
        return found[0]

    @property
    def outbox(self) -> Outbox:
        return self.services.outbox

    def run_policy(self) -> None:
        while self.policy.step():
            pass

    def imported_rows(self) -> int:
        with self.store.cursor() as curs:
            curs.execute("SELECT count(*) AS n FROM imported_streams")
            row = curs.fetchone()
        return int(row["n"])

    def close(self) -> None:
        self.client.close()
        self.services.close()


def open_deployment(
    database_url: str, data_dir: Path, orgs_file: Path = ORGS_FILE, **overrides: Any
) -> Deployment:
    secret = new_secret()
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        orgs_file=orgs_file,
        jwt_secret=secret,  # type: ignore[arg-type]
        demo=False,
        seed=False,
        **overrides,
    )
    services = build_services(settings, start_projections=False)
    return Deployment(services, TestClient(create_app(settings, services)), secret)


@dataclass
class Federation:
    """Deployment A (the Agentur's, with Kreis Heinsberg) and B (Jobcenter St. Wendel's own),
    each other's peers; each outbox posts straight into the other's app."""

    a: Deployment
    b: Deployment

    def close(self) -> None:
        self.a.close()
        self.b.close()


def open_federation(base: Path, **overrides: Any) -> Federation:
    env_a, env_b = prepare(base, UNUSED_PORT, UNUSED_PORT)
    a, b = (
        open_deployment(
            env["STAFFEL_DATABASE_URL"],
            Path(env["STAFFEL_DATA_DIR"]),
            Path(env["STAFFEL_ORGS_FILE"]),
            **overrides,
        )
        for env in (env_a, env_b)
    )
    a.outbox.post = post_into(b.client)
    b.outbox.post = post_into(a.client)
    return Federation(a, b)


def open_federation_on(backend: str, base: Path) -> Federation:
    """``open_federation`` with A on ``backend`` (a fresh database) and B on another database of
    the same kind."""
    env_a, env_b = prepare(base, UNUSED_PORT, UNUSED_PORT)
    urls = [env_a["STAFFEL_DATABASE_URL"], env_b["STAFFEL_DATABASE_URL"]]
    if not backend.startswith("sqlite"):
        from tests.conftest import create_database

        urls = [backend, create_database("staffel_handover_b")]
    a, b = (
        open_deployment(url, Path(env["STAFFEL_DATA_DIR"]), Path(env["STAFFEL_ORGS_FILE"]))
        for url, env in zip(urls, (env_a, env_b), strict=True)
    )
    a.outbox.post = post_into(b.client)
    b.outbox.post = post_into(a.client)
    return Federation(a, b)


def post_into(client: TestClient) -> Any:
    """An outbox ``post`` that delivers into another in-process app (the peer's URL's path)."""

    def post(url: str, payload: dict[str, Any]) -> tuple[int, bytes]:
        response = client.post(urlsplit(url).path, json=payload)
        return response.status_code, response.content

    return post


# -- what a store holds -------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCaseEvent:
    version: int
    topic: str
    class_version: int
    state: dict[str, Any]  # as stored, with timestamp and hash

    @property
    def hash(self) -> str:
        return str(self.state["hash"])


def stored_events(app: StaffelApplication, case_id: UUID) -> list[StoredCaseEvent]:
    events = []
    for stored in app.recorder.select_events(case_id):
        class_version, state = stored_state(app.mapper, stored)
        events.append(
            StoredCaseEvent(stored.originator_version, stored.topic, class_version, state)
        )
    return events


def count_of(app: StaffelApplication, case_id: UUID, event_class: type[ev.CaseEvent]) -> int:
    return sum(1 for e in stored_events(app, case_id) if e.topic == event_class.TOPIC)


def notifications_of(app: StaffelApplication, topic: str) -> Iterator[Any]:
    """Every stored event with ``topic``, as domain events, in log order."""
    start = 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=500, topics=[topic])
        for notification in page:
            yield app.mapper.to_domain_event(notification)
        if len(page) < 500:
            return
        start = page[-1].id + 1

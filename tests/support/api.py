"""The real FastAPI app over real services, for the tests that go through HTTP: tokens, request
bodies, ``Api`` (the app, its services, a client and the common steps) and problem checks.

The ``make_api`` / ``api`` fixtures (``tests/conftest.py``) give each test its own ``Services``
(projections and the handover policy running in their background thread) and a ``TestClient`` on
the app ``create_app`` builds. The organisations are the packaged demo file, but nothing is
seeded: every case a test sees, it registered itself.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import uuid4

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

import demo
from adapters.auth import mint
from adapters.settings import Settings
from bootstrap import Services

SECRET = "test-secret-e2e-" + "0123456789abcdef" * 3  # HS256 wants at least 32 bytes
ORGS_FILE = demo.ORGS_FILE

AGENTUR = "agentur-aachen-dueren"
JOBCENTER = "jobcenter-heinsberg"
DRK = "drk-heinsberg"
SAARLAND = "agentur-saarland"
ST_WENDEL = "jobcenter-st-wendel"
AUDIT = "audit-office"

PROBLEM = "application/problem+json"
T = TypeVar("T")


def token(sub: str, org: str, role: str | list[str], *, ttl: int = 3600) -> str:
    """A bearer token the test app accepts."""
    roles = [role] if isinstance(role, str) else role
    return mint(SECRET, sub=sub, org=org, roles=roles, ttl=ttl)


def auth(sub: str, org: str, role: str | list[str] = "caseworker") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sub, org, role)}"}


def unique_bamf() -> str:
    """A BAMF file number no other test uses (the PostgreSQL database is shared per session)."""
    return f"{secrets.randbelow(9 * 10**7) + 10**7}-{secrets.randbelow(900) + 100}"


def person(**overrides: Any) -> dict[str, Any]:
    return {
        "given_name": "Rahel",
        "family_name": "Tesfaye",
        "birth_date": "1994-03-07",
        "nationality": "ER",
        **overrides,
    }


def registration(**overrides: Any) -> dict[str, Any]:
    return {
        "person": person(),
        "bamf_file_number": unique_bamf(),
        "residence_municipality": "Erkelenz",
        "legal_status": "asylum_seeker",
        **overrides,
    }


ASSESSED: dict[str, Any] = {
    "type": "CompetenceAssessed",
    "instrument": "MYSKILLS",
    "assessed_on": "2026-02-10",
    "german_level": "A2",
    "languages": [{"language": "ti", "level": "C2"}],
    "school_years": 9,
    "school_certificate": None,
    "vocational_training": [],
    "work_experience": [{"occupation": "Schneiderin", "years": 4}],
    "qualification_recognition": "not_applicable",
    "support_need": True,
    "notes": None,
}
RECOGNIZED: dict[str, Any] = {
    "type": "AsylumRecognized",
    "protection": "refugee",
    "decided_on": "2026-04-20",
}


def note(text: str = "Termin vereinbart") -> dict[str, Any]:
    return {"type": "NoteRecorded", "text": text}


@dataclass
class Api:
    """The app under test, its services and a client; helpers for the common steps."""

    app: FastAPI
    services: Services
    client: TestClient
    agentur: dict[str, str] = field(default_factory=lambda: auth("cw-agentur", AGENTUR))
    jobcenter: dict[str, str] = field(default_factory=lambda: auth("cw-jobcenter", JOBCENTER))

    def staff(self, sub: str, org: str, role: str | list[str] = "caseworker") -> dict[str, str]:
        """The headers of a member of staff who has called the API once, so the staff directory
        knows them (ADR 0015) and a case can be assigned to them."""
        headers = auth(sub, org, role)
        r = self.client.get("/follow-ups?limit=1", headers=headers)
        assert r.status_code == 200, r.text
        return headers

    def head(self) -> int:
        """The store's last notification id: unchanged means nothing was written."""
        return self.services.cases.recorder.max_notification_id() or 0

    def recorded_since(self, head: int) -> int:
        """How many events were recorded after ``head`` (PostgreSQL's ids may have gaps: a
        transaction that lost a race still used up a sequence number)."""
        return len(self.services.cases.recorder.select_notifications(start=head + 1, limit=10_000))

    def settle(self, timeout: float = 20.0) -> None:
        """Wait until the projections and the policy have processed everything recorded, and
        the round that did it has ended (after an erasure: the log compacted, see
        ``Supervisor.finish_round``)."""
        deadline = time.monotonic() + timeout
        while True:
            head = self.head()
            policy = self.services.supervisor.processes[0]
            done = (
                self.services.supervisor.wait_for(head, 0.05)
                and getattr(policy, "position", head) >= head
                and self.head() == head
            )
            if done:
                left = max(0.0, deadline - time.monotonic())
                assert self.services.supervisor.finish_round(left), "the round did not end"
                return
            assert time.monotonic() < deadline, f"projections did not reach {head}"
            time.sleep(0.02)

    def register(self, headers: dict[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
        r = self.client.post(
            "/cases", json=registration(**overrides), headers=headers or self.agentur
        )
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    def record(
        self, case_id: str, event: dict[str, Any], headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        r = self.client.post(
            f"/cases/{case_id}/events", json=event, headers=headers or self.agentur
        )
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    def wait_for_offer(
        self, case_id: str, headers: dict[str, str] | None = None, timeout: float = 20.0
    ) -> dict[str, Any]:
        """Poll the receiver's incoming queue until the policy's offer for ``case_id`` shows."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.client.get(
                "/handovers",
                params={"direction": "incoming", "state": "offered", "limit": 200},
                headers=headers or self.jobcenter,
            )
            assert r.status_code == 200, r.text
            found = [i for i in r.json()["items"] if i["case_id"] == case_id]
            if found:
                item: dict[str, Any] = found[0]
                return item
            assert time.monotonic() < deadline, f"no offer for {case_id} in the queue"
            time.sleep(0.05)

    def offered_case(self) -> str:
        """A case the Agentur holds, recognised, with the policy's offer to the Jobcenter open."""
        case_id = str(self.register()["case_id"])
        self.record(case_id, RECOGNIZED)
        self.wait_for_offer(case_id)
        return case_id

    def history(
        self, case_id: str, headers: dict[str, str] | None = None, min_position: int = 0
    ) -> dict[str, Any]:
        """The case's history as ``headers`` (default: the Jobcenter) reads it; ``min_position``
        waits for another caller's write (a caller's own writes are waited for anyway)."""
        r = self.client.get(
            f"/cases/{case_id}/history",
            params={"min_position": min_position} if min_position else None,
            headers=headers or self.jobcenter,
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


def registered_employer(api: Api, account: str) -> str:
    """``account`` registered as an employer the Agentur looks after (already, on a shared
    database): an employer's token must name a registered employer (issue 13)."""
    body = {"account": account, "name": "Elektro Dahmen GmbH", "sector": "Handwerk",
            "locations": ["Wassenberg"], "contact": {"name": "Herr Dahmen"}}  # fmt: skip
    r = api.client.post("/employers", json=body, headers=api.agentur)
    assert r.status_code in (201, 409), r.text
    return account


def problem_of(response: Response, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem with ``status``; return its body."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"], body
    assert str(body["type"]).startswith("https://")
    return body


def settings_for(database_url: str, **overrides: Any) -> Settings:
    # A read waits up to 10 s for its read models, not the served 2 s: the tests assert what is
    # answered, not how fast, and under CI's load a round of the projections once took longer
    # (a 503 where a 403 was asserted); tests of the wait set their own.
    overrides.setdefault("read_wait_seconds", 10.0)
    return Settings(
        database_url=database_url,
        jwt_secret=SECRET,  # type: ignore[arg-type]
        orgs_file=ORGS_FILE,
        demo=False,
        **overrides,
    )


def new_id() -> str:
    return str(uuid.uuid4())


# -- partners and matching over HTTP -----------------------------------------------------------

OFFER_STARTS_ON = "2026-06-01"


def post(api: Api, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    r = api.client.post(path, json=body, headers=headers)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def get(api: Api, path: str, headers: dict[str, str], status: int = 200) -> Any:
    """Read as ``headers``, after everything written so far (another caller's writes too)."""
    r = api.client.get(
        f"{path}{'&' if '?' in path else '?'}min_position={api.head()}", headers=headers
    )
    if status != 200:
        return problem_of(r, status)
    assert r.status_code == 200, r.text
    return r.json()


def an_employer(api: Api) -> tuple[str, str]:
    """A fresh employer looked after by the Agentur: (account, id)."""
    account = f"elektro-{uuid4().hex[:8]}"
    body = {
        "account": account, "name": "Elektro Dahmen GmbH", "sector": "Handwerk",
        "locations": ["Wassenberg"], "contact": {"name": "Herr Dahmen"}, "interest": ["job"],
    }  # fmt: skip
    return account, str(post(api, "/employers", body, api.agentur)["id"])


def an_offer(api: Api, employer_id: str, headers: dict[str, str], positions: int = 1) -> str:
    body = {"employer_id": employer_id, "kind": "job", "occupation": "Elektriker",
            "municipality": "Wassenberg", "german_level": "A2", "starts_on": OFFER_STARTS_ON,
            "positions": positions}  # fmt: skip
    return str(post(api, "/offers", body, headers)["id"])


def an_assessed_person(api: Api, headers: dict[str, str] | None = None, **competences: Any) -> str:
    case_id = str(api.register(headers, residence_municipality="Hückelhoven")["case_id"])
    experience = [{"occupation": "Elektriker", "years": 3}]
    api.record(case_id, {**ASSESSED, "german_level": "B1", "work_experience": experience,
                         **competences}, headers)  # fmt: skip
    return case_id


# -- concurrent requests -----------------------------------------------------------------------


def race(*calls: Callable[[], T]) -> list[T]:
    """Run ``calls`` at the same moment, one thread each; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def poster(
    api: Api, path: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> Callable[[], Response]:
    """One request, bound now, sent when called."""

    def post() -> Response:
        response: Response = api.client.post(path, json=body, headers=headers)
        return response

    return post

"""A commit of unknown outcome, made real: a proxy in front of PostgreSQL drops the connection
after the server committed, before the client hears so (``tests/support/pg_proxy.py``). The
library retries the insert, which collides with the write's own rows. The answer must say what
is stored: 201 at the stored version, one event, never a 409 naming the client's own write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.identity import authenticate
from bootstrap import build_services
from tests.conftest import SERVER_URL, create_database
from tests.support.api import AGENTUR, JOBCENTER, Api, auth, note, registration, settings_for
from tests.support.pg_proxy import CommitCutProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxy(postgres_server: str) -> Iterator[CommitCutProxy]:
    cut = CommitCutProxy(SERVER_URL)
    yield cut
    cut.close()


@pytest.fixture
def cut_api(proxy: CommitCutProxy, tmp_path: Path) -> Iterator[Api]:
    """The app on a fresh database reached through the proxy; no background workers, so that
    the only commits are the requests' own."""
    name = create_database("staffel_cut").rsplit("/", 1)[1]
    settings = settings_for(f"{proxy.url}/{name}", data_dir=tmp_path / "data")
    services = build_services(settings, start_projections=False)
    client = TestClient(create_app(settings, services))
    client.__enter__()
    yield Api(app=client.app, services=services, client=client)  # type: ignore[arg-type]
    client.__exit__(None, None, None)
    services.close()


def versions(api: Api, aggregate_id: str) -> list[int]:
    return [
        e.originator_version for e in api.services.cases.recorder.select_events(UUID(aggregate_id))
    ]


def posted(api: Api, proxy: CommitCutProxy, path: str, body: Any, headers: dict[str, str]) -> Any:
    # the caller's first request notes its name in the staff directory (a commit of its own):
    # made before the proxy is armed, so that the cut commit is the write's
    authenticate(api.services, headers["Authorization"].removeprefix("Bearer "))
    proxy.cut_next_commits(1)
    response = api.client.post(path, json=body, headers=headers)
    assert proxy.cuts == 1, "the proxy cut no commit"
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("if_match", [None, "1"])
def test_a_recorded_event_whose_commit_ack_was_lost_is_201_once(
    cut_api: Api, proxy: CommitCutProxy, if_match: str | None
) -> None:
    case_id = cut_api.register()["case_id"]
    headers = {**cut_api.agentur, **({"If-Match": if_match} if if_match else {})}
    body = posted(cut_api, proxy, f"/cases/{case_id}/events", note(), headers)
    assert body["version"] == 2
    assert versions(cut_api, case_id) == [1, 2]
    assert body["position"] == cut_api.head()


def test_a_registration_whose_commit_ack_was_lost_is_201_not_a_duplicate_number(
    cut_api: Api, proxy: CommitCutProxy
) -> None:
    head = cut_api.head()
    body = posted(cut_api, proxy, "/cases", registration(), cut_api.agentur)
    assert body["version"] == 1
    assert versions(cut_api, body["case_id"]) == [1]
    assert cut_api.recorded_since(head) == 2  # the case and its BAMF number's index


def test_a_keyed_write_whose_commit_ack_was_lost_replays_as_stored(
    cut_api: Api, proxy: CommitCutProxy
) -> None:
    case_id = cut_api.register()["case_id"]
    headers = {**cut_api.agentur, "Idempotency-Key": "cut-1"}
    first = posted(cut_api, proxy, f"/cases/{case_id}/events", note(), headers)
    again = cut_api.client.post(f"/cases/{case_id}/events", json=note(), headers=headers)
    assert again.status_code == 201, again.text
    assert again.json()["version"] == first["version"] == 2
    assert versions(cut_api, case_id) == [1, 2]


def test_an_accept_whose_commit_ack_was_lost_is_201_and_replays_with_its_key(
    cut_api: Api, proxy: CommitCutProxy
) -> None:
    case_id = cut_api.register()["case_id"]
    offered = cut_api.client.post(
        f"/cases/{case_id}/handover",
        json={"to_org": JOBCENTER, "reason": "Anerkennung"},
        headers=cut_api.agentur,
    )
    assert offered.status_code == 201, offered.text
    case = cut_api.services.cases.get_case(UUID(case_id))
    accept = {"version": case.version, "digest": case.digest}
    headers = {**auth("cw-jc", JOBCENTER), "Idempotency-Key": "accept-1"}
    path = f"/cases/{case_id}/handover/accept"
    first = posted(cut_api, proxy, path, accept, headers)
    again = cut_api.client.post(path, json=accept, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json() == first
    assert versions(cut_api, case_id) == list(range(1, first["version"] + 1))
    topics = [e.topic for e in cut_api.services.cases.recorder.select_events(UUID(case_id))]
    assert sum(t.endswith("HandoverAccepted") for t in topics) == 1, topics
    assert cut_api.services.cases.get_case(UUID(case_id)).holder == JOBCENTER != AGENTUR

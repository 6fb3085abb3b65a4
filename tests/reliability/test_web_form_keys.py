"""The case page's forms carry a per-form ``request_key`` into the same idempotency mechanism as
the JSON API's ``Idempotency-Key``: a resent form (a retry after a lost answer, a double click)
records once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from bootstrap import build_services
from tests.conftest import create_database
from tests.support.api import AGENTUR, Api, settings_for
from tests.support.web import csrf_of, signed_in


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The app on a store of its own (the page's forms wait for the projections, which a
    shared database's foreign events may hold up)."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_server")
        url = create_database("staffel_forms")
    else:
        url = f"sqlite:///{tmp_path}/staffel.db"
    settings = settings_for(url, data_dir=tmp_path / "data")
    services = build_services(settings)
    client = TestClient(create_app(settings, services))
    client.__enter__()
    yield Api(app=client.app, services=services, client=client)  # type: ignore[arg-type]
    client.__exit__(None, None, None)
    services.close()


def test_a_resent_case_form_records_once(fresh_api: Api) -> None:
    api = fresh_api
    case_id = api.register()["case_id"]
    web = signed_in(api, "cw-agentur", AGENTUR)
    page = web.get(f"/ui/cases/{case_id}")
    form = page.text[page.text.index(f"/ui/cases/{case_id}/forms/NoteRecorded") :]
    key = re.search(r'name="request_key" value="([0-9a-f]{32})"', form)
    assert key, "the note form carries no request key"
    head = api.head()
    posted = {"csrf": csrf_of(page.text), "request_key": key.group(1), "text": "einmal",
              "category": "general"}  # fmt: skip
    for _ in range(2):
        sent = web.post(f"/ui/cases/{case_id}/forms/NoteRecorded", data=posted,
                        follow_redirects=False)  # fmt: skip
        assert sent.status_code == 303, sent.text[:500]
    assert api.recorded_since(head) == 1

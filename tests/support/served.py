"""The end-to-end app (``tests/support/api.py``) for the disclosure and subject access tests,
once per backend, and the case they read: registered by the Agentur with a health note, a general
note and a step.

Each test's app runs on a database of its own (``db_url``): its master key lives in the test's
data directory, and a store shared with other tests' apps would hold keys it cannot unwrap."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from bootstrap import build_services
from domain.principal import Principal, Role
from tests.support.api import Api, person, registration, settings_for


@contextmanager
def served(database_url: str, tmp_path: Path, **overrides: Any) -> Iterator[Api]:
    settings = settings_for(database_url, data_dir=tmp_path / "data")
    settings = settings.model_copy(update=overrides)
    services = build_services(settings)
    app = create_app(settings, services)
    client = TestClient(app)
    client.__enter__()
    try:
        yield Api(app=app, services=services, client=client)
    finally:
        client.__exit__(None, None, None)
        services.close()


def secret(prefix: str) -> str:
    """A value found nowhere else (letters outside hex: no hash or id contains it)."""
    return prefix + "zq" + secrets.token_hex(5)


@dataclass(frozen=True)
class Recorded:
    case_id: str
    family: str
    health: str  # the text of the health note
    general: str  # the text of a general note
    step: str  # the description of an agreed step


def recorded_case(api: Api) -> Recorded:
    """A case the Agentur holds, with a health note, a general note and an agreed step."""
    family, health, general, step = (
        secret("Tesfay"), secret("diabetes"), secret("wohnung"), secret("bewerbung")
    )  # fmt: skip
    r = api.client.post(
        "/cases", json=registration(person=person(family_name=family)), headers=api.agentur
    )
    assert r.status_code == 201, r.text
    case_id = str(r.json()["case_id"])
    api.record(case_id, {"type": "NoteRecorded", "text": f"Attest: {health}", "category": "health"})
    api.record(case_id, {"type": "NoteRecorded", "text": f"Sucht {general}"})
    api.record(
        case_id,
        {"type": "StepAgreed", "step_id": "s1", "description": f"Training {step}",
         "plan": "eingliederungsvereinbarung", "due_on": "2026-09-30"},
    )  # fmt: skip
    api.settle()
    return Recorded(case_id, family, health, general, step)


def principal(sub: str, org: str, *roles: str) -> Principal:
    return Principal(sub, sub, org, frozenset(Role(r) for r in roles))

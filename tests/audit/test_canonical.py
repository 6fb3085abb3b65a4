"""The audit's fast reading of stored events gives exactly what the slow one gives (decode, then
``to_canonical``), for every event type, plain, encrypted and compressed; and the standalone
verifier's hash is ``domain.chain``'s."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.cryptography import AESCipher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.audit.canonical import CanonicalReader
from adapters.audit.rows import is_case_topic
from adapters.chain_check import stored_state
from adapters.settings import Settings
from bootstrap import build_case_application
from domain.actor import acting_as
from domain.aggregates.case import Case
from domain.application import StaffelApplication
from domain.chain import event_hash, to_canonical
from domain.sealing import sealing_with
from tests.support.builders import (
    HOLDER,
    STAFF_FIELDS,
    a_case_offered_to,
    a_case_with_open_items,
    accept,
    record_note,
    staff_command,
)
from verifier.audit_verify import event_digest

MODES: dict[str, dict[str, Any]] = {
    "plain": {},
    "encrypted": {"cipher_key": AESCipher.create_key(32)},
    "compressed": {"compress": True},
}


@pytest.fixture
def make(db_url: str) -> Iterator[Callable[..., StaffelApplication]]:
    apps: list[StaffelApplication] = []

    def build(**overrides: object) -> StaffelApplication:
        apps.append(build_case_application(Settings(database_url=db_url, **overrides)))  # type: ignore[arg-type]
        return apps[-1]

    yield build
    for app in apps:
        app.close()


def every_event_type() -> list[Case]:
    cases = []
    for event_type in STAFF_FIELDS:
        case = a_case_with_open_items()
        with acting_as(HOLDER):
            if event_type == "CaseReopened":
                staff_command("CaseClosed")(case)
            staff_command(event_type)(case)
        cases.append(case)
    handed_over = a_case_offered_to()
    accept(handed_over)
    return [*cases, handed_over]


def assert_same_reading(app: StaffelApplication) -> int:
    reader, checked = CanonicalReader(app.mapper), 0
    for n in app.recorder.select_notifications(start=1, limit=100_000):
        if not is_case_topic(n.topic):
            continue
        class_version, typed = stored_state(app.mapper, n)
        assert reader.state(n.state) == (class_version, to_canonical(typed))
        _, state = reader.state(n.state)
        digest = event_digest(
            str(n.originator_id), n.originator_version, n.topic, class_version, state
        )
        assert digest == state["hash"]
        assert digest == event_hash(
            UUID(str(n.originator_id)), n.originator_version, n.topic, class_version, typed
        )
        checked += 1
    return checked


@pytest.mark.parametrize("mode", list(MODES))
def test_every_event_type_reads_the_same(
    make: Callable[..., StaffelApplication], mode: str
) -> None:
    app = make(**MODES[mode])
    with sealing_with(app.keys):
        app.save(*every_event_type())
    assert assert_same_reading(app) > 2 * len(STAFF_FIELDS)


@given(text=st.text(max_size=50))
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_text_reads_the_same(app: StaffelApplication, text: str) -> None:
    with sealing_with(app.keys):
        case = a_case_with_open_items()
        record_note(case, text=text)
        app.save(case)
    assert_same_reading(app)

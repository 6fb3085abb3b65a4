"""Steps, measures, placements, mentors, consents: ids are unique; only open ones can be closed."""

from __future__ import annotations

from typing import Any

import pytest

from domain.actor import acting_as
from domain.aggregates.case import STAFF_COMMANDS, Case
from domain.aggregates.case_errors import DuplicateReferenceError, UnknownReferenceError
from tests.support.builders import (
    HOLDER,
    OPEN_CONSENT,
    OPEN_MEASURE,
    OPEN_MENTOR,
    OPEN_PLACEMENT,
    OPEN_STEP,
    STAFF_FIELDS,
    a_case_with_open_items,
)

# kind, id field, the event that opens one, the event that closes it, the id already open
KINDS = [
    ("step", "step_id", "StepAgreed", "StepCompleted", OPEN_STEP),
    ("measure", "measure_id", "MeasureStarted", "MeasureEnded", OPEN_MEASURE),
    ("placement", "placement_id", "PlacementMade", "PlacementEnded", OPEN_PLACEMENT),
    ("mentor", "volunteer_id", "MentorAssigned", "MentorReleased", OPEN_MENTOR),
    ("consent", "consent_id", "ConsentGiven", "ConsentWithdrawn", OPEN_CONSENT),
]
IDS = [k[0] for k in KINDS]


def record(case: Case, event_type: str, ref_field: str, ref: str) -> None:
    fields: dict[str, Any] = {**STAFF_FIELDS[event_type], ref_field: ref}
    with acting_as(HOLDER):
        STAFF_COMMANDS[event_type](case, **fields)


@pytest.mark.parametrize(("kind", "ref_field", "opening", "closing", "open_ref"), KINDS, ids=IDS)
def test_given_an_open_item_when_one_with_the_same_id_is_opened_then_it_is_refused(
    kind: str, ref_field: str, opening: str, closing: str, open_ref: str
) -> None:
    case = a_case_with_open_items()
    version = case.version

    with pytest.raises(DuplicateReferenceError) as refused:
        record(case, opening, ref_field, open_ref)

    assert (refused.value.kind, refused.value.ref) == (kind, open_ref)
    assert case.version == version


@pytest.mark.parametrize(("kind", "ref_field", "opening", "closing", "open_ref"), KINDS, ids=IDS)
def test_given_an_open_item_when_it_is_closed_then_it_is_recorded_once(
    kind: str, ref_field: str, opening: str, closing: str, open_ref: str
) -> None:
    case = a_case_with_open_items()
    version = case.version

    record(case, closing, ref_field, open_ref)

    assert case.version == version + 1


@pytest.mark.parametrize(("kind", "ref_field", "opening", "closing", "open_ref"), KINDS, ids=IDS)
def test_given_an_unknown_id_when_it_is_closed_then_it_is_refused(
    kind: str, ref_field: str, opening: str, closing: str, open_ref: str
) -> None:
    case = a_case_with_open_items()
    version = case.version

    with pytest.raises(UnknownReferenceError) as refused:
        record(case, closing, ref_field, "never-opened")

    assert (refused.value.kind, refused.value.ref) == (kind, "never-opened")
    assert case.version == version


@pytest.mark.parametrize(("kind", "ref_field", "opening", "closing", "open_ref"), KINDS, ids=IDS)
def test_given_an_already_closed_item_when_it_is_closed_again_then_it_is_refused(
    kind: str, ref_field: str, opening: str, closing: str, open_ref: str
) -> None:
    case = a_case_with_open_items()
    record(case, closing, ref_field, open_ref)
    version = case.version

    with pytest.raises(UnknownReferenceError) as refused:
        record(case, closing, ref_field, open_ref)

    assert (refused.value.kind, refused.value.ref) == (kind, open_ref)
    assert case.version == version


@pytest.mark.parametrize(
    ("kind", "ref_field", "opening", "closing", "open_ref"),
    [k for k in KINDS if k[0] != "mentor"],
    ids=[i for i in IDS if i != "mentor"],
)
def test_given_a_closed_item_when_its_id_is_reused_then_it_is_refused(
    kind: str, ref_field: str, opening: str, closing: str, open_ref: str
) -> None:
    # Ids of steps, measures, placements and consents stay taken once closed. Mentors are keyed
    # by volunteer: a released volunteer is no longer on the case (not pinned down here).
    case = a_case_with_open_items()
    record(case, closing, ref_field, open_ref)

    with pytest.raises(DuplicateReferenceError):
        record(case, opening, ref_field, open_ref)

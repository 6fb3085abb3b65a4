"""An erasure releases the BAMF file number's uniqueness index in the same save: the person can be
registered again later (a new case), and the index never names the erased case again."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.settings import Settings
from bootstrap import build_case_application
from domain.actor import acting_as
from domain.aggregates.bamf_index import BamfFileNumberIndex
from domain.aggregates.case_errors import DuplicateBamfFileNumberError
from domain.application import StaffelApplication
from domain.values import ErasureGround
from tests.support.builders import a_person
from tests.support.store import HOLDER, register, unique_bamf_number


def erase(app: StaffelApplication, case_id: object) -> None:
    with acting_as(HOLDER):
        app.erase_personal_data(
            case_id,  # type: ignore[arg-type]
            ground=ErasureGround.SUBJECT_REQUEST,
            reason="Antrag vom 01.02.2026",
        )


def test_an_erased_persons_number_can_be_registered_again(app: StaffelApplication) -> None:
    number = unique_bamf_number()
    first = register(app, bamf_file_number=number)
    index_id = app.bamf_index_id(number)
    with pytest.raises(DuplicateBamfFileNumberError):  # while the first case holds it
        register(app, person=a_person("Zweitversuch"), bamf_file_number=number)

    erase(app, first.id)
    released: BamfFileNumberIndex = app.repository.get(index_id)
    assert (released.case_id, released.version) == (None, 2)

    second = register(app, person=a_person("Rückkehr"), bamf_file_number=number)
    assert second.id != first.id
    index: BamfFileNumberIndex = app.repository.get(index_id)
    assert (index.case_id, index.version) == (second.id, 3)
    with pytest.raises(DuplicateBamfFileNumberError) as refused:  # held again, by the new case
        register(app, person=a_person("Dritter"), bamf_file_number=number)
    assert refused.value.existing_case_id == second.id


def test_a_case_without_a_number_erases_without_touching_any_index(
    app: StaffelApplication,
) -> None:
    other_number = unique_bamf_number()
    other = register(app, bamf_file_number=other_number)
    case = register(app, bamf_file_number=None)
    head = app.recorder.max_notification_id()
    erase(app, case.id)
    assert app.recorder.max_notification_id() == (head or 0) + 1  # the erasure alone
    index: BamfFileNumberIndex = app.repository.get(app.bamf_index_id(other_number))
    assert index.case_id == other.id


def test_an_erasure_racing_a_note_runs_again_and_still_releases_the_number(
    app: StaffelApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No If-Match: the erasure collides with a note saved meanwhile, runs again on the fresh
    case, and saves the erasure with the released index (issue 16)."""
    number = unique_bamf_number()
    case_id = register(app, bamf_file_number=number).id
    colleague = build_case_application(Settings())
    try:
        original, pending = app.save, [True]

        def save(*objs: Any, **kwargs: Any) -> Any:
            if pending:
                pending.pop()
                with acting_as(HOLDER):
                    colleague.record(case_id, "NoteRecorded", {"text": "x", "category": "general"})
            return original(*objs, **kwargs)

        monkeypatch.setattr(app, "save", save)
        erase(app, case_id)
    finally:
        colleague.close()
    assert not pending
    assert app.get_case(case_id).version == 3  # registered, the note, the erasure
    released: BamfFileNumberIndex = app.repository.get(app.bamf_index_id(number))
    assert (released.case_id, released.version) == (None, 2)

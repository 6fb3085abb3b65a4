"""``staffel erase CASE_ID --ground G --reason TEXT [--as ORG]`` as an operator runs it (once per
backend): what it prints, exit codes scripts can trust, safe to run again, and an erased case
takes no more events."""

from __future__ import annotations

import uuid
from datetime import date
from uuid import UUID

import pytest

from adapters.keystore import CaseKeys
from adapters.settings import Settings
from bootstrap import build_case_application
from domain.actor import Actor, acting_as
from domain.aggregates.case_errors import CaseErasedError
from domain.aggregates.case_events import PersonalDataErased
from domain.application import StaffelApplication
from domain.values import ErasureGround, LegalStatus, NoteCategory, Person
from tests.support.cli import run

HOLDER = Actor("a.schmitz", "aa-heinsberg")
REASON = "Antrag nach Art. 17 DSGVO vom 03.11.2026, Az. DS-2026-17"


def a_case(app: StaffelApplication) -> UUID:
    with acting_as(HOLDER):
        case_id = app.register_case(
            person=Person("Yonas", "Haile-Berhane", date(1996, 8, 14), "ER"),
            bamf_file_number=None,
            residence_municipality="Heinsberg",
            legal_status=LegalStatus.ASYLUM_SEEKER,
        ).id
        app.record(
            case_id,
            "NoteRecorded",
            {"text": "Arzttermin Kardiologie", "category": NoteCategory.HEALTH},
        )
    return case_id


def keys(app: StaffelApplication) -> CaseKeys:
    assert isinstance(app.keys, CaseKeys)
    return app.keys


def erase(
    capsys: pytest.CaptureFixture[str], case_id: UUID | str, *more: str
) -> tuple[int, str, str]:
    return run(
        capsys, "erase", str(case_id), "--ground", "subject_request", "--reason", REASON, *more
    )


def test_erase_records_the_erasure_deletes_the_key_and_is_safe_to_run_again(
    app: StaffelApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    case_id = a_case(app)
    code, out, err = erase(capsys, case_id)
    assert code == 0, err
    version = app.get_case(case_id).version
    assert out.startswith(f"case {case_id}: personal data erased (subject_request, by staffel-cli")
    assert f"PersonalDataErased is version {version}" in out
    assert "Haile" not in out + err
    assert "Kardiologie" not in out + err
    stored = app.mapper.to_domain_event(app.recorder.select_events(case_id, desc=True, limit=1)[0])
    assert isinstance(stored, PersonalDataErased)
    assert (stored.actor, stored.org) == ("staffel-cli", HOLDER.org)
    assert (stored.ground, stored.reason) == (ErasureGround.SUBJECT_REQUEST, REASON)
    assert keys(app).is_erased(case_id)

    head = app.recorder.max_notification_id()
    code, out, _ = erase(capsys, case_id)
    assert code == 0
    assert out == f"case {case_id}: personal data already erased and key deleted; nothing to do\n"
    assert app.recorder.max_notification_id() == head


def test_an_erased_case_refuses_every_later_event(
    app: StaffelApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    case_id = a_case(app)
    assert erase(capsys, case_id, "--actor", "m.weber")[0] == 0
    other_process = build_case_application(Settings())
    try:
        for application in (app, other_process):
            with acting_as(HOLDER):
                with pytest.raises(CaseErasedError):
                    application.record(
                        case_id, "NoteRecorded", {"text": "neu", "category": NoteCategory.WORK}
                    )
                with pytest.raises(CaseErasedError):
                    application.record(
                        case_id, "CaseClosed", {"reason": "x", "closed_on": date(2026, 1, 2)}
                    )
    finally:
        other_process.close()
    assert app.get_case(case_id).erased


def test_an_interrupted_erasure_is_completed_by_running_again(
    app: StaffelApplication, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = a_case(app)
    with monkeypatch.context() as patch:  # the process dies between the event and the key
        patch.setattr(keys(app), "erase", lambda _: False)
        with acting_as(HOLDER):
            app.erase_personal_data(case_id, ground=ErasureGround.SUBJECT_REQUEST, reason=REASON)
    assert not keys(app).is_erased(case_id)
    head = app.recorder.max_notification_id()

    code, out, _ = erase(capsys, case_id)
    assert code == 0
    assert out == f"case {case_id}: key deleted; completes the erasure recorded before\n"
    assert keys(app).is_erased(case_id)
    assert app.recorder.max_notification_id() == head  # no second PersonalDataErased


def test_exit_codes(app: StaffelApplication, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "erase", "--help")
    assert code == 0
    assert out.startswith("usage: staffel erase")
    for ground in ErasureGround:
        assert ground.value in out

    unknown = uuid.uuid4()
    code, out, err = erase(capsys, unknown)
    assert (code, out) == (1, "")
    assert err == f"staffel: no case {unknown} in this store\n"

    case_id = a_case(app)
    code, _, err = erase(capsys, case_id, "--as", "jobcenter-heinsberg")
    assert code == 1
    assert err.startswith("staffel: refused:")
    assert "jobcenter-heinsberg" in err
    assert not app.get_case(case_id).erased

    assert erase(capsys, "not-a-uuid")[0] == 2
    assert run(capsys, "erase", str(case_id), "--reason", REASON)[0] == 2  # no --ground
    assert run(capsys, "erase", str(case_id), "--ground", "because", "--reason", REASON)[0] == 2
    assert run(capsys, "erase", str(case_id), "--ground", "subject_request")[0] == 2  # no reason
    code, _, err = run(
        capsys, "erase", str(case_id), "--ground", "subject_request", "--reason", "  "
    )
    assert code == 2
    assert "--reason" in err
    assert not app.get_case(case_id).erased
    assert not keys(app).is_erased(case_id)

    code, out, _ = erase(capsys, case_id, "--as", HOLDER.org)
    assert code == 0
    assert "by staffel-cli for aa-heinsberg" in out

"""``staffel migrate bamf-index`` (issue 13, ADR 0010) on a store built with the old scheme (the
index under uuid5 of the number): every indexed case gets its keyed index, every old index's rows
go, erased cases are skipped, a second run changes nothing, and a duplicate is refused before,
during and after."""

from __future__ import annotations

from uuid import UUID

import pytest

from adapters import bamf_migration
from adapters.settings import Settings
from bootstrap import build_case_application
from cli import main as cli
from domain.actor import acting_as
from domain.aggregates.bamf_index import BamfFileNumberIndex, legacy_id
from domain.aggregates.case import Case
from domain.aggregates.case_errors import DuplicateBamfFileNumberError
from domain.application import StaffelApplication
from domain.sealing import sealing_with
from domain.values import ErasureGround, LegalStatus
from tests.conftest import create_database
from tests.support.builders import a_person
from tests.support.store import HOLDER, register

ARABIC = str.maketrans("0123456789", "".join(chr(0x0660 + d) for d in range(10)))


@pytest.fixture
def database(backend: str) -> str:
    """An empty store of its own: the migration reads every case in it."""
    return backend if backend.startswith("sqlite") else create_database("staffel_migrate")


def old_registration(app: StaffelApplication, stored_number: str) -> UUID:
    """What registration did before ADR 0010: the number stored as given (then normalised only
    by dropping blanks) and its index under uuid5 of it."""
    with acting_as(HOLDER), sealing_with(app.keys):
        case = Case.register(
            person=a_person("Alt"), bamf_file_number=stored_number, residence_municipality="Berlin",
            legal_status=LegalStatus.ASYLUM_SEEKER, office=None, legal_basis=None,
            registered_on=app.today(),
        )  # fmt: skip
        app.save(case, BamfFileNumberIndex.point(legacy_id(stored_number), case.id))
    return case.id


def erase(app: StaffelApplication, case_id: UUID) -> None:
    with acting_as(HOLDER):
        app.erase_personal_data(case_id, ground=ErasureGround.SUBJECT_REQUEST, reason="Antrag")


def rows(app: StaffelApplication, index_id: UUID) -> int:
    return len(list(app.recorder.select_events(index_id)))


def test_the_migration_keys_every_index_and_leaves_no_unkeyed_one(database: str) -> None:
    app = build_case_application(Settings(database_url=database))
    try:
        a, b, gone = "7000101-224", "7000102-475", "7000103-423"
        case_a, case_b = old_registration(app, a), old_registration(app, b)
        erased = old_registration(app, gone)
        erase(app, erased)  # releases its old index (found through the window's fallback)
        register(app, bamf_file_number=None)
        short = old_registration(app, "765432-166")  # stored unpadded by the old code
        with pytest.raises(DuplicateBamfFileNumberError) as padded:
            register(app, person=a_person("Doppelt"), bamf_file_number="0765432-166")
        assert padded.value.existing_case_id == short
        with pytest.raises(DuplicateBamfFileNumberError) as before:  # the window: old ids count
            register(app, person=a_person("Doppelt"), bamf_file_number=a.translate(ARABIC))
        assert before.value.existing_case_id == case_a

        done = bamf_migration.migrate(app)

        assert (done.migrated, done.already, done.erased, done.deleted) == (3, 0, 1, 4)
        assert done.problems == []
        for number, case_id in ((a, case_a), (b, case_b)):
            assert rows(app, legacy_id(number)) == 0
            index: BamfFileNumberIndex = app.repository.get(app.bamf_index_id(number))
            assert index.case_id == case_id
            with pytest.raises(DuplicateBamfFileNumberError) as after:
                register(app, person=a_person("Doppelt"), bamf_file_number=number)
            assert after.value.existing_case_id == case_id
        assert rows(app, legacy_id(gone)) == 0
        again = register(app, person=a_person("Rückkehr"), bamf_file_number=gone)
        assert again.id != erased  # released with the erasure: may be registered anew

        rerun = bamf_migration.migrate(app)
        assert (rerun.migrated, rerun.already, rerun.deleted, rerun.problems) == (0, 4, 0, [])

        erase(app, case_b)  # a migrated case's erasure releases its keyed index
        released: BamfFileNumberIndex = app.repository.get(app.bamf_index_id(b))
        assert released.case_id is None
    finally:
        app.close()


def test_a_duplicate_made_before_normalisation_is_reported_and_kept(database: str) -> None:
    app = build_case_application(Settings(database_url=database))
    try:
        number = "7000201-224"
        first = old_registration(app, number)
        second = old_registration(app, number.translate(ARABIC))  # the old gap: a second case

        done = bamf_migration.migrate(app)

        assert done.migrated == 1
        assert [case_id for case_id, _ in done.problems] == [second]
        assert "another case holds the same number" in done.problems[0][1]
        assert rows(app, legacy_id(number.translate(ARABIC))) == 1  # still guarding it
        index: BamfFileNumberIndex = app.repository.get(app.bamf_index_id(number))
        assert index.case_id == first
    finally:
        app.close()


def test_the_command_reports_and_exits_by_outcome(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as helped:
        cli.main(["migrate", "bamf-index", "--help"])
    assert helped.value.code == 0
    assert "Safe to run while the service runs" in " ".join(capsys.readouterr().out.split())

    monkeypatch.setenv("STAFFEL_DATABASE_URL", database)
    app = build_case_application(Settings())
    try:
        number = "7000301-166"
        old_registration(app, number)
        duplicate = old_registration(app, number.translate(ARABIC))
    finally:
        app.close()

    assert cli.main(["migrate", "bamf-index"]) == cli.EXIT_PROBLEM
    out, err = capsys.readouterr()
    assert f"case {duplicate}: not migrated" in out
    assert "1 migrated" in out
    assert "1 not migrated" in out
    assert "cases: 2/2" in err  # the progress line
    assert number not in out + err  # ids and counts, never the number

    app = build_case_application(Settings())
    try:
        erase(app, duplicate)  # resolved by hand: the second case erased
    finally:
        app.close()
    assert cli.main(["migrate", "bamf-index"]) == cli.EXIT_OK
    assert "0 not migrated" in capsys.readouterr().out

"""Givens for the integration tests: actors, storage modes, a case that holds every event type,
and ways to look at what the store really holds (raw bytes, row counts)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import fields, is_dataclass
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import MapperDeserialisationError, Recording

from adapters.keystore import opened
from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.aggregates.case import Case
from domain.application import StaffelApplication
from domain.values import (
    Cefr,
    ConsentPurpose,
    ErasureGround,
    LanguageSkill,
    LegalStatus,
    MeasureKind,
    MeasureOutcome,
    NoteCategory,
    Person,
    PlacementKind,
    Plan,
    Protection,
    QualificationRecognition,
    RejectionKind,
    VocationalTraining,
    WageSubsidy,
    WorkExperience,
)
from domain.writes import Recorded
from tests.support.builders import a_person

MakeApp = Callable[..., StaffelApplication]

AGENCY = "aa-berlin"  # registers the case (SGB III)
JOBCENTER = "jc-berlin"  # takes it over after recognition (SGB II)
OTHER_AGENCY = "aa-hamburg"

HOLDER = Actor("staff-aa-1", AGENCY)
RECEIVER = Actor("staff-jc-1", JOBCENTER)
OUTSIDER = Actor("staff-aa-9", OTHER_AGENCY)

CIPHER_KEY = AESCipher.create_key(32)

# Settings overrides for each way of storing events at rest.
STORAGE_MODES: dict[str, dict[str, Any]] = {
    "plain": {},
    "encrypted": {"cipher_key": CIPHER_KEY},
    "compressed": {"compress": True},
    "encrypted+compressed": {"cipher_key": CIPHER_KEY, "compress": True},
}

FAMILY_NAME = "Quellenbach-Haddad"  # distinctive: searched for in the raw stored bytes
NOTE_TEXT = "Panikattacken nach dem Anhoerungstermin"  # personal data in a note


def unique_bamf_number() -> str:
    """A BAMF file number no other test uses (the index is permanent, the database shared), in
    canonical form (ADR 0010)."""
    digits = uuid.uuid4().int
    return f"{digits % 9_000_000 + 1_000_000}-{digits // 10**7 % 1000:03d}"


def register(
    app: StaffelApplication,
    *,
    by: Actor = HOLDER,
    person: Person | None = None,
    bamf_file_number: str | None = None,
    legal_status: LegalStatus = LegalStatus.ASYLUM_SEEKER,
    office: str | None = None,
) -> Recorded:
    with acting_as(by):
        return app.register_case(
            person=person or a_person(FAMILY_NAME),
            bamf_file_number=bamf_file_number,
            residence_municipality="Berlin",
            legal_status=legal_status,
            office=office,
        )


def note(text: str, category: NoteCategory = NoteCategory.COUNSELLING) -> dict[str, Any]:
    return {"text": text, "category": category}


class SaveSpy:
    """Wraps ``app.save`` to keep the events and the live ``Case`` objects actually saved."""

    def __init__(self, app: StaffelApplication, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[ev.CaseEvent] = []
        self.cases: list[Case] = []
        original = app.save

        def save(*objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
            cases = [o for o in objs if isinstance(o, Case)]
            pending = [e for c in cases for e in c.pending_events if isinstance(e, ev.CaseEvent)]
            recordings = original(*objs, **kwargs)
            self.events.extend(pending)
            self.cases.extend(cases)
            return recordings

        monkeypatch.setattr(app, "save", save)


D1, D2, D3 = date(2026, 1, 19), date(2026, 2, 16), date(2026, 3, 30)


def record_every_event_type(app: StaffelApplication, *, erase: bool = True) -> UUID:
    """A case whose stream holds every class in ``CASE_EVENTS``, with realistic values: enums,
    dates, tuples of value objects, optionals both ``None`` and set; last (unless ``erase`` is
    False) the erasure of its personal data. Returns the case id."""
    case_id = register(app, bamf_file_number=unique_bamf_number(), office="Agentur Berlin-Mitte").id

    def staff(event_type: str, **fields: Any) -> None:
        app.record(case_id, event_type, fields)

    with acting_as(HOLDER):
        staff("AsylumRejected", kind=RejectionKind.MANIFESTLY_UNFOUNDED, decided_on=D1)
        staff("FactCorrected", corrects_version=1, corrects_event="CaseRegistered",
              field="birth_date", value="1990-11-12", reason="laut Pass")  # fmt: skip
        staff("FactCorrected", corrects_version=1, corrects_event="CaseRegistered",
              field="registered_on", value=D1.isoformat(), reason="Datum vertauscht")  # fmt: skip
        staff(
            "LegalStatusChanged",
            status=LegalStatus.TOLERATED,
            effective_on=D1,
            document="Duldung § 60a AufenthG",
            valid_until=date(2026, 7, 19),
        )
        staff(
            "LegalStatusChanged",
            status=LegalStatus.TRAINING_TOLERATION,
            effective_on=D2,
            document=None,
            valid_until=None,
        )
        staff(
            "CompetenceAssessed",
            instrument="MySkills",
            assessed_on=D1,
            german_level=Cefr.A2,
            languages=(LanguageSkill("ar", Cefr.C2), LanguageSkill("de", Cefr.A2)),
            school_years=11,
            school_certificate="Abitur (SY)",
            vocational_training=(
                VocationalTraining("Elektriker", True, "SY"),
                VocationalTraining("Kfz-Mechatroniker", False),
            ),
            work_experience=(WorkExperience("Elektriker", 4), WorkExperience("Lagerhelfer", 1)),
            qualification_recognition=QualificationRecognition.PARTIAL,
            support_need=False,
            notes="Zeugnisse liegen im Original vor",
        )
        staff(
            "CompetenceAssessed",
            instrument="Kompetenzkarten",
            assessed_on=D2,
            german_level=None,
            languages=(),
            school_years=None,
            school_certificate=None,
            vocational_training=(),
            work_experience=(),
            qualification_recognition=QualificationRecognition.NONE,
            support_need=True,
            notes=None,
        )
        staff(
            "StepAgreed", step_id="s1", description="B1-Kurs", due_on=D3, plan=Plan.KOOPERATIONSPLAN
        )
        staff(
            "StepAgreed",
            step_id="s2",
            description="Lebenslauf",
            due_on=None,
            plan=Plan.EINGLIEDERUNGSVEREINBARUNG,
        )
        staff("StepCompleted", step_id="s1", completed_on=D2)
        staff(
            "MeasureStarted",
            measure_id="m1",
            kind=MeasureKind.INTEGRATION_COURSE,
            provider="VHS Mitte",
            starts_on=D1,
            ends_on=D3,
        )
        staff(
            "MeasureStarted",
            measure_id="m2",
            kind=MeasureKind.PERF,
            provider="BA",
            starts_on=D2,
            ends_on=None,
        )
        staff(
            "MeasureEnded",
            measure_id="m1",
            ended_on=D3,
            outcome=MeasureOutcome.COMPLETED,
            certificate="Zertifikat Deutsch B1",
        )
        staff(
            "MeasureEnded",
            measure_id="m2",
            ended_on=D3,
            outcome=MeasureOutcome.ABORTED,
            certificate=None,
        )
        staff(
            "PlacementMade",
            placement_id="p1",
            kind=PlacementKind.APPRENTICESHIP,
            employer="Elektro Schulz GmbH",
            starts_on=D2,
            wage_subsidy=WageSubsidy(percent=50, months=12),
            offer_id="o-4711",
        )
        staff(
            "PlacementMade",
            placement_id="p2",
            kind=PlacementKind.INTERNSHIP,
            employer="Bäckerei Öztürk",
            starts_on=D1,
            wage_subsidy=None,
            offer_id=None,
        )
        staff("PlacementEnded", placement_id="p2", ended_on=D2, reason="Praktikum beendet")
        staff(
            "MentorAssigned", volunteer_id="v1", organisation="Patenschaften e.V.", assigned_on=D1
        )
        staff("MentorReleased", volunteer_id="v1", released_on=D2)
        staff(
            "ConsentGiven",
            consent_id="c1",
            purpose=ConsentPurpose.SHARE_WITH_EMPLOYER,
            recipient="Elektro Schulz GmbH",
            scope=("competences", "measures"),
            given_on=D1,
        )
        staff("ConsentWithdrawn", consent_id="c1", withdrawn_on=D2)
        staff("NoteRecorded", text=NOTE_TEXT, category=NoteCategory.HEALTH)
        staff("CaseAssigned", office="Agentur Berlin-Mitte", caseworker="cw-1")
        staff("CaseAssigned", office=None, caseworker=None)
        staff("FollowUpCreated", due_on=D3, text="Zeugnisse anfordern", assignee="cw-1")
        first = f"w-{app.get_case(case_id).version}"
        staff("FollowUpCreated", due_on=D3, text="Rückruf", assignee=None)
        second = f"w-{app.get_case(case_id).version}"
        staff("FollowUpPostponed", follow_up_id=first, due_on=D3)
        staff("FollowUpCompleted", follow_up_id=first, completed_on=D2)
        staff("FollowUpCancelled", follow_up_id=second)
        staff("ResidenceChanged", municipality="Potsdam", moved_on=D2)
        staff("CaseClosed", reason="Ausreise", closed_on=D2)
        staff("CaseReopened", reason="Wiedereinreise")
        staff("AsylumRecognized", protection=Protection.REFUGEE, decided_on=D3)
        version = app.get_case(case_id).version
        app.offer_handover(
            case_id, to_org=JOBCENTER, reason="anerkannt", triggered_by_version=version
        )
        app.withdraw_handover(case_id, reason="falsches Jobcenter")
        app.offer_handover(case_id, to_org=JOBCENTER, reason="anerkannt")
    with acting_as(RECEIVER):
        app.reject_handover(case_id, reason="Wohnort liegt nicht in unserem Bezirk")
    with acting_as(HOLDER):
        app.offer_handover(case_id, to_org=JOBCENTER, reason="Wohnort geklärt")
    with acting_as(RECEIVER):
        case = app.get_case(case_id)
        app.accept_handover(case_id, version=case.version, digest=case.digest)
        staff("NoteRecorded", text="Erstgespräch im Jobcenter", category=NoteCategory.WORK)
        if erase:
            app.erase_personal_data(
                case_id, ground=ErasureGround.SUBJECT_REQUEST, reason="Antrag vom 02.03.2026"
            )
    return case_id


def assert_same_typed(read: Any, written: Any, path: str = "") -> None:
    """``read == written`` and of the very same types all the way down (a StrEnum is not a str,
    a tuple not a list, a date not a datetime, a value object not a dict)."""
    assert type(read) is type(written), f"{path}: {type(read).__name__} != {type(written).__name__}"
    if isinstance(written, tuple | list):
        assert len(read) == len(written), path
        for i, (r, w) in enumerate(zip(read, written, strict=True)):
            assert_same_typed(r, w, f"{path}[{i}]")
    elif isinstance(written, dict):
        assert read.keys() == written.keys(), path
        for key in written:
            assert_same_typed(read[key], written[key], f"{path}.{key}")
    elif is_dataclass(written):
        for f in fields(written):
            assert_same_typed(getattr(read, f.name), getattr(written, f.name), f"{path}.{f.name}")
    assert read == written, path


def _sql(
    app: StaffelApplication, database_url: str, query: str, *params: Any
) -> list[tuple[Any, ...]]:
    """Run ``query`` on the store directly ({table} is the application's events table, {p} a
    parameter placeholder). The events table is ``staffel_events`` on PostgreSQL and
    ``stored_events`` on SQLite, where ids are stored as 32 hex digits."""
    table: str = getattr(app.recorder, "events_table_name")  # noqa: B009
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(path)) as conn:
            rows = conn.execute(query.format(table=table, p="?"), params).fetchall()
            conn.commit()
            return list(rows)
    with psycopg.connect(database_url) as pg:
        cursor = pg.execute(query.format(table=table, p="%s").encode(), params)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []


def _stored_id(database_url: str, case_id: UUID) -> Any:
    return case_id.hex if database_url.startswith("sqlite:///") else case_id


def raw_states(app: StaffelApplication, database_url: str, case_id: UUID) -> list[bytes]:
    """The ``state`` column of a case's rows, as the database holds it."""
    rows = _sql(
        app,
        database_url,
        "SELECT state FROM {table} WHERE originator_id = {p} ORDER BY originator_version",
        _stored_id(database_url, case_id),
    )
    return [bytes(row[0]) for row in rows]


def overwrite_state(
    app: StaffelApplication, database_url: str, case_id: UUID, version: int, state: bytes
) -> None:
    """Change a stored row behind the application's back (what the hash chain must notice)."""
    _sql(
        app,
        database_url,
        "UPDATE {table} SET state = {p} WHERE originator_id = {p} AND originator_version = {p}",
        state,
        _stored_id(database_url, case_id),
        version,
    )


def count_rows(app: StaffelApplication, database_url: str) -> int:
    return int(_sql(app, database_url, "SELECT count(*) FROM {table}")[0][0])


def registrations_with_number(app: StaffelApplication, bamf_file_number: str) -> list[UUID]:
    """Ids of the stored cases registered with ``bamf_file_number`` (already normalised), among
    those ``app`` can read."""
    found: list[UUID] = []
    start = None
    while True:
        page = app.recorder.select_notifications(
            start=start, limit=500, topics=[ev.CaseRegistered.TOPIC]
        )
        for notification in page:
            try:
                registered = app.mapper.to_domain_event(notification)
            except MapperDeserialisationError:
                continue  # another test's case, stored encrypted or compressed in the shared db
            assert isinstance(registered, ev.CaseRegistered)
            [registered] = opened(app, [registered])
            if registered.bamf_file_number == bamf_file_number:
                found.append(registered.originator_id)
        if len(page) < 500:
            return found
        start = page[-1].id + 1

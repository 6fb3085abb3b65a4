"""Givens and checks for the projection tests: fresh databases, valid command sequences over a
few cases, the views of one generation as plain rows, and the views a pure fold over the stored
events says they must hold."""

from __future__ import annotations

import itertools
import json
import random
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from adapters.keystore import opened
from adapters.settings import Settings
from adapters.views import schema
from adapters.views.batch_writer import dumps
from adapters.views.store import ViewStoreMixin
from bootstrap import build_case_application
from domain import follow_ups as fu
from domain import policy
from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.aggregates.bamf_index import BamfFileNumberIndex
from domain.aggregates.case import Case
from domain.aggregates.case_errors import UnknownFollowUpError
from domain.application import StaffelApplication
from domain.sealing import sealing_with
from domain.values import (
    Cefr,
    ConsentPurpose,
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
from projections import follow_ups, summary
from projections.base import Projection
from projections.history import entry_for
from projections.registry import PROJECTIONS
from tests.conftest import create_database
from workers.projections import ProjectionWorker, ensure_generation

T = TypeVar("T")
Row = dict[str, Any]

PROTECTED = frozenset(p.value for p in Protection)
GIVEN_NAMES = ("Amina", "Öznur", "Jürgen", "Élodie", "Mohammed", "Şükrü", "Ivan", "Äsa")
FAMILY_NAMES = ("Haddad", "Özdemir", "Müller", "Straße", "Nguyen", "Abu Bakr", "Kowalczyk")
PLACES = ("Berlin", "Potsdam", "Köln", "Frankfurt (Oder)", "Görlitz")
WORDS = ("Termin", "Bäckerei Schmidt", "Kita Sonnenschein", "VHS", "Übergabe", "Café 'Ü'")


# -- databases and applications --------------------------------------------------------------------


def fresh_database_url(backend: str, tmp_path: Path) -> str:
    """A database nobody else uses: a new file on SQLite, a new database on PostgreSQL."""
    if backend.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/views-{uuid.uuid4().hex[:8]}.db"
    return create_database("staffel_views")


def build_app(database_url: str, **overrides: Any) -> StaffelApplication:
    return build_case_application(Settings(database_url=database_url, **overrides))


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


# -- choosing values: from Hypothesis or from a seeded Random --------------------------------------


class Chooser(Protocol):
    def choice(self, options: Sequence[T]) -> T: ...

    def integer(self, low: int, high: int) -> int: ...

    def text(self) -> str: ...

    def day(self) -> date: ...


class RandomChooser:
    def __init__(self, seed: int | None = None) -> None:
        self.random = random.Random(seed)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.random.randrange(len(options))]

    def integer(self, low: int, high: int) -> int:
        return self.random.randint(low, high)

    def text(self) -> str:
        return " ".join(self.random.choices(WORDS, k=self.random.randint(1, 3)))

    def day(self) -> date:
        return date(2024, 1, 1) + timedelta(days=self.random.randrange(1000))


# -- a world of organisations and valid commands on cases ------------------------------------------


@dataclass
class World:
    """Organisations (each with two members of staff) that cases move between."""

    orgs: tuple[str, ...]
    ids: Iterator[int] = field(default_factory=itertools.count)

    @classmethod
    def fresh(cls, n: int = 3) -> World:
        tag = uuid.uuid4().hex[:6]
        return cls(tuple(f"org{i}-{tag}" for i in range(n)))

    def staff(self, org: str, chooser: Chooser) -> Actor:
        return Actor(f"staff-{chooser.integer(1, 2)}@{org}", org)

    def fresh_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids)}"


def register(
    world: World, chooser: Chooser, *, with_bamf: bool = True
) -> tuple[Case, BamfFileNumberIndex | None]:
    """A new case registered by staff of a random organisation (and its BAMF index, if any)."""
    actor = world.staff(chooser.choice(world.orgs), chooser)
    bamf = f"{uuid.uuid4().int % 10**7:07d}-{chooser.integer(100, 999)}" if with_bamf else None
    with acting_as(actor):
        case = Case.register(
            person=Person(
                chooser.choice(GIVEN_NAMES),
                chooser.choice(FAMILY_NAMES),
                date(1970, 1, 1) + timedelta(days=chooser.integer(0, 15000)),
                chooser.choice(("SY", "AF", "UA", "ER", "TR")),
                tuple(chooser.choice((("ar",), ("ar", "en"), ("uk", "ru"), ()))),
            ),
            bamf_file_number=bamf,
            residence_municipality=chooser.choice(PLACES),
            legal_status=chooser.choice(list(LegalStatus)),
            registered_on=chooser.day(),
            office=chooser.choice((None, "Mitte", "Neukölln")),
        )
    # a fresh id: the number is fresh too (the application's keyed id is not needed here)
    index = BamfFileNumberIndex.point(uuid.uuid4(), case.id) if bamf else None
    return case, index


def valid_commands(case: Case) -> list[str]:
    """The commands the case accepts now (from its holder or the offered organisation)."""
    if case.closed:
        return ["reopen"]
    if case.handover is not None:
        open_ = ["withdraw", "accept", "reject_handover"]
    else:
        open_ = ["close", "offer"]
    commands = [
        "status",
        "assess",
        "step",
        "measure",
        "placement",
        "mentor",
        "consent",
        "note",
        "residence",
        "assign",
        "follow_up",
        *open_,
    ]
    if open_follow_ups(case):
        commands.append("settle_follow_up")
    if case.legal_status.value not in PROTECTED:
        commands.append("recognise")
    if case.legal_status == LegalStatus.ASYLUM_SEEKER:
        commands.append("reject_asylum")
    for command, refs in (
        ("complete_step", [k for k, done in case.steps.items() if not done]),
        ("end_measure", [k for k, done in case.measures.items() if not done]),
        ("end_placement", [k for k, done in case.placements.items() if not done]),
        ("withdraw_consent", [k for k, given in case.consents.items() if given]),
        ("release_mentor", list(case.mentors)),
    ):
        if refs:
            commands.append(command)
    return commands


def open_follow_ups(case: Case) -> list[str]:
    """Ids of follow-ups the case accepts a settlement of now (ADR 0017), sorted."""
    candidates = [
        *case.follow_ups,
        *(fu.step(k) for k, done in case.steps.items() if not done),
        *(fu.measure(k) for k, done in case.measures.items() if not done),
        *([case.residence_follow_up] if case.residence_follow_up else []),
        *([case.first_meeting_follow_up] if case.first_meeting_follow_up else []),
        *(fu.consent(k) for k, given in case.consents.items() if given),
    ]
    accepted = []
    for follow_up_id in sorted(set(candidates)):
        try:
            case._require_follow_up(follow_up_id)
        except UnknownFollowUpError:
            continue
        accepted.append(follow_up_id)
    return accepted


def run_command(case: Case, command: str, world: World, chooser: Chooser) -> None:
    """Run ``command`` on ``case`` as the organisation allowed to; the case must accept it."""
    c = chooser
    if command in ("accept", "reject_handover"):
        assert case.handover is not None
        actor = world.staff(case.handover.to_org, c)
    else:
        actor = world.staff(case.holder, c)
    with acting_as(actor):
        match command:
            case "status":
                document = c.choice((None, "eAT", "Duldung"))
                case.change_legal_status(
                    status=c.choice(list(LegalStatus)),
                    effective_on=c.day(),
                    document=document,
                    valid_until=c.day() if document else None,
                )
            case "recognise":
                case.recognize_asylum(protection=c.choice(list(Protection)), decided_on=c.day())
            case "reject_asylum":
                case.reject_asylum(kind=c.choice(list(RejectionKind)), decided_on=c.day())
            case "assess":
                case.record_fact(
                    ev.CompetenceAssessed,
                    instrument=c.choice(("MYSKILLS", "Profiling")),
                    assessed_on=c.day(),
                    german_level=c.choice((None, *Cefr)),
                    languages=(LanguageSkill("de", c.choice(list(Cefr))),),
                    school_years=c.choice((None, 6, 12)),
                    school_certificate=c.choice((None, "Abitur")),
                    vocational_training=(
                        VocationalTraining(c.text(), c.choice((True, False)), "SY"),
                    ),
                    work_experience=(WorkExperience(c.text(), c.integer(0, 20)),),
                    qualification_recognition=c.choice(list(QualificationRecognition)),
                    support_need=c.choice((True, False)),
                    notes=c.choice((None, c.text())),
                )
            case "step":
                case.agree_step(
                    step_id=world.fresh_id("s"),
                    description=c.text(),
                    due_on=c.choice((None, c.day())),
                    plan=c.choice(list(Plan)),
                )
            case "complete_step":
                step = c.choice(sorted(k for k, done in case.steps.items() if not done))
                case.complete_step(step_id=step, completed_on=c.day())
            case "measure":
                case.start_measure(
                    measure_id=world.fresh_id("m"),
                    kind=c.choice(list(MeasureKind)),
                    provider=c.text(),
                    starts_on=c.day(),
                    ends_on=c.choice((None, c.day())),
                )
            case "end_measure":
                measure = c.choice(sorted(k for k, done in case.measures.items() if not done))
                case.end_measure(
                    measure_id=measure,
                    ended_on=c.day(),
                    outcome=c.choice(list(MeasureOutcome)),
                    certificate=c.choice((None, "Zertifikat B1")),
                )
            case "placement":
                subsidy = c.choice((None, WageSubsidy(c.integer(10, 50), c.integer(1, 12))))
                case.make_placement(
                    placement_id=world.fresh_id("p"),
                    kind=c.choice(list(PlacementKind)),
                    employer=c.text(),
                    starts_on=c.day(),
                    wage_subsidy=subsidy,
                    offer_id=None,
                )
            case "end_placement":
                placement = c.choice(sorted(k for k, done in case.placements.items() if not done))
                case.end_placement(placement_id=placement, ended_on=c.day(), reason=c.text())
            case "mentor":
                case.assign_mentor(
                    volunteer_id=world.fresh_id("v"), organisation=c.text(), assigned_on=c.day()
                )
            case "release_mentor":
                case.release_mentor(volunteer_id=c.choice(case.mentors), released_on=c.day())
            case "consent":
                given_on = c.day()
                case.give_consent(
                    consent_id=world.fresh_id("c"),
                    purpose=c.choice(list(ConsentPurpose)),
                    recipient=c.text(),
                    scope=tuple(c.choice((("work",), ("language", "work")))),
                    given_on=given_on,
                    valid_until=c.choice((None, given_on + timedelta(days=c.integer(0, 800)))),
                )
            case "withdraw_consent":
                consent = c.choice(sorted(k for k, given in case.consents.items() if given))
                case.withdraw_consent(consent_id=consent, withdrawn_on=c.day())
            case "note":
                case.record_fact(
                    ev.NoteRecorded, text=c.text(), category=c.choice(list(NoteCategory))
                )
            case "residence":
                case.record_fact(
                    ev.ResidenceChanged, municipality=c.choice(PLACES), moved_on=c.day()
                )
            case "close":
                case.close(reason=c.text(), closed_on=c.day())
            case "reopen":
                case.reopen(reason=c.text())
            case "offer":
                offered_on = c.day()
                case.offer_handover(
                    to_org=c.choice([o for o in world.orgs if o != case.holder]),
                    reason=c.text(),
                    due_on=policy.handover_due_date(offered_on),
                    triggered_by_version=c.choice((None, case.version)),
                )
            case "withdraw":
                case.withdraw_handover(reason=c.text())
            case "accept":
                to_org = case.handover.to_org if case.handover else ""
                case.accept_handover(
                    version=case.version,
                    digest=case.digest,
                    accepted_on=c.day(),
                    assign=c.choice((None, (None, f"staff-{c.integer(1, 2)}@{to_org}"))),
                )
            case "reject_handover":
                case.reject_handover(reason=c.text())
            case "assign":
                case.assign(
                    office=c.choice((None, "Mitte", "Neukölln")),
                    caseworker=c.choice((None, f"staff-1@{case.holder}", f"staff-2@{case.holder}")),
                )
            case "follow_up":
                case.create_follow_up(
                    due_on=c.day(),
                    text=c.text() or "Rückruf",
                    assignee=c.choice((None, f"staff-{c.integer(1, 2)}@{case.holder}")),
                )
            case "settle_follow_up":
                follow_up_id = c.choice(open_follow_ups(case))
                match c.choice(("done", "postponed", "cancelled")):
                    case "done":
                        case.complete_follow_up(follow_up_id=follow_up_id, completed_on=c.day())
                    case "postponed":
                        case.postpone_follow_up(follow_up_id=follow_up_id, due_on=c.day())
                    case _:
                        case.cancel_follow_up(follow_up_id=follow_up_id)
            case _:
                raise AssertionError(f"unknown command {command}")


def random_events(case: Case, world: World, chooser: Chooser, n: int) -> None:
    """Run ``n`` random valid commands on ``case`` (some record two events)."""
    for _ in range(n):
        run_command(case, chooser.choice(valid_commands(case)), world, chooser)


# -- the views of one generation, as plain rows ----------------------------------------------------


def _select(store: ViewStoreMixin, table: str, case_ids: Sequence[str], order: str) -> list[Row]:
    if not case_ids:
        return []
    marks = ", ".join(["%s"] * len(case_ids))
    with store.cursor() as curs:
        curs.execute(
            store.sql(f"SELECT * FROM {table} WHERE case_id IN ({marks}) ORDER BY {order}"),
            list(case_ids),
        )
        rows = [dict(row) for row in curs.fetchall()]
    for row in rows:
        for column in ("data", "doc", "erased_data", "shown"):
            if row.get(column) is not None:
                row[column] = json.loads(row[column])
    return rows


@dataclass
class Views:
    history: list[Row]
    summaries: list[Row]
    handovers: list[Row]
    follow_ups: list[Row] = field(default_factory=list)  # (case_id, org, id) and the doc

    @property
    def docs(self) -> dict[str, Any]:
        return {row["case_id"]: row["doc"] for row in self.summaries}

    @property
    def history_keys(self) -> list[tuple[str, int]]:
        return [(row["case_id"], row["version"]) for row in self.history]


def read_views(
    store: ViewStoreMixin, case_ids: Iterable[str], generations: dict[str, int] | None = None
) -> Views:
    """History rows, summary rows and handover rows of ``case_ids`` in the given (default: the
    active) generations."""
    ids = sorted(set(case_ids))
    gens = generations or {}
    history_gen = gens.get("case_history") or store.active_generation("case_history")
    summary_gen = gens.get("case_summary") or store.active_generation("case_summary")
    assert history_gen is not None
    assert summary_gen is not None
    follow_up_gen = gens.get("follow_ups") or store.active_generation("follow_ups")
    follow_up_rows = (  # none where a test runs only some projections
        _select(store, schema.table("follow_ups", follow_up_gen), ids, "case_id, org, follow_up_id")
        if follow_up_gen is not None
        else []
    )
    return Views(
        _select(store, schema.table("case_history", history_gen), ids, "case_id, version"),
        _select(store, schema.table("case_summary", summary_gen), ids, "case_id"),
        _select(store, schema.table("handovers", summary_gen), ids, "case_id, offer_version"),
        [_follow_up_key(r["doc"]) for r in follow_up_rows],
    )


def _follow_up_key(doc: Row) -> Row:
    return {"key": (doc["case_id"], doc["org"], doc["follow_up_id"]), "doc": doc}


def count_history(store: ViewStoreMixin, generation: int) -> dict[tuple[str, int], int]:
    """How many history rows each (case, version) has in ``generation``."""
    with store.cursor() as curs:
        table = schema.table("case_history", generation)
        curs.execute(
            f"SELECT case_id, version, COUNT(*) AS n FROM {table} GROUP BY case_id, version"
        )
        return {(row["case_id"], int(row["version"])): int(row["n"]) for row in curs.fetchall()}


def summary_ids(store: ViewStoreMixin, generation: int) -> list[str]:
    with store.cursor() as curs:
        curs.execute(f"SELECT case_id FROM {schema.table('case_summary', generation)}")
        return sorted(row["case_id"] for row in curs.fetchall())


def table_names(store: ViewStoreMixin, postgres: bool) -> set[str]:
    statement = (
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
        if postgres
        else "SELECT name FROM sqlite_master WHERE type = 'table'"
    )
    with store.cursor() as curs:
        curs.execute(statement)
        return {row["name"] for row in curs.fetchall()}


# -- what the views must hold: a pure fold over the stored events ----------------------------------


def stored_case_events(app: StaffelApplication, start: int = 0) -> list[tuple[ev.CaseEvent, int]]:
    """Every case event after global position ``start``, read from the store, in order."""
    events: list[tuple[ev.CaseEvent, int]] = []
    position = start
    while notifications := app.recorder.select_notifications(start=position + 1, limit=1000):
        decoded = opened(app, [app.mapper.to_domain_event(n) for n in notifications])
        for n, event in zip(notifications, decoded, strict=True):
            if isinstance(event, ev.CaseEvent):
                events.append((event, n.id))
        position = notifications[-1].id
    return events


# the fields of a history entry as the API shows it (``api.schemas.HistoryEntryOut``, in order)
SHOWN = (
    "version",
    "type",
    "recorded_at",
    "occurred_on",
    "actor",
    "org",
    "summary",
    "data",
    "hash",
    "prev_hash",
    "position",
)


def expected_views(events: Sequence[tuple[ev.CaseEvent, int]], case_ids: Iterable[str]) -> Views:
    """The views of ``case_ids`` by a pure fold: ``entry_for`` per event, ``fold`` per case."""
    ids = set(case_ids)
    history: list[Row] = []
    docs: dict[str, summary.Doc] = {}
    follow_up_states: dict[str, follow_ups.State] = {}
    for event, position in events:
        case_id = str(event.originator_id)
        if case_id not in ids:
            continue
        e = entry_for(event, position)
        history.append(
            {
                "case_id": str(e.case_id),
                "version": e.version,
                "type": e.type,
                "recorded_at": e.recorded_at.isoformat(),
                "occurred_on": e.occurred_on.isoformat() if e.occurred_on else None,
                "actor": e.actor,
                "org": e.org,
                "summary": e.summary,
                "data": json.loads(dumps(e.data)),
                "hash": e.hash,
                "prev_hash": e.prev_hash,
                "position": e.position,
                "erased_summary": e.erased_summary,
                "erased_data": None if e.erased_data is None else json.loads(dumps(e.erased_data)),
            }
        )
        # the entry as a reader who sees every field is shown it: the row's own fields
        row = history[-1]
        row["shown"] = {k: row[k] for k in SHOWN} | {"withheld": []}
        docs[case_id] = summary.fold(docs.get(case_id), event)
        follow_up_states[case_id] = follow_ups.fold(follow_up_states.get(case_id), event)
    history.sort(key=lambda r: (r["case_id"], r["version"]))
    summaries = [{"case_id": k, "doc": json.loads(dumps(docs[k]))} for k in sorted(docs)]
    handovers = [
        {"case_id": k, "offer_version": h["offer_version"], "doc": json.loads(dumps(h))}
        for k in sorted(docs)
        for h in docs[k]["handovers"]
    ]
    rows = [json.loads(dumps(r)) for s in follow_up_states.values() for r in follow_ups.rows(s)]
    rows.sort(key=lambda r: (r["case_id"], r["org"], r["follow_up_id"]))
    return Views(history, summaries, handovers, [_follow_up_key(r) for r in rows])


def assert_views_equal_fold(actual: Views, expected: Views) -> None:
    """History rows equal entry by entry; summary docs and handover docs equal the fold's."""
    assert actual.history_keys == expected.history_keys
    for got, want in zip(actual.history, expected.history, strict=True):
        assert {**got, "position": int(got["position"])} == want
    assert actual.docs == expected.docs
    assert [(h["case_id"], h["offer_version"], h["doc"]) for h in actual.handovers] == [
        (h["case_id"], h["offer_version"], h["doc"]) for h in expected.handovers
    ]
    for row in actual.handovers:
        doc = row["doc"]
        assert (row["from_org"], row["to_org"], row["state"]) == (
            doc["from_org"],
            doc["to_org"],
            doc["state"],
        )
        assert (row["offered_at"], row["due_on"]) == (doc["offered_at"], doc["due_on"])


def rebuild(
    app: StaffelApplication,
    store: ViewStoreMixin,
    projections: Sequence[Projection[Any]] = PROJECTIONS,
) -> dict[str, int]:
    """A fresh (building) generation of each projection, caught up from position 0 in one go."""
    generations = {}
    for projection in projections:
        generation = store.new_generation(projection.name, projection.version)
        ProjectionWorker(app, store, projection, generation).catch_up()
        generations[projection.name] = generation
    return generations


def catch_up_active(app: StaffelApplication, store: ViewStoreMixin) -> dict[str, int]:
    """Bring every projection's active generation up to the head; return the generations."""
    generations = {}
    for projection in PROJECTIONS:
        active, _ = ensure_generation(store, projection)
        ProjectionWorker(app, store, projection, active).catch_up()
        generations[projection.name] = active
    return generations


def save_random_cases(
    app: StaffelApplication,
    world: World,
    chooser: Chooser,
    n: int = 3,
    events: int = 3,
    cases: Sequence[Case] = (),
) -> tuple[list[Case], int]:
    """Register ``n`` new cases (or continue ``cases``) with ``events`` more commands each, all
    in one save; return the cases and the global position of the last event saved."""
    with sealing_with(app.keys):
        saved: list[Case | BamfFileNumberIndex] = []
        touched = list(cases)
        if not touched:
            for _ in range(n):
                case, index = register(world, chooser)
                touched.append(case)
                saved += [index] if index else []
        for case in touched:
            random_events(case, world, chooser, events)
        recordings = app.save(*touched, *saved)
    return touched, max(r.notification.id for r in recordings)


def assert_active_views_equal_fold(app: StaffelApplication, store: ViewStoreMixin) -> None:
    """Every stored case event is in the active views once, as the pure fold says."""
    events = stored_case_events(app)
    case_ids = {str(e.originator_id) for e, _ in events}
    assert_views_equal_fold(read_views(store, case_ids), expected_views(events, case_ids))

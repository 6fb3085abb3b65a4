"""What the read models answer: search (names, BAMF file number, holder, legal status, handover
state) with keyset pagination, handover queues with age and overdue flag, and statistics."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters.views.queries import BadCursorError, CaseQueries, encode_cursor
from domain.actor import Actor, acting_as
from domain.application import StaffelApplication
from domain.policy import GERMANY, today_in_germany
from domain.values import (
    Cefr,
    ErasureGround,
    LegalStatus,
    MeasureKind,
    MeasureOutcome,
    Person,
    PlacementKind,
    Protection,
    QualificationRecognition,
)
from domain.writes import Recorded
from tests.support.projections import build_app, catch_up_active, fresh_database_url
from workers.projections import build_view_store

TODAY = today_in_germany()  # the application's today: the German day the events are recorded on


@dataclass
class Orgs:
    agency: Actor
    jobcenter: Actor
    other: Actor
    pager: Actor
    stats: Actor

    @classmethod
    def fresh(cls) -> Orgs:
        tag = uuid.uuid4().hex[:6]
        return cls(*(Actor(f"staff-{n}", f"{n}-{tag}") for n in ("aa", "jc", "ot", "pg", "st")))


class Given:
    """Cases recorded through the application, as staff record them."""

    def __init__(self, app: StaffelApplication) -> None:
        self.app = app

    def case(
        self,
        by: Actor,
        given: str,
        family: str,
        *,
        bamf: str | None = None,
        status: LegalStatus = LegalStatus.ASYLUM_SEEKER,
        registered_on: date | None = None,
        born: date = date(1990, 5, 17),
    ) -> UUID:
        with acting_as(by):
            return self.app.register_case(
                person=Person(given, family, born, "SY"),
                bamf_file_number=bamf,
                residence_municipality="Berlin",
                legal_status=status,
                registered_on=registered_on,
                office="Mitte",
            ).id

    def record(self, by: Actor, case_id: UUID, event_type: str, **fields: Any) -> Recorded:
        with acting_as(by):
            return self.app.record(case_id, event_type, fields)

    def recognise(self, by: Actor, case_id: UUID, decided_on: date = TODAY) -> Recorded:
        return self.record(
            by, case_id, "AsylumRecognized", protection=Protection.REFUGEE, decided_on=decided_on
        )

    def offer(self, by: Actor, case_id: UUID, to: Actor) -> Recorded:
        with acting_as(by):
            return self.app.offer_handover(case_id, to_org=to.org, reason="anerkannt")

    def accept(self, by: Actor, offered: Recorded) -> Recorded:
        with acting_as(by):
            return self.app.accept_handover(
                offered.id, version=offered.version, digest=offered.digest
            )

    def assess(self, by: Actor, case_id: UUID, *, support_need: bool) -> Recorded:
        return self.record(
            by,
            case_id,
            "CompetenceAssessed",
            instrument="MYSKILLS",
            assessed_on=TODAY,
            german_level=Cefr.A2,
            languages=(),
            school_years=10,
            school_certificate=None,
            vocational_training=(),
            work_experience=(),
            qualification_recognition=QualificationRecognition.NONE,
            support_need=support_need,
            notes=None,
        )

    def measure(self, by: Actor, case_id: UUID, measure_id: str, *, ended: bool = False) -> None:
        self.record(
            by,
            case_id,
            "MeasureStarted",
            measure_id=measure_id,
            kind=MeasureKind.INTEGRATION_COURSE,
            provider="VHS",
            starts_on=TODAY,
            ends_on=None,
        )
        if ended:
            self.record(
                by,
                case_id,
                "MeasureEnded",
                measure_id=measure_id,
                ended_on=TODAY,
                outcome=MeasureOutcome.COMPLETED,
                certificate=None,
            )

    def placement(self, by: Actor, case_id: UUID, placement_id: str, kind: PlacementKind) -> None:
        self.record(
            by,
            case_id,
            "PlacementMade",
            placement_id=placement_id,
            kind=kind,
            employer="Bäckerei Schmidt",
            starts_on=TODAY,
            wage_subsidy=None,
            offer_id=None,
        )


@dataclass
class World:
    app: StaffelApplication
    queries: CaseQueries
    orgs: Orgs
    ids: dict[str, UUID]
    pages: list[UUID]


@pytest.fixture
def world(backend: str, tmp_path: Path) -> Iterator[World]:
    app = build_app(fresh_database_url(backend, tmp_path))
    o, given = Orgs.fresh(), Given(app)
    ids: dict[str, UUID] = {
        "özdemir": given.case(o.agency, "Öznur", "Özdemir", bamf="1234567 - 438"),
        "oz": given.case(o.agency, "Ivan", "Oz"),
        "strasse": given.case(o.agency, "Jürgen", "Straße", status=LegalStatus.TOLERATED),
        "müller": given.case(o.other, "Élodie", "Müller", bamf="7654321-111"),
        "bakr": given.case(o.other, "Ömer", "Abu Bakr", status=LegalStatus.REFUGEE),
        "haile": given.case(o.other, "Yonas", "Haile", bamf="0876543-225", born=date(1994, 3, 2)),
        "erased": given.case(o.other, "Yonas", "Haile", bamf="0876544-225", born=date(1994, 3, 2)),
    }
    with acting_as(o.other):
        app.erase_personal_data(ids["erased"], ground=ErasureGround.SUBJECT_REQUEST, reason="Test")
    # The handover queues: every outcome of an offer from the agency.
    for name in ("offered", "accepted", "rejected", "withdrawn", "to_other", "due"):
        ids[name] = given.case(o.agency, "Hand", f"Over {name}")
        given.recognise(o.agency, ids[name])
    offers = {
        name: given.offer(o.agency, ids[name], o.other if name == "to_other" else o.jobcenter)
        for name in ("offered", "accepted", "rejected", "withdrawn", "to_other")
    }
    given.accept(o.jobcenter, offers["accepted"])
    with acting_as(o.jobcenter):
        app.reject_handover(ids["rejected"], reason="nicht zuständig")
    with acting_as(o.agency):
        app.withdraw_handover(ids["withdrawn"], reason="Versehen")

    # 25 cases of one organisation, names repeating, for keyset pagination.
    pages = [
        given.case(
            o.pager, ("Ali", "Zoë", "Ärmin")[i % 3], ("Yilmaz", "Ängström", "Berg")[i % 4 % 3]
        )
        for i in range(25)
    ]

    # Statistics: registrations in three weeks, one closed case, support needs, measures,
    # placements; and recognitions 10, 20 and 40 days before the handover was accepted.
    monday = date(2026, 3, 2)
    s1 = given.case(o.stats, "Sara", "Eins", registered_on=monday)
    s2 = given.case(o.stats, "Samir", "Zwei", registered_on=monday + timedelta(days=2))
    s3 = given.case(o.stats, "Sami", "Drei", registered_on=monday + timedelta(days=8))
    given.case(o.stats, "Sina", "Vier", registered_on=monday + timedelta(days=14))
    given.assess(o.stats, s1, support_need=True)
    given.assess(o.stats, s2, support_need=False)
    given.assess(o.stats, s3, support_need=True)
    given.measure(o.stats, s1, "m1")
    given.measure(o.stats, s1, "m2", ended=True)
    given.measure(o.stats, s3, "m1")
    given.placement(o.stats, s1, "p1", PlacementKind.JOB)
    given.placement(o.stats, s2, "p1", PlacementKind.INTERNSHIP)
    given.placement(o.stats, s2, "p2", PlacementKind.JOB)
    given.placement(o.stats, s3, "p1", PlacementKind.APPRENTICESHIP)
    given.record(o.stats, s3, "CaseClosed", reason="verzogen", closed_on=TODAY)
    for days in (10, 20, 40):
        case_id = given.case(o.other, "Rana", f"Wechsel {days}")
        given.recognise(o.other, case_id, decided_on=TODAY - timedelta(days=days))
        given.accept(o.stats, given.offer(o.other, case_id, o.stats))

    store = build_view_store(app)
    catch_up_active(app, store)
    yield World(app, CaseQueries(store), o, ids, pages)
    app.close()


def _ids(items: list[dict[str, Any]]) -> set[str]:
    return {item["case_id"] for item in items}


def test_search_by_name_prefix_is_case_insensitive_and_knows_umlauts(world: World) -> None:
    q, ids = world.queries, {k: str(v) for k, v in world.ids.items()}

    def found(text: str) -> set[str]:
        return _ids(q.search(q=text, limit=200).items)

    assert found("öz") == found("ÖZ") == found("Özd") == {ids["özdemir"]}  # family name
    assert found("öznur") == found("ÖZNUR") == {ids["özdemir"]}  # given name
    assert found("oz") == {ids["oz"]}  # an umlaut is a letter of its own
    assert found("straße") == found("STRASS") == found("Jür") == {ids["strasse"]}
    assert found("MÜL") == found("élo") == {ids["müller"]}
    assert found("bakr") == found("Abu") == found("ömer") == {ids["bakr"]}
    assert found("xyz") == set()
    assert found("%zdemir") == set()  # no wildcards


def test_search_by_name_in_either_order_number_part_and_birth_date(world: World) -> None:
    """Issue 18: "Yonas Haile" and "Haile Yonas", the BAMF number with or without separator and
    a part of it, the date of birth in German or ISO spelling; an erased case by none of them;
    the page says how many cases match over all pages."""
    q, o, ids = world.queries, world.orgs, {k: str(v) for k, v in world.ids.items()}

    def found(text: str) -> set[str]:
        return _ids(q.search(q=text, holder=o.other.org, limit=200).items)

    haile = {ids["haile"]}
    assert found("Yonas Haile") == found("haile yonas") == found("Hai Yo") == haile
    assert found("Yonas Müller") == set()
    assert found("0876543-225") == found("0876543225") == found("876543 225") == haile
    assert found("876543") == found("543-22") == haile
    assert found("02.03.1994") == found("2.3.1994") == found("1994-03-02") == haile
    assert found("Yonas 2.3.1994") == haile
    assert found("0876544") == found("0876544-225") == set()  # the erased twin
    page = q.search(holder=o.other.org, limit=2)
    assert page.total == len(_ids(q.search(holder=o.other.org, limit=200).items)) > 2
    assert q.search(q="Haile Yonas", holder=o.other.org, limit=200).total == 1


def test_search_by_bamf_file_number_holder_legal_status_and_handover_state(world: World) -> None:
    q, o, ids = world.queries, world.orgs, {k: str(v) for k, v in world.ids.items()}

    def found(**criteria: Any) -> set[str]:
        return _ids(q.search(limit=200, **criteria).items)

    # Written as it is registered: spaces anywhere, any case.
    assert found(q="1234567-438") == found(q=" 1234567 - 438 ") == {ids["özdemir"]}
    assert found(bamf_file_number="1234567-438") == {ids["özdemir"]}
    assert found(bamf_file_number="1234567 -438") == {ids["özdemir"]}
    assert found(q="7654321-111", holder=o.other.org) == {ids["müller"]}
    assert found(q="7654321-111", holder=o.agency.org) == set()

    handover_cases = {ids[n] for n in ("offered", "rejected", "withdrawn", "to_other", "due")}
    agency = {ids[n] for n in ("özdemir", "oz", "strasse")} | handover_cases
    assert found(holder=o.agency.org) == agency
    assert found(holder=o.jobcenter.org) == {ids["accepted"]}
    assert found(holder=o.agency.org, legal_status="tolerated") == {ids["strasse"]}
    assert found(holder=o.agency.org, legal_status="refugee") == handover_cases
    assert found(holder=o.other.org, legal_status="refugee", q="abu") == {ids["bakr"]}

    assert found(holder=o.agency.org, handover="offered") == {ids["offered"], ids["to_other"]}
    # After a rejection or a withdrawal the Rechtskreiswechsel is still due.
    due = {ids["rejected"], ids["withdrawn"], ids["due"]}
    assert found(holder=o.agency.org, handover="due") == due
    assert _ids(q.handovers_due(holder=o.agency.org).items) == due
    assert found(holder=o.jobcenter.org, handover="accepted") == {ids["accepted"]}
    assert found(holder=o.agency.org, handover="none") == {
        ids[n] for n in ("özdemir", "oz", "strasse")
    }


def test_keyset_pagination_returns_every_case_once_in_name_order(world: World) -> None:
    q, holder = world.queries, world.orgs.pager.org
    seen: list[dict[str, Any]] = []
    sizes, cursor = [], None
    while True:
        page = q.search(holder=holder, limit=10, cursor=cursor)
        sizes.append(len(page.items))
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sizes == [10, 10, 5]
    assert sorted(d["case_id"] for d in seen) == sorted(str(i) for i in world.pages)

    def order(d: dict[str, Any]) -> tuple[str, str]:
        person = d["person"]
        return (f"{person['family_name']} {person['given_name']}".casefold(), d["case_id"])

    assert [order(d) for d in seen] == sorted(order(d) for d in seen)
    names = [order(d)[0] for d in seen]
    assert len(set(names)) < len(names)  # ties on the name, broken by the case id

    everything = q.search(holder=holder, limit=200)
    assert [d["case_id"] for d in everything.items] == [d["case_id"] for d in seen]
    assert everything.next_cursor is None


GARBAGE = (
    "garbage!!",
    "not a cursor",
    "Zm9v",  # base64 of "foo": not JSON
    base64.urlsafe_b64encode(b'{"a": 1}').decode(),
    encode_cursor("only one part"),
    "äöü",
)


def test_a_cursor_not_issued_by_the_service_is_refused(world: World) -> None:
    q, pager, agency = world.queries, world.orgs.pager.org, world.orgs.agency.org
    for cursor in (*GARBAGE, encode_cursor("a", "b", "c"), encode_cursor(1, 2)):
        with pytest.raises(BadCursorError):
            q.search(holder=pager, limit=10, cursor=cursor)
    for cursor in (*GARBAGE, encode_cursor("a", "b"), encode_cursor(1, 2, 3)):
        with pytest.raises(BadCursorError):
            q.handovers(org=agency, direction="outgoing", cursor=cursor)


def test_handover_queues_by_direction_and_state_with_age_and_overdue(world: World) -> None:
    q, o, ids = world.queries, world.orgs, {k: str(v) for k, v in world.ids.items()}
    now = datetime.now(UTC)
    later = now + timedelta(days=30)

    incoming = q.handovers(org=o.jobcenter.org, direction="incoming", now=later).items
    states = {h["case_id"]: h["state"] for h in incoming}
    assert states == {
        ids["offered"]: "offered",
        ids["accepted"]: "accepted",
        ids["rejected"]: "rejected",
        ids["withdrawn"]: "withdrawn",
    }
    assert [h["offered_at"] for h in incoming] == sorted(h["offered_at"] for h in incoming)
    assert {h["case_id"] for h in incoming if h["overdue"]} == {ids["offered"]}
    assert all(h["age_days"] == 30 for h in incoming)

    offered = q.handovers(org=o.jobcenter.org, direction="incoming", state="offered", now=later)
    [item] = offered.items
    assert (item["case_id"], item["from_org"], item["to_org"]) == (
        ids["offered"],
        o.agency.org,
        o.jobcenter.org,
    )
    assert date.fromisoformat(item["due_on"]) < later.date()
    assert (item["age_days"], item["overdue"]) == (30, True)
    fresh = q.handovers(org=o.jobcenter.org, direction="incoming", state="offered", now=now)
    assert [(h["age_days"], h["overdue"]) for h in fresh.items] == [(0, False)]
    overdue = q.handovers(org=o.jobcenter.org, direction="incoming", overdue_only=True, now=later)
    assert _ids(overdue.items) == {ids["offered"]}
    assert q.handovers(org=o.jobcenter.org, direction="incoming", overdue_only=True).items == []


def test_a_handover_is_overdue_from_midnight_in_germany_after_its_due_day(world: World) -> None:
    """``due_on`` is a German day (ADR 0022): at 00:30 in Germany on the next day (still the
    due day in UTC) the offer is overdue, at 23:30 on the due day it is not."""
    q, o, ids = world.queries, world.orgs, {k: str(v) for k, v in world.ids.items()}
    [offer] = q.handovers(org=o.jobcenter.org, direction="incoming", state="offered").items
    due = date.fromisoformat(offer["due_on"])
    # instants in UTC, as the server's clock gives them
    after = datetime.combine(due + timedelta(days=1), time(0, 30), tzinfo=GERMANY).astimezone(UTC)
    before = datetime.combine(due, time(23, 30), tzinfo=GERMANY).astimezone(UTC)
    assert after.date() == due  # the UTC calendar: still the due day
    for now, overdue in ((after, True), (before, False)):
        listed = q.handovers(org=o.jobcenter.org, direction="incoming", state="offered", now=now)
        assert [h["overdue"] for h in listed.items] == [overdue], now
        only = q.handovers(org=o.jobcenter.org, direction="incoming", overdue_only=True, now=now)
        assert _ids(only.items) == ({ids["offered"]} if overdue else set()), now

    outgoing = q.handovers(org=o.agency.org, direction="outgoing", now=now).items
    assert _ids(outgoing) == {
        ids[n] for n in ("offered", "accepted", "rejected", "withdrawn", "to_other")
    }
    out_offered = q.handovers(org=o.agency.org, direction="outgoing", state="offered").items
    assert _ids(out_offered) == {ids["offered"], ids["to_other"]}
    assert _ids(q.handovers(org=o.other.org, direction="incoming").items) == {ids["to_other"]}
    assert q.handovers(org=o.jobcenter.org, direction="outgoing").items == []

    pages, cursor = [], None
    while True:
        page = q.handovers(org=o.agency.org, direction="outgoing", limit=2, cursor=cursor)
        pages.append([h["case_id"] for h in page.items])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [c for p in pages for c in p] == [h["case_id"] for h in outgoing]


def test_statistics_of_an_organisation(world: World) -> None:
    q, o = world.queries, world.orgs
    stats = q.statistics(org=o.stats.org, now=datetime(2026, 4, 1, tzinfo=UTC))
    assert stats["active_cases"] == 3 + 3  # four registered, one closed; three taken over
    # the three cases taken over on the day they were registered stay the registrar's intake
    assert stats["registrations_per_week"] == {"2026-W10": 2, "2026-W11": 1, "2026-W12": 1}
    registrar = q.statistics(org=o.other.org, now=datetime(2026, 4, 1, tzinfo=UTC))
    assert registrar["registrations_per_week"] == {
        f"{y}-W{w:02d}": n for (y, w), n in _weeks_of_today(4 + 3).items()
    }
    assert stats["support_need_share"] == 0.5  # of the active assessed cases: one of two
    assert stats["measures_in_progress"] == 1  # the closed case's open measure does not count
    assert stats["placements_by_kind"] == {"apprenticeship": 1, "internship": 1, "job": 2}
    assert stats["median_days_recognition_to_acceptance"] == 20
    # taken over: without a caseworker until a team lead assigns one (ADR 0017)
    assert stats["by_caseworker"] == {o.stats.id: 3, "-": 3}
    assert stats["as_of"] == "2026-04-01T00:00:00+00:00"

    agency = q.statistics(org=o.agency.org)
    assert agency["active_cases"] == 8
    assert agency["median_days_recognition_to_acceptance"] is None
    assert agency["support_need_share"] is None
    assert q.statistics(org="nobody")["active_cases"] == 0


def _weeks_of_today(n: int) -> dict[tuple[int, int], int]:
    year, week, _ = today_in_germany().isocalendar()  # the application's default registration day
    return {(year, week): n}

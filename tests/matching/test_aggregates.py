"""Employers, offers and volunteers decide alone (no I/O): guard, then record. Their topics are
frozen names, like the case's."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic, resolve_topic

from domain.actor import Actor, acting_as
from domain.aggregates import employer_events as ee
from domain.aggregates import offer_events as oe
from domain.aggregates import volunteer_events as ve
from domain.aggregates.employer import Employer
from domain.aggregates.employer_errors import EmployerInactiveError, NotEmployerManagerError
from domain.aggregates.offer import Offer
from domain.aggregates.offer_errors import (
    AlreadyPlacedError,
    InvalidOfferError,
    OfferStateError,
    WrongEmployerError,
)
from domain.aggregates.volunteer import Volunteer
from domain.aggregates.volunteer_errors import (
    AlreadyMenteeError,
    InvalidCapacityError,
    NotVolunteerManagerError,
    VolunteerAtCapacityError,
    VolunteerStateError,
)
from domain.values import Cefr, ContactPerson, OfferState, PlacementKind, VolunteerState

JOBCENTER = Actor("cw-1", "jobcenter-heinsberg")
EMPLOYER = Actor("h.dahmen", "elektro-dahmen")
OTHER = Actor("cw-9", "agentur-saarland")
DRK = Actor("h.vogel", "drk-heinsberg")

# Frozen: these strings are in stored logs. Never edit one; add register_topic(old, cls) instead.
TOPICS = {
    Employer: "staffel:Employer",
    ee.EmployerRegistered: "staffel:Employer.Registered",
    ee.EmployerChanged: "staffel:Employer.Changed",
    ee.EmployerDeactivated: "staffel:Employer.Deactivated",
    Offer: "staffel:Offer",
    oe.OfferPublished: "staffel:Offer.Published",
    oe.OfferPaused: "staffel:Offer.Paused",
    oe.OfferReopened: "staffel:Offer.Reopened",
    oe.OfferWithdrawn: "staffel:Offer.Withdrawn",
    oe.PositionTaken: "staffel:Offer.PositionTaken",
    oe.OfferFilled: "staffel:Offer.Filled",
    Volunteer: "staffel:Volunteer",
    ve.VolunteerRegistered: "staffel:Volunteer.Registered",
    ve.VolunteerChanged: "staffel:Volunteer.Changed",
    ve.VolunteerPaused: "staffel:Volunteer.Paused",
    ve.VolunteerResumed: "staffel:Volunteer.Resumed",
    ve.VolunteerLeft: "staffel:Volunteer.Left",
    ve.MenteeTaken: "staffel:Volunteer.MenteeTaken",
    ve.MenteeReleased: "staffel:Volunteer.MenteeReleased",
}


def test_the_topics_are_the_frozen_ones() -> None:
    for cls, topic in TOPICS.items():
        assert get_topic(cls) == topic
        assert resolve_topic(topic) is cls
    events = {*ee.EMPLOYER_EVENTS, *oe.OFFER_EVENTS, *ve.VOLUNTEER_EVENTS}
    assert events == {c for c in TOPICS if c not in (Employer, Offer, Volunteer)}
    # the library's quirk: without explicit Event/Created it would define untopiced ones
    assert (Employer.Event, Employer.Created) == (ee.EmployerEvent, ee.EmployerRegistered)
    assert (Offer.Event, Offer.Created) == (oe.OfferEvent, oe.OfferPublished)
    assert (Volunteer.Event, Volunteer.Created) == (ve.VolunteerEvent, ve.VolunteerRegistered)


def an_employer(by: Actor = JOBCENTER, account: str = "elektro-dahmen") -> Employer:
    with acting_as(by):
        return Employer.register(
            account=account, name="Elektro Dahmen GmbH", sector="Handwerk",
            locations=("Wassenberg",), contact=ContactPerson("Herr Dahmen"),
            caring_org="jobcenter-heinsberg", interest=(PlacementKind.JOB,),
        )  # fmt: skip


def an_offer(employer: Employer, positions: int = 2, by: Actor = EMPLOYER) -> Offer:
    with acting_as(by):
        return Offer.publish(
            employer, kind=PlacementKind.JOB, occupation="Elektriker", municipality="Wassenberg",
            german_level=Cefr.A2, starts_on=date(2026, 6, 1), positions=positions,
            wage_subsidy_possible=True,
        )  # fmt: skip


def test_the_employer_or_its_caring_organisation_manages_it() -> None:
    employer = an_employer()
    assert employer.id == Employer.create_id("Elektro-Dahmen ")
    with pytest.raises(NotEmployerManagerError), acting_as(OTHER):
        Employer.register(
            account="x", name="X", sector="Y", locations=("Z",), contact=ContactPerson("Q"),
            caring_org="jobcenter-heinsberg", interest=(),
        )  # fmt: skip
    with acting_as(EMPLOYER):
        employer.change(name="Elektro Dahmen GmbH & Co. KG", caring_org="agentur-aachen-dueren")
    assert (employer.name, employer.caring_org) == (
        "Elektro Dahmen GmbH & Co. KG",
        "agentur-aachen-dueren",
    )
    with pytest.raises(NotEmployerManagerError), acting_as(JOBCENTER):  # no longer looks after it
        employer.deactivate(reason="x")
    with acting_as(Actor("h.dahmen", str(employer.id))):  # its id in the token works too
        employer.change(sector="Elektrohandwerk")
    with acting_as(EMPLOYER):
        employer.deactivate(reason="Betrieb aufgegeben")
    with pytest.raises(EmployerInactiveError):
        an_offer(employer)
    changed = [e for e in employer.collect_events() if isinstance(e, ee.EmployerChanged)]
    assert changed[0].sector is None  # only what changed
    assert (changed[0].actor, changed[0].org) == ("h.dahmen", "elektro-dahmen")


def test_placements_take_positions_and_the_last_fills_the_offer() -> None:
    offer = an_offer(an_employer())
    first, second = uuid4(), uuid4()
    with acting_as(JOBCENTER):
        offer.take_position(case_id=first, placement_id="p1")
        with pytest.raises(AlreadyPlacedError):
            offer.take_position(case_id=first, placement_id="p2")
        offer.take_position(case_id=second, placement_id="p1")
        with pytest.raises(OfferStateError) as refused:
            offer.take_position(case_id=uuid4(), placement_id="p1")
    assert refused.value.state is OfferState.FILLED
    assert (offer.state, offer.free, offer.placed) == (OfferState.FILLED, 0, (first, second))
    kinds = [type(e) for e in offer.collect_events()]
    assert kinds == [oe.OfferPublished, oe.PositionTaken, oe.PositionTaken, oe.OfferFilled]


def test_an_offer_pauses_reopens_and_is_withdrawn_by_its_managers_only() -> None:
    employer = an_employer()
    offer = an_offer(employer)
    with acting_as(OTHER), pytest.raises(NotEmployerManagerError):
        offer.pause(employer, reason="x")
    other = an_employer(account="baeckerei-jansen")
    with acting_as(EMPLOYER), pytest.raises(WrongEmployerError):
        offer.pause(other, reason="x")
    with acting_as(JOBCENTER):
        offer.pause(employer, reason="Betriebsferien")
        with pytest.raises(OfferStateError):
            offer.take_position(case_id=uuid4(), placement_id="p1")
        with pytest.raises(OfferStateError):
            offer.pause(employer, reason="again")
        offer.reopen(employer)
        offer.withdraw(employer, reason="besetzt")
        with pytest.raises(OfferStateError):
            offer.reopen(employer)
    assert offer.state is OfferState.WITHDRAWN
    with pytest.raises(InvalidOfferError):
        an_offer(employer, positions=0)


def a_volunteer(capacity: int = 1) -> Volunteer:
    with acting_as(DRK):
        return Volunteer.register(
            login="p.lang", name="Petra Lang", languages=("de",), municipality="Heinsberg",
            capacity=capacity,
        )  # fmt: skip


def test_a_volunteer_mentors_up_to_its_capacity_while_available() -> None:
    volunteer = a_volunteer(capacity=1)
    assert volunteer.id == Volunteer.create_id("drk-heinsberg", "p.lang")
    first = uuid4()
    with acting_as(JOBCENTER):
        volunteer.take_mentee(first)
        with pytest.raises(AlreadyMenteeError):
            volunteer.take_mentee(first)
        with pytest.raises(VolunteerAtCapacityError):
            volunteer.take_mentee(uuid4())
        volunteer.release_mentee(first)
        volunteer.take_mentee(uuid4())
    with acting_as(JOBCENTER), pytest.raises(NotVolunteerManagerError):
        volunteer.pause(reason="x")
    with acting_as(DRK):
        volunteer.change(capacity=2)
        volunteer.pause(reason="Urlaub")
    with acting_as(JOBCENTER), pytest.raises(VolunteerStateError):
        volunteer.take_mentee(uuid4())
    with acting_as(DRK):
        volunteer.resume()
        with pytest.raises(InvalidCapacityError):
            volunteer.change(capacity=0)
        volunteer.leave(reason="umgezogen")
    assert volunteer.state is VolunteerState.LEFT
    with acting_as(JOBCENTER), pytest.raises(VolunteerStateError):
        volunteer.take_mentee(uuid4())

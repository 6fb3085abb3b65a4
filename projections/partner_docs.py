"""Employers, offers and volunteers as JSON documents: pure folds of their events."""

from __future__ import annotations

from typing import Any

from domain.aggregates import employer_events as ee
from domain.aggregates import offer_events as oe
from domain.aggregates import volunteer_events as ve
from domain.chain import to_canonical
from domain.values import OfferState, VolunteerState
from projections.history import BOOKKEEPING

Doc = dict[str, Any]


def _data(event: Any) -> Doc:
    """A partner event's own facts as JSON values (like ``history.event_data``)."""
    return {k: to_canonical(v) for k, v in vars(event).items() if k not in BOOKKEEPING}


def _stamp(doc: Doc, event: Any) -> Doc:
    return {**doc, "version": event.originator_version, "updated_at": event.timestamp.isoformat()}


def _changed(doc: Doc, data: Doc) -> Doc:
    return {**doc, **{k: v for k, v in data.items() if v is not None}}


def fold_employer(doc: Doc | None, event: ee.EmployerEvent) -> Doc:
    data = _data(event)
    match event:
        case ee.EmployerRegistered():
            doc = {"employer_id": str(event.originator_id), **data, "active": True}
            doc["registered_at"] = event.timestamp.isoformat()
        case ee.EmployerChanged():
            doc = _changed(doc or {}, data)
        case ee.EmployerDeactivated():
            doc = {**(doc or {}), "active": False, "deactivation_reason": data["reason"]}
    assert doc is not None
    return _stamp(doc, event)


def fold_offer(doc: Doc | None, event: oe.OfferEvent) -> Doc:
    data = _data(event)
    match event:
        case oe.OfferPublished():
            doc = {"offer_id": str(event.originator_id), **data, "free": data["positions"]}
            doc |= {"state": OfferState.OPEN.value, "placed": []}
            doc["published_at"] = event.timestamp.isoformat()
        case oe.OfferPaused() | oe.OfferWithdrawn():
            state = OfferState.PAUSED if isinstance(event, oe.OfferPaused) else OfferState.WITHDRAWN
            doc = {**(doc or {}), "state": state.value, "state_reason": data["reason"]}
        case oe.OfferReopened():
            doc = {**(doc or {}), "state": OfferState.OPEN.value, "state_reason": None}
        case oe.PositionTaken():
            doc = doc or {}
            doc = {**doc, "free": data["free_after"], "placed": [*doc["placed"], data["case_id"]]}
        case oe.OfferFilled():
            doc = {**(doc or {}), "state": OfferState.FILLED.value}
    assert doc is not None
    return _stamp(doc, event)


def fold_volunteer(doc: Doc | None, event: ve.VolunteerEvent) -> Doc:
    data = _data(event)
    match event:
        case ve.VolunteerRegistered():
            doc = {"volunteer_id": str(event.originator_id), **data}
            doc |= {"state": VolunteerState.AVAILABLE.value, "mentees": []}
        case ve.VolunteerChanged():
            doc = _changed(doc or {}, data)
        case ve.VolunteerPaused() | ve.VolunteerLeft():
            paused = isinstance(event, ve.VolunteerPaused)
            state = VolunteerState.PAUSED if paused else VolunteerState.LEFT
            doc = {**(doc or {}), "state": state.value, "state_reason": data["reason"]}
        case ve.VolunteerResumed():
            doc = {**(doc or {}), "state": VolunteerState.AVAILABLE.value, "state_reason": None}
        case ve.MenteeTaken():
            doc = doc or {}
            doc = {**doc, "mentees": [*doc["mentees"], data["case_id"]]}
        case ve.MenteeReleased():
            doc = doc or {}
            doc = {**doc, "mentees": [c for c in doc["mentees"] if c != data["case_id"]]}
    assert doc is not None
    return _stamp(doc, event)

"""The refugee case: one aggregate per person, one holder at every instant.

Guard, then record: each public method checks the rules against the current state and raises a
``CaseRuleError``; the event's ``apply`` (in ``case_events``) only assigns.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import fields
from datetime import date, datetime
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import corrections, policy
from domain import follow_ups as fu
from domain.actor import Actor, current_actor
from domain.aggregates import case_events as ev
from domain.aggregates.case_errors import (
    AsylumDecisionError,
    CaseClosedError,
    CaseErasedError,
    CaseNotClosedError,
    DuplicateReferenceError,
    HandoverOpenError,
    NoOpenHandoverError,
    NotHolderError,
    NotOfferedOrganisationError,
    OfferToHolderError,
    StaleAcknowledgementError,
    UnknownFollowUpError,
    UnknownReferenceError,
)
from domain.chain import GENESIS
from domain.sealing import seal_fields
from domain.values import (
    ErasureGround,
    LegalBasis,
    LegalStatus,
    OpenHandover,
    Person,
    Protection,
)


class Case(Aggregate):
    TOPIC = "staffel:Case"
    Event = ev.CaseEvent
    Created = ev.CaseRegistered

    if TYPE_CHECKING:  # state assigned by the events' apply(); not constructor fields
        holder: str
        office: str | None
        legal_status: LegalStatus
        legal_basis: LegalBasis
        residence_municipality: str
        closed: bool
        switch_due: LegalBasis | None
        switch_decided_on: date | None
        handover: OpenHandover | None
        former_holders: tuple[str, ...]
        steps: dict[str, bool]
        measures: dict[str, bool]
        placements: dict[str, bool]
        mentors: tuple[str, ...]
        consents: dict[str, bool]
        digest: str

    erased = False  # set by PersonalDataErased; the default serves snapshots taken before it
    # set by CaseAssigned and the follow-up events; the defaults serve older snapshots (no
    # annotation at runtime: an annotated attribute would become a constructor field)
    if TYPE_CHECKING:
        caseworker: str | None
        follow_ups: dict[str, bool]  # open (True) or settled, of the follow-ups by hand
        settled_follow_ups: tuple[str, ...]  # derived ones settled by hand (snapshots: no set)
        residence_follow_up: str | None
        first_meeting_follow_up: str | None  # of the current caseworker's assignment
        dated_follow_ups: tuple[str, ...]  # of dated steps, measures with an end, consents
    else:
        caseworker = None
        follow_ups = MappingProxyType({})  # replaced, never changed in place
        settled_follow_ups = ()
        residence_follow_up = None
        first_meeting_follow_up = None
        dated_follow_ups = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> Case:
        """What ``copy.deepcopy`` makes of the case (the repository answers a copy of each case
        it caches, and a bulk read copies a hundred at a time): the same state, nothing shared
        that can change. A value that cannot change (``_unchangeable``) is taken as it is, as
        deepcopy takes a string or a number; a dict of such values is copied; anything else is
        deep-copied. The generic deepcopy rebuilt every datetime, UUID and frozen value of the
        state: 50 µs a case, a fifth of the handover policy's step."""
        copied = object.__new__(type(self))
        memo[id(self)] = copied
        copied.__dict__.update({k: _copy_of(v, memo) for k, v in self.__dict__.items()})
        return copied

    @classmethod
    def register(
        cls,
        *,
        person: Person,
        bamf_file_number: str | None,
        residence_municipality: str,
        legal_status: LegalStatus,
        registered_on: date,
        office: str | None = None,
        legal_basis: LegalBasis | None = None,
        case_id: UUID | None = None,
    ) -> Case:
        actor = current_actor()
        case_id = case_id or cls.create_id()
        personal = seal_fields(
            case_id,
            ev.CaseRegistered.TOPIC,
            ev.CaseRegistered.PERSONAL_FIELDS,
            {"person": person, "bamf_file_number": bamf_file_number},
        )
        return cls._create(
            ev.CaseRegistered,
            id=case_id,
            **personal,
            residence_municipality=residence_municipality,
            legal_status=legal_status,
            holder=actor.org,
            office=office,
            legal_basis=legal_basis or policy.counselling_basis(legal_status),
            registered_on=registered_on,
            actor=actor.id,
            org=actor.org,
            prev_hash=GENESIS,
        )

    # -- guards ---------------------------------------------------------------------------

    def _as_holder(self) -> Actor:
        actor = current_actor()
        if self.erased:
            raise CaseErasedError
        if actor.org != self.holder:
            raise NotHolderError(actor.org, self.holder)
        if self.closed:
            raise CaseClosedError
        return actor

    def _record(self, event_class: type[ev.CaseEvent], actor: Actor, **fields: Any) -> None:
        fields = seal_fields(self.id, event_class.TOPIC, event_class.PERSONAL_FIELDS, fields)
        self.trigger_event(
            event_class, actor=actor.id, org=actor.org, prev_hash=self.digest, **fields
        )

    def _switch_for(self, status: LegalStatus) -> LegalBasis | None:
        basis = policy.counselling_basis(status)
        return None if basis == self.legal_basis else basis

    @staticmethod
    def _require(refs: dict[str, bool], ref: str, kind: str, *, open_: bool = True) -> None:
        if refs.get(ref) is not open_:
            raise UnknownReferenceError(kind, ref)

    @staticmethod
    def _require_new(refs: dict[str, bool] | tuple[str, ...], ref: str, kind: str) -> None:
        if ref in refs:
            raise DuplicateReferenceError(kind, ref)

    def note_switch(self, switch_to: LegalBasis | None, decided_on: date) -> None:
        """Assignment used by status events' ``apply``: a Rechtskreiswechsel is due or not."""
        if switch_to is None:
            self.switch_decided_on = None
        elif switch_to != self.switch_due:
            self.switch_decided_on = decided_on
        self.switch_due = switch_to

    # -- legal status -----------------------------------------------------------------------

    def change_legal_status(
        self,
        *,
        status: LegalStatus,
        effective_on: date,
        document: str | None = None,
        valid_until: date | None = None,
    ) -> None:
        actor = self._as_holder()
        self._record(
            ev.LegalStatusChanged,
            actor,
            status=status,
            document=document,
            valid_until=valid_until,
            effective_on=effective_on,
            switch_to=self._switch_for(status),
        )

    def recognize_asylum(self, *, protection: Protection, decided_on: date) -> None:
        actor = self._as_holder()
        if self.legal_status.value in Protection.__members__.values():
            raise AsylumDecisionError(f"protection is already granted ({self.legal_status})")
        switch_to = self._switch_for(LegalStatus(protection.value))
        self._record(
            ev.AsylumRecognized,
            actor,
            protection=protection,
            decided_on=decided_on,
            switch_to=switch_to,
        )

    def reject_asylum(self, **fields: Any) -> None:
        actor = self._as_holder()
        if self.legal_status != LegalStatus.ASYLUM_SEEKER:
            raise AsylumDecisionError(
                f"only a pending asylum application can be rejected, status is {self.legal_status}"
            )
        self._record(ev.AsylumRejected, actor, **fields)

    # -- counselling, steps, measures, placements, mentors, consent ---------------------------

    def record_fact(self, event_class: type[ev.CaseEvent], **fields: Any) -> None:
        """Record an event that no rule beyond holder and open case restricts."""
        self._record(event_class, self._as_holder(), **fields)

    def agree_step(self, *, step_id: str, **fields: Any) -> None:
        actor = self._as_holder()
        self._require_new(self.steps, step_id, "step")
        self._record(ev.StepAgreed, actor, step_id=step_id, **fields)

    def complete_step(self, *, step_id: str, completed_on: date) -> None:
        actor = self._as_holder()
        self._require(self.steps, step_id, "step", open_=False)
        self._record(ev.StepCompleted, actor, step_id=step_id, completed_on=completed_on)

    def start_measure(self, *, measure_id: str, **fields: Any) -> None:
        actor = self._as_holder()
        self._require_new(self.measures, measure_id, "measure")
        self._record(ev.MeasureStarted, actor, measure_id=measure_id, **fields)

    def end_measure(self, *, measure_id: str, **fields: Any) -> None:
        actor = self._as_holder()
        self._require(self.measures, measure_id, "measure", open_=False)
        self._record(ev.MeasureEnded, actor, measure_id=measure_id, **fields)

    def make_placement(self, *, placement_id: str, **fields: Any) -> None:
        actor = self._as_holder()
        self._require_new(self.placements, placement_id, "placement")
        self._record(ev.PlacementMade, actor, placement_id=placement_id, **fields)

    def end_placement(self, *, placement_id: str, **fields: Any) -> None:
        actor = self._as_holder()
        self._require(self.placements, placement_id, "placement", open_=False)
        self._record(ev.PlacementEnded, actor, placement_id=placement_id, **fields)

    def assign_mentor(self, *, volunteer_id: str, **fields: Any) -> None:
        actor = self._as_holder()
        self._require_new(self.mentors, volunteer_id, "mentor")
        self._record(ev.MentorAssigned, actor, volunteer_id=volunteer_id, **fields)

    def release_mentor(self, *, volunteer_id: str, released_on: date) -> None:
        actor = self._as_holder()
        if volunteer_id not in self.mentors:
            raise UnknownReferenceError("mentor", volunteer_id)
        self._record(ev.MentorReleased, actor, volunteer_id=volunteer_id, released_on=released_on)

    def give_consent(self, *, consent_id: str, **fields: Any) -> None:
        actor = self._as_holder()
        self._require_new(self.consents, consent_id, "consent")
        self._record(ev.ConsentGiven, actor, consent_id=consent_id, **fields)

    def withdraw_consent(self, *, consent_id: str, withdrawn_on: date) -> None:
        actor = self._as_holder()
        self._require(self.consents, consent_id, "consent", open_=True)
        self._record(ev.ConsentWithdrawn, actor, consent_id=consent_id, withdrawn_on=withdrawn_on)

    # -- corrections (Art. 16 GDPR, ADR 0019) --------------------------------------------------

    def correct_fact(
        self, *, corrects_version: int, corrects_event: str, field: str, value: str, reason: str
    ) -> None:
        """Correct ``field`` of the event at ``corrects_version`` (of type ``corrects_event``, as
        the service layer read it from the log); nothing recorded before is changed."""
        actor = self._as_holder()
        if not 1 <= corrects_version <= self.version:
            raise UnknownReferenceError("version", str(corrects_version))
        if (corrects_event, field) not in corrections.CORRECTABLE:
            raise UnknownReferenceError("field", f"{corrects_event}.{field}")
        personal = corrections.is_personal(field)
        self._record(
            ev.FactCorrected,
            actor,
            corrects_version=corrects_version,
            corrects_event=corrects_event,
            field=field,
            value=None if personal else value,
            personal_value=value if personal else None,
            reason=reason,
        )

    # -- assignment and follow-ups (ADR 0017) ---------------------------------------------------

    def assign(self, *, office: str | None, caseworker: str | None) -> None:
        """Who is responsible: who may assign is the service layer's decision (a team lead)."""
        actor = self._as_holder()
        self._record(ev.CaseAssigned, actor, office=office, caseworker=caseworker)

    def create_follow_up(self, *, due_on: date, text: str, assignee: str | None) -> None:
        actor = self._as_holder()
        follow_up_id = fu.manual(self.version + 1)  # the version of the event recorded now
        self._record(
            ev.FollowUpCreated,
            actor,
            follow_up_id=follow_up_id,
            due_on=due_on,
            text=text,
            assignee=assignee,
        )

    def complete_follow_up(self, *, follow_up_id: str, completed_on: date) -> None:
        actor = self._as_holder()
        self._require_follow_up(follow_up_id)
        self._record(
            ev.FollowUpCompleted, actor, follow_up_id=follow_up_id, completed_on=completed_on
        )

    def postpone_follow_up(self, *, follow_up_id: str, due_on: date) -> None:
        actor = self._as_holder()
        self._require_follow_up(follow_up_id)
        self._record(ev.FollowUpPostponed, actor, follow_up_id=follow_up_id, due_on=due_on)

    def cancel_follow_up(self, *, follow_up_id: str) -> None:
        actor = self._as_holder()
        self._require_follow_up(follow_up_id)
        self._record(ev.FollowUpCancelled, actor, follow_up_id=follow_up_id)

    def _require_follow_up(self, follow_up_id: str) -> None:
        """An open follow-up of the holder: one by hand not yet settled, or one derived from an
        open step with a due date, an open measure with an end date, a consent in force with an
        end, the current residence permit or the current caseworker's first meeting (not settled
        by hand)."""
        kind, ref = fu.kind_of(follow_up_id)
        settled = follow_up_id in self.settled_follow_ups
        dated = follow_up_id in self.dated_follow_ups and not settled
        is_open = {
            fu.MANUAL: self.follow_ups.get(follow_up_id) is True,
            fu.STEP: self.steps.get(ref) is False and dated,
            fu.MEASURE: self.measures.get(ref) is False and dated,
            fu.RESIDENCE: follow_up_id == self.residence_follow_up and not settled,
            fu.FIRST_MEETING: follow_up_id == self.first_meeting_follow_up and not settled,
            fu.CONSENT: self.consents.get(ref) is True and dated,
        }.get(kind, False)
        if not is_open:
            raise UnknownFollowUpError(follow_up_id)

    def settle_follow_up(self, follow_up_id: str) -> None:
        """Assignment used by the follow-up events' ``apply``: done or cancelled."""
        if follow_up_id in self.follow_ups:
            self.follow_ups = {**self.follow_ups, follow_up_id: False}
        else:
            self.settled_follow_ups = (*self.settled_follow_ups, follow_up_id)

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self, *, reason: str, closed_on: date) -> None:
        actor = self._as_holder()
        if self.handover is not None:
            raise HandoverOpenError(self.handover.to_org)
        self._record(ev.CaseClosed, actor, reason=reason, closed_on=closed_on)

    def reopen(self, *, reason: str) -> None:
        actor = current_actor()
        if self.erased:
            raise CaseErasedError
        if actor.org != self.holder:
            raise NotHolderError(actor.org, self.holder)
        if not self.closed:
            raise CaseNotClosedError
        self._record(ev.CaseReopened, actor, reason=reason)

    # -- the handover ---------------------------------------------------------------------------

    def offer_handover(
        self, *, to_org: str, reason: str, due_on: date, triggered_by_version: int | None = None
    ) -> None:
        actor = self._as_holder()
        if self.handover is not None:
            raise HandoverOpenError(self.handover.to_org)
        if to_org == self.holder:
            raise OfferToHolderError(to_org)
        self._record(
            ev.HandoverOffered,
            actor,
            to_org=to_org,
            reason=reason,
            legal_basis=self.switch_due or self.legal_basis,
            offered_version=self.version,
            offered_digest=self.digest,
            due_on=due_on,
            triggered_by_version=triggered_by_version,
        )

    def _as_receiver(self) -> tuple[Actor, OpenHandover]:
        actor = current_actor()
        if self.erased:
            raise CaseErasedError
        if self.handover is None:
            raise NoOpenHandoverError
        if actor.org != self.handover.to_org:
            raise NotOfferedOrganisationError(actor.org, self.handover.to_org)
        return actor, self.handover

    def accept_handover(
        self,
        *,
        version: int,
        digest: str,
        accepted_on: date,
        assign: tuple[str | None, str | None] | None = None,
    ) -> None:
        """Acknowledge the whole stream up to ``version`` by its ``digest``; take the case over;
        with ``assign`` (office, caseworker), make them responsible in the same write."""
        actor, handover = self._as_receiver()
        if version != self.version or digest != self.digest:
            raise StaleAcknowledgementError(self.version, self.digest)
        decided_on = self.switch_decided_on
        if handover.legal_basis != self.legal_basis and decided_on is not None:
            effective_on = policy.switch_date(decided_on)  # the month rule
        else:
            effective_on = accepted_on
        self._record(ev.HandoverAccepted, actor, version=version, digest=digest)
        self._record(
            ev.JurisdictionChanged,
            actor,
            from_org=self.holder,
            to_org=handover.to_org,
            legal_basis_before=self.legal_basis,
            legal_basis_after=handover.legal_basis,
            effective_on=effective_on,
        )
        if assign is not None:
            office, caseworker = assign
            self._record(ev.CaseAssigned, actor, office=office, caseworker=caseworker)

    def reject_handover(self, *, reason: str) -> None:
        actor, _ = self._as_receiver()
        self._record(ev.HandoverRejected, actor, reason=reason)

    def withdraw_handover(self, *, reason: str) -> None:
        actor = self._as_holder()
        if self.handover is None:
            raise NoOpenHandoverError
        self._record(ev.HandoverWithdrawn, actor, reason=reason)

    # -- data protection --------------------------------------------------------------------------

    def erase_personal_data(self, *, ground: ErasureGround, reason: str, erased_on: date) -> None:
        """Record the erasure (the application deletes the key right after). Closed cases too:
        retention erases them. An open handover is withdrawn first, in the same save, so no
        receiver is left acknowledging a history that lost its personal fields (ADR 0008)."""
        actor = current_actor()
        if self.erased:
            raise CaseErasedError
        if actor.org != self.holder:
            raise NotHolderError(actor.org, self.holder)
        if self.handover is not None:
            self._record(ev.HandoverWithdrawn, actor, reason=ERASURE_WITHDRAWAL)
        self._record(
            ev.PersonalDataErased, actor, ground=ground, reason=reason, erased_on=erased_on
        )


ERASURE_WITHDRAWAL = "die personenbezogenen Daten werden gelöscht"


# values of these exact types never change (an Enum's members neither)
_ATOMIC = frozenset({str, int, float, bool, type(None), date, datetime, UUID})


def _unchangeable(value: Any) -> bool:
    """Whether ``value`` can never change: an atomic value, or a tuple or frozen dataclass of
    such values."""
    kind = type(value)
    if kind in _ATOMIC or isinstance(value, Enum):
        return True
    if kind is tuple:
        return all(map(_unchangeable, value))
    params = getattr(kind, "__dataclass_params__", None)
    if params is not None and params.frozen:
        return all(_unchangeable(getattr(value, f.name)) for f in fields(value))
    return False


def _copy_of(value: Any, memo: dict[int, Any]) -> Any:
    """``value`` as ``Case.__deepcopy__`` copies it."""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if kind is dict:
        if all(map(_unchangeable, value)) and all(map(_unchangeable, value.values())):
            return dict(value)
    elif kind is list:
        if all(map(_unchangeable, value)):
            return list(value)
    elif _unchangeable(value):
        return value
    return deepcopy(value, memo)


def _fact(event_class: type[ev.CaseEvent]) -> Callable[..., None]:
    def record(case: Case, **fields: Any) -> None:
        case.record_fact(event_class, **fields)

    return record


# The events staff record through ``POST /cases/{id}/events``: event type -> command.
STAFF_COMMANDS: dict[str, Callable[..., None]] = {
    "LegalStatusChanged": Case.change_legal_status,
    "AsylumRecognized": Case.recognize_asylum,
    "AsylumRejected": Case.reject_asylum,
    "CompetenceAssessed": _fact(ev.CompetenceAssessed),
    "StepAgreed": Case.agree_step,
    "StepCompleted": Case.complete_step,
    "MeasureStarted": Case.start_measure,
    "MeasureEnded": Case.end_measure,
    "PlacementMade": Case.make_placement,
    "PlacementEnded": Case.end_placement,
    "MentorAssigned": Case.assign_mentor,
    "MentorReleased": Case.release_mentor,
    "ConsentGiven": Case.give_consent,
    "ConsentWithdrawn": Case.withdraw_consent,
    "NoteRecorded": _fact(ev.NoteRecorded),
    "ResidenceChanged": _fact(ev.ResidenceChanged),
    "CaseClosed": Case.close,
    "CaseReopened": Case.reopen,
    "CaseAssigned": Case.assign,
    "FactCorrected": Case.correct_fact,
    # recorded through ``/cases/{id}/follow-ups``, not ``/cases/{id}/events``
    "FollowUpCreated": Case.create_follow_up,
    "FollowUpCompleted": Case.complete_follow_up,
    "FollowUpPostponed": Case.postpone_follow_up,
    "FollowUpCancelled": Case.cancel_follow_up,
}

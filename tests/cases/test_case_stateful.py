"""Random command sequences, valid and invalid, against one case through the application and a real
store. A model predicts each outcome: a valid command records its events, an invalid one raises
the predicted ``CaseRuleError`` (or ``VersionConflictError``) and records nothing.

After every step: one holder, the one the stored stream names; at most one open handover; the
stored version is the model's; a fresh instance replays the case to exactly the live aggregate,
and ``repository.get(id, version=N)`` and the hash chain agree with what the writer saw at N.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from adapters.chain_check import recomputed_hashes, verify_case
from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.aggregates.case import Case
from domain.aggregates.case_errors import (
    AsylumDecisionError,
    CaseClosedError,
    CaseNotClosedError,
    CaseRuleError,
    DuplicateReferenceError,
    HandoverOpenError,
    NoOpenHandoverError,
    NotHolderError,
    NotOfferedOrganisationError,
    OfferToHolderError,
    StaleAcknowledgementError,
    UnknownReferenceError,
)
from domain.application import StaffelApplication
from domain.errors import VersionConflictError
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
    WageSubsidy,
    WorkExperience,
)
from domain.writes import Recorded
from tests.support.store import (
    AGENCY,
    JOBCENTER,
    OTHER_AGENCY,
    MakeApp,
    SaveSpy,
    assert_same_typed,
)

ORGS = (AGENCY, JOBCENTER, OTHER_AGENCY)
# Who acts: the holder and the offered organisation are drawn more often than chance would.
WHO = st.sampled_from(("holder", "holder", "receiver", *ORGS))
HOLDER_WHO = st.sampled_from(("holder", "holder", "holder", *ORGS))
RECEIVER_WHO = st.sampled_from(("receiver", "receiver", "receiver", *ORGS))
ACKS = st.sampled_from(("current", "current", "current", "older", "other digest"))
ANSWERS = st.sampled_from(("accept", "accept", "reject", "withdraw", "none"))
REFS = st.sampled_from(("r1", "r2"))  # few ids, so duplicates and unknown ids happen often
ON = date(2026, 3, 2)

Refusal = type[CaseRuleError] | type[VersionConflictError] | None

ITEM_KINDS = ("step", "measure", "placement", "mentor", "consent")
KINDS = st.sampled_from(ITEM_KINDS)


def opening(kind: str, ref: str, variant: bool) -> tuple[str, dict[str, Any]]:
    """The staff event that opens an item of ``kind``; ``variant`` picks None or a value."""
    if kind == "step":
        plan = Plan.KOOPERATIONSPLAN if variant else Plan.EINGLIEDERUNGSVEREINBARUNG
        due_on = ON if variant else None
        return "StepAgreed", {"step_id": ref, "description": "CV", "due_on": due_on, "plan": plan}
    if kind == "measure":
        return "MeasureStarted", {
            "measure_id": ref,
            "kind": MeasureKind.JOB_LANGUAGE_COURSE if variant else MeasureKind.PERF,
            "provider": "BAMF",
            "starts_on": ON,
            "ends_on": ON if variant else None,
        }
    if kind == "placement":
        return "PlacementMade", {
            "placement_id": ref,
            "kind": PlacementKind.JOB,
            "employer": "Kita Sonnenschein",
            "starts_on": ON,
            "wage_subsidy": WageSubsidy(30, 6) if variant else None,
            "offer_id": "o-1" if variant else None,
        }
    if kind == "mentor":
        return "MentorAssigned", {"volunteer_id": ref, "organisation": "Paten", "assigned_on": ON}
    assert kind == "consent"
    return "ConsentGiven", {
        "consent_id": ref,
        "purpose": ConsentPurpose.SHARE_WITH_MENTOR,
        "recipient": "Paten e.V.",
        "scope": ("language", "work") if variant else (),
        "given_on": ON,
    }


def closing(kind: str, ref: str) -> tuple[str, dict[str, Any]]:
    """The staff event that closes an item of ``kind``."""
    if kind == "step":
        return "StepCompleted", {"step_id": ref, "completed_on": ON}
    if kind == "measure":
        return "MeasureEnded", {
            "measure_id": ref,
            "ended_on": ON,
            "outcome": MeasureOutcome.COMPLETED,
            "certificate": None,
        }
    if kind == "placement":
        return "PlacementEnded", {"placement_id": ref, "ended_on": ON, "reason": "befristet"}
    if kind == "mentor":
        return "MentorReleased", {"volunteer_id": ref, "released_on": ON}
    assert kind == "consent"
    return "ConsentWithdrawn", {"consent_id": ref, "withdrawn_on": ON}


def live_state(case: Case) -> dict[str, Any]:
    state = {k: v for k, v in vars(case).items() if k != "_pending_events"}
    return deepcopy(state)


@dataclass
class Model:
    registered_by: str
    holder: str
    legal_status: LegalStatus
    version: int = 1
    closed: bool = False
    handover_to: str | None = None
    # kind -> item id -> still open (a step not completed, a consent in force, ...)
    items: dict[str, dict[str, bool]] = field(
        default_factory=lambda: {kind: {} for kind in ITEM_KINDS}
    )


class CaseMachine(RuleBasedStateMachine):
    """``app`` writes (``spy`` keeps what it saved), ``readers`` replay from the store."""

    def __init__(
        self, app: StaffelApplication, readers: tuple[StaffelApplication, ...], spy: SaveSpy
    ) -> None:
        super().__init__()
        self.app, self.readers, self.spy = app, readers, spy
        self.case_id: UUID | None = None
        self.model = Model(AGENCY, AGENCY, LegalStatus.ASYLUM_SEEKER)
        self.seen: dict[int, dict[str, Any]] = {}  # version -> the live aggregate's state
        self.checked_up_to = 0  # versions replayed and chain-checked so far

    # -- helpers ----------------------------------------------------------------------------

    @property
    def id(self) -> UUID:
        assert self.case_id is not None
        return self.case_id

    def org(self, who: str) -> str:
        if who == "holder":
            return self.model.holder
        if who == "receiver":
            return self.model.handover_to or self.model.holder
        return who

    def holder_refusal(self, org: str) -> Refusal:
        if org != self.model.holder:
            return NotHolderError
        if self.model.closed:
            return CaseClosedError
        return None

    def receiver_refusal(self, org: str) -> Refusal:
        if self.model.handover_to is None:
            return NoOpenHandoverError
        if org != self.model.handover_to:
            return NotOfferedOrganisationError
        return None

    def attempt(
        self, who: str, refusal: Refusal, command: Callable[[], Recorded], events: int = 1
    ) -> bool:
        """Run ``command`` as ``who``: it must raise ``refusal`` and save nothing, or, if
        ``refusal`` is None, record ``events`` events. Returns whether it recorded."""
        org = self.org(who)
        saves = len(self.spy.cases)
        with acting_as(Actor(f"staff-{org}", org)):
            if refusal is not None:
                with pytest.raises((CaseRuleError, VersionConflictError)) as refused:
                    command()
                error = refused.value
                assert type(error) is refusal, f"{org}: expected {refusal.__name__}, got {error!r}"
                if isinstance(error, VersionConflictError):
                    assert error.current_version == self.model.version
                assert len(self.spy.cases) == saves, "a refused command saved"
                event(f"refused: {refusal.__name__}")
                return False
            recorded = command()
        event(f"recorded {events} event(s)")
        self.model.version += events
        self.remember(recorded)
        return True

    def remember(self, recorded: Recorded) -> None:
        """Keep the state of the aggregate the application just saved, at its version."""
        live = self.spy.cases[-1]
        assert (live.id, live.version) == (self.id, self.model.version)
        assert (recorded.id, recorded.version, recorded.digest) == (
            live.id,
            live.version,
            live.digest,
        )
        self.seen[live.version] = live_state(live)

    def record(self, who: str, refusal: Refusal, event_type: str, **fields: Any) -> bool:
        return self.attempt(who, refusal, lambda: self.app.record(self.id, event_type, fields))

    def fact(self, who: str, event_type: str, **fields: Any) -> None:
        self.record(who, self.holder_refusal(self.org(who)), event_type, **fields)

    # -- the case is registered anew for every example ----------------------------------------

    @initialize(
        org=st.sampled_from(ORGS),
        status=st.sampled_from(
            (LegalStatus.ASYLUM_SEEKER, LegalStatus.TOLERATED, LegalStatus.SUBSIDIARY_PROTECTION)
        ),
    )
    def register(self, org: str, status: LegalStatus) -> None:
        with acting_as(Actor(f"staff-{org}", org)):
            recorded = self.app.register_case(
                person=Person("Yonas", "Tesfaye", date(1999, 8, 1), "ER", ("ti", "en")),
                bamf_file_number=None,
                residence_municipality="Berlin",
                legal_status=status,
            )
        self.case_id = recorded.id
        self.model = Model(registered_by=org, holder=org, legal_status=status)
        self.remember(recorded)

    # -- staff events ----------------------------------------------------------------------------

    @rule(who=WHO, category=st.sampled_from(NoteCategory), stale_by=st.sampled_from((0, 0, 1, -1)))
    def note(self, who: str, category: NoteCategory, stale_by: int) -> None:
        """A note, sometimes with a stale ``expected_version`` (checked before anything else)."""
        expected = self.model.version + stale_by
        refusal = VersionConflictError if stale_by else self.holder_refusal(self.org(who))
        fields = {"text": "Gespräch", "category": category}
        self.attempt(
            who,
            refusal,
            lambda: self.app.record(self.id, "NoteRecorded", fields, expected_version=expected),
        )

    @rule(who=WHO, status=st.sampled_from(LegalStatus), document=st.none() | st.just("eAT"))
    def change_legal_status(self, who: str, status: LegalStatus, document: str | None) -> None:
        refusal = self.holder_refusal(self.org(who))
        fields = {"status": status, "effective_on": ON, "document": document, "valid_until": None}
        if self.record(who, refusal, "LegalStatusChanged", **fields):
            self.model.legal_status = status

    @rule(who=WHO, protection=st.sampled_from(Protection))
    def recognize_asylum(self, who: str, protection: Protection) -> None:
        refusal = self.holder_refusal(self.org(who))
        if refusal is None and self.model.legal_status.value in {p.value for p in Protection}:
            refusal = AsylumDecisionError
        fields = {"protection": protection, "decided_on": ON}
        if self.record(who, refusal, "AsylumRecognized", **fields):
            self.model.legal_status = LegalStatus(protection.value)

    @rule(who=WHO, kind=st.sampled_from(RejectionKind))
    def reject_asylum(self, who: str, kind: RejectionKind) -> None:
        refusal = self.holder_refusal(self.org(who))
        if refusal is None and self.model.legal_status != LegalStatus.ASYLUM_SEEKER:
            refusal = AsylumDecisionError
        self.record(who, refusal, "AsylumRejected", kind=kind, decided_on=ON)

    @rule(who=WHO, level=st.none() | st.sampled_from(Cefr))
    def assess_competences(self, who: str, level: Cefr | None) -> None:
        self.fact(
            who,
            "CompetenceAssessed",
            instrument="MySkills",
            assessed_on=ON,
            german_level=level,
            languages=() if level is None else (LanguageSkill("de", level),),
            school_years=None if level is None else 9,
            school_certificate=None,
            vocational_training=(),
            work_experience=(WorkExperience("Schneider", 6),),
            qualification_recognition=QualificationRecognition.APPLIED,
            support_need=level is None,
            notes=None,
        )

    @rule(who=WHO, kind=KINDS, ref=REFS, variant=st.booleans())
    def open_item(self, who: str, kind: str, ref: str, variant: bool) -> None:
        """Agree a step, start a measure, make a placement, ...: the id must be new."""
        refusal = self.holder_refusal(self.org(who))
        if refusal is None and ref in self.model.items[kind]:
            refusal = DuplicateReferenceError
        event_type, fields = opening(kind, ref, variant)
        if self.record(who, refusal, event_type, **fields):
            self.model.items[kind][ref] = True

    @rule(who=WHO, kind=KINDS, ref=REFS)
    def close_item(self, who: str, kind: str, ref: str) -> None:
        """Complete a step, end a measure, ...: the id must be open. A released mentor is gone."""
        refusal = self.holder_refusal(self.org(who))
        if refusal is None and self.model.items[kind].get(ref) is not True:
            refusal = UnknownReferenceError
        event_type, fields = closing(kind, ref)
        if self.record(who, refusal, event_type, **fields):
            if kind == "mentor":
                del self.model.items[kind][ref]
            else:
                self.model.items[kind][ref] = False

    @rule(kind=KINDS, ref=REFS, variant=st.booleans())
    def item_round(self, kind: str, ref: str, variant: bool) -> None:
        """The holder opens an item and closes it again, so closing is not left to chance."""
        self.open_item("holder", kind, ref, variant)
        self.close_item("holder", kind, ref)

    @rule(who=WHO)
    def change_residence(self, who: str) -> None:
        self.fact(who, "ResidenceChanged", municipality="Cottbus", moved_on=ON)

    # -- lifecycle --------------------------------------------------------------------------

    @rule(who=WHO)
    def close(self, who: str) -> None:
        refusal = self.holder_refusal(self.org(who))
        if refusal is None and self.model.handover_to is not None:
            refusal = HandoverOpenError
        if self.record(who, refusal, "CaseClosed", reason="verzogen", closed_on=ON):
            self.model.closed = True

    @rule(who=WHO)
    def reopen(self, who: str) -> None:
        refusal: Refusal = None
        if self.org(who) != self.model.holder:
            refusal = NotHolderError
        elif not self.model.closed:
            refusal = CaseNotClosedError
        if self.record(who, refusal, "CaseReopened", reason="zurück"):
            self.model.closed = False

    @precondition(lambda self: self.model.closed)
    @rule(who=HOLDER_WHO)
    def reopen_the_closed_case(self, who: str) -> None:
        self.reopen(who)

    @precondition(lambda self: self.model.handover_to is not None)
    @rule(who=HOLDER_WHO)
    def close_while_an_offer_is_open(self, who: str) -> None:
        self.close(who)

    # -- the handover -------------------------------------------------------------------------

    @rule(who=HOLDER_WHO, to_org=st.sampled_from(ORGS), stale_by=st.sampled_from((0, 0, 0, 1)))
    def offer_handover(self, who: str, to_org: str, stale_by: int) -> None:
        refusal = self.holder_refusal(self.org(who))
        if stale_by:
            refusal = VersionConflictError
        elif refusal is None and self.model.handover_to is not None:
            refusal = HandoverOpenError
        elif refusal is None and to_org == self.model.holder:
            refusal = OfferToHolderError
        expected = self.model.version - stale_by

        def offer() -> Recorded:
            return self.app.offer_handover(
                self.id, to_org=to_org, reason="Rechtskreiswechsel", expected_version=expected
            )

        if self.attempt(who, refusal, offer):
            self.model.handover_to = to_org

    @precondition(lambda self: self.model.handover_to is None and not self.model.closed)
    @rule(who=HOLDER_WHO, to_org=st.sampled_from(ORGS))
    def offer_while_none_is_open(self, who: str, to_org: str) -> None:
        """The same, drawn more often while an offer can be made, so handovers complete."""
        self.offer_handover(who, to_org, 0)

    @rule(who=RECEIVER_WHO, ack=ACKS)
    def accept_handover(self, who: str, ack: str) -> None:
        """Acknowledge the version and digest the receiver read: current, older, or another."""
        refusal = self.receiver_refusal(self.org(who))
        if refusal is None and ack != "current":
            refusal = StaleAcknowledgementError
        version = self.model.version - (ack == "older")
        digest = "f" * 64 if ack == "other digest" else str(self.seen[self.model.version]["digest"])

        def accept() -> Recorded:
            return self.app.accept_handover(self.id, version=version, digest=digest)

        to_org = self.model.handover_to
        if self.attempt(who, refusal, accept, events=2):
            assert to_org is not None
            self.model.holder, self.model.handover_to = to_org, None
            event("handover accepted")

    @precondition(lambda self: self.model.handover_to is not None)
    @rule(who=RECEIVER_WHO, ack=ACKS)
    def accept_the_open_handover(self, who: str, ack: str) -> None:
        """The same, drawn more often while an offer is open."""
        self.accept_handover(who, ack)

    @rule(who=RECEIVER_WHO)
    def reject_handover(self, who: str) -> None:
        refusal = self.receiver_refusal(self.org(who))
        if self.attempt(
            who, refusal, lambda: self.app.reject_handover(self.id, reason="nicht zuständig")
        ):
            self.model.handover_to = None

    @rule(who=HOLDER_WHO)
    def withdraw_handover(self, who: str) -> None:
        refusal = self.holder_refusal(self.org(who))
        if refusal is None and self.model.handover_to is None:
            refusal = NoOpenHandoverError
        if self.attempt(
            who, refusal, lambda: self.app.withdraw_handover(self.id, reason="zurückgezogen")
        ):
            self.model.handover_to = None

    @rule(to_org=st.sampled_from(ORGS), answer=ANSWERS, ack=ACKS)
    def handover_round(self, to_org: str, answer: str, ack: str) -> None:
        """The holder offers and the offer is answered at once: handovers complete often, so
        the holder changes often (the single rules above interleave with everything else)."""
        self.offer_handover("holder", to_org, 0)
        if answer == "accept":
            self.accept_handover("receiver", ack)
        elif answer == "reject":
            self.reject_handover("receiver")
        elif answer == "withdraw":
            self.withdraw_handover("holder")

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def the_stream_names_one_holder_and_at_most_one_open_handover(self) -> None:
        if self.case_id is None:
            return
        events = list(self.readers[0].events.get(self.id))
        assert [e.originator_version for e in events] == list(range(1, self.model.version + 1))
        registered = events[0]
        assert isinstance(registered, ev.CaseRegistered)
        assert registered.org == registered.holder == self.model.registered_by
        holder, open_offers = registered.holder, 0
        for e in events[1:]:
            if isinstance(e, ev.JurisdictionChanged):
                assert e.from_org == holder
                holder = e.to_org
            elif isinstance(e, ev.HandoverOffered):
                open_offers += 1
            elif isinstance(e, ev.HandoverAccepted | ev.HandoverRejected | ev.HandoverWithdrawn):
                open_offers -= 1
            assert open_offers in (0, 1)
        assert holder == self.model.holder
        assert holder in ORGS
        assert open_offers == (self.model.handover_to is not None)

    @invariant()
    def every_instance_loads_the_live_aggregate(self) -> None:
        """The writer (from its cache, if any) and fresh readers (from the store alone)."""
        if self.case_id is None:
            return
        for app in (self.app, *self.readers):
            case = app.get_case(self.id)
            assert_same_typed(live_state(case), self.seen[self.model.version])
            assert case.holder == self.model.holder
            assert case.closed == self.model.closed
            handover = case.handover
            assert (handover.to_org if handover else None) == self.model.handover_to

    @invariant()
    def each_new_version_replays_as_seen_and_its_digest_is_the_chain_s(self) -> None:
        if self.case_id is None or self.checked_up_to == self.model.version:
            return
        chain = {
            version: (stored, recomputed)
            for version, stored, recomputed, _ in recomputed_hashes(self.readers[0], self.id)
        }
        for version in range(self.checked_up_to + 1, self.model.version + 1):
            stored, recomputed = chain[version]
            assert stored == recomputed
            for reader in self.readers:
                at_version = reader.get_case(self.id, version=version)
                assert at_version.version == version
                assert at_version.digest == stored
                if version in self.seen:  # not the HandoverAccepted half of an acceptance
                    assert_same_typed(live_state(at_version), self.seen[version])
        self.checked_up_to = self.model.version

    def teardown(self) -> None:
        """The whole example once more: the chain verifies, every version replays as seen."""
        if self.case_id is None:
            return
        reader = self.readers[-1]  # with snapshots on, the one that replays events only
        assert verify_case(reader, self.id) == []
        for version, state in self.seen.items():
            assert live_state(reader.repository.get(self.id, version=version)) == state


SETTINGS = settings(
    max_examples=30,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.parametrize(
    ("snapshot_interval", "cache_size"),
    [(0, 1000), (3, 0), (3, 1000)],
    ids=["cached", "snapshots-every-3", "snapshots-every-3-cached"],
)
def test_random_commands_keep_the_case_consistent(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, snapshot_interval: int, cache_size: int
) -> None:
    live = make_app(snapshot_interval=snapshot_interval, aggregate_cache_size=cache_size)
    readers = [make_app(snapshot_interval=snapshot_interval, aggregate_cache_size=0)]
    if snapshot_interval:  # replayed from snapshots, and from the events alone
        readers.append(make_app(snapshot_interval=0, aggregate_cache_size=0))
    spy = SaveSpy(live, monkeypatch)

    class OnThisBackend(CaseMachine):
        def __init__(self) -> None:
            super().__init__(live, tuple(readers), spy)

    run_state_machine_as_test(OnThisBackend, settings=SETTINGS)

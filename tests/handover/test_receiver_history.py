"""Property: for any sequence of events the sender records on a case, then a recognition and the
policy's offer, after acceptance the receiver's projected history holds exactly those events, in
order, with the same hashes, and the same digest at the acknowledged version.

(a) within one deployment (Agentur Aachen-Düren -> Jobcenter Kreis Heinsberg), on both backends;
(b) across two deployments on two SQLite files (Agentur Saarland's -> Jobcenter St. Wendel's
    own), the whole way through the real handlers: A's policy offers, A's outbox delivers the
    signed bundle into B's inbox, B's caseworker reads the history and accepts, B's receipt goes
    to A, A records the switch and answers with the whole stream, which B imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.chain_check import verify_case
from adapters.views.queries import CaseQueries
from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.application import StaffelApplication
from domain.chain import GENESIS, to_canonical
from domain.values import (
    Cefr,
    ConsentPurpose,
    LanguageSkill,
    LegalStatus,
    MeasureKind,
    MeasureOutcome,
    NoteCategory,
    PlacementKind,
    Plan,
    Protection,
    QualificationRecognition,
    RejectionKind,
    VocationalTraining,
    WageSubsidy,
    WorkExperience,
)
from tests.support.federation import (
    AGENTUR,
    HEINSBERG_PLACES,
    JOBCENTER,
    SAARLAND,
    ST_WENDEL,
    ST_WENDEL_PLACES,
    Deployment,
    count_of,
    open_deployment,
    open_federation,
    register,
    stored_events,
)

EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,  # each run explores afresh; a failure prints its reproducing example
)

# -- what the sender does ---------------------------------------------------------------------

KINDS = (
    "assess", "agree_step", "complete_step", "start_measure", "end_measure", "note", "note",
    "status", "move", "mentor", "release_mentor", "consent", "withdraw_consent", "placement",
    "end_placement", "close_and_reopen", "reject_asylum",
)  # fmt: skip
# statuses a case can move through before a recognition (a protection status would pre-empt it)
STATUSES = tuple(s for s in LegalStatus if s.value not in Protection.__members__.values())
# any text, NUL included (PostgreSQL's text columns refuse it: the views must not stall on it)
TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)
DAYS = st.dates(date(2015, 1, 1), date(2026, 6, 30))
DAY = date(2025, 12, 31)


@dataclass(frozen=True)
class Op:
    kind: str
    pick: int
    text: str
    day: date
    flag: bool


OPS = st.builds(Op, st.sampled_from(KINDS), st.integers(0, 10_000), TEXT, DAYS, st.booleans())
SCRIPTS = st.lists(OPS, max_size=25)
PROTECTIONS = st.sampled_from(list(Protection))
# one explicit example with every kind of event, twice over, and unusual text
ODD_TEXT = 'Ölçer \x00 \u2028 "x"\n\\ \U0001f600'
EVERY_KIND = [
    Op(kind, i, ODD_TEXT, date(2025, 1 + i % 12, 1 + i % 28), i % 2 == 0)
    for i, kind in enumerate((*KINDS, *KINDS))
]


def nth(options: Any, pick: int) -> Any:
    items = list(options)
    return items[pick % len(items)]


@dataclass(frozen=True)
class Expected:
    version: int
    type: str
    hash: str
    fields: dict[str, Any]


@dataclass
class Sender:
    """Records a script of staff events on a new case as ``actor``; remembers, for each event,
    the version and hash the application answered with and the fields it was asked to record."""

    app: StaffelApplication
    actor: Actor
    places: tuple[str, ...]
    case_id: UUID = field(init=False)
    expected: list[Expected] = field(default_factory=list)
    open_: dict[str, list[str]] = field(
        default_factory=lambda: {k: [] for k in ("step", "measure", "placement", "mentor")}
    )
    consents: list[str] = field(default_factory=list)
    counter: int = 0
    status: LegalStatus = LegalStatus.ASYLUM_SEEKER
    closed: bool = False

    def __post_init__(self) -> None:
        recorded = register(self.app, self.actor, self.places[0])
        self.case_id = recorded.id
        registered = {
            "residence_municipality": self.places[0],
            "holder": self.actor.org,
            "legal_status": LegalStatus.ASYLUM_SEEKER,
        }
        self.expected.append(Expected(1, "CaseRegistered", recorded.digest, registered))

    def record(self, event_type: str, **fields: Any) -> None:
        with acting_as(self.actor):
            recorded = self.app.record(self.case_id, event_type, fields)
        assert recorded.version == self.expected[-1].version + 1
        self.expected.append(Expected(recorded.version, event_type, recorded.digest, fields))

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def close_open(self, kind: str, op: Op) -> str | None:
        refs = self.open_[kind]
        return refs.pop(op.pick % len(refs)) if refs else None

    def run(self, op: Op) -> None:  # one branch per kind of event
        p, text, day = op.pick, op.text, op.day
        match op.kind:
            case "assess":
                self.record(
                    "CompetenceAssessed",
                    instrument=text,
                    assessed_on=day,
                    german_level=nth([None, *Cefr], p),
                    languages=(LanguageSkill("ar", Cefr.C2), LanguageSkill("de", nth(Cefr, p)))
                    if op.flag
                    else (),
                    school_years=p % 26 if op.flag else None,
                    school_certificate=None if op.flag else text,
                    vocational_training=(VocationalTraining(text, op.flag, "SY"),),
                    work_experience=(WorkExperience(text, p % 40),) if p % 3 else (),
                    qualification_recognition=nth(QualificationRecognition, p),
                    support_need=op.flag,
                    notes=text if p % 2 else None,
                )
            case "agree_step":
                step_id = self.fresh("s")
                self.open_["step"].append(step_id)
                self.record(
                    "StepAgreed",
                    step_id=step_id,
                    description=text,
                    due_on=day if op.flag else None,
                    plan=nth(Plan, p),
                )
            case "complete_step" if (ref := self.close_open("step", op)) is not None:
                self.record("StepCompleted", step_id=ref, completed_on=day)
            case "start_measure":
                measure_id = self.fresh("m")
                self.open_["measure"].append(measure_id)
                self.record(
                    "MeasureStarted",
                    measure_id=measure_id,
                    kind=nth(MeasureKind, p),
                    provider=text,
                    starts_on=day,
                    ends_on=None if op.flag else day,
                )
            case "end_measure" if (ref := self.close_open("measure", op)) is not None:
                self.record(
                    "MeasureEnded",
                    measure_id=ref,
                    ended_on=day,
                    outcome=nth(MeasureOutcome, p),
                    certificate=text if op.flag else None,
                )
            case "placement":
                placement_id = self.fresh("p")
                self.open_["placement"].append(placement_id)
                self.record(
                    "PlacementMade",
                    placement_id=placement_id,
                    kind=nth(PlacementKind, p),
                    employer=text,
                    starts_on=day,
                    wage_subsidy=WageSubsidy(p % 100 + 1, p % 60 + 1) if op.flag else None,
                    offer_id=None if op.flag else f"o-{p}",
                )
            case "end_placement" if (ref := self.close_open("placement", op)) is not None:
                self.record("PlacementEnded", placement_id=ref, ended_on=day, reason=text)
            case "mentor":
                volunteer_id = self.fresh("v")
                self.open_["mentor"].append(volunteer_id)
                self.record(
                    "MentorAssigned", volunteer_id=volunteer_id, organisation=text, assigned_on=day
                )
            case "release_mentor" if (ref := self.close_open("mentor", op)) is not None:
                self.record("MentorReleased", volunteer_id=ref, released_on=day)
            case "consent":
                consent_id = self.fresh("c")
                self.consents.append(consent_id)
                self.record(
                    "ConsentGiven",
                    consent_id=consent_id,
                    purpose=nth(ConsentPurpose, p),
                    recipient=text,
                    scope=(text, "measures") if op.flag else (),
                    given_on=day,
                )
            case "withdraw_consent" if self.consents:
                consent_id = self.consents.pop(p % len(self.consents))
                self.record("ConsentWithdrawn", consent_id=consent_id, withdrawn_on=day)
            case "status":
                self.status = nth(STATUSES, p)
                self.record(
                    "LegalStatusChanged",
                    status=self.status,
                    effective_on=day,
                    document=text if op.flag else None,
                    valid_until=day if p % 2 else None,
                )
            case "move":
                self.record("ResidenceChanged", municipality=nth(self.places, p), moved_on=day)
            case "close_and_reopen":
                self.record("CaseClosed", reason=text, closed_on=day)
                self.record("CaseReopened", reason=text[::-1])
            case "reject_asylum" if self.status == LegalStatus.ASYLUM_SEEKER:
                self.record("AsylumRejected", kind=nth(RejectionKind, p), decided_on=day)
            case _:  # nothing open to close, or not possible in this state: a note instead
                self.record("NoteRecorded", text=text, category=nth(NoteCategory, p))

    def recognise(self, protection: Protection, decided_on: date) -> None:
        self.record("AsylumRecognized", protection=protection, decided_on=decided_on)


def assert_history_is(
    deployment: Deployment, case_id: UUID, expected: list[Expected], acknowledged: str
) -> None:
    """The projected history: ``expected`` then exactly the acceptance and the switch."""
    deployment.catch_up()
    history = CaseQueries(deployment.store).history(str(case_id))
    assert history is not None
    n = len(expected)
    entries = history.entries
    assert [e["version"] for e in entries] == list(range(1, n + 3)), "missing or twice"
    for entry, want in zip(entries, expected, strict=False):
        assert (entry["version"], entry["type"], entry["hash"]) == (
            want.version,
            want.type,
            want.hash,
        )
        data = entry["data"]
        canonical = {k: to_canonical(v) for k, v in want.fields.items()}
        assert {k: data.get(k) for k in canonical} == canonical, entry
    heads = [GENESIS] + [e["hash"] for e in entries]
    assert [e["prev_hash"] for e in entries] == heads[:-1], "the chain does not link"
    assert entries[n - 1]["hash"] == acknowledged
    accepted, switched = entries[n], entries[n + 1]
    assert accepted["type"] == "HandoverAccepted"
    assert accepted["data"] == {"version": n, "digest": acknowledged}
    assert switched["type"] == "JurisdictionChanged"
    assert history.version == n + 2
    assert history.digest == switched["hash"]


def offer_of(expected: list[Expected], app: StaffelApplication, case_id: UUID, to_org: str) -> None:
    """The policy's offer: the case's newest event; append it to ``expected``."""
    events = stored_events(app, case_id)
    assert len(events) == len(expected) + 1, "the policy did not offer exactly once"
    offer = events[-1]
    assert offer.topic == ev.HandoverOffered.TOPIC
    assert offer.state["to_org"] == to_org
    assert offer.state["offered_version"] == len(expected)
    assert offer.state["offered_digest"] == expected[-1].hash
    fields = {"to_org": to_org, "offered_version": len(expected)}
    expected.append(Expected(offer.version, "HandoverOffered", offer.hash, fields))


def test_within_one_deployment_the_receiver_holds_exactly_what_the_sender_recorded(
    backend: str, tmp_path: Path
) -> None:
    deployment = open_deployment(backend, tmp_path / "data", snapshot_interval=5)
    sender = Actor("cw-agentur", AGENTUR)
    receiver = Actor("cw-jobcenter", JOBCENTER)

    @EXAMPLES
    @given(script=SCRIPTS, protection=PROTECTIONS, decided_on=DAYS)
    @example(script=EVERY_KIND, protection=Protection.SUBSIDIARY_PROTECTION, decided_on=DAY)
    def handover(script: list[Op], protection: Protection, decided_on: date) -> None:
        app = deployment.app
        case = Sender(app, sender, HEINSBERG_PLACES)
        for op in script:
            case.run(op)
        case.recognise(protection, decided_on)
        deployment.run_policy()
        offer_of(case.expected, app, case.case_id, JOBCENTER)

        deployment.catch_up()  # the receiver reads what it acknowledges
        read = CaseQueries(deployment.store).history(str(case.case_id))
        assert read is not None
        with acting_as(receiver):
            app.accept_handover(case.case_id, version=read.version, digest=read.digest)

        assert read.version == len(case.expected)
        assert_history_is(deployment, case.case_id, case.expected, read.digest)
        assert app.get_case(case.case_id).holder == JOBCENTER
        assert verify_case(app, case.case_id) == []

    try:
        handover()
    finally:
        deployment.close()


def test_across_two_deployments_the_receiver_holds_exactly_what_the_sender_recorded(
    tmp_path: Path,
) -> None:
    federation = open_federation(tmp_path, snapshot_interval=5)
    a, b = federation.a, federation.b
    sender = Actor("cw-saarland", SAARLAND)
    caseworker = b.auth("cw-st-wendel", ST_WENDEL)

    @EXAMPLES
    @given(script=SCRIPTS, protection=PROTECTIONS, decided_on=DAYS)
    @example(script=EVERY_KIND, protection=Protection.SUBSIDIARY_PROTECTION, decided_on=DAY)
    def handover(script: list[Op], protection: Protection, decided_on: date) -> None:
        case = Sender(a.app, sender, ST_WENDEL_PLACES)
        for op in script:
            case.run(op)
        case.recognise(protection, decided_on)
        a.run_policy()
        offer_of(case.expected, a.app, case.case_id, ST_WENDEL)
        n, digest = len(case.expected), case.expected[-1].hash

        a.outbox.step()  # the offer's bundle, signed by A, into B's inbox
        assert stored_events(b.app, case.case_id) == stored_events(a.app, case.case_id)
        b.catch_up()
        read = b.client.get(f"/cases/{case.case_id}/history", headers=caseworker)
        assert read.status_code == 200, read.text
        assert (read.json()["version"], read.json()["digest"]) == (n, digest)

        accepted = b.client.post(
            f"/cases/{case.case_id}/handover/accept",
            json={"version": n, "digest": digest},
            headers=caseworker,
        )
        assert accepted.status_code == 201, accepted.text
        head_b = b.head()
        a.outbox.step()  # A's outbox sends the answered stream again: nothing new at B
        assert b.head() == head_b

        sent, received = stored_events(a.app, case.case_id), stored_events(b.app, case.case_id)
        assert [e.version for e in received] == list(range(1, n + 3))
        assert received == sent, "B must hold A's events unchanged: versions, times, hashes"
        assert received[n - 1].hash == digest
        for deployment in (a, b):
            assert verify_case(deployment.app, case.case_id) == []
            assert deployment.app.get_case(case.case_id).holder == ST_WENDEL
            assert count_of(deployment.app, case.case_id, ev.HandoverAccepted) == 1
            assert count_of(deployment.app, case.case_id, ev.JurisdictionChanged) == 1
        assert_history_is(b, case.case_id, case.expected, digest)
        assert_history_is(a, case.case_id, case.expected, digest)

    try:
        handover()
    finally:
        federation.close()

"""Time travel: for random event sequences, the case at version N is the aggregate after its
first N events, the case ``at`` a moment is the case at the last version recorded by then, and
``as_accepted`` is the case at the version the receiver acknowledged."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.audit import timetravel as tt
from domain.actor import Actor, acting_as
from domain.aggregates.case import Case
from domain.aggregates.case_errors import CaseRuleError
from domain.aggregates.case_events import HandoverAccepted, NoteRecorded, ResidenceChanged
from domain.application import StaffelApplication
from domain.errors import CaseNotFoundError
from domain.sealing import sealing_with
from domain.values import ConsentPurpose, LegalStatus, NoteCategory, Plan, Protection
from tests.support.builders import a_registered_case

D = date(2026, 3, 2)
OTHER = {"aa-berlin": "jc-berlin", "jc-berlin": "aa-berlin"}
STEPS = (
    "note", "move", "status", "recognise", "step", "complete", "mentor", "release",
    "consent", "withdraw", "close", "reopen", "handover", "handover", "reject",
)  # fmt: skip


def act(case: Case, step: str, k: int) -> None:
    """One command on the case as its holder (a handover: offered, then answered by the other
    organisation). Raises ``CaseRuleError`` when the case's rules refuse it."""
    actor = Actor(f"staff-{case.holder}", case.holder)
    with acting_as(actor):
        match step:
            case "note":
                case.record_fact(NoteRecorded, text=f"Vermerk {k}", category=NoteCategory.GENERAL)
            case "move":
                case.record_fact(ResidenceChanged, municipality=f"Ort {k}", moved_on=D)
            case "status":
                case.change_legal_status(status=LegalStatus.TOLERATED, effective_on=D)
            case "recognise":
                case.recognize_asylum(protection=Protection.REFUGEE, decided_on=D)
            case "step":
                case.agree_step(
                    step_id=f"s{k}", description="CV", due_on=None, plan=Plan.KOOPERATIONSPLAN
                )
            case "complete":
                open_steps = [s for s, done in case.steps.items() if not done]
                case.complete_step(step_id=(open_steps or ["none"])[0], completed_on=D)
            case "mentor":
                case.assign_mentor(volunteer_id=f"v{k}", organisation="Paten", assigned_on=D)
            case "release":
                case.release_mentor(volunteer_id=(case.mentors or ("none",))[0], released_on=D)
            case "consent":
                case.give_consent(
                    consent_id=f"c{k}",
                    purpose=ConsentPurpose.SHARE_WITH_MENTOR,
                    recipient="X",
                    scope=("a",),
                    given_on=D,
                )
            case "withdraw":
                given = [c for c, on in case.consents.items() if on]
                case.withdraw_consent(consent_id=(given or ["none"])[0], withdrawn_on=D)
            case "close":
                case.close(reason="weggezogen", closed_on=D)
            case "reopen":
                case.reopen(reason="zurück")
            case "offer":
                case.offer_handover(to_org=OTHER[case.holder], reason="Wechsel", due_on=D)
            case "handover" | "reject":  # answered by the organisation it was offered to
                assert case.handover is not None
                with acting_as(Actor("staff-receiver", case.handover.to_org)):
                    if step == "reject":
                        case.reject_handover(reason="nicht zuständig")
                    else:
                        case.accept_handover(
                            version=case.version, digest=case.digest, accepted_on=D
                        )


def recorded(app: StaffelApplication, steps: list[str]) -> tuple[Case, dict[int, dict[str, Any]]]:
    """The case after ``steps`` (saved after each command), and its decision state after each
    command, by version (the HandoverAccepted half of an acceptance is never seen alone)."""
    with sealing_with(app.keys):
        case = a_registered_case()
        app.save(case)
        seen = {1: tt.decision_state(case)}
        for k, step in enumerate(steps):
            # a rule refuses before anything is recorded; an offer is saved before its answer
            for command in ("offer", step) if step in ("handover", "reject") else (step,):
                try:
                    act(case, command, k)
                except CaseRuleError:
                    break
                app.save(case)
                seen[case.version] = tt.decision_state(case)
    return case, seen


@given(steps=st.lists(st.sampled_from(STEPS), max_size=14), data=st.data())
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_case_as_it_was(app: StaffelApplication, steps: list[str], data: st.DataObject) -> None:
    case, seen = recorded(app, steps)
    log = tt.case_log(app, case.id)
    assert [e.originator_version for _, e in log] == list(range(1, case.version + 1))
    for n in range(1, case.version + 1):
        got = tt.case_as_of(app, case.id, version=n).case
        assert (got.version, got.digest) == (n, log[n - 1][1].hash)
        library: Case = app.repository.get(case.id, version=n)  # snapshots and all
        assert tt.decision_state(got) == tt.decision_state(library)
        if n in seen:
            assert tt.decision_state(got) == seen[n]
    assert tt.decision_state(tt.case_as_of(app, case.id).case) == seen[case.version]

    times = [e.timestamp for _, e in log]
    tick = timedelta(microseconds=1)
    moments = [t + d for t in times for d in (-tick, 0 * tick, tick)]
    share = data.draw(st.integers(0, 1000), label="moment between first and last (per mille)")
    moments.append(times[0] + (times[-1] - times[0]) * share / 1000)
    for moment in moments:
        last = [v for v, t in enumerate(times, 1) if t <= moment.replace(tzinfo=times[0].tzinfo)]
        if not last:
            with pytest.raises(tt.TimeTravelError):
                tt.case_as_of(app, case.id, at=moment)
            continue
        got = tt.case_as_of(app, case.id, at=moment).case
        assert got.version == last[-1]
        at_version = tt.case_as_of(app, case.id, version=last[-1]).case
        assert tt.decision_state(got) == tt.decision_state(at_version)

    accepted = [e for _, e in log if isinstance(e, HandoverAccepted)]
    if not accepted:
        with pytest.raises(tt.TimeTravelError):
            tt.case_as_of(app, case.id, as_accepted=True)
        return
    as_accepted = tt.case_as_of(app, case.id, as_accepted=True)
    acknowledged = accepted[-1].version
    assert (as_accepted.case.version, as_accepted.case.digest) == (
        acknowledged,
        accepted[-1].digest,
    )
    assert tt.decision_state(as_accepted.case) == seen[acknowledged]
    assert as_accepted.accepted is not None
    assert as_accepted.accepted.originator_version == acknowledged + 1


def test_refusals(app: StaffelApplication) -> None:
    case, _ = recorded(app, ["note", "note"])
    with pytest.raises(tt.TimeTravelError, match="versions 1 to 3"):
        tt.case_as_of(app, case.id, version=4)
    with pytest.raises(tt.TimeTravelError):
        tt.case_as_of(app, case.id, version=2, as_accepted=True)
    with pytest.raises(CaseNotFoundError):
        tt.case_as_of(app, a_registered_case().id)

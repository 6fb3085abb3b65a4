"""The working group's figures for a period (ADR 0020), as properties of the one computation
(``adapters.views.statistics.case_statistics``) over any summaries: the three months of a quarter
add up to the quarter for what happens in a period (intake, placements, accepted handovers), and
the caseload of a period is the cases open on its last day; and over the summaries folded from
dated assignments and handovers, a month's caseload per organisation, office and caseworker is
the caseload as it stood at the end of its last day, whatever happened since."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views.statistics import case_statistics
from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.aggregates.case import Case
from domain.values import LegalStatus
from projections import follow_ups
from projections.summary import Doc, fold
from service_layer.periods import month, quarter
from tests.support.builders import AGENCY, JOBCENTER, a_person, case_events

NOW = datetime(2027, 1, 15, tzinfo=UTC)
FIRSTS = [date(2026, m, 1) for m in range(1, 13)]
EDGES = sorted({*FIRSTS, *(d - timedelta(days=1) for d in FIRSTS[1:]), date(2026, 12, 31)})
YEAR = st.dates(date(2026, 1, 1), date(2026, 12, 31)) | st.sampled_from(EDGES)  # the edges often


@st.composite
def summaries(draw: st.DrawFn) -> dict[str, Any]:
    registered = draw(YEAR)
    closed_on = draw(st.none() | YEAR.filter(lambda d: d >= registered))
    recognized = draw(st.none() | st.dates(registered, date(2026, 12, 31)))
    accepted = draw(st.none() | st.dates(recognized, date(2026, 12, 31))) if recognized else None
    placements = draw(st.lists(YEAR, max_size=3))
    return {
        "registered_on": registered.isoformat(),
        "closed": closed_on is not None,
        "closed_on": closed_on and closed_on.isoformat(),
        "office": draw(st.sampled_from(["Siegen", "Olpe", None])),
        "caseworker": draw(st.sampled_from(["a", "b", None])),
        "support_need": None,
        "competences": None,
        "measures": [],
        "placements": [{"kind": "job", "starts_on": p.isoformat()} for p in placements],
        "recognized_on": recognized and recognized.isoformat(),
        "handover_accepted_on": accepted and accepted.isoformat(),
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(summaries(), max_size=25), st.integers(1, 4))
def test_the_months_of_a_quarter_add_up_to_the_quarter(docs: list[dict[str, Any]], q: int) -> None:
    whole = quarter(f"2026-Q{q}")
    parts = [month(f"2026-{m:02d}") for m in range(3 * q - 2, 3 * q + 1)]
    of_quarter = case_statistics(docs, NOW, whole.start, whole.end)
    of_months = [case_statistics(docs, NOW, p.start, p.end) for p in parts]
    assert of_quarter["registrations"] == sum(m["registrations"] for m in of_months)
    assert sum(of_quarter["placements_by_kind"].values()) == sum(
        sum(m["placements_by_kind"].values()) for m in of_months
    )
    assert of_quarter["days_recognition_to_acceptance"] == sorted(
        d for m in of_months for d in m["days_recognition_to_acceptance"]
    )
    assert of_quarter["active_cases"] == of_months[-1]["active_cases"]  # open on the last day
    start, end = whole.start, whole.end
    assert start is not None
    assert end is not None
    open_then = [
        d for d in docs
        if date.fromisoformat(d["registered_on"]) <= end
        and (d["closed_on"] is None or date.fromisoformat(d["closed_on"]) > end)
    ]  # fmt: skip
    assert of_quarter["active_cases"] == len(open_then)
    assert sum(of_quarter["by_office"].values()) == len(open_then)
    assert len(of_quarter["registrations_per_week"]) >= (end - start).days // 7


@contextmanager
def dated(day: date) -> Iterator[None]:
    """Events recorded in the block carry ``day`` (noon UTC) as their timestamp."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    with patch.object(ev.CaseEvent, "create_timestamp", staticmethod(lambda: noon)):
        yield


LEADS = {AGENCY: Actor("tl-aa", AGENCY), JOBCENTER: Actor("tl-jc", JOBCENTER)}
# a step: ("assign", (office, caseworker)) or ("hand over", None), on its day
STEP = st.one_of(
    st.tuples(
        st.just("assign"),
        st.tuples(st.sampled_from(["Mitte", "Nord", None]), st.sampled_from(["a", "b", None])),
    ),
    st.tuples(st.just("hand over"), st.none()),
)
HISTORY = st.tuples(YEAR, st.lists(st.tuples(YEAR, STEP), max_size=6))


def recorded(registered: date, steps: list[tuple[date, tuple[str, Any]]]) -> list[ev.CaseEvent]:
    """One case's events: registered by the Agentur, then the steps in the order of their days."""
    with dated(registered), acting_as(LEADS[AGENCY]):
        case = Case.register(
            person=a_person(),
            bamf_file_number=None,
            residence_municipality="Berlin",
            legal_status=LegalStatus.ASYLUM_SEEKER,
            registered_on=registered,
        )
    for day, (kind, assignment) in sorted(steps, key=lambda s: s[0]):
        day = max(day, registered)
        other = JOBCENTER if case.holder == AGENCY else AGENCY
        with dated(day):
            if kind == "assign":
                with acting_as(LEADS[case.holder]):
                    case.assign(office=assignment[0], caseworker=assignment[1])
            else:
                with acting_as(LEADS[case.holder]):
                    case.offer_handover(to_org=other, reason="Wechsel", due_on=day)
                with acting_as(LEADS[other]):
                    case.accept_handover(version=case.version, digest=case.digest,
                                         accepted_on=day)  # fmt: skip
    return case_events(case)


def folded(events: list[ev.CaseEvent]) -> Doc | None:
    doc = None
    for event in events:
        doc = fold(doc, event)
    return doc


@settings(max_examples=60, deadline=None)
@given(st.lists(HISTORY, min_size=1, max_size=4), st.integers(1, 12))
def test_a_months_caseload_is_who_was_responsible_at_its_end(
    histories: list[tuple[date, list[tuple[date, tuple[str, Any]]]]], m: int
) -> None:
    chosen = month(f"2026-{m:02d}")
    start, end = chosen.start, chosen.end
    assert start is not None
    assert end is not None
    logs = [recorded(registered, steps) for registered, steps in histories]
    now = [d for d in (folded(log) for log in logs) if d is not None]
    then = [d for d in (folded([e for e in log if e.timestamp.date() <= end]) for log in logs)
            if d is not None]  # fmt: skip
    for org in (AGENCY, JOBCENTER):
        past = case_statistics(now, NOW, start, end, org)
        as_it_stood = case_statistics(then, NOW, None, None, org)
        for figure in ("active_cases", "by_office", "by_caseworker"):
            assert past[figure] == as_it_stood[figure], (org, figure)


def test_a_handover_just_after_midnight_in_germany_counts_from_that_german_day() -> None:
    """Periods are German days: a handover accepted at 00:30 on 1 June in Berlin (22:30 UTC on
    31 May) leaves the case with the Agentur at the end of May, in May's figures of both."""
    with dated(date(2026, 5, 4)), acting_as(LEADS[AGENCY]):
        case = Case.register(
            person=a_person(),
            bamf_file_number=None,
            residence_municipality="Berlin",
            legal_status=LegalStatus.ASYLUM_SEEKER,
            registered_on=date(2026, 5, 4),
        )
    with dated(date(2026, 5, 20)), acting_as(LEADS[AGENCY]):
        case.offer_handover(to_org=JOBCENTER, reason="Wechsel", due_on=date(2026, 6, 1))
    after_midnight = datetime(2026, 5, 31, 22, 30, tzinfo=UTC)  # 1 June, 00:30 in Berlin
    with (
        patch.object(ev.CaseEvent, "create_timestamp", staticmethod(lambda: after_midnight)),
        acting_as(LEADS[JOBCENTER]),
    ):
        case.accept_handover(
            version=case.version, digest=case.digest, accepted_on=date(2026, 6, 1),
            assign=("Mitte", "b"),
        )  # fmt: skip
    doc = folded(case_events(case))
    assert doc is not None
    may = month("2026-05")
    assert case_statistics([doc], NOW, may.start, may.end, AGENCY)["active_cases"] == 1
    assert case_statistics([doc], NOW, may.start, may.end, JOBCENTER)["active_cases"] == 0
    june = month("2026-06")
    assert case_statistics([doc], NOW, june.start, june.end, JOBCENTER)["by_caseworker"] == {"b": 1}


def test_a_first_meeting_counts_its_working_days_from_the_german_day() -> None:
    """An assignment at 00:30 on Monday 1 June in Berlin (22:30 UTC on Sunday 31 May): the first
    meeting is due five working days after the Monday (8 June), not after the Sunday (5 June)."""
    with dated(date(2026, 5, 4)), acting_as(LEADS[AGENCY]):
        case = Case.register(
            person=a_person(),
            bamf_file_number=None,
            residence_municipality="Berlin",
            legal_status=LegalStatus.ASYLUM_SEEKER,
            registered_on=date(2026, 5, 4),
        )
    after_midnight = datetime(2026, 5, 31, 22, 30, tzinfo=UTC)  # Monday 1 June, 00:30 in Berlin
    with (
        patch.object(ev.CaseEvent, "create_timestamp", staticmethod(lambda: after_midnight)),
        acting_as(LEADS[AGENCY]),
    ):
        case.assign(office="Mitte", caseworker="a")
    state = None
    for event in case_events(case):
        state = follow_ups.fold(state, event)
    assert state is not None
    due = [i["due_on"] for i in state["items"].values() if i["source"] == "first_meeting"]
    assert due == ["2026-06-08"]

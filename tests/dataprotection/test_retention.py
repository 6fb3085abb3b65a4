"""Retention: the pure rule (``domain.retention``) by properties, and ``staffel retention run``
on a generated store (once per backend) with cases closed around their due dates under each
legal basis: the dry run lists exactly the due cases and changes nothing, the real run erases
exactly those, a second run erases nothing."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from io import StringIO
from typing import Any
from uuid import UUID

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from adapters.keystore import CaseKeys
from adapters.settings import Settings
from domain.actor import Actor, acting_as
from domain.aggregates.case_errors import CaseErasedError
from domain.aggregates.case_events import CaseEvent, PersonalDataErased
from domain.application import StaffelApplication
from domain.policy import today_in_germany
from domain.retention import DEFAULT_YEARS, CaseState, add_years, due_cases, due_date
from domain.values import (
    ErasureGround,
    LegalBasis,
    LegalStatus,
    NoteCategory,
    Person,
    Protection,
)
from projections.summary import CaseSummaryProjection
from service_layer import retention
from tests.support.cli import run
from workers.projections import build_view_store, newest_worker

TODAY = date(2025, 6, 30)  # in the past, so a real run may use it
AGENCY, JOBCENTER = "aa-heinsberg", "jobcenter-heinsberg"
CASEWORKER, RECEIVER = Actor("a.schmitz", AGENCY), Actor("j.hoffmann", JOBCENTER)

# -- the rule -------------------------------------------------------------------------------------

bases = st.sampled_from(list(LegalBasis))
year_tables = st.fixed_dictionaries({b: st.integers(1, 30) for b in LegalBasis})
days = st.dates(date(1990, 1, 1), date(2060, 12, 31))
states = st.builds(
    CaseState,
    case_id=st.uuids().map(str),
    legal_basis=bases,
    closed_on=st.none() | days,
    erased=st.booleans(),
)


def anniversaries(closed_on: date, today: date) -> int:
    """Whole years from ``closed_on`` to ``today``, counted by calendar, independently of
    ``add_years``: a 29 February counts its anniversary on 28 February in a common year."""
    month, day = closed_on.month, closed_on.day
    if (month, day) == (2, 29) and not calendar.isleap(today.year):
        day = 28
    return today.year - closed_on.year - ((today.month, today.day) < (month, day))


@st.composite
def a_day_to_decide_on(
    draw: st.DrawFn, cases: list[CaseState], years: dict[LegalBasis, int]
) -> date:
    """Any day, or (more often) one within two days of a case's anniversary, where a rule that
    is off by a day shows."""
    closed = [c for c in cases if c.closed_on is not None]
    if not closed or draw(st.integers(0, 3)) == 0:
        return draw(days)
    case = draw(st.sampled_from(closed))
    assert case.closed_on is not None
    year = case.closed_on.year + years[case.legal_basis]
    day = min(case.closed_on.day, calendar.monthrange(year, case.closed_on.month)[1])
    return date(year, case.closed_on.month, day) + timedelta(days=draw(st.integers(-2, 2)))


@given(st.lists(states, unique_by=lambda s: s.case_id, max_size=30), year_tables, st.data())
def test_a_case_is_due_iff_closed_not_erased_and_its_years_have_passed(
    cases: list[CaseState], years: dict[LegalBasis, int], data: st.DataObject
) -> None:
    today = data.draw(a_day_to_decide_on(cases, years))
    due = due_cases(cases, today, years)
    expected = {
        c.case_id
        for c in cases
        if c.closed_on is not None
        and not c.erased
        and anniversaries(c.closed_on, today) >= years[c.legal_basis]
    }
    assert {d.case_id for d in due} == expected
    assert [(d.due_on, d.case_id) for d in due] == sorted((d.due_on, d.case_id) for d in due)
    for d in due:
        assert d.due_on == due_date(d.closed_on, d.legal_basis, years) <= today


@given(days, bases, year_tables)
def test_the_due_date_is_the_first_day_due(
    closed_on: date, basis: LegalBasis, years: dict[LegalBasis, int]
) -> None:
    case = CaseState("c", basis, closed_on, erased=False)
    on = due_date(closed_on, basis, years)
    assert [d.due_on for d in due_cases([case], on, years)] == [on]
    assert due_cases([case], on - timedelta(days=1), years) == []
    assert [d.case_id for d in due_cases([case], on + timedelta(days=4000), years)] == ["c"]


@given(days, st.integers(0, 40))
@example(date(2020, 2, 29), 5)
@example(date(2020, 2, 29), 4)
def test_add_years_keeps_month_and_day_except_a_lost_leap_day(day: date, years: int) -> None:
    moved = add_years(day, years)
    assert (moved.year, moved.month) == (day.year + years, day.month)
    lost = (day.month, day.day) == (2, 29) and not calendar.isleap(moved.year)
    assert moved.day == (28 if lost else day.day)


@pytest.mark.parametrize(
    ("closed_on", "years", "due_on"),
    [
        (date(2020, 2, 29), 5, date(2025, 2, 28)),  # common year: the last day of February
        (date(2020, 2, 29), 4, date(2024, 2, 29)),  # leap year: the same day
        (date(2016, 2, 29), 10, date(2026, 2, 28)),
        (date(2019, 3, 1), 5, date(2024, 3, 1)),
    ],
)
def test_leap_day_closures(closed_on: date, years: int, due_on: date) -> None:
    assert add_years(closed_on, years) == due_on


def test_the_defaults_are_the_settings_defaults() -> None:
    settings = Settings()
    assert retention.retention_years(settings) == DEFAULT_YEARS
    assert DEFAULT_YEARS == {LegalBasis.SGB_II: 10, LegalBasis.SGB_III: 5, LegalBasis.ASYLBLG: 5}


# -- the generated store --------------------------------------------------------------------------


@dataclass(frozen=True)
class Given:
    case_id: UUID
    label: str
    due: bool


def register(app: StaffelApplication, basis: LegalBasis, registered_on: date) -> UUID:
    with acting_as(CASEWORKER):
        return app.register_case(
            person=Person("Amina", "Quellenbach-Haddad", date(1994, 3, 2), "SY"),
            bamf_file_number=None,
            residence_municipality="Heinsberg",
            legal_status=LegalStatus.ASYLUM_SEEKER,
            legal_basis=basis,
            registered_on=registered_on,
        ).id


def record(
    app: StaffelApplication, case_id: UUID, event: str, by: Actor = CASEWORKER, **f: Any
) -> None:
    with acting_as(by):
        app.record(case_id, event, f)


def close(app: StaffelApplication, case_id: UUID, on: date, by: Actor = CASEWORKER) -> None:
    record(
        app,
        case_id,
        "NoteRecorded",
        by,
        text="Gespräch zu Gesundheit",
        category=NoteCategory.HEALTH,
    )
    record(app, case_id, "CaseClosed", by, reason="Umzug ins Ausland", closed_on=on)


def generate(app: StaffelApplication) -> list[Given]:
    """Cases under each legal basis closed the day before, on and after the day that makes them
    due on ``TODAY``, and the cases no run may touch."""
    givens: list[Given] = []
    for basis, years in DEFAULT_YEARS.items():
        anniversary = TODAY.replace(year=TODAY.year - years)
        for delta, label in ((1, "a day short"), (0, "due today"), (-1, "due yesterday")):
            closed_on = anniversary + timedelta(days=delta)
            case_id = register(app, basis, closed_on - timedelta(days=400))
            close(app, case_id, closed_on)
            givens.append(Given(case_id, f"{basis} {label}", due=delta <= 0))
    leap = register(app, LegalBasis.SGB_III, date(2019, 1, 7))
    close(app, leap, date(2020, 2, 29))  # due 2025-02-28
    givens.append(Given(leap, "closed on a leap day", due=True))
    # SGB III would be due after 7 years, SGB II is not: the basis it was closed under counts
    handed_over = register(app, LegalBasis.SGB_III, date(2016, 1, 4))
    with acting_as(CASEWORKER):
        app.record(
            handed_over,
            "AsylumRecognized",
            {"protection": Protection.REFUGEE, "decided_on": date(2016, 5, 2)},
        )
        app.offer_handover(handed_over, to_org=JOBCENTER, reason="anerkannt")
    with acting_as(RECEIVER):
        case = app.get_case(handed_over)
        app.accept_handover(handed_over, version=case.version, digest=case.digest)
    close(app, handed_over, date(2018, 3, 1), by=RECEIVER)
    givens.append(Given(handed_over, "SGB II after a handover, 7 years", due=False))
    old_jobcenter = register(app, LegalBasis.SGB_II, date(2010, 1, 4))
    close(app, old_jobcenter, date(2014, 6, 30))
    givens.append(Given(old_jobcenter, "SGB II, 11 years", due=True))
    givens.append(Given(register(app, LegalBasis.SGB_II, date(2001, 1, 2)), "open", due=False))
    reopened = register(app, LegalBasis.SGB_III, date(2001, 1, 2))
    close(app, reopened, date(2002, 1, 2))
    record(app, reopened, "CaseReopened", reason="Rückkehr")
    givens.append(Given(reopened, "reopened", due=False))
    closed_again = register(app, LegalBasis.ASYLBLG, date(2001, 1, 2))
    close(app, closed_again, date(2002, 1, 2))
    record(app, closed_again, "CaseReopened", reason="Rückkehr")
    close(app, closed_again, date(2024, 1, 2))
    givens.append(Given(closed_again, "closed again lately", due=False))
    erased = register(app, LegalBasis.SGB_III, date(2001, 1, 2))
    close(app, erased, date(2002, 1, 2))
    with acting_as(CASEWORKER):
        app.erase_personal_data(erased, ground=ErasureGround.SUBJECT_REQUEST, reason="Art. 17")
    givens.append(Given(erased, "erased already", due=False))
    return givens


def head(app: StaffelApplication) -> int:
    return app.recorder.max_notification_id() or 0


def keys(app: StaffelApplication) -> CaseKeys:
    assert isinstance(app.keys, CaseKeys)
    return app.keys


def last_event(app: StaffelApplication, case_id: UUID) -> CaseEvent:
    stored = app.recorder.select_events(case_id, desc=True, limit=1)
    event = app.mapper.to_domain_event(stored[0])
    assert isinstance(event, CaseEvent)
    return event


def found_personal(text: str) -> list[str]:
    return [
        value for value in ("Amina", "Quellenbach", "1994-03-02", "Gesundheit") if value in text
    ]


def listed(out: str, result: str) -> set[UUID]:
    return {UUID(line.split()[0]) for line in out.splitlines() if line.endswith(f"  {result}")}


def test_dry_run_lists_the_due_cases_and_the_run_erases_exactly_those(
    app: StaffelApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    givens = generate(app)
    due = {g.case_id for g in givens if g.due}
    before = head(app)

    code, out, err = run(capsys, "retention", "run", "--dry-run", "--today", TODAY.isoformat())
    assert code == 0, err
    assert listed(out, "due") == due, out
    assert f"dry run for {TODAY}: {len(due)} due, 0 interrupted" in out
    assert "catch up case_summary" in err
    assert head(app) == before
    assert not any(keys(app).is_erased(g.case_id) for g in givens if g.label != "erased already")
    assert not found_personal(out + err)

    code, out, err = run(capsys, "retention", "run", "--today", TODAY.isoformat())
    assert code == 0, err
    assert listed(out, "erased") == due, out
    assert f"retention for {TODAY}: {len(due)} erased, 0 already erased" in out
    assert "retention: " in err  # the progress bar
    assert not found_personal(out + err)
    assert head(app) == before + len(due)
    for case in givens:
        assert keys(app).is_erased(case.case_id) is (case.due or case.label == "erased already")
        stored = last_event(app, case.case_id)
        if case.due:
            assert isinstance(stored, PersonalDataErased), case.label
            assert stored.ground == ErasureGround.RETENTION_EXPIRED
            assert (stored.actor, stored.org) == (
                retention.ACTOR_ID,
                app.get_case(case.case_id).holder,
            )
            assert stored.reason.startswith("Aufbewahrungsfrist abgelaufen")
        elif case.label != "erased already":
            assert not isinstance(stored, PersonalDataErased), case.label

    code, out, _ = run(capsys, "retention", "run", "--today", TODAY.isoformat())
    assert code == 0
    assert listed(out, "erased") == set()
    assert f"retention for {TODAY}: 0 erased" in out
    assert head(app) == before + len(due)
    with acting_as(CASEWORKER), pytest.raises(CaseErasedError):
        app.record(next(iter(due)), "NoteRecorded", {"text": "x", "category": NoteCategory.WORK})


def test_an_interrupted_erasure_is_finished_by_the_next_run(
    app: StaffelApplication, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = register(app, LegalBasis.SGB_III, date(2010, 1, 4))
    close(app, case_id, date(2012, 1, 4))
    with monkeypatch.context() as patch:  # the process dies between the event and the key
        patch.setattr(keys(app), "erase", lambda _: False)
        with acting_as(CASEWORKER):
            app.erase_personal_data(case_id, ground=ErasureGround.SUBJECT_REQUEST, reason="Art. 17")
    assert not keys(app).is_erased(case_id)

    code, out, _ = run(capsys, "retention", "run", "--dry-run", "--today", TODAY.isoformat())
    assert code == 0
    assert f"{case_id}  key still stored" in out
    assert not keys(app).is_erased(case_id)

    before = head(app)
    code, out, _ = run(capsys, "retention", "run", "--today", TODAY.isoformat())
    assert code == 0
    assert f"{case_id}  key deleted: completes an interrupted erasure" in out
    assert "1 interrupted erasures finished, 0 failed" in out
    assert keys(app).is_erased(case_id)
    assert head(app) == before  # no second PersonalDataErased


def test_a_case_changed_since_it_was_read_is_left_alone(app: StaffelApplication) -> None:
    case_id = register(app, LegalBasis.SGB_III, date(2010, 1, 4))
    close(app, case_id, date(2012, 1, 4))
    store = build_view_store(app)
    worker = newest_worker(app, store, CaseSummaryProjection())
    retention.catch_up(worker, head(app))
    work = retention.plan(app, store, worker.generation, TODAY, DEFAULT_YEARS)
    assert [d.case_id for d in work.due] == [str(case_id)]
    record(app, case_id, "CaseReopened", reason="Rückkehr")  # after the run read the summary

    out = StringIO()
    done = retention.erase_due(app, work, DEFAULT_YEARS, out, lambda _: None)
    assert done.failed == [str(case_id)]
    assert "changed since it was read" in out.getvalue()
    assert not app.get_case(case_id).erased
    assert not keys(app).is_erased(case_id)


def test_exit_codes_and_help(
    app: StaffelApplication, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for argv in (["retention", "--help"], ["retention", "run", "--help"]):
        code, out, _ = run(capsys, *argv)
        assert (code, out.startswith("usage: staffel retention")) == (0, True)
    assert "--dry-run" in run(capsys, "retention", "run", "--help")[1]
    assert run(capsys, "retention")[0] == 2
    assert run(capsys, "retention", "run", "--today", "30.06.2025")[0] == 2
    tomorrow = (today_in_germany() + timedelta(days=1)).isoformat()
    code, _, err = run(capsys, "retention", "run", "--today", tomorrow)
    assert code == 2
    assert "--dry-run" in err
    assert run(capsys, "retention", "run", "--dry-run", "--today", tomorrow)[0] == 0

    failing = register(app, LegalBasis.SGB_III, date(2010, 1, 4))
    close(app, failing, date(2012, 1, 4))
    erasable = register(app, LegalBasis.SGB_III, date(2010, 1, 4))
    close(app, erasable, date(2012, 1, 5))
    erase = StaffelApplication.erase_personal_data

    def refuse_one(self: StaffelApplication, case_id: UUID, **kwargs: Any) -> Any:
        if case_id == failing:
            raise OSError("disk full")
        return erase(self, case_id, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(StaffelApplication, "erase_personal_data", refuse_one)
        code, out, _ = run(capsys, "retention", "run", "--today", TODAY.isoformat())
    assert code == 1
    assert f"{failing}  sgb_iii  2012-01-04  2017-01-04  failed: OSError" in out
    assert "disk full" not in out
    assert f"{erasable}  sgb_iii  2012-01-05  2017-01-05  erased" in out
    assert "1 erased, 0 already erased, 0 interrupted erasures finished, 1 failed" in out
    code, out, _ = run(capsys, "retention", "run", "--today", TODAY.isoformat())
    assert code == 0  # run again: what failed is erased now, the rest is skipped
    assert listed(out, "erased") == {failing}

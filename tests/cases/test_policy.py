"""The legal rules as data: counselling basis, the month rule, the handover answer period."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import policy
from domain.values import LegalBasis, LegalStatus


@pytest.mark.parametrize(
    ("decided_on", "switch_on"),
    [
        (date(2026, 4, 20), date(2026, 5, 1)),
        (date(2026, 4, 1), date(2026, 5, 1)),
        (date(2026, 4, 30), date(2026, 5, 1)),
        (date(2026, 1, 31), date(2026, 2, 1)),
        (date(2026, 3, 31), date(2026, 4, 1)),
        (date(2026, 8, 31), date(2026, 9, 1)),
        (date(2026, 2, 28), date(2026, 3, 1)),
        (date(2028, 2, 29), date(2028, 3, 1)),
        (date(2026, 12, 1), date(2027, 1, 1)),
        (date(2026, 12, 31), date(2027, 1, 1)),
    ],
    ids=str,
)
def test_given_a_decision_then_the_switch_is_on_the_first_of_the_next_month(
    decided_on: date, switch_on: date
) -> None:
    assert policy.switch_date(decided_on) == switch_on


@given(st.dates(max_value=date(9999, 11, 30)))
def test_given_any_decision_then_the_switch_is_a_first_within_32_days_after_it(
    decided_on: date,
) -> None:
    switch_on = policy.switch_date(decided_on)

    assert switch_on.day == 1
    assert decided_on < switch_on <= decided_on + timedelta(days=32)
    assert (switch_on - timedelta(days=1)).month == decided_on.month  # the very next month


@pytest.mark.parametrize(
    ("offered_on", "due_on"),
    [
        (date(2026, 4, 24), date(2026, 5, 1)),  # Friday -> next Friday
        (date(2026, 4, 20), date(2026, 4, 27)),  # Monday -> next Monday
        (date(2026, 4, 22), date(2026, 4, 29)),  # Wednesday -> next Wednesday
        (date(2026, 4, 25), date(2026, 5, 1)),  # Saturday -> Friday
        (date(2026, 4, 26), date(2026, 5, 1)),  # Sunday -> Friday
    ],
    ids=str,
)
def test_given_an_offer_then_it_is_due_after_five_working_days(
    offered_on: date, due_on: date
) -> None:
    assert policy.handover_due_date(offered_on) == due_on


def test_given_an_offer_on_a_friday_with_one_working_day_then_it_is_due_on_monday() -> None:
    assert policy.handover_due_date(date(2026, 4, 24), working_days=1) == date(2026, 4, 27)


@given(st.dates(max_value=date(9999, 1, 1)), st.integers(min_value=1, max_value=30))
def test_given_any_offer_then_the_due_date_is_a_weekday_with_exactly_n_working_days(
    offered_on: date, working_days: int
) -> None:
    due_on = policy.handover_due_date(offered_on, working_days)

    assert due_on.weekday() < 5
    between = [offered_on + timedelta(days=n) for n in range(1, (due_on - offered_on).days + 1)]
    assert sum(d.weekday() < 5 for d in between) == working_days


@pytest.mark.parametrize("status", list(LegalStatus), ids=str)
def test_given_any_status_then_it_has_a_counselling_basis(status: LegalStatus) -> None:
    assert policy.counselling_basis(status) in (LegalBasis.SGB_II, LegalBasis.SGB_III)


@pytest.mark.parametrize(
    ("status", "basis"),
    [
        (LegalStatus.ASYLUM_SEEKER, LegalBasis.SGB_III),
        (LegalStatus.TOLERATED, LegalBasis.SGB_III),
        (LegalStatus.REFUGEE, LegalBasis.SGB_II),
        (LegalStatus.SUBSIDIARY_PROTECTION, LegalBasis.SGB_II),
        (LegalStatus.TEMPORARY_PROTECTION, LegalBasis.SGB_II),
    ],
    ids=str,
)
def test_given_a_status_then_counselling_follows_the_documented_basis(
    status: LegalStatus, basis: LegalBasis
) -> None:
    assert policy.counselling_basis(status) == basis

"""``Case.__deepcopy__``: the repository answers a deep copy of each case it caches (a bulk read a
hundred at a time). The copy has the same state, shares nothing that can change, and takes the
values that cannot change (dates, UUIDs, frozen values) as they are instead of rebuilding each."""

from __future__ import annotations

from copy import deepcopy

from domain.aggregates.case import Case
from tests.support.projections import RandomChooser, World, random_events, register


def varied_cases() -> list[Case]:
    """Cases with every kind of state (unsealed: no key store, never saved)."""
    world, chooser = World.fresh(), RandomChooser(3)
    cases = []
    for _ in range(12):
        case, _ = register(world, chooser)
        random_events(case, world, chooser, 25)
        cases.append(case)
    return cases


def test_a_copy_has_the_same_state_and_shares_nothing_that_can_change() -> None:
    cases = varied_cases()
    assert any(case.handover is not None for case in cases)
    for case in cases:
        copied = deepcopy(case)
        assert copied is not case
        assert type(copied) is Case
        assert vars(copied) == vars(case)
        for name, value in vars(case).items():
            if isinstance(value, dict | list | set):
                assert getattr(copied, name) is not value, name
        assert copied.created_on is case.created_on  # a datetime cannot change: not rebuilt


def test_changing_the_copy_leaves_the_cached_case_as_it_was() -> None:
    for case in varied_cases():
        before = deepcopy(vars(case))
        copied = deepcopy(case)
        for value in vars(copied).values():
            if isinstance(value, dict):
                value["changed"] = True
            elif isinstance(value, list):
                value.append("changed")
        assert vars(case) == before

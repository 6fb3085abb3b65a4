"""The canonical form the hashes are computed over: sorted keys, no whitespace, no floats."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.chain import canonical_bytes, to_canonical
from domain.values import LegalBasis, Person, WageSubsidy

CASE_ID = UUID("12345678-1234-5678-1234-567812345678")

json_scalars = st.none() | st.booleans() | st.integers() | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
# A top-level "hash" is the stored hash itself and is left out of the canonical form.
state_keys = st.text(max_size=8).filter(lambda key: key != "hash")
states = st.dictionaries(state_keys, json_values, max_size=6)


def reordered(value: Any) -> Any:
    """The same value with every object's keys inserted in reverse order."""
    if isinstance(value, dict):
        return {k: reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list | tuple):
        return type(value)(reordered(v) for v in value)
    return value


def canonical(state: dict[str, Any]) -> bytes:
    return canonical_bytes(CASE_ID, 3, "staffel:Case.NoteRecorded", 2, state)


def test_given_a_state_then_the_canonical_form_has_sorted_keys_and_no_whitespace() -> None:
    state = {"b": 1, "a": [True, None, "x y"], "c": {"z": 0, "y": -1}}

    assert canonical_bytes(CASE_ID, 3, "t", 2, state) == (
        b'{"case_id":"12345678-1234-5678-1234-567812345678","class_version":2,'
        b'"state":{"a":[true,null,"x y"],"b":1,"c":{"y":-1,"z":0}},"topic":"t","version":3}'
    )


def test_given_the_same_state_in_another_key_order_then_the_canonical_form_is_the_same() -> None:
    one = {"org": "aa-berlin", "actor": "u1", "nested": {"b": 2, "a": 1}}
    other = {"nested": {"a": 1, "b": 2}, "actor": "u1", "org": "aa-berlin"}

    assert canonical(one) == canonical(other)


def test_given_non_ascii_text_then_it_is_kept_as_utf8_not_escaped() -> None:
    assert '"Bäckerei Müller"'.encode() in canonical({"employer": "Bäckerei Müller"})


def test_given_domain_values_then_they_take_their_documented_canonical_form() -> None:
    person = Person("Amina", "Haddad", date(1994, 3, 2), "SY", ("ar",))

    assert to_canonical(LegalBasis.SGB_II) == "sgb_ii"
    assert to_canonical(date(2026, 5, 1)) == "2026-05-01"
    assert to_canonical(datetime(2026, 5, 1, 8, 30, tzinfo=UTC)) == "2026-05-01T08:30:00+00:00"
    assert to_canonical(CASE_ID) == "12345678-1234-5678-1234-567812345678"
    assert to_canonical(("a", 1)) == ["a", 1]
    assert to_canonical(person) == {
        "given_name": "Amina",
        "family_name": "Haddad",
        "birth_date": "1994-03-02",
        "nationality": "SY",
        "languages": ["ar"],
    }
    assert to_canonical(WageSubsidy(percent=50, months=6)) == {"percent": 50, "months": 6}


@pytest.mark.parametrize(
    "state",
    [{"amount": 1.5}, {"amounts": [1, 2.0]}, {"nested": {"ratio": 0.5}}, {"nan": float("nan")}],
    ids=["top-level", "in-a-list", "in-an-object", "nan"],
)
def test_given_a_float_anywhere_in_the_state_then_it_is_refused(state: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        canonical(state)


@given(states)
def test_given_any_json_like_state_then_the_canonical_form_is_deterministic(
    state: dict[str, Any],
) -> None:
    once = canonical(state)

    assert canonical(state) == once
    assert canonical(reordered(state)) == once
    document = json.loads(once)
    assert once == json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert document["state"] == json.loads(json.dumps(to_canonical(state)))


@given(states, st.floats(allow_nan=False))
def test_given_any_state_with_a_float_added_then_it_is_refused(
    state: dict[str, Any], value: float
) -> None:
    with pytest.raises(TypeError):
        canonical({**state, "float": [value]})

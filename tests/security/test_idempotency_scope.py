"""The Idempotency-Key's scope (issue 13): two callers never share a key, however their
organisation, user id and key are spelt."""

from __future__ import annotations

from api.deps import idempotency_key
from domain.principal import Principal, Role
from tests.support.api import AGENTUR, Api, auth, registration


def principal(sub: str, org: str = AGENTUR) -> Principal:
    return Principal(sub, sub, org, frozenset({Role.CASEWORKER}))


def test_the_scope_is_unambiguous() -> None:
    pairs = [
        (principal("x:y"), "k", principal("x"), "y:k"),
        (principal("b", org="a:"), "k", principal(":b", org="a"), "k"),
        (principal("x"), "k", principal("x", org=AGENTUR + ":x"), "k"),
    ]
    for first, key, second, other_key in pairs:
        a = idempotency_key(first, key, "POST", "/cases", {})
        b = idempotency_key(second, other_key, "POST", "/cases", {})
        assert a is not None
        assert b is not None
        assert a.key != b.key, (first, key, second, other_key)


def test_another_user_never_gets_my_answer(api: Api) -> None:
    body = registration(bamf_file_number=None)
    mine = api.client.post(
        "/cases", json=body, headers={**auth("x:y", AGENTUR), "Idempotency-Key": "k"}
    )
    theirs = api.client.post(
        "/cases", json=body, headers={**auth("x", AGENTUR), "Idempotency-Key": "y:k"}
    )
    assert mine.status_code == theirs.status_code == 201, (mine.text, theirs.text)
    assert mine.json()["case_id"] != theirs.json()["case_id"]

"""Issue 16, cheaper requests: a staff event reads its case once (the access check looks at the
case the command reads, not at a read of its own), and the check still comes first: another
organisation, even with an If-Match, gets the answer for a case that does not exist, and
nothing is recorded."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.support.api import SAARLAND, Api, auth, note, problem_of


@contextmanager
def case_reads(api: Api) -> Iterator[list[Any]]:
    """Every read of a case by id while the block runs (the repository's ``get``)."""
    repository = api.services.cases.repository
    reads: list[Any] = []
    get = repository.get

    def counting(aggregate_id: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(aggregate_id)
        return get(aggregate_id, *args, **kwargs)

    repository.get = counting  # type: ignore[method-assign]
    try:
        yield reads
    finally:
        repository.get = get  # type: ignore[method-assign]


def test_a_note_reads_its_case_once(api: Api) -> None:
    case_id = api.register()["case_id"]
    with case_reads(api) as reads:
        api.record(case_id, note("Termin vereinbart"))
    assert reads == [uuid.UUID(case_id)]


@pytest.mark.parametrize("if_match", [None, "1", "99"])
def test_another_organisation_gets_no_such_case_first(api: Api, if_match: str | None) -> None:
    case_id = api.register()["case_id"]
    stranger = auth("cw-saar", SAARLAND)
    if if_match is not None:
        stranger["If-Match"] = if_match
    head = api.head()
    answers = []
    for target in (case_id, str(uuid.uuid4())):
        r = api.client.post(f"/cases/{target}/events", json=note(), headers=stranger)
        answers.append(problem_of(r, 404)["detail"].replace(target, "<id>"))
    assert answers[0] == answers[1]
    assert api.head() == head

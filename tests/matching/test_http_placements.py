"""Placements through HTTP under concurrent requests, once per backend: never more 201s than
positions; the others are 409 problems; the offer ends filled."""

from __future__ import annotations

from collections import Counter

from tests.support.api import (
    AGENTUR,
    Api,
    an_assessed_person,
    an_employer,
    an_offer,
    auth,
    get,
    poster,
    problem_of,
    race,
)

PEOPLE = 6


def test_concurrent_placements_fill_the_offer_and_no_more(api: Api) -> None:
    _, employer_id = an_employer(api)
    offer_id = an_offer(api, employer_id, api.agentur, positions=2)
    people = [an_assessed_person(api) for _ in range(PEOPLE)]
    writers = [auth(f"cw-{i}", AGENTUR) for i in range(PEOPLE)]
    responses = race(*(
        poster(api, f"/offers/{offer_id}/placements", {"case_id": c, "starts_on": "2026-06-01"}, h)
        for c, h in zip(people, writers, strict=True)
    ))  # fmt: skip

    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 2, 409: PEOPLE - 2}, [r.text for r in responses]
    for r in responses:
        if r.status_code == 409:
            kind = problem_of(r, 409)["type"].rsplit("/", 1)[1]
            assert kind in ("offer-state", "concurrent-change"), r.text
    offer = get(api, f"/offers/{offer_id}", api.agentur)
    assert (offer["state"], offer["free"]) == ("filled", 0)
    placed = {r.json()["case_id"] for r in responses if r.status_code == 201}
    for case_id in people:
        placements = get(api, f"/cases/{case_id}", api.agentur)["placements"]
        assert bool(placements) == (case_id in placed)
        assert all(p["offer_id"] == offer_id for p in placements)

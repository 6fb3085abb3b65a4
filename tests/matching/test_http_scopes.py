"""Employers, offers, volunteers and matching over HTTP, once per backend: an employer manages
only its own offers and sees a person only after consent, only the consented fields, and not
after a withdrawal; a volunteer sees only the people it mentors, only what they share with
their mentor; every person shown is in the access log."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

from tests.support.api import (
    AGENTUR,
    DRK,
    JOBCENTER,
    Api,
    an_assessed_person,
    an_employer,
    an_offer,
    auth,
    get,
    post,
    problem_of,
)

ON = "2026-06-01"


def consent(api: Api, case_id: str, purpose: str, recipient: str, scope: list[str],
            headers: dict[str, str] | None = None) -> str:  # fmt: skip
    consent_id = f"c-{uuid4().hex[:8]}"
    api.record(case_id, {"type": "ConsentGiven", "consent_id": consent_id, "purpose": purpose,
                         "recipient": recipient, "scope": scope, "given_on": "2026-05-04"},
               headers)  # fmt: skip
    return consent_id


def logged(api: Api, case_id: str, actor: str) -> list[str]:
    return [e["endpoint"] for e in api.services.access_log.entries(case_id=case_id, actor=actor)]


def slowly(apply_batch: Callable[..., bool]) -> Callable[..., bool]:
    def apply_later(*args: Any, **kwargs: Any) -> bool:
        time.sleep(0.3)
        return apply_batch(*args, **kwargs)

    return apply_later


def test_an_employer_sees_people_only_by_consent_and_only_the_consented_fields(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, employer_id = an_employer(api)
    employer = auth("h.dahmen", account, "employer")
    offer_id = an_offer(api, employer_id, employer)
    shared, private = an_assessed_person(api), an_assessed_person(api)
    given = consent(api, shared, "share_with_employer", account, ["name", "german_level"])
    other, _ = an_employer(api)
    consent(api, private, "share_with_employer", other, ["name"])  # another employer

    staff = get(api, f"/offers/{offer_id}/candidates", api.agentur)["items"]
    assert {shared, private} <= {i["case_id"] for i in staff}  # the holder's staff: all of theirs
    (seen,) = get(api, f"/offers/{offer_id}/candidates", employer)["items"]
    assert seen["case_id"] == shared
    assert seen["fields"] == ["german_level", "name"]
    assert seen["person"] == {"name": {"given_name": "Rahel", "family_name": "Tesfaye"},
                              "german_level": "B1"}  # fmt: skip
    assert seen["explanation"] == (
        "Deutsch B1 erfüllt A2; Berufserfahrung nicht freigegeben; Wohnort nicht freigegeben;"
        " Aufenthaltsstatus nicht freigegeben"
    )
    assert logged(api, shared, "h.dahmen") == ["GET /offers/{id}/candidates"]
    assert logged(api, private, "h.dahmen") == []
    get(api, f"/cases/{shared}", employer, status=403)  # the case itself: never

    # the employer's id works as its org too
    by_id = auth("h.dahmen", employer_id, "employer")
    assert [i["case_id"] for i in get(api, f"/offers/{offer_id}/candidates", by_id)["items"]] == [
        shared
    ]

    # withdrawn: hidden from the very next read, though the employer does not know to wait and
    # the view is slow to follow
    store = api.services.supervisor.store
    monkeypatch.setattr(store, "apply_batch", slowly(store.apply_batch))
    api.record(shared, {"type": "ConsentWithdrawn", "consent_id": given, "withdrawn_on": ON})
    r = api.client.get(f"/offers/{offer_id}/candidates", headers=employer)  # no min_position
    assert r.status_code == 200, r.text
    assert r.json()["items"] == []


def test_an_employer_manages_only_its_own_offers(api: Api) -> None:
    account, employer_id = an_employer(api)
    other_account, other_id = an_employer(api)
    mine, theirs = auth("h", account, "employer"), auth("o", other_account, "employer")
    offer_id = an_offer(api, employer_id, mine)

    body = {"employer_id": employer_id, "kind": "job", "occupation": "Bäcker",
            "municipality": "Heinsberg", "starts_on": ON}  # fmt: skip
    problem_of(api.client.post("/offers", json=body, headers=theirs), 403)
    problem_of(api.client.post(f"/offers/{offer_id}/pause", json={"reason": "x"}, headers=theirs),
               403)  # fmt: skip
    get(api, f"/offers/{offer_id}", theirs, status=403)
    get(api, f"/offers/{offer_id}/candidates", theirs, status=403)
    assert get(api, f"/offers?employer_id={other_id}", theirs)["items"] == []
    listed = get(api, "/offers?limit=200", mine)["items"]
    assert [o["offer_id"] for o in listed] == [offer_id]
    assert listed[0]["employer_name"] == "Elektro Dahmen GmbH"
    assert [e["employer_id"] for e in get(api, "/employers", mine)["items"]] == [employer_id]
    get(api, f"/employers/{other_id}", mine, status=403)

    post(api, f"/offers/{offer_id}/pause", {"reason": "Betriebsferien"}, mine)
    assert get(api, f"/offers/{offer_id}", mine)["state"] == "paused"
    conflict = problem_of(
        api.client.post(f"/offers/{offer_id}/pause", json={"reason": "x"}, headers=mine), 409
    )
    assert conflict["state"] == "paused"
    post(api, f"/offers/{offer_id}/reopen", {}, api.agentur)  # the caring organisation may too
    by_id = auth("h", employer_id, "employer")  # a token naming the employer's id
    post(api, f"/offers/{offer_id}/withdraw", {"reason": "besetzt"}, by_id)
    get(api, "/volunteers", mine, status=403)


def test_a_volunteer_sees_only_its_mentees_and_what_they_share_with_it(api: Api) -> None:
    coordinator = auth("h.vogel", DRK, "team_lead")
    login = f"v-{uuid4().hex[:8]}"
    body = {"login": login, "name": "Petra Lang", "languages": ["de"],
            "municipality": "Heinsberg", "capacity": 1}  # fmt: skip
    volunteer_id = str(post(api, "/volunteers", body, coordinator)["id"])
    me = auth(login, DRK, "volunteer")
    mentee, other = an_assessed_person(api), an_assessed_person(api)
    consent(api, mentee, "share_with_mentor", DRK, ["name", "municipality"])
    consent(api, other, "share_with_mentor", DRK, ["name"])  # shares, but is not mentored
    recorded = post(api, f"/volunteers/{volunteer_id}/mentees", {"case_id": mentee}, api.agentur)
    assert recorded["case_id"] == mentee
    again = api.client.post(
        f"/volunteers/{volunteer_id}/mentees", json={"case_id": other}, headers=api.agentur
    )
    conflict = problem_of(again, 409)
    assert conflict["type"].endswith("/volunteer-at-capacity")

    assert get(api, "/volunteers/me", me)["mentee_count"] == 1
    (seen,) = get(api, f"/volunteers/{volunteer_id}/mentees", me)["items"]
    assert (seen["case_id"], seen["fields"]) == (mentee, ["municipality", "name"])
    assert seen["person"] == {"name": {"given_name": "Rahel", "family_name": "Tesfaye"},
                              "municipality": "Hückelhoven"}  # fmt: skip
    assert logged(api, mentee, login) == ["GET /volunteers/{id}/mentees"]
    get(api, f"/cases/{mentee}", me, status=403)
    get(api, f"/volunteers/{volunteer_id}/mentees", api.agentur, status=403)
    get(api, f"/volunteers/{volunteer_id}/mentees", auth("x", DRK, "volunteer"), status=403)
    assert [v["volunteer_id"] for v in get(api, "/volunteers", me)["items"]] == [volunteer_id]

    post(api, f"/volunteers/{volunteer_id}/leave", {}, me)
    get(api, f"/volunteers/{volunteer_id}/mentees", me, status=403)


def test_offers_for_a_person_are_ranked_and_explained(api: Api) -> None:
    account, employer_id = an_employer(api)
    employer = auth("h", account, "employer")  # a registered employer's own staff
    near = an_offer(api, employer_id, api.agentur)
    case_id = an_assessed_person(api)
    items = get(api, f"/cases/{case_id}/offers?limit=200", api.agentur)["items"]
    mine = [i for i in items if i["offer"]["offer_id"] == near]
    assert mine[0]["explanation"] == (
        "Deutsch B1 erfüllt A2; 3 Jahre als Elektriker; Nachbargemeinde;"
        " Zustimmung der Ausländerbehörde nötig"
    )
    assert items == sorted(items, key=lambda i: -i["score"])
    assert logged(api, case_id, "cw-agentur") == ["GET /cases/{id}/offers"]
    get(api, f"/cases/{case_id}/offers", employer, status=403)
    get(api, f"/cases/{case_id}/offers", auth("cw", JOBCENTER), status=404)  # as for no case


def test_the_endpoints_are_in_the_openapi_document(api: Api) -> None:
    paths = api.app.openapi()["paths"]  # /openapi.json is closed in production (issue 13)
    for path in (
        "/employers", "/employers/{employer_id}", "/offers", "/offers/{offer_id}",
        "/offers/{offer_id}/placements", "/offers/{offer_id}/candidates",
        "/cases/{case_id}/offers", "/volunteers", "/volunteers/{volunteer_id}/mentees",
    ):  # fmt: skip
        assert path in paths, path
    assert "409" in paths["/offers/{offer_id}/placements"]["post"]["responses"]
    assert AGENTUR  # the Agentur's staff register the employers above

"""Other organisations (issue 13): a case that exists and one that does not get the same answer
(404) on every ``/cases/{case_id}...`` route and page, and on the writes that name a case in
their body; a role that reads no case is refused before the case is looked up; no refusal names
who holds a case to a caller who may not read it."""

from __future__ import annotations

import uuid
from typing import Any

from api.web.core import CSRF_COOKIE, SESSION_COOKIE
from tests.support.api import (
    AGENTUR,
    DRK,
    JOBCENTER,
    SAARLAND,
    Api,
    auth,
    note,
    person,
    problem_of,
    registration,
    token,
    unique_bamf,
)
from tests.support.world import body_for, fill, operations, seed, web_session


def same_answer(api: Api, method: str, path: str, world: Any, headers: dict[str, str],
                ids: dict[str, str]) -> tuple[int, int, str]:  # fmt: skip
    """The answers for the real case and a random id, with each id masked."""
    answers = []
    for case_id in (ids["case_id"], str(uuid.uuid4())):
        body = body_for(method, path, world)
        if isinstance(body, dict) and "case_id" in body:
            body = {**body, "case_id": case_id}
        r = api.client.request(
            method, fill(path, {**ids, "case_id": case_id}), json=body, headers=headers
        )
        answers.append((r.status_code, r.text.replace(case_id, "<id>")))
    (first, text), (second, other) = answers
    assert text == other, (method, path, text, other)
    return first, second, text


def test_other_organisations_cannot_tell_a_case_from_none(api: Api) -> None:
    world = seed(api)
    head = api.head()
    callers = {
        "caseworker of another org": auth("cw-saar", SAARLAND, "caseworker"),
        "team lead of another org": auth("tl-saar", SAARLAND, ["team_lead", "admin"]),
        "volunteer": auth("p.lang", DRK, "volunteer"),
        "employer": auth("h.dahmen", "elektro-dahmen", "employer"),
    }
    case_routes = [(m, p) for m, p in operations(api) if "{case_id}" in p and "/audit/" not in p]
    case_routes += [("POST", "/offers/{offer_id}/placements"),
                    ("POST", "/volunteers/{volunteer_id}/mentees")]  # fmt: skip
    differ = []
    for who, headers in callers.items():
        for method, path in case_routes:
            ids = world.ids(path)
            first, second, text = same_answer(api, method, path, world, headers, ids)
            if first != second:
                differ.append(f"{who}: {method} {path}: {first} for the case, {second} for none")
            assert AGENTUR not in text, (who, method, path, text)
            role_refused = "/erasure" in path or "/subject-access-report" in path
            if "team lead" in who or ("caseworker" in who and not role_refused):
                assert first == 404, (who, method, path, text)  # a role refusal: 403 for both
    assert not differ, "\n".join(differ)
    api.settle()
    assert api.recorded_since(head) == 0


def test_the_web_case_page_answers_others_as_for_no_case(api: Api) -> None:
    world = seed(api)
    api.client.cookies.set(
        SESSION_COOKIE, web_session(api, token("tl-saar", SAARLAND, ["team_lead"])), path="/ui"
    )
    pages = []
    for case_id in (world.case_id, str(uuid.uuid4())):
        for path in (f"/ui/cases/{case_id}", f"/ui/cases/{case_id}/offers",
                     f"/ui/cases/{case_id}/subject-access-report"):  # fmt: skip
            r = api.client.get(path, follow_redirects=False)
            pages.append((r.status_code, AGENTUR in r.text))
    api.client.cookies.clear()
    assert pages == [(404, False)] * 6, pages


def test_no_refusal_names_the_holder(api: Api) -> None:
    """A former holder may read what it recorded itself, not who holds the case now."""
    world = seed(api)
    r = api.client.post(
        f"/cases/{world.offered_id}/handover/accept",
        json={"version": world.offered_version, "digest": world.offered_digest},
        headers=api.jobcenter,
    )
    assert r.status_code == 201, r.text
    # the Jobcenter hands it on to the Saarland: the Agentur has no way of knowing
    case = f"/cases/{world.offered_id}"
    saar = auth("cw-saar", SAARLAND)
    offered = api.client.post(
        case + "/handover", json={"to_org": SAARLAND, "reason": "Umzug"}, headers=api.jobcenter
    )
    assert offered.status_code == 201, offered.text
    api.settle()
    r = api.client.post(
        case + "/handover/accept",
        json={"version": offered.json()["version"], "digest": offered.json()["digest"]},
        headers=saar,
    )
    assert r.status_code == 201, r.text
    wait = {"min_position": r.json()["position"]}
    former = auth("tl-agentur", AGENTUR, ["team_lead"])
    for method, path, body in (
        ("GET", case, None),
        ("POST", case + "/events", note()),
        ("POST", case + "/handover", {"to_org": JOBCENTER, "reason": "Umzug"}),
        ("POST", case + "/handover/withdraw", None),
        ("POST", case + "/handover/accept", {"version": 1, "digest": "0" * 64}),
        ("POST", case + "/erasure", {"ground": "subject_request", "reason": "Antrag"}),
        ("GET", case + "/subject-access-report", None),
    ):
        r = api.client.request(method, path, json=body, params=wait, headers=former)
        assert r.status_code in (403, 409), (method, path, r.text)
        assert SAARLAND not in r.text, (method, path, r.text)
    api.client.cookies.set(
        SESSION_COOKIE, web_session(api, token("tl-agentur", AGENTUR, "team_lead")), path="/ui"
    )
    page = api.client.get(f"/ui{case}", params=wait)
    api.client.cookies.clear()
    assert page.status_code == 200, page.text  # what it recorded itself
    assert "Agentur für Arbeit Saarland" not in page.text
    assert SAARLAND not in page.text


def test_a_taken_bamf_number_names_its_case_only_to_who_knows_the_case(api: Api) -> None:
    """The 409 itself cannot be avoided (the number is taken), but the case's id is told only
    to an organisation that holds, held or was offered the case; another one learns nothing
    more, on the API and on the registration page."""
    bamf = unique_bamf()
    first = api.register(bamf_file_number=bamf)
    head = api.head()
    again = registration(bamf_file_number=bamf, person=person(given_name="Zweit"))
    stranger = api.client.post("/cases", json=again, headers=auth("cw-saar", SAARLAND))
    body = problem_of(stranger, 409)
    assert body["field"] == "bamf_file_number"
    assert "existing_case_id" not in body
    assert first["case_id"] not in stranger.text
    colleague = problem_of(api.client.post("/cases", json=again, headers=api.agentur), 409)
    assert colleague["existing_case_id"] == first["case_id"]
    page = web_session(api, token("cw-saar", SAARLAND, "caseworker"))
    api.client.cookies.set(SESSION_COOKIE, page, path="/ui")
    api.client.cookies.set(CSRF_COOKIE, "csrf-token", path="/ui")
    form = {"csrf": "csrf-token", "person.given_name": "Zweit", "person.family_name": "Fall",
            "person.birth_date": "01.02.1990", "person.nationality": "ER", "bamf_file_number": bamf,
            "residence_municipality": "Erkelenz", "legal_status": "asylum_seeker"}  # fmt: skip
    r = api.client.post("/ui/cases/new", data=form, follow_redirects=False)
    api.client.cookies.clear()
    assert r.status_code == 409, r.text[:300]
    assert first["case_id"] not in r.text
    assert api.head() == head

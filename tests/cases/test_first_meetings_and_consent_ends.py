"""The first meeting (Erstgespräch) of a newly assigned caseworker and the end of a consent as
derived follow-ups, and assignments only to staff the directory knows (issue 19, ADR 0017), all
through HTTP: what the list shows, what settles or replaces them, what is refused."""

from __future__ import annotations

from typing import Any

from domain import policy
from domain.policy import today_in_germany
from tests.support.api import AGENTUR, DRK, JOBCENTER, Api, auth, get, new_id, problem_of

LEAD = auth("tl-agentur", AGENTUR, "team_lead")
JC_LEAD = auth("tl-jobcenter", JOBCENTER, "team_lead")


def assigned(caseworker: str | None, office: str | None = "Aachen") -> dict[str, Any]:
    return {"type": "CaseAssigned", "office": office, "caseworker": caseworker}


def listed(api: Api, headers: dict[str, str], case_id: str, **params: Any) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in {"state": "open", "limit": 200, **params}.items())
    return [
        i for i in get(api, f"/follow-ups?{query}", headers)["items"] if i["case_id"] == case_id
    ]


def shown(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(i["follow_up_id"], i["source"], i["assignee"], i["due_on"], i["text"]) for i in items]


def colleague(api: Api, org: str = AGENTUR) -> tuple[str, dict[str, str]]:
    sub = f"cw-{new_id()[:8]}"
    return sub, api.staff(sub, org)


# -- the first meeting ----------------------------------------------------------------------------


def test_a_new_caseworker_gets_an_erstgespraech_that_a_reassignment_replaces(api: Api) -> None:
    case_id = str(api.register()["case_id"])
    (first, first_h), (second, second_h) = colleague(api), colleague(api)
    due = policy.working_days_after(today_in_germany(), 5).isoformat()

    v1 = api.record(case_id, assigned(first), headers=LEAD)["version"]
    meeting = f"erstgespraech-{v1}"
    assert shown(listed(api, first_h, case_id, assignee="me")) == [
        (meeting, "first_meeting", first, due, "Erstgespräch führen")
    ]
    api.record(case_id, assigned(first, office="Düren"), headers=LEAD)  # the office only
    assert [i["follow_up_id"] for i in listed(api, first_h, case_id)] == [meeting]

    v3 = api.record(case_id, assigned(second), headers=LEAD)["version"]
    assert listed(api, first_h, case_id, assignee="me") == []
    assert shown(listed(api, second_h, case_id, assignee="me")) == [
        (f"erstgespraech-{v3}", "first_meeting", second, due, "Erstgespräch führen")
    ]
    closed = listed(api, first_h, case_id, assignee="all", state="closed")
    assert [i["follow_up_id"] for i in closed] == [meeting]
    stale = api.client.post(f"/cases/{case_id}/follow-ups/{meeting}/done", headers=first_h)
    assert problem_of(stale, 409)["type"].endswith("unknown-follow-up")


def test_the_first_meeting_is_postponed_done_or_cancelled_like_the_others(api: Api) -> None:
    case_id = str(api.register()["case_id"])
    worker, headers = colleague(api)
    meeting = f"erstgespraech-{api.record(case_id, assigned(worker), headers=LEAD)['version']}"
    base = f"/cases/{case_id}/follow-ups/{meeting}"

    later = api.client.post(f"{base}/postponed", json={"due_on": "2026-12-01"}, headers=headers)
    assert later.status_code == 201, later.text
    [item] = listed(api, headers, case_id, assignee="me")
    assert (item["follow_up_id"], item["due_on"]) == (meeting, "2026-12-01")
    assert api.client.post(f"{base}/done", headers=headers).status_code == 201
    assert listed(api, headers, case_id) == []
    done = listed(api, headers, case_id, assignee="all", state="done")
    assert [(i["follow_up_id"], i["settled_on"]) for i in done] == [
        (meeting, today_in_germany().isoformat())
    ]

    api.record(case_id, assigned(None), headers=LEAD)  # nobody, then someone new: a new one
    again = api.record(case_id, assigned(worker), headers=LEAD)["version"]
    cancel = api.client.post(
        f"/cases/{case_id}/follow-ups/erstgespraech-{again}/cancelled", headers=headers
    )
    assert cancel.status_code == 201, cancel.text
    assert listed(api, headers, case_id) == []


def test_accepting_for_a_colleague_gives_the_colleague_the_first_meeting(api: Api) -> None:
    case_id = api.offered_case()
    worker, headers = colleague(api, JOBCENTER)
    case = get(api, f"/cases/{case_id}", JC_LEAD)
    body = {"version": case["version"], "digest": case["digest"], "caseworker": worker}
    r = api.client.post(f"/cases/{case_id}/handover/accept", json=body, headers=JC_LEAD)
    assert r.status_code == 201, r.text

    [item] = listed(api, headers, case_id, assignee="me")
    assert (item["source"], item["org"], item["text"]) == (
        "first_meeting",
        JOBCENTER,
        "Erstgespräch führen",
    )
    assert item["follow_up_id"] == f"erstgespraech-{r.json()['version']}"  # the CaseAssigned


# -- a consent's end ------------------------------------------------------------------------------


def consent(consent_id: str, **extra: Any) -> dict[str, Any]:
    return {"type": "ConsentGiven", "consent_id": consent_id, "purpose": "share_with_mentor",
            "recipient": DRK, "scope": ["name"], "given_on": "2026-03-01", **extra}  # fmt: skip


def test_a_consent_valid_until_a_day_is_due_for_renewal_and_a_withdrawal_closes_it(
    api: Api,
) -> None:
    case_id = str(api.register()["case_id"])
    api.record(case_id, consent("c1", valid_until="2027-03-01"))
    api.record(case_id, consent("c2"))  # until withdrawn: nothing to follow up

    [item] = listed(api, api.agentur, case_id)  # the registering caseworker's, as the summary
    assert shown([item]) == [
        ("einwilligung-c1", "consent", "cw-agentur", "2027-02-15",
         "Einwilligung läuft ab (gültig bis 01.03.2027)"),
    ]  # fmt: skip
    consents = get(api, f"/cases/{case_id}", api.agentur)["consents"]
    assert [(c["consent_id"], c["valid_until"]) for c in consents] == [
        ("c1", "2027-03-01"),
        ("c2", None),
    ]

    api.record(
        case_id, {"type": "ConsentWithdrawn", "consent_id": "c1", "withdrawn_on": "2026-06-01"}
    )
    assert listed(api, api.agentur, case_id) == []
    closed = listed(api, api.agentur, case_id, assignee="all", state="closed")
    assert [(i["follow_up_id"], i["settled_on"]) for i in closed] == [
        ("einwilligung-c1", "2026-06-01")
    ]


def test_a_consent_ending_before_it_was_given_is_refused_naming_valid_until(api: Api) -> None:
    case_id = str(api.register()["case_id"])
    head = api.head()
    r = api.client.post(
        f"/cases/{case_id}/events",
        json=consent("c1", valid_until="2026-02-28"),
        headers=api.agentur,
    )
    problem = problem_of(r, 422)
    assert [e["field"] for e in problem["errors"]] == ["valid_until"], problem
    assert api.head() == head  # nothing written
    same_day = consent("c1", valid_until="2026-03-01")
    assert api.client.post(
        f"/cases/{case_id}/events", json=same_day, headers=api.agentur
    ).is_success


# -- only staff the directory knows ---------------------------------------------------------------


def test_assigning_to_someone_the_staff_directory_does_not_know_in_the_organisation_is_refused(
    api: Api,
) -> None:
    case_id = str(api.register()["case_id"])
    outsider, _ = colleague(api, JOBCENTER)  # the directory knows them, in another organisation
    offered = api.offered_case()
    head = api.head()

    for caseworker in (f"cw-{new_id()[:8]}", outsider):
        r = api.client.post(f"/cases/{case_id}/events", json=assigned(caseworker), headers=LEAD)
        problem = problem_of(r, 422)
        assert [e["field"] for e in problem["errors"]] == ["caseworker"], problem
    case = get(api, f"/cases/{offered}", JC_LEAD)
    body = {"version": case["version"], "digest": case["digest"], "caseworker": "cw-nie-gesehen"}
    r = api.client.post(f"/cases/{offered}/handover/accept", json=body, headers=JC_LEAD)
    assert [e["field"] for e in problem_of(r, 422)["errors"]] == ["caseworker"]
    assert api.head() == head  # nothing written: neither the assignment nor the acceptance

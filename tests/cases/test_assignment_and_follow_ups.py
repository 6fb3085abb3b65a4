"""Assignment and follow-ups (Wiedervorlagen) through HTTP (issue 19, ADR 0017): who may assign,
the summary and history that show it, accepting with an assignment, the follow-up lifecycle, the
derived follow-ups that follow the case across a handover, and the list's filters and pages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.policy import today_in_germany
from tests.support.api import (
    AGENTUR,
    JOBCENTER,
    RECOGNIZED,
    SAARLAND,
    Api,
    auth,
    get,
    new_id,
    problem_of,
)

LEAD = auth("tl-agentur", AGENTUR, "team_lead")
JC_LEAD = auth("tl-jobcenter", JOBCENTER, "team_lead")


def assigned(office: str | None = "Aachen", caseworker: str | None = "cw-2") -> dict[str, Any]:
    return {"type": "CaseAssigned", "office": office, "caseworker": caseworker}


def follow_up(api: Api, case_id: str, headers: dict[str, str], **body: Any) -> str:
    r = api.client.post(
        f"/cases/{case_id}/follow-ups",
        json={"due_on": "2026-09-01", "text": "Zeugnisse anfordern", **body},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return f"w-{r.json()['version']}"


def open_ids(
    api: Api, headers: dict[str, str], case_id: str, **params: Any
) -> list[tuple[str, str]]:
    """The open follow-ups of ``case_id`` in the caller's list (other tests share the database)."""
    query = "&".join(f"{k}={v}" for k, v in {"state": "open", "limit": 200, **params}.items())
    page = get(api, f"/follow-ups?{query}", headers)
    return [(i["case_id"], i["follow_up_id"]) for i in page["items"] if i["case_id"] == case_id]


def of_case(items: list[dict[str, Any]], case_id: str) -> list[dict[str, Any]]:
    return [i for i in items if i["case_id"] == case_id]


# -- assignment -----------------------------------------------------------------------------------


def test_a_team_lead_of_the_holder_assigns_and_summary_and_history_show_who_when(
    api: Api,
) -> None:
    case_id = str(api.register()["case_id"])
    for colleague in ("cw-2", "cw-3"):
        api.staff(colleague, AGENTUR)  # colleagues the staff directory knows
    api.record(case_id, assigned("Aachen", "cw-2"), headers=LEAD)
    api.record(case_id, assigned("Düren", "cw-3"), headers=LEAD)

    case = get(api, f"/cases/{case_id}", api.agentur)
    assert (case["office"], case["caseworker"]) == ("Düren", "cw-3")
    entries = get(api, f"/cases/{case_id}/history", api.agentur)["entries"]
    assignments = [(e["actor"], e["summary"]) for e in entries if e["type"] == "CaseAssigned"]
    assert assignments == [
        ("tl-agentur", "Zuständigkeit: cw-2, Dienststelle Aachen"),
        ("tl-agentur", "Zuständigkeit: cw-3, Dienststelle Düren"),
    ]


def test_a_caseworker_may_not_assign_nor_a_team_lead_of_another_organisation(api: Api) -> None:
    case_id = api.offered_case()  # the Jobcenter knows it: offered to it
    head = api.head()
    cases = f"/cases/{case_id}/events"

    refused = api.client.post(cases, json=assigned(), headers=api.agentur)
    assert "team lead" in problem_of(refused, 403)["detail"]
    offered_lead = api.client.post(cases, json=assigned(None, "x"), headers=JC_LEAD)
    assert problem_of(offered_lead, 403)["type"].endswith("not-holder")
    stranger = auth("tl-saar", SAARLAND, "team_lead")
    problem_of(api.client.post(cases, json=assigned(None, "x"), headers=stranger), 404)
    api.staff("cw-2", AGENTUR)  # a colleague the staff directory knows: only the office is wrong
    wrong_office = api.client.post(cases, json=assigned("Erkelenz", "cw-2"), headers=LEAD)
    assert "office" in str(problem_of(wrong_office, 422))

    assert api.head() == head  # nothing recorded


def test_accepting_can_assign_the_accepting_caseworker_or_by_a_team_lead_a_colleague(
    api: Api,
) -> None:
    def accept(case_id: str, headers: dict[str, str], **extra: Any) -> Any:
        case = get(api, f"/cases/{case_id}", headers)
        body = {"version": case["version"], "digest": case["digest"], **extra}
        return api.client.post(f"/cases/{case_id}/handover/accept", json=body, headers=headers)

    mine, colleague, plain = api.offered_case(), api.offered_case(), api.offered_case()
    api.staff("cw-other", JOBCENTER)
    head = api.head()
    problem_of(accept(colleague, api.jobcenter, caseworker="cw-other"), 403)
    assert api.head() == head

    assert accept(mine, api.jobcenter, caseworker="cw-jobcenter").status_code == 201
    assert accept(colleague, JC_LEAD, caseworker="cw-other", office="Erkelenz").status_code == 201
    assert accept(plain, JC_LEAD).status_code == 201

    def responsible(case_id: str) -> tuple[Any, Any]:
        case = get(api, f"/cases/{case_id}", api.jobcenter)
        return case["office"], case["caseworker"]

    assert responsible(mine) == (None, "cw-jobcenter")
    assert responsible(colleague) == ("Erkelenz", "cw-other")
    assert responsible(plain) == (None, None)  # the Team page lists it as without caseworker
    types = [e["type"] for e in get(api, f"/cases/{mine}/history", api.jobcenter)["entries"]]
    assert types[-3:] == ["HandoverAccepted", "JurisdictionChanged", "CaseAssigned"]


# -- follow-ups -----------------------------------------------------------------------------------


def test_a_follow_up_is_created_postponed_done_or_cancelled_and_each_is_in_the_history(
    api: Api,
) -> None:
    case_id = str(api.register()["case_id"])
    first = follow_up(api, case_id, api.agentur, assignee="cw-agentur")
    second = follow_up(api, case_id, api.agentur, text="Rückruf Sprachkurs")  # the team's
    base = f"/cases/{case_id}/follow-ups"

    assert open_ids(api, api.agentur, case_id, assignee="me") == [(case_id, first)]
    assert open_ids(api, api.agentur, case_id, assignee="team") == [(case_id, second)]
    moved = api.client.post(
        f"{base}/{first}/postponed", json={"due_on": "2026-10-01"}, headers=api.agentur
    )
    assert moved.status_code == 201, moved.text
    [item] = of_case(get(api, "/follow-ups?assignee=me", api.agentur)["items"], case_id)
    assert (item["due_on"], item["text"], item["source"]) == (
        "2026-10-01",
        "Zeugnisse anfordern",
        "manual",
    )
    assert item["person"]["family_name"] == "Tesfaye"

    assert api.client.post(f"{base}/{first}/done", headers=api.agentur).status_code == 201
    assert api.client.post(f"{base}/{second}/cancelled", headers=api.agentur).status_code == 201
    assert open_ids(api, api.agentur, case_id) == []
    done = of_case(get(api, "/follow-ups?assignee=all&state=done", api.agentur)["items"], case_id)
    assert [(i["follow_up_id"], i["settled_on"]) for i in done] == [
        (first, today_in_germany().isoformat())
    ]
    again = api.client.post(f"{base}/{first}/done", headers=api.agentur)
    assert problem_of(again, 409)["type"].endswith("unknown-follow-up")

    entries = get(api, f"/cases/{case_id}/history", api.agentur)["entries"]
    assert [e["type"] for e in entries][-5:] == [
        "FollowUpCreated",
        "FollowUpCreated",
        "FollowUpPostponed",
        "FollowUpCompleted",
        "FollowUpCancelled",
    ]
    assert entries[-3]["summary"] == f"Wiedervorlage {first} verschoben auf 01.10.2026"


def test_follow_ups_follow_the_case_across_the_handover(api: Api) -> None:
    case_id = str(api.register()["case_id"])
    step = {"type": "StepAgreed", "step_id": "s1", "description": "B1-Kurs",
            "plan": "eingliederungsvereinbarung", "due_on": "2026-11-30"}  # fmt: skip
    api.record(case_id, step)
    manual = follow_up(api, case_id, api.agentur, assignee="cw-agentur")
    assert set(open_ids(api, api.agentur, case_id)) == {(case_id, manual), (case_id, "schritt-s1")}
    api.record(case_id, RECOGNIZED)
    offer = api.wait_for_offer(case_id)
    [incoming] = of_case(get(api, "/follow-ups?assignee=team", api.jobcenter)["items"], case_id)
    assert (incoming["source"], incoming["due_on"], incoming["assignee"]) == (
        "handover",
        offer["due_on"],
        None,
    )

    case = get(api, f"/cases/{case_id}", api.jobcenter)
    accept = {"version": case["version"], "digest": case["digest"], "caseworker": "cw-jobcenter"}
    r = api.client.post(f"/cases/{case_id}/handover/accept", json=accept, headers=api.jobcenter)
    assert r.status_code == 201, r.text

    assert open_ids(api, api.agentur, case_id) == []  # the sender's closed
    mine = of_case(get(api, "/follow-ups?assignee=me", api.jobcenter)["items"], case_id)
    [derived] = [i for i in mine if i["source"] == "step"]  # beside the first meeting
    assert (derived["follow_up_id"], derived["due_on"], derived["org"]) == (
        "schritt-s1",
        "2026-11-30",
        JOBCENTER,
    )
    closed = of_case(
        get(api, "/follow-ups?assignee=all&state=closed", api.agentur)["items"], case_id
    )
    assert {i["follow_up_id"] for i in closed} == {
        manual,
        "schritt-s1",
    }


def test_the_list_pages_by_due_date_and_shows_only_the_caller_s_and_its_team_s(
    api: Api,
) -> None:
    case_id = str(api.register()["case_id"])
    me, colleague = f"cw-{new_id()[:8]}", f"cw-{new_id()[:8]}"
    mine, other = auth(me, AGENTUR), auth(colleague, AGENTUR)
    days = [date(2026, 9, 1) + timedelta(days=d) for d in (5, 1, 3, 1, 4)]
    made = [
        (follow_up(api, case_id, api.agentur, due_on=d.isoformat(), assignee=who), d)
        for d, who in zip(days, (me, None, me, colleague, None), strict=True)
    ]

    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = "/follow-ups?assignee=all&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = get(api, query, mine)
        assert len(page["items"]) <= 2
        seen += of_case(page["items"], case_id)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    mine_and_team = [m for m, _ in made if m != made[3][0]]
    assert sorted(i["follow_up_id"] for i in seen) == sorted(mine_and_team)
    assert [i["due_on"] for i in seen] == sorted(i["due_on"] for i in seen)
    assert [i["follow_up_id"] for i in get(api, "/follow-ups?assignee=me", other)["items"]] == [
        made[3][0]
    ]
    assert of_case(get(api, "/follow-ups", api.jobcenter)["items"], case_id) == []  # not theirs
    bad = api.client.get("/follow-ups?assignee=everyone", headers=api.agentur)
    assert "assignee" in str(problem_of(bad, 422))
    bad_cursor = api.client.get("/follow-ups?cursor=bm9wZQ", headers=api.agentur)
    problem_of(bad_cursor, 422)

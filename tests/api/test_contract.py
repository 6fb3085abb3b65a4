"""The HTTP contract of issues 4 and 5, end to end on both backends: the happy path of
``shared/tools/contract_smoke.py`` and every rule the contract names."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

from tests.support.api import (
    AGENTUR,
    ASSESSED,
    AUDIT,
    JOBCENTER,
    RECOGNIZED,
    Api,
    an_employer,
    an_offer,
    auth,
    note,
    person,
    problem_of,
    registration,
    unique_bamf,
)

RECORDED_KEYS = {"case_id", "version", "position", "digest"}


def assert_recorded(body: dict[str, Any]) -> None:
    assert set(body) == RECORDED_KEYS, body
    assert isinstance(body["version"], int)
    assert body["version"] >= 1
    assert isinstance(body["position"], int)
    assert body["position"] >= 1
    assert len(body["digest"]) == 64
    assert int(body["digest"], 16) >= 0


def test_happy_path_from_registration_to_the_jobcenter(api: Api) -> None:
    r = api.client.post("/cases", json=registration(), headers=api.agentur)
    assert r.status_code == 201, r.text
    reg = r.json()
    assert_recorded(reg)
    assert reg["version"] == 1
    case_id = reg["case_id"]
    assessed = api.record(case_id, ASSESSED)
    assert_recorded(assessed)
    assert assessed["version"] == 2
    assert assessed["position"] > reg["position"]
    recognized = api.record(case_id, RECOGNIZED)
    assert recognized["version"] == 3

    offer = api.wait_for_offer(case_id)
    assert offer["from_org"] == AGENTUR
    assert offer["to_org"] == JOBCENTER
    assert offer["state"] == "offered"
    assert offer["overdue"] is False
    assert offer["age_days"] == 0
    assert offer["offered_at"]

    # the offered organisation reads the whole history while the offer is open
    history = api.history(case_id)
    assert history["case_id"] == case_id
    assert len(history["entries"]) == history["version"] == 4
    assert [e["version"] for e in history["entries"]] == [1, 2, 3, 4]
    assert [e["type"] for e in history["entries"]] == [
        "CaseRegistered",
        "CompetenceAssessed",
        "AsylumRecognized",
        "HandoverOffered",
    ]
    assert history["entries"][-1]["hash"] == history["digest"]
    for entry in history["entries"]:
        assert {"version", "type", "recorded_at", "actor", "org", "summary", "data", "hash"} <= set(
            entry
        )
    assert history["filtered"] is False
    summary = api.client.get(f"/cases/{case_id}", headers=api.jobcenter).json()
    assert summary["handover"]["state"] == "offered"
    assert summary["handover"]["to_org"] == JOBCENTER

    r = api.client.post(
        f"/cases/{case_id}/handover/accept",
        json={"version": history["version"], "digest": history["digest"]},
        headers=api.jobcenter,
    )
    assert r.status_code == 201, r.text
    accepted = r.json()
    assert_recorded(accepted)
    assert accepted["version"] == 6  # HandoverAccepted and JurisdictionChanged, saved together

    r = api.client.get(f"/cases/{case_id}", headers=api.jobcenter)
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["holder"] == JOBCENTER
    assert case["version"] == 6
    assert case["digest"] == accepted["digest"]
    assert case["legal_basis"] == "sgb_ii"
    assert case["person"]["family_name"] == "Tesfaye"
    assert {"case_id", "version", "digest", "holder", "legal_status", "person", "handover"} <= set(
        case
    )

    # the former holder writes nothing more and reads only the events it recorded itself
    r = api.client.post(f"/cases/{case_id}/events", json=note(), headers=api.agentur)
    assert problem_of(r, 403)["detail"]
    r = api.client.get(f"/cases/{case_id}/history", headers=api.agentur)
    assert r.status_code == 200, r.text
    own = r.json()
    assert own["filtered"] is True
    assert own["entries"], own
    assert {e["org"] for e in own["entries"]} == {AGENTUR}
    assert "HandoverAccepted" not in {e["type"] for e in own["entries"]}
    problem_of(api.client.get(f"/cases/{case_id}", headers=api.agentur), 403)

    # the Jobcenter's full history has both acceptance events, in order
    full = api.history(case_id)
    assert [e["type"] for e in full["entries"][-2:]] == ["HandoverAccepted", "JurisdictionChanged"]
    assert full["entries"][-2]["data"]["digest"] == history["digest"]
    accepted_queue = api.client.get(
        "/handovers", params={"direction": "incoming", "state": "accepted"}, headers=api.jobcenter
    ).json()["items"]
    assert case_id in {i["case_id"] for i in accepted_queue}
    # and the new holder writes
    assert api.record(case_id, note("Erstgespräch im Jobcenter"), api.jobcenter)["version"] == 7


def test_duplicate_bamf_file_number_names_the_existing_case(api: Api) -> None:
    bamf = unique_bamf()
    first = api.register(bamf_file_number=bamf)
    head = api.head()
    number, suffix = bamf.split("-")
    again = registration(bamf_file_number=f" {number} - {suffix} ", person=person(given_name="X"))
    r = api.client.post("/cases", json=again, headers=auth("other", AGENTUR))
    body = problem_of(r, 409)
    assert body["existing_case_id"] == first["case_id"]
    assert body["field"] == "bamf_file_number"
    assert api.head() == head


def test_stale_if_match_is_refused_with_the_current_version(api: Api) -> None:
    case_id = api.register()["case_id"]
    r = api.client.post(
        f"/cases/{case_id}/events", json=note(), headers={**api.agentur, "If-Match": "1"}
    )
    assert r.status_code == 201, r.text
    assert r.headers["ETag"] == '"2"'
    r = api.client.post(
        f"/cases/{case_id}/events", json=note(), headers={**api.agentur, "If-Match": '"2"'}
    )
    assert r.status_code == 201, r.text
    head = api.head()
    r = api.client.post(
        f"/cases/{case_id}/events", json=note(), headers={**api.agentur, "If-Match": "2"}
    )
    body = problem_of(r, 409)
    assert body["current_version"] == 3
    assert api.head() == head


def test_idempotency_key_replays_the_first_response(api: Api) -> None:
    case_id = api.register()["case_id"]
    headers = {**api.agentur, "Idempotency-Key": "note-" + secrets.token_hex(8)}
    first = api.client.post(f"/cases/{case_id}/events", json=note("einmal"), headers=headers)
    assert first.status_code == 201, first.text
    head = api.head()
    second = api.client.post(f"/cases/{case_id}/events", json=note("einmal"), headers=headers)
    assert second.status_code == 201, second.text
    assert second.json() == first.json()
    assert api.head() == head
    assert api.history(case_id, api.agentur)["version"] == 2

    other = api.client.post(f"/cases/{case_id}/events", json=note("anders"), headers=headers)
    assert problem_of(other, 422)["field"] == "Idempotency-Key"
    assert api.head() == head
    # the key belongs to its caller: another caseworker's same key is a new request
    mine = {**auth("cw-2", AGENTUR), "Idempotency-Key": headers["Idempotency-Key"]}
    r = api.client.post(f"/cases/{case_id}/events", json=note("anders"), headers=mine)
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 3


def test_idempotency_key_on_registration(api: Api) -> None:
    headers = {**api.agentur, "Idempotency-Key": "reg-" + secrets.token_hex(8)}
    body = registration()
    first = api.client.post("/cases", json=body, headers=headers)
    assert first.status_code == 201, first.text
    head = api.head()
    second = api.client.post("/cases", json=body, headers=headers)
    assert second.status_code == 201, second.text
    assert second.json() == first.json()
    assert api.head() == head
    changed = {**body, "residence_municipality": "Wegberg"}
    problem_of(api.client.post("/cases", json=changed, headers=headers), 422)
    assert api.head() == head


def test_accept_after_the_case_moved_on_names_version_and_digest(api: Api) -> None:
    case_id = api.offered_case()
    read = api.history(case_id)
    moved = api.record(case_id, note("nach dem Lesen des Jobcenters"))
    head = api.head()
    r = api.client.post(
        f"/cases/{case_id}/handover/accept",
        json={"version": read["version"], "digest": read["digest"]},
        headers=api.jobcenter,
    )
    body = problem_of(r, 409)
    assert body["current_version"] == moved["version"] == read["version"] + 1
    assert body["current_digest"] == moved["digest"]
    assert api.head() == head
    # a right digest with a wrong version is just as stale
    r = api.client.post(
        f"/cases/{case_id}/handover/accept",
        json={"version": read["version"], "digest": moved["digest"]},
        headers=api.jobcenter,
    )
    problem_of(r, 409)
    # re-read (waiting for the Agentur's note: the Jobcenter's own writes are not involved)
    fresh = api.history(case_id, min_position=moved["position"])
    assert fresh["version"] == moved["version"]
    r = api.client.post(
        f"/cases/{case_id}/handover/accept",
        json={"version": fresh["version"], "digest": fresh["digest"]},
        headers=api.jobcenter,
    )
    assert r.status_code == 201, r.text


def test_reject_returns_the_case_to_the_holder(api: Api) -> None:
    case_id = api.offered_case()
    r = api.client.post(
        f"/cases/{case_id}/handover/reject",
        json={"reason": "Wohnort liegt nicht in unserem Bezirk"},
        headers=api.jobcenter,
    )
    assert r.status_code == 201, r.text
    assert_recorded(r.json())
    api.settle()
    case = api.client.get(f"/cases/{case_id}", headers=api.agentur).json()
    assert case["holder"] == AGENTUR
    assert case["handovers"][-1]["state"] == "rejected"
    outgoing = api.client.get(
        "/handovers", params={"direction": "outgoing", "state": "rejected"}, headers=api.agentur
    ).json()["items"]
    assert case_id in {i["case_id"] for i in outgoing}
    # the offer is closed: the Jobcenter no longer reads, and cannot reject or accept again
    problem_of(api.client.get(f"/cases/{case_id}", headers=api.jobcenter), 403)
    again = api.client.post(
        f"/cases/{case_id}/handover/reject", json={"reason": "nochmal"}, headers=api.jobcenter
    )
    problem_of(again, 409)


def test_withdraw_and_offer_by_hand(api: Api) -> None:
    case_id = api.offered_case()
    r = api.client.post(
        f"/cases/{case_id}/handover/withdraw",
        json={"reason": "Umzug steht bevor"},
        headers=api.agentur,
    )
    assert r.status_code == 201, r.text
    api.settle()
    incoming = api.client.get(
        "/handovers", params={"direction": "incoming", "state": "offered"}, headers=api.jobcenter
    ).json()["items"]
    assert case_id not in {i["case_id"] for i in incoming}
    problem_of(api.client.get(f"/cases/{case_id}/history", headers=api.jobcenter), 403)
    # withdrawing twice: nothing is open
    problem_of(api.client.post(f"/cases/{case_id}/handover/withdraw", headers=api.agentur), 409)

    # offer by hand, then withdraw without a body (the reason is optional)
    r = api.client.post(
        f"/cases/{case_id}/handover",
        json={"to_org": JOBCENTER, "reason": "erneutes Angebot"},
        headers=api.agentur,
    )
    assert r.status_code == 201, r.text
    offer = api.wait_for_offer(case_id)
    assert offer["reason"] == "erneutes Angebot"
    # a second offer while one is open is refused
    r = api.client.post(
        f"/cases/{case_id}/handover", json={"to_org": JOBCENTER, "reason": "x"}, headers=api.agentur
    )
    problem_of(r, 409)
    r = api.client.post(f"/cases/{case_id}/handover/withdraw", headers=api.agentur)
    assert r.status_code == 201, r.text
    # an unknown organisation and the holder itself are refused
    r = api.client.post(
        f"/cases/{case_id}/handover", json={"to_org": "nowhere", "reason": "x"}, headers=api.agentur
    )
    assert problem_of(r, 422)["errors"][0]["field"] == "to_org"
    r = api.client.post(
        f"/cases/{case_id}/handover", json={"to_org": AGENTUR, "reason": "x"}, headers=api.agentur
    )
    problem_of(r, 409)


def test_search_filters_and_cursor_pagination(api: Api) -> None:
    family = "Zq" + secrets.token_hex(4)
    ids = []
    for i, given in enumerate(["Amina", "Bashir", "Chiara", "Dawit", "Elif"]):
        reg = api.register(
            person=person(given_name=given, family_name=family),
            legal_status="asylum_seeker" if i % 2 else "tolerated",
        )
        ids.append(reg["case_id"])
    other = api.register(person=person(family_name="Yq" + secrets.token_hex(4)))
    bamf = unique_bamf()
    by_number = api.register(bamf_file_number=bamf)
    api.record(ids[0], RECOGNIZED)
    api.wait_for_offer(ids[0])

    def search(headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
        r = api.client.get("/cases", params=params, headers=headers or api.agentur)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        assert set(body) == {"items", "next_cursor"}
        return body

    found = search(q=family.lower())["items"]
    assert [c["case_id"] for c in found] == ids  # ordered by name: family, then given name
    assert other["case_id"] not in {c["case_id"] for c in found}
    # a name in either order (issue 18): "Amina Zq…" as "Zq… Amina"
    assert [c["case_id"] for c in search(q="amina " + family)["items"]] == [ids[0]]
    assert [c["case_id"] for c in search(q=f"{family} b")["items"]] == [ids[1]]
    assert [c["case_id"] for c in search(q=bamf)["items"]] == [by_number["case_id"]]
    assert {c["case_id"] for c in search(q=family, legal_status="tolerated")["items"]} == {
        ids[2],
        ids[4],
    }
    offered = search(q=family, handover="offered")["items"]
    assert [c["case_id"] for c in offered] == [ids[0]]
    assert offered[0]["handover"]["state"] == "offered"
    assert search(q=family, holder=AGENTUR)["items"]
    assert search(q=family, headers=api.jobcenter)["items"] == []  # the Jobcenter holds none
    audited = search(q=family, holder=AGENTUR, headers=auth("auditor", AUDIT, "auditor"))
    assert len(audited["items"]) == 5

    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"q": family, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = search(**params)
        pages.append([c["case_id"] for c in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [ids[0:2], ids[2:4], ids[4:5]]
    problem_of(api.client.get("/cases", params={"cursor": "bm9wZQ"}, headers=api.agentur), 422)


def test_min_position_waits_for_the_read_models(make_api: Callable[..., Api]) -> None:
    api = make_api(read_wait_seconds=5.0)
    case_id = api.register()["case_id"]
    recorded = api.record(case_id, note())
    auditor = auth("auditor", AUDIT, "auditor")  # never wrote: only min_position makes it wait
    r = api.client.get(
        f"/cases/{case_id}", params={"min_position": recorded["position"]}, headers=auditor
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == recorded["version"]
    # a caseworker's own write is waited for without asking
    mine = api.record(case_id, note("noch eine"))
    assert api.history(case_id, api.agentur)["version"] == mine["version"]
    # a position nothing has been recorded at: no wait helps, it is the client's mistake
    started = time.monotonic()
    r = api.client.get(
        f"/cases/{case_id}", params={"min_position": api.head() + 1000}, headers=auditor
    )
    assert problem_of(r, 422)["errors"][0]["field"] == "min_position"
    assert time.monotonic() - started < 4.0  # not the read wait (5 s), with room for a slow host
    problem_of(api.client.get("/cases", params={"min_position": -1}, headers=auditor), 422)


def test_min_position_behind_the_read_models_is_503(make_api: Callable[..., Api]) -> None:
    api = make_api(read_wait_seconds=0.5)
    case_id = api.register()["case_id"]
    api.settle()
    api.services.supervisor.stop()  # the read models stop here
    recorded = api.record(case_id, note())
    auditor = auth("auditor", AUDIT, "auditor")
    started = time.monotonic()
    r = api.client.get(
        f"/cases/{case_id}", params={"min_position": recorded["position"]}, headers=auditor
    )
    body = problem_of(r, 503)
    assert body["min_position"] == recorded["position"]
    assert r.headers["Retry-After"] == "1"
    assert time.monotonic() - started >= 0.45
    # without min_position the (stale) read is served
    r = api.client.get(f"/cases/{case_id}", headers=auditor)
    assert r.status_code == 200
    assert r.json()["version"] == 1


def test_a_read_refused_on_the_callers_role_answers_403_however_far_behind(
    make_api: Callable[..., Api],
) -> None:
    """Read-your-writes waits at the route's first read of a read model: the service layer
    refuses an employer the volunteer list before any, so it neither waits nor answers 503."""
    api = make_api(read_wait_seconds=1.0)
    account, employer_id = an_employer(api)
    employer = auth("h", account, "employer")
    api.settle()
    api.services.supervisor.stop()  # the read models stop here
    an_offer(api, employer_id, employer)  # the employer's own write: never projected now
    # had the request waited, it would have answered 503: the read models never catch up now
    # (no bound on its time here: a slow machine took 0.8 s for the 403 alone)
    for params in ({}, {"min_position": api.head()}):
        problem_of(api.client.get("/volunteers", params=params, headers=employer), 403)
    # a route gated by consent waits for the matching view at its first read too: refused on
    # the role, the employer's look at a volunteer's mentees is 403 (the consent wait: 503)
    mentees = f"/volunteers/{uuid4()}/mentees"
    problem_of(api.client.get(mentees, headers=employer), 403)
    auditor = auth("auditor", AUDIT, "auditor")  # candidates are for staff and the employer
    problem_of(api.client.get(f"/offers/{uuid4()}/candidates", headers=auditor), 403)
    # what the employer may read still waits for its own write, and says it could not
    started = time.monotonic()
    problem_of(api.client.get("/offers", headers=employer), 503)
    assert time.monotonic() - started >= 0.9


def test_health_readiness_and_metrics(api: Api) -> None:
    case_id = api.register()["case_id"]
    api.client.get(f"/cases/{case_id}", headers=api.agentur)
    r = api.client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    r = api.client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {"ready": True, "checks": {"database": "ok", "projections": "running"}}
    r = api.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "# TYPE staffel_http_requests_total counter" in text
    assert 'staffel_http_requests_total{method="POST",route="/cases",status="201"} 1.0' in text
    assert 'route="/cases/{case_id}",status="200"' in text
    assert "staffel_http_request_duration_seconds_bucket" in text
    assert "staffel_events_recorded_total 1.0" in text
    lags = [line for line in text.splitlines() if line.startswith("staffel_projection_lag_events{")]
    assert {line.split('"')[1] for line in lags} == {
        "case_history",
        "case_summary",
        "matching",
        "follow_ups",
    }
    for line in lags:
        assert float(line.rsplit(" ", 1)[1]) >= 0


def test_readiness_fails_when_projections_stop(api: Api) -> None:
    api.services.supervisor.stop()
    r = api.client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["projections"] == "stopped"

"""NUL in a query parameter (issue 13): a 422 naming the parameter on SQLite as on PostgreSQL,
never a 500 (PostgreSQL's text type cannot hold it), on every route and page."""

from __future__ import annotations

import base64
import json

from api.web.core import SESSION_COOKIE
from tests.support.api import (
    AGENTUR,
    AUDIT,
    Api,
    auth,
    note,
    person,
    problem_of,
    registration,
    token,
)
from tests.support.world import fill, seed, web_session


def test_nul_in_any_query_parameter_is_a_422_naming_it(api: Api) -> None:
    world = seed(api)
    staff, auditor = auth("cw-nul", AGENTUR), auth("pruefer", AUDIT, "auditor")
    checked = []
    for path, item in api.app.openapi()["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                name = parameter["name"]
                headers = auditor if path.startswith("/audit") else staff
                r = api.client.request(
                    method, fill(path, world.ids(path)), params={name: "a\x00b"}, headers=headers
                )
                body = problem_of(r, 422)
                assert name in [e["field"] for e in body["errors"]], (method, path, body)
                checked.append(name)
    assert {"q", "holder", "cursor", "municipality", "actor"} <= set(checked)


def test_nul_in_a_parameter_name_or_a_page_query(api: Api) -> None:
    r = api.client.get("/cases", params={"q\x00": "x"}, headers=api.agentur)
    assert problem_of(r, 422)["errors"][0]["field"] == "q\\u0000"
    api.client.cookies.set(
        SESSION_COOKIE, web_session(api, token("cw-nul", AGENTUR, "caseworker")), path="/ui"
    )
    page = api.client.get("/ui/cases", params={"q": "\x00"})
    assert page.status_code == 422
    assert "q" in page.text
    api.client.cookies.clear()


def test_nul_never_enters_stored_text(api: Api) -> None:
    """Decided (ADR 0005): no text Staffel takes in holds NUL or a lone surrogate, on either
    backend; a 422 names the field and nothing is written."""
    head = api.head()
    bodies = {
        "person.family_name": registration(person=person(family_name="Tes\x00faye")),
        "residence_municipality": registration(residence_municipality="Erkelenz\x00"),
        "person.given_name": registration(person=person(given_name="Ra\ud800hel")),
    }
    for field, body in bodies.items():
        raw = json.dumps(body)  # ASCII: a lone surrogate as its JSON escape
        headers = {**api.agentur, "Content-Type": "application/json"}
        r = api.client.post("/cases", content=raw, headers=headers)
        assert field in [e["field"] for e in problem_of(r, 422)["errors"]], (field, r.text)
    case_id = api.register()["case_id"]
    r = api.client.post(
        f"/cases/{case_id}/events", json=note("Termin\x00 vereinbart"), headers=api.agentur
    )
    assert [e["field"] for e in problem_of(r, 422)["errors"]] == ["text"]
    assert api.recorded_since(head) == 2  # the registration only (its case and BAMF index)


def test_a_cursor_that_decodes_to_unstorable_values_is_a_422(api: Api) -> None:
    """A cursor is base64 of JSON: a NUL, a lone surrogate or an integer beyond 64 bits inside it
    passes the query-string check and reached the database (a 500 on PostgreSQL)."""
    world = seed(api)
    staff = auth("cw-nul", AGENTUR)
    keys = (["a\x00b", "x"], ["\ud800", "x"], ["a\x00", "x", 1], ["a", "x", 2**70])
    cursors = [
        base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=") for key in keys
    ]
    checked = []
    for path, item in api.app.openapi()["paths"].items():
        names = {p["name"] for p in item.get("get", {}).get("parameters", [])}
        if "cursor" not in names:
            continue
        extra = {"direction": "incoming"} if path == "/handovers" else {}
        for cursor in cursors:
            r = api.client.get(
                fill(path, world.ids(path)), params={"cursor": cursor, **extra}, headers=staff
            )
            assert r.status_code == 422, (path, cursor, r.status_code, r.text[:200])
            assert "cursor" in problem_of(r, 422)["detail"], (path, r.text[:200])
        checked.append(path)
    assert {"/cases", "/handovers", "/offers", "/employers"} <= set(checked), checked

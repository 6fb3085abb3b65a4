"""Roles (issue 13): an auditor never writes, whatever other roles its token carries, through the
JSON API and the web pages alike; a token without a role reads nothing."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi.routing import APIRoute

from api import web
from api.web.core import CSRF_COOKIE, SESSION_COOKIE
from tests.support.api import AGENTUR, Api, problem_of, token
from tests.support.world import (
    PEER_PATHS,
    body_for,
    fill,
    operations,
    seed,
    token_roles,
    web_session,
    writing_routes,
)

EVERY_ROLE = ("auditor", "caseworker", "team_lead", "admin")


def test_an_auditor_never_writes_whatever_other_roles_it_has(api: Api) -> None:
    world = seed(api)
    head = api.head()
    headers = token_roles(*EVERY_ROLE)
    routes = writing_routes(api)
    assert len(routes) > 20, routes  # the document lists them all
    wrote = []
    for method, path in routes:
        r = api.client.request(
            method, fill(path, world.ids(path)), json=body_for(method, path, world),
            headers=headers,
        )  # fmt: skip
        if path in PEER_PATHS:  # a peer's signature, not a user's token, decides there
            assert r.status_code in (400, 403, 422), (method, path, r.text)
            continue
        if r.status_code != 403 or "auditor" not in problem_of(r, 403)["detail"]:
            wrote.append(f"{method} {path}: {r.status_code} {r.text[:120]}")
    assert not wrote, wrote
    api.settle()
    assert api.recorded_since(head) == 0


def web_writes() -> list[tuple[str, str]]:
    """Every writing route of every module of the web interface (a page module added later is
    walked too)."""
    modules = [
        importlib.import_module(f"api.web.{m.name}") for m in pkgutil.iter_modules(web.__path__)
    ]
    return [
        (method, route.path)
        for module in modules
        for route in getattr(getattr(module, "router", None), "routes", ())
        if isinstance(route, APIRoute)
        for method in sorted(route.methods or ())
        if method not in ("GET", "HEAD")
    ]


NO_USER = {"/ui/sign-in", "/ui/sign-in/demo", "/ui/sign-out"}  # the session itself


def test_an_auditor_never_writes_through_the_web_pages(api: Api) -> None:
    world = seed(api)
    head = api.head()
    session = web_session(api, token("sec-web", AGENTUR, list(EVERY_ROLE)))
    api.client.cookies.set(SESSION_COOKIE, session, path="/ui")
    api.client.cookies.set(CSRF_COOKIE, "csrf-token", path="/ui")
    ids = {**world.ids(""), "key": "NoteRecorded", "action": "pause", "how": "done"}
    form = {"csrf": "csrf-token", "text": "Prüfung", "category": "", "reason": "x",
            "ground": "subject_request", "confirmed": "on", "case_id": world.case_id,
            "starts_on": "01.06.2026", "kind": "job", "occupation": "Maler",
            "municipality": "Erkelenz"}  # fmt: skip
    writes = web_writes()
    assert len(writes) >= 9, writes
    for method, path in writes:
        if path in NO_USER:
            continue
        r = api.client.request(method, fill(path, ids), data=form, follow_redirects=False)
        assert r.status_code == 403, (method, path, r.status_code, r.text[:300])
        assert "text/html" in r.headers["content-type"]
    api.client.cookies.clear()
    api.settle()
    assert api.recorded_since(head) == 0


def test_a_token_without_a_role_reads_nothing(api: Api) -> None:
    world = seed(api)
    head = api.head()
    headers = token_roles()  # roles: []
    public = {"/healthz", "/readyz", "/metrics", *PEER_PATHS}
    answered = []
    for method, path in operations(api):
        if path in public:
            continue
        r = api.client.request(
            method, fill(path, world.ids(path)), json=body_for(method, path, world),
            headers=headers,
        )  # fmt: skip
        if r.status_code != 403 or "no role" not in problem_of(r, 403)["detail"]:
            answered.append(f"{method} {path}: {r.status_code} {r.text[:100]}")
    assert not answered, answered
    api.settle()
    assert api.recorded_since(head) == 0


def test_a_token_without_a_role_sees_no_web_page(api: Api) -> None:
    world = seed(api)
    api.client.cookies.set(
        SESSION_COOKIE, web_session(api, token("sec-none", AGENTUR, [])), path="/ui"
    )
    for path in ("/ui", "/ui/cases", "/ui/offers", f"/ui/offers/{world.offer_id}",
                 "/ui/employers", f"/ui/cases/{world.case_id}", "/ui/statistics"):  # fmt: skip
        r = api.client.get(path, follow_redirects=False)
        assert r.status_code == 403, (path, r.status_code, r.text[:300])
    api.client.cookies.clear()

"""How sessions end (issue 13), once per backend: signing out of the web interface ends the
session for good, in every process on the database; expired sessions are purged."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from domain.principal import Principal, Role
from tests.support.api import AGENTUR, Api
from tests.support.web import csrf_of, signed_in


def session_of(client: TestClient) -> str:
    value = client.cookies.get("staffel_session")
    assert value, client.cookies
    return str(value)


def with_cookie(api: Api, value: str) -> TestClient:
    client = TestClient(api.app)
    client.cookies.set("staffel_session", value, path="/ui")
    return client


def sign_out(client: TestClient) -> None:
    page = client.get("/ui/cases")
    r = client.post("/ui/sign-out", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/sign-in?reason=signed-out"


def test_the_old_cookie_no_longer_works_after_signing_out(api: Api) -> None:
    client = signed_in(api, "cw-agentur", AGENTUR)
    cookie = session_of(client)
    assert "." not in cookie  # an opaque id, not the token
    assert AGENTUR not in cookie
    assert with_cookie(api, cookie).get("/ui/cases").status_code == 200

    sign_out(client)
    again = with_cookie(api, cookie).get("/ui/cases", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/ui/sign-in")
    # and nothing is written or shown on a form posted with it
    head = api.head()
    stale = with_cookie(api, cookie)
    stale.cookies.set("staffel_csrf", "c", path="/ui")
    posted = stale.post("/ui/cases/new", data={"csrf": "c"}, follow_redirects=False)
    assert posted.status_code == 303
    assert api.head() == head


def test_signing_out_in_one_process_ends_the_session_in_all(make_api: Callable[..., Api]) -> None:
    first, second = make_api(), make_api()  # two processes on one database
    client = signed_in(first, "cw-agentur", AGENTUR)
    cookie = session_of(client)
    on_second = with_cookie(second, cookie)
    assert on_second.get("/ui/cases").status_code == 200

    sign_out(on_second)
    for api in (first, second):
        r = with_cookie(api, cookie).get("/ui/cases", follow_redirects=False)
        assert r.status_code == 303, r.text
        assert r.headers["location"].startswith("/ui/sign-in")


def test_sessions_end_with_the_token_and_expired_ones_are_purged(api: Api) -> None:
    from adapters.sessions import WebSessions

    now = [time.time()]
    sessions = WebSessions(api.services.supervisor.store, clock=lambda: now[0])
    sessions.purge()
    who = Principal("cw", "cw", AGENTUR, frozenset({Role.CASEWORKER}))
    short = sessions.start(who, expires_at=int(now[0]) + 60)
    long = sessions.start(who, expires_at=int(now[0]) + 3600)
    assert sessions.principal(short) == who
    now[0] += 61
    assert sessions.principal(short) is None  # past the token's exp
    assert sessions.principal(long) == who
    assert sessions.count(expired=True) == 1
    sessions.start(who, expires_at=int(now[0]) + 60)  # each sign-in purges the expired
    assert sessions.count(expired=True) == 0
    sessions.end(long)
    assert sessions.principal(long) is None
    assert sessions.principal("x" * 9000) is None

"""The web pages over HTTP: a client signed in with a bearer token, the CSRF token of a page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.support.api import Api, token


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def signed_in(api: Api, sub: str, org: str, role: str = "caseworker") -> TestClient:
    client = TestClient(api.app)
    page = client.get("/ui/sign-in")
    response = client.post(
        "/ui/sign-in",
        data={"csrf": csrf_of(page.text), "token": token(sub, org, role), "next": "/ui/cases"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/ui/cases"
    return client

"""The OpenAPI documents and the metrics can be closed in production (issue 13):
``STAFFEL_PUBLIC_DOCS`` (off unless in the demo) and ``STAFFEL_METRICS_TOKEN``."""

from __future__ import annotations

from collections.abc import Callable

from adapters.settings import Settings
from tests.support.api import Api, problem_of

DOCS = ("/docs", "/redoc", "/openapi.json")


def test_the_documents_are_closed_in_production_unless_opened(make_api: Callable[..., Api]) -> None:
    closed = make_api()
    for path in DOCS:
        assert closed.client.get(path).status_code == 404, path
    assert closed.app.openapi()["paths"]  # the contract itself is still there, for the tests
    opened = make_api(public_docs=True)
    for path in DOCS:
        assert opened.client.get(path).status_code == 200, path


def test_the_demo_opens_the_documents_by_default() -> None:
    assert Settings(demo=True).docs_are_public
    assert not Settings(demo=False).docs_are_public
    assert not Settings(demo=True, public_docs=False).docs_are_public


def test_the_metrics_answer_only_to_their_token_when_one_is_set(
    make_api: Callable[..., Api],
) -> None:
    api = make_api(metrics_token="scrape-" + "x" * 32)
    problem_of(api.client.get("/metrics"), 401)
    wrong = {"Authorization": "Bearer scrape-" + "y" * 32}
    problem_of(api.client.get("/metrics", headers=wrong), 401)
    right = {"Authorization": "Bearer scrape-" + "x" * 32}
    r = api.client.get("/metrics", headers=right)
    assert r.status_code == 200
    assert "staffel_http_requests_total" in r.text

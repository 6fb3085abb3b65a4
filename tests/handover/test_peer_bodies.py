"""What a peer (or anyone) may send (issue 13): the inbox and receipts endpoints refuse an
oversized body before parsing it (``STAFFEL_MAX_PEER_BODY_BYTES``, 413); a bundle is checked for
its signature before its chain; deeply nested JSON is a clean 4xx anywhere over HTTP, and exit 1
with a message from ``staffel handover import``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.federation.bundle import build_bundle
from domain.actor import Actor, acting_as
from tests.support.cli import run
from tests.support.federation import (
    PROBLEM,
    SAARLAND,
    ST_WENDEL,
    Deployment,
    Federation,
    open_deployment,
    open_federation_on,
    register,
)

LIMIT = 4096
PEER_PATHS = ("/handovers/inbox", "/handovers/receipts")
NESTED = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture
def federation(backend: str, tmp_path: Path) -> Iterator[Federation]:
    federation = open_federation_on(backend, tmp_path)
    yield federation
    federation.close()


@pytest.fixture
def small(backend: str, tmp_path: Path) -> Iterator[Deployment]:
    """A deployment that takes at most ``LIMIT`` bytes from a peer."""
    deployment = open_deployment(backend, tmp_path / "data", max_peer_body_bytes=LIMIT)
    yield deployment
    deployment.close()


@pytest.mark.parametrize("path", PEER_PATHS)
def test_an_oversized_body_is_refused_before_it_is_parsed(small: Deployment, path: str) -> None:
    not_even_json = b"x" * (LIMIT + 1)
    refused = small.client.post(
        path, content=not_even_json, headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 413, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert str(LIMIT) in refused.json()["detail"]


@pytest.mark.parametrize("path", PEER_PATHS)
def test_an_oversized_body_without_a_length_is_refused_too(small: Deployment, path: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(4):
            yield b"x" * LIMIT

    refused = small.client.post(
        path, content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 413, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)


def test_a_body_within_the_limit_is_read(small: Deployment) -> None:
    response = small.client.post("/handovers/inbox", json={"protocol": "staffel-bundle/1"})
    assert response.status_code in (403, 422), response.text  # read, then refused for content


def test_a_bundle_with_a_bad_signature_and_a_broken_chain_is_refused_for_its_signature(
    federation: Federation,
) -> None:
    a, b = federation.a, federation.b
    by_a = Actor("cw-saarland", SAARLAND)
    case_id = register(a.app, by_a, "Tholey").id
    with acting_as(by_a):
        a.app.offer_handover(case_id, to_org=ST_WENDEL, reason="Rechtskreiswechsel")
    bundle = build_bundle(a.app, case_id, SAARLAND, a.services.signing_key, ST_WENDEL)
    bundle["events"][0]["state"]["residence_municipality"] = "Merzig"  # the chain breaks at 1
    bundle["signature"]["value"] = bundle["signature"]["value"][::-1]

    refused = b.client.post("/handovers/inbox", json=bundle)

    assert refused.status_code == 422, refused.text
    assert "signature" in refused.json()["detail"]
    assert refused.json().get("first_bad_version") is None


@pytest.mark.parametrize(
    ("method", "path", "auth"),
    [
        ("POST", "/handovers/inbox", False),
        ("POST", "/handovers/receipts", False),
        ("POST", "/cases", True),
        ("POST", "/employers", True),
    ],
)
@pytest.mark.parametrize("depth", [100_000, 5_000, 990])
def test_deeply_nested_json_is_a_clean_refusal(
    federation: Federation, method: str, path: str, auth: bool, depth: int
) -> None:
    b = federation.b
    headers = {"Content-Type": "application/json"}
    if auth:
        headers |= b.auth("t.weber", ST_WENDEL)
    body = b"[" * depth + b"]" * depth
    if path.startswith("/handovers"):  # from a known peer, nesting deep inside
        body = (
            b'{"protocol": "staffel-bundle/1", "sender": "agentur-saarland", "receiver":'
            b' "agentur-saarland", "signature": ' + body + b"}"
        )

    response = b.client.request(method, path, content=body, headers=headers)

    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


@pytest.mark.parametrize("depth", [100_000, 990])
def test_deeply_nested_json_in_a_file_is_exit_1(
    federation: Federation,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    depth: int,
) -> None:
    settings = federation.b.services.settings
    monkeypatch.setenv("STAFFEL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("STAFFEL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("STAFFEL_ORGS_FILE", str(settings.orgs_file))
    nested = tmp_path / "nested.json"
    nested.write_bytes(
        b'{"protocol": "staffel-bundle/1", "sender": "agentur-saarland", "events": '
        + b"[" * depth
        + b"]" * depth
        + b"}"
    )

    code, _, err = run(capsys, "handover", "import", str(nested))

    assert code == 1
    assert err.startswith("staffel: refused:")
    assert "Traceback" not in err

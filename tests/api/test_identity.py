"""Identity claims (issue 13), once per backend: the issuer and audience are checked on every
token, a token may not live longer than the maximum, its ``org`` names an organisation of this
deployment (or, for an employer, a registered employer), a token signed for another key type is a
401 and never a 500, claims with NUL or absurd types are refused, and oversized tokens too."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from fastapi.testclient import TestClient

from adapters.settings import DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER, Settings
from api.app import create_app
from api.web import (
    audit,
    case_page,
    cases,
    employers,
    handovers,
    matches,
    mentors,
    offers,
    signin,
    statistics,
    subject_access,
)
from api.web.core import WebRoute
from bootstrap import StartupError, build_services, check_production
from cli import main as cli
from tests.support.api import (
    AGENTUR,
    ORGS_FILE,
    PROBLEM,
    SECRET,
    Api,
    auth,
    problem_of,
    registration,
)
from tests.support.api import (
    token as bearer_token,
)
from tests.support.web import csrf_of

ISSUER, AUDIENCE = "https://idp.example/realms/staffel", "staffel-production"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": "cw-agentur",
        "name": "Anna Schmitz",
        "org": AGENTUR,
        "roles": ["caseworker"],
        "iss": DEFAULT_JWT_ISSUER,
        "aud": DEFAULT_JWT_AUDIENCE,
        "iat": now,
        "exp": now + 600,
        **overrides,
    }


def without(values: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in names}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def hs256(values: dict[str, Any], secret: str = SECRET) -> dict[str, str]:
    return bearer(jwt.encode(values, secret, algorithm="HS256"))


def refused(api: Api, headers: dict[str, str], status: int = 401) -> dict[str, Any]:
    """A refused read and a refused write: problem+json, nothing recorded."""
    head = api.head()
    read = problem_of(api.client.get("/cases", headers=headers), status)
    problem_of(api.client.post("/cases", json=registration(), headers=headers), status)
    assert api.head() == head
    return read


def sign_in(api: Api, token: str) -> tuple[TestClient, Any]:
    client = TestClient(api.app)
    page = client.get("/ui/sign-in")
    response = client.post(
        "/ui/sign-in", data={"csrf": csrf_of(page.text), "token": token}, follow_redirects=False
    )
    return client, response


# -- issuer, audience, lifetime ---------------------------------------------------------------


def test_production_needs_the_issuer_and_the_audience() -> None:
    required = {
        "database_url": "postgresql://staffel@db/staffel",
        "orgs_file": ORGS_FILE,
        "jwt_secret": SECRET,
        "master_key": "c3RhZmZlbC10ZXN0cy1tYXN0ZXIta2V5LTMyLWJ5dGU=",
    }
    with pytest.raises(StartupError) as refusal:
        check_production(Settings(**required))  # type: ignore[arg-type]
    assert "STAFFEL_JWT_ISSUER" in str(refusal.value)
    assert "STAFFEL_JWT_AUDIENCE" in str(refusal.value)
    check_production(Settings(**required, jwt_issuer=ISSUER, jwt_audience=AUDIENCE))  # type: ignore[arg-type]


def test_issuer_and_audience_are_checked_on_every_token(make_api: Callable[..., Api]) -> None:
    api = make_api(jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    good = claims(iss=ISSUER, aud=AUDIENCE)
    assert api.client.get("/cases", headers=hs256(good)).status_code == 200
    assert (
        api.client.get("/cases", headers=hs256({**good, "aud": ["x", AUDIENCE]})).status_code == 200
    )
    for bad, word in [
        ({**good, "iss": "https://evil.example"}, "issuer"),
        (without(good, "iss"), "iss"),
        ({**good, "aud": "another-service"}, "audience"),
        (without(good, "aud"), "aud"),
        (claims(), "issuer"),  # the demo's defaults are not this deployment's
    ]:
        assert word in refused(api, hs256(bad))["detail"], bad
    assert api.client.get("/cases", headers=auth("cw", AGENTUR)).status_code == 401


def test_a_token_may_not_outlive_the_maximum_lifetime(make_api: Callable[..., Api]) -> None:
    api = make_api()
    now = int(time.time())
    assert api.client.get("/cases", headers=hs256(claims(exp=now + 12 * 3600))).status_code == 200
    detail = refused(api, hs256(claims(iat=now, exp=now + 12 * 3600 + 1)))["detail"]
    assert "lifetime" in detail
    assert "iat" in refused(api, hs256(without(claims(exp=now + 60), "iat")))["detail"]

    short = make_api(jwt_max_lifetime_seconds=600)
    assert short.client.get("/cases", headers=hs256(claims(exp=now + 600))).status_code == 200
    refused(short, hs256(claims(iat=now - 10, exp=now + 600)))


def test_staffel_token_and_the_demo_sign_in_mint_what_is_checked(
    make_api: Callable[..., Api],
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    env = {"JWT_SECRET": SECRET, "JWT_ISSUER": ISSUER, "JWT_AUDIENCE": AUDIENCE,
           "DATA_DIR": str(tmp_path), "ORGS_FILE": str(ORGS_FILE)}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(f"STAFFEL_{name}", value)
    assert cli.main(["token", "--sub", "cw", "--org", AGENTUR, "--role", "caseworker"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    minted = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert (minted["iss"], minted["aud"], minted["exp"] - minted["iat"]) == (
        ISSUER,
        AUDIENCE,
        8 * 3600,
    )
    api = make_api(jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    assert api.client.get("/cases", headers=bearer(token)).status_code == 200
    # longer than the maximum: refused when minted, not only when used
    assert cli.main(["token", "--sub", "cw", "--org", AGENTUR, "--role", "caseworker",
                     "--ttl", str(13 * 3600)]) == 2  # fmt: skip
    assert "STAFFEL_JWT_MAX_LIFETIME_SECONDS" in capsys.readouterr().err

    settings = Settings(
        database_url=backend,
        data_dir=tmp_path / "demo",
        orgs_file=ORGS_FILE,
        demo=True,
        seed=False,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )
    services = build_services(settings)
    try:
        with TestClient(create_app(settings, services)) as client:
            page = client.get("/ui/sign-in")
            signed = client.post(
                "/ui/sign-in/demo", data={"csrf": csrf_of(page.text), "sub": "a.schmitz"}
            )
            assert signed.status_code == 200, signed.text
            assert "Anna Schmitz" in signed.text  # signed in: the header names her
    finally:
        services.close()


# -- the organisation -------------------------------------------------------------------------


def test_the_org_claim_must_name_an_organisation_of_this_deployment(api: Api) -> None:
    for org in ("jobcenter-nirgendwo", AGENTUR.upper(), AGENTUR + " "):
        problem = refused(api, auth("cw", org, "caseworker"))
        assert problem["type"].endswith("/unknown-organisation")
        assert "not an organisation of this deployment" in problem["detail"]
    nowhere = auth("tl", "verein-nirgendwo", "team_lead")
    volunteer = {"login": "v-x", "name": "Petra Lang", "languages": ["de"],
                 "municipality": "Heinsberg", "capacity": 1}  # fmt: skip
    head = api.head()
    problem_of(api.client.post("/volunteers", json=volunteer, headers=nowhere), 401)
    assert api.head() == head

    client, response = sign_in(api, jwt.encode(claims(org="jobcenter-nirgendwo"), SECRET))
    assert response.status_code == 401
    assert "jobcenter-nirgendwo" in response.text
    assert "staffel_session" not in client.cookies


def test_nobody_registers_for_an_organisation_that_does_not_exist(api: Api) -> None:
    case_id = api.register()["case_id"]
    employer = {"account": "elektro-org-check", "name": "Elektro Dahmen GmbH",
                "sector": "Handwerk", "locations": ["Wassenberg"],
                "contact": {"name": "Herr Dahmen"}, "caring_org": "kammer-nirgendwo"}  # fmt: skip
    head = api.head()
    for path, body, field in [
        ("/employers", employer, "caring_org"),
        (f"/cases/{case_id}/handover", {"to_org": "kammer-nirgendwo", "reason": "x"}, "to_org"),
    ]:
        problem = problem_of(api.client.post(path, json=body, headers=api.agentur), 422)
        assert problem["errors"][0]["field"] == field, problem
        assert "kammer-nirgendwo" in problem["detail"]
    assert api.head() == head

    saved = api.client.post("/employers", json={**employer, "caring_org": None},
                            headers=api.agentur)  # fmt: skip
    assert saved.status_code == 201, saved.text
    employer_id = saved.json()["id"]
    change = api.client.patch(
        f"/employers/{employer_id}", json={"caring_org": "kammer-nirgendwo"}, headers=api.agentur
    )
    assert problem_of(change, 422)["errors"][0]["field"] == "caring_org"


def test_an_employer_signs_in_only_as_a_registered_employer(api: Api) -> None:
    account = "elektro-" + hashlib.sha256(str(time.time()).encode()).hexdigest()[:8]
    problem = refused(api, auth("h.dahmen", account, "employer"))
    assert problem["type"].endswith("/unknown-organisation")
    assert "registered employer" in problem["detail"]
    body = {"account": account, "name": "Elektro Dahmen GmbH", "sector": "Handwerk",
            "locations": ["Wassenberg"], "contact": {"name": "Herr Dahmen"}}  # fmt: skip
    saved = api.client.post("/employers", json=body, headers=api.agentur)
    assert saved.status_code == 201, saved.text
    employer_id = saved.json()["id"]
    for org in (account, employer_id):
        r = api.client.get(
            f"/employers/{employer_id}?min_position={saved.json()['position']}",
            headers=auth("h.dahmen", org, "employer"),
        )
        assert r.status_code == 200, r.text
    # an employer's account is no organisation: staff roles need one of the organisations file
    refused(api, auth("h.dahmen", account, ["employer", "caseworker"]))


# -- key types --------------------------------------------------------------------------------

RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC = ec.generate_private_key(ec.SECP256R1())
ED = ed25519.Ed25519PrivateKey.generate()
SIGNERS: dict[str, tuple[Any, str]] = {"RSA": (RSA, "RS256"), "EC": (EC, "ES256"),
                                       "Ed25519": (ED, "EdDSA")}  # fmt: skip


def public_pem(key: Any) -> bytes:
    return bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


class RawJson(str):
    """A token's payload given as JSON text, as no encoder would write it."""


def hmac_signed(values: Any, secret: bytes) -> str:
    """HS256 signed by hand: with a public key's PEM as the secret (the classic confusion, which
    PyJWT refuses to sign), or claims PyJWT refuses to encode."""

    def part(data: Any) -> str:
        text = data if isinstance(data, RawJson) else json.dumps(data)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(values)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


@pytest.mark.parametrize("configured", list(SIGNERS))
def test_a_token_for_another_key_type_is_a_401_never_a_500(
    make_api: Callable[..., Api], tmp_path: Path, configured: str
) -> None:
    key, algorithm = SIGNERS[configured]
    path = tmp_path / f"{configured}.pem"
    path.write_bytes(public_pem(key))
    api = make_api(jwt_public_key_file=path)
    assert (
        api.client.get("/cases", headers=bearer(jwt.encode(claims(), key, algorithm))).status_code
        == 200
    )

    others = [jwt.encode(claims(), k, a) for name, (k, a) in SIGNERS.items() if name != configured]
    others += [
        jwt.encode(claims(), SECRET, "HS256"),
        hmac_signed(claims(), public_pem(key)),
        jwt.encode(claims(), RSA, "PS256"),
        jwt.encode(claims(), ec.generate_private_key(ec.SECP384R1()), "ES384"),
    ]
    for token in others:
        refused(api, bearer(token))
        client, response = sign_in(api, token)
        assert response.status_code == 401, response.text
        assert "ungültig" in response.text
        # a token pasted as the session cookie is no session: every page leads to the sign-in
        client.cookies.set("staffel_session", token, path="/ui")
        for page in web_pages():
            r = client.get(page, follow_redirects=False)
            assert r.status_code == 303, (page, r.status_code)
            assert r.headers["location"].startswith("/ui/sign-in"), page


def web_pages() -> list[str]:
    """Every page of the web interface but the sign-in, with a made-up id for each parameter."""
    routers = [m.router for m in (audit, case_page, cases, employers, handovers, matches,
                                  mentors, offers, signin, statistics, subject_access)]  # fmt: skip
    return [
        re.sub(r"\{[^}]+\}", str(uuid.uuid4()), route.path)
        for router in routers
        for route in router.routes
        if isinstance(route, WebRoute) and "GET" in (route.methods or ())
        if not route.path.startswith("/ui/sign-in")
    ]


# -- NUL and absurd claims; sizes -------------------------------------------------------------

ABSURD: list[Any] = [
    claims(sub="cw\x00agentur"),
    claims(name="Anna\x00Schmitz"),
    claims(org=AGENTUR + "\x00"),
    claims(roles=["caseworker\x00"]),
    claims(roles={"caseworker": True}),
    claims(roles=[["caseworker"]]),
    claims(roles=[None]),
    claims(sub=""),
    claims(sub="x" * 300),
    claims(sub=12345),
    claims(sub={"id": "cw"}),
    claims(name={"given": "Anna"}),
    claims(name=["Anna"]),
    claims(org=None),
    claims(jti=7),
    claims(exp="tomorrow"),
    claims(exp=float("inf")),
    claims(iat="yesterday"),
    claims(iat=None),
    claims(aud={"a": 1}),
    claims(iss=["x"]),
    claims(iss="staffel-demo\x00"),
    claims(sub="cw\u2028agentur"),
    RawJson("[" * 3000 + "]" * 3000),  # deeper than the JSON parser's recursion limit
    RawJson('{"sub": ' + "[" * 3000 + "]" * 3000 + "}"),
    RawJson('"not an object"'),
]


def test_nul_and_absurd_claims_are_refused_cleanly(api: Api) -> None:
    for values in ABSURD:
        token = hmac_signed(values, SECRET.encode())
        problem = refused(api, bearer(token))
        assert problem["type"].endswith(("/unauthenticated", "/unknown-organisation")), problem
        r = api.client.post("/volunteers", json={}, headers=bearer(token))
        assert r.status_code == 401, (values, r.text)
        client, response = sign_in(api, token)
        assert response.status_code == 401, (values, response.status_code)
        assert "staffel_session" not in client.cookies


def test_oversized_tokens_are_refused(api: Api) -> None:
    huge = jwt.encode(claims(name="A" * 9000), SECRET, "HS256")  # validly signed
    for headers in (bearer(huge), {"Authorization": "Bearer " + "a" * 9000}):
        r = api.client.get("/cases", headers=headers)
        problem = problem_of(r, 431)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert "Authorization" in problem["detail"]
        assert "8192" in problem["detail"]

    client, response = sign_in(api, huge)
    assert response.status_code == 401
    assert "zu lang" in response.text
    assert "staffel_session" not in client.cookies

    client.cookies.set("staffel_session", "x" * 9000, path="/ui")
    r = client.get("/ui/cases", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/ui/sign-in")
    cleared = r.headers.get("set-cookie", "")
    assert cleared.startswith("staffel_session=")
    assert "Max-Age=0" in cleared


def test_a_token_accepted_before_is_refused_once_it_has_expired(api: Api) -> None:
    """A process remembers the tokens it verified (no second signature check), but only until
    they expire: the same token, accepted on every request before, is refused after."""
    headers = {
        "Authorization": f"Bearer {bearer_token('cw-expiring', AGENTUR, 'caseworker', ttl=2)}"
    }
    case_id = api.register(headers)["case_id"]
    for _ in range(3):
        assert api.client.get(f"/cases/{case_id}", headers=headers).status_code == 200
    time.sleep(2.2)
    r = api.client.get(f"/cases/{case_id}", headers=headers)
    assert r.status_code == 401, r.text
    assert "expired" in r.json()["detail"]


def test_a_remembered_token_is_verified_again_after_a_while_on_new_keys_and_a_new_day() -> None:
    from api.identity import RECHECK_SECONDS, VerifiedTokens
    from domain.principal import Principal, Role

    now = [86_400 * 20_000 + 3_600.0]  # 01:00 UTC
    tokens = VerifiedTokens(clock=lambda: now[0])
    who = Principal("cw", "Carla", AGENTUR, frozenset({Role.CASEWORKER}), expires_at=10**10)

    def remembered(token: str, at: float, epoch: int = 0) -> bool:
        tokens.put(token, who, 0)
        now[0] += at
        return tokens.get(token, epoch) is who

    assert remembered("a", 1)
    assert not remembered("b", 1, epoch=1)  # the provider's keys were read again
    assert not remembered("c", RECHECK_SECONDS)
    now[0] += 86_400 - (now[0] % 86_400) - 10  # 23:59:50
    assert not remembered("d", 15)  # a new day since: the staff directory's daily note
    now[0] = 10**10 - 1
    assert not remembered("e", 1)  # expired

"""A real OpenID provider for the tests: ``tests/oidc/provider.js`` (the npm ``oidc-provider``
package that ``make install`` installs with ``npm ci``) on a free loopback port, configured here
with clients, users, their organisation, role and name claims, and keys of its own that a test
can rotate. Without Node.js or the installed package the tests skip, or fail under CI=true."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from tests.support.processes import free_port, http_status

HERE = Path(__file__).resolve().parent.parent / "oidc"
SCRIPT = HERE / "provider.js"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
AUDIENCE = "urn:staffel:api"
WEB_CLIENT, WEB_SECRET = "staffel-web", "staffel-web-secret-0123456789abcdef"

USERS: dict[str, dict[str, Any]] = {
    "s.klein": {"name": "Sabine Klein", "org": "agentur-saarland", "roles": ["caseworker"]},
    "m.weber": {"name": "Markus Weber", "org": "jobcenter-heinsberg", "roles": ["caseworker"]},
    "nobody": {"name": "Nora Niemand", "org": None, "roles": ["caseworker"]},
}


def node() -> str:
    """The machine's Node.js with the provider package installed; else skip (fail in CI)."""
    found = shutil.which("node")
    problem = None
    if found is None:
        problem = "Node.js (node) is not installed"
    elif not (HERE / "node_modules" / "oidc-provider").is_dir():
        problem = "tests/oidc/node_modules is missing: run make install (npm ci)"
    if problem:
        if IN_CI:
            pytest.fail(problem + " (CI=true: the OpenID provider tests must run)", pytrace=False)
        pytest.skip(problem)
    assert found is not None
    return found


def new_jwks() -> tuple[str, dict[str, Any]]:
    """A fresh RSA signing key: its id and the private JWKS the provider signs with."""
    kid = uuid.uuid4().hex[:12]
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})
    return kid, {"keys": [key.as_dict(private=True)]}


@dataclass
class Machine:
    client_id: str
    secret: str
    claims: dict[str, Any] | None
    ttl: int = 600


MACHINES = [
    Machine("batch-job", "batch-secret-0123456789abcdef0123", {
        "org": "agentur-saarland", "roles": ["caseworker"], "name": "Nachtlauf Statistik",
    }),
    Machine("no-org-job", "no-org-secret-0123456789abcdef0123", {"roles": ["caseworker"]}),
    Machine("short-job", "short-secret-0123456789abcdef01234", {
        "org": "agentur-saarland", "roles": ["caseworker"],
    }, ttl=1),
]  # fmt: skip


@dataclass
class OidcProvider:
    """One running provider; ``issuer`` is its URL (discovery under it)."""

    folder: Path
    redirect_uris: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    jwks: dict[str, Any] = field(default_factory=lambda: new_jwks()[1])
    process: subprocess.Popen[bytes] | None = None
    claims_only_in_userinfo: bool = False  # the ID token carries sub only (userinfo the rest)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OidcProvider:
        binary = node()
        web = {
            "client_id": WEB_CLIENT,
            "client_secret": WEB_SECRET,
            "redirect_uris": self.redirect_uris or ["http://127.0.0.1/ui/auth/callback"],
            "post_logout_redirect_uris": [
                u.replace("/ui/auth/callback", "/ui/sign-in?reason=signed-out")
                for u in self.redirect_uris
            ],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        }
        machines = [
            {
                "client_id": m.client_id,
                "client_secret": m.secret,
                "grant_types": ["client_credentials"],
                "response_types": [],
                "redirect_uris": [],
                "claims": m.claims,
                "ttl": m.ttl,
            }
            for m in MACHINES
        ]
        users = {login: {k: v for k, v in u.items() if v is not None} for login, u in USERS.items()}
        config = {
            "issuer": self.issuer,
            "port": self.port,
            "audience": AUDIENCE,
            "jwks": self.jwks,
            "clients": [web, *machines],
            "users": users,
            "claimsOnlyInUserinfo": self.claims_only_in_userinfo,
        }
        path = self.folder / f"provider-{self.port}.json"
        path.write_text(json.dumps(config), "utf-8")
        log = (self.folder / f"provider-{self.port}.log").open("wb")
        self.process = subprocess.Popen(
            [binary, str(SCRIPT), str(path)], cwd=HERE, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                text = (self.folder / f"provider-{self.port}.log").read_text("utf-8")
                raise RuntimeError(f"the OpenID provider did not start:\n{text}")
            time.sleep(0.1)
        return self

    def _ready(self) -> bool:
        return http_status(self.issuer + "/.well-known/openid-configuration", timeout=1) == 200

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def rotate(self) -> str:
        """New keys at the provider (the old ones no longer published); returns the new kid."""
        kid, self.jwks = new_jwks()
        httpx.post(self.issuer + "/__test/rotate", json=self.jwks, timeout=10).raise_for_status()
        return kid

    def sign_in(self, staffel: Any, login: str) -> Any:
        """The authorization code flow without a browser: ``staffel`` (a TestClient) sends the
        user to the provider, ``login`` signs in on its login form, the provider sends the
        code back; returns Staffel's answer to the callback."""
        start = staffel.get("/ui/auth/sign-in", follow_redirects=False)
        assert start.status_code == 302, start.text
        with httpx.Client(base_url=self.issuer, timeout=10) as op:
            r = op.get(start.headers["location"])
            while r.status_code in (302, 303) and r.headers["location"].startswith(
                (self.issuer, "/")
            ):
                r = op.get(r.headers["location"])
            action = re.search(r'<form[^>]*action="([^"]+)"', r.text)
            assert action, r.text
            r = op.post(
                html.unescape(action.group(1)),
                data={"prompt": "login", "login": login, "password": "any"},
            )
            while r.headers["location"].startswith((self.issuer, "/")):
                r = op.get(r.headers["location"])
                assert r.status_code in (302, 303), r.text
        back = r.headers["location"]  # the redirect URL with code and state
        return staffel.get(back.removeprefix("http://testserver"), follow_redirects=False)

    def machine_token(self, client_id: str = "batch-job", resource: str = AUDIENCE) -> str:
        """An access token by the client-credentials flow (a JWT for ``resource``)."""
        machine = next(m for m in MACHINES if m.client_id == client_id)
        response = httpx.post(
            self.issuer + "/token",
            data={"grant_type": "client_credentials", "resource": resource, "scope": "openid"},
            auth=(machine.client_id, machine.secret),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

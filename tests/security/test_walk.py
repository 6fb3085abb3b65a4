"""The walk (issue 13): every route of the OpenAPI document x every role x the caller's own
resource, another organisation's, and one that does not exist (real ids from a small seeded
world, random UUIDs). No answer is a 5xx; a role that may not write never writes; nobody writes
through another organisation's or a missing resource.

The full walk runs on PostgreSQL (where text types are strictest); SQLite walks the roles that
must never write and one that may, to keep the suite fast."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from tests.support.api import AGENTUR, DRK, SAARLAND, Api, auth
from tests.support.world import PEER_PATHS, World, body_for, fill, operations, seed

NEVER_WRITE = ("auditor", "auditor+staff", "none")
# "auditor+staff": one token with the auditor's role and every staff role
ROLES = ("caseworker", "team_lead", "admin", "auditor", "auditor+staff", "volunteer", "employer",
         "none")  # fmt: skip
TARGETS = ("own", "other", "missing")
PUBLIC = ("/healthz", "/readyz", "/metrics")  # no user: no token needed
LAST = ("/erasure", "/deactivate", "/leave", "/withdraw")  # writes that end a resource: last


@dataclass(frozen=True)
class Caller:
    role: str
    target: str

    def headers(self, world: World) -> dict[str, str]:
        roles = {"none": [], "auditor+staff": ["auditor", "caseworker", "team_lead", "admin"]}.get(
            self.role, [self.role]
        )
        own = self.target == "own"
        if self.role == "volunteer":
            return auth(world.volunteer_login if own else "pate-fremd", DRK, roles)
        if self.role == "employer":
            account = world.employer_account if own else "fremder-betrieb"
            return auth(f"walk-{account}", account, roles)
        return auth(f"walk-{self.role}", AGENTUR if own else SAARLAND, roles)

    def ids(self, world: World, path: str) -> dict[str, str]:
        if self.target == "missing":
            return {k: str(uuid.uuid4()) for k in re.findall(r"\{(\w+)\}", path)}
        return world.ids(path)


def routes(api: Api) -> list[tuple[str, str]]:
    """Reads first, then writes, the writes that end a resource last."""
    ops = [op for op in operations(api) if op[1] not in PEER_PATHS]
    return sorted(ops, key=lambda op: (op[0] != "GET", op[1].endswith(LAST), op))


def walk(api: Api, roles: tuple[str, ...]) -> None:
    world = seed(api)
    failures: list[str] = []
    dirty = True
    for method, path in routes(api):
        for role in roles:
            for target in TARGETS:
                caller = Caller(role, target)
                if dirty:  # the last write's consequences (the handover policy) first
                    api.settle()
                head = api.head()
                r = api.client.request(
                    method,
                    fill(path, caller.ids(world, path)),
                    json=body_for(method, path, world),
                    headers=caller.headers(world),
                )
                cell = f"{method} {path} as {role} on {target}: {r.status_code}"
                if r.status_code >= 500:
                    failures.append(f"{cell} {r.text[:200]}")
                wrote = api.recorded_since(head)
                dirty = bool(wrote)
                creates = "{" not in path  # POST /cases, /employers, ...: a new resource
                allowed = role not in NEVER_WRITE and (target == "own" or creates)
                if wrote and not allowed:
                    failures.append(f"{cell}: wrote {wrote} event(s)")
                if (
                    role == "none" and path not in PUBLIC and r.status_code != 403
                ):  # a token without a role: nothing
                    failures.append(f"{cell}: answered")
                if wrote and r.status_code >= 300:
                    failures.append(f"{cell}: refused, yet wrote {wrote} event(s)")
    assert not failures, "\n".join(failures)


def test_every_route_role_and_resource(api: Api) -> None:
    if api.services.settings.is_postgres:
        walk(api, ROLES)
    else:
        walk(api, ("caseworker", "auditor+staff", "none"))

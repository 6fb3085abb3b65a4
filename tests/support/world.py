"""A small seeded world for the security tests, made through the API as its staff would: cases the
Agentur holds (one offered to the Jobcenter), an employer with an offer, a volunteer; and the
writing routes of the OpenAPI document with a plausible body each."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from api.web.core import SESSION_COOKIE
from tests.support.api import AGENTUR, DRK, JOBCENTER, Api, auth, note, person
from tests.support.web import csrf_of

WRITING = ("post", "put", "patch", "delete")
# signed by a peer deployment, no user token: refused by their own checks, not by roles
PEER_PATHS = frozenset({"/handovers/inbox", "/handovers/receipts"})
ON = "2026-06-01"


@dataclass(frozen=True)
class World:
    case_id: str  # held by the Agentur
    offered_id: str  # held by the Agentur, offered to the Jobcenter
    offered_version: int
    offered_digest: str
    employer_id: str  # looked after by the Agentur
    offer_id: str
    volunteer_id: str  # of the DRK
    employer_account: str  # the employer's org in its own tokens
    volunteer_login: str  # the volunteer's sub in its own tokens
    follow_up_id: str  # a Wiedervorlage on ``case_id`` (``w-<version>``)

    def ids(self, path: str) -> dict[str, str]:
        case = self.offered_id if "/handover/" in path else self.case_id
        return {"case_id": case, "employer_id": self.employer_id, "offer_id": self.offer_id,
                "volunteer_id": self.volunteer_id, "follow_up_id": self.follow_up_id}  # fmt: skip


def created(api: Api, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    r = api.client.post(path, json=body, headers=headers)
    assert r.status_code == 201, (path, r.text)
    answer: dict[str, Any] = r.json()
    return answer


def seed(api: Api) -> World:
    family = "Sec" + secrets.token_hex(3)
    case_id = str(api.register(person=person(family_name=family))["case_id"])
    offered = str(api.register(person=person(family_name=family + "o"))["case_id"])
    offer = created(api, f"/cases/{offered}/handover", {"to_org": JOBCENTER, "reason": "Umzug"},
                    api.agentur)  # fmt: skip
    account, login = f"sec-{secrets.token_hex(4)}", f"pate-{secrets.token_hex(4)}"
    employer = created(api, "/employers", {
        "account": account, "name": "Elektro Sicher GmbH",
        "sector": "Handwerk", "locations": ["Wassenberg"], "contact": {"name": "Herr Sicher"},
        "interest": ["job"]}, api.agentur)  # fmt: skip
    published = created(api, "/offers", {
        "employer_id": employer["id"], "kind": "job", "occupation": "Elektriker",
        "municipality": "Wassenberg", "starts_on": ON, "positions": 3}, api.agentur)  # fmt: skip
    volunteer = created(api, "/volunteers", {
        "login": login, "name": "Petra Sicher", "municipality": "Erkelenz",
        "capacity": 3}, auth("staff-drk", DRK))  # fmt: skip
    follow_up = created(api, f"/cases/{case_id}/follow-ups", {"due_on": ON, "text": "Termin"},
                        api.agentur)  # fmt: skip
    api.settle()
    return World(case_id, offered, offer["version"], offer["digest"], str(employer["id"]),
                 str(published["id"]), str(volunteer["id"]), account, login,
                 f"w-{follow_up['version']}")  # fmt: skip


def body_for(method: str, path: str, world: World) -> dict[str, Any] | None:
    """A body the route would accept from a caller allowed to write."""
    bodies: dict[tuple[str, str], dict[str, Any] | None] = {
        ("POST", "/cases"): {
            "person": person(),
            "bamf_file_number": None,
            "residence_municipality": "Erkelenz",
            "legal_status": "asylum_seeker",
        },
        ("POST", "/cases/{case_id}/events"): note("Prüfung"),
        ("POST", "/cases/{case_id}/follow-ups"): {"due_on": ON, "text": "Rückruf"},
        ("POST", "/cases/{case_id}/follow-ups/{follow_up_id}/postponed"): {"due_on": ON},
        ("POST", "/cases/{case_id}/erasure"): {"ground": "subject_request", "reason": "Antrag 7"},
        ("POST", "/cases/{case_id}/handover"): {"to_org": JOBCENTER, "reason": "Umzug"},
        ("POST", "/cases/{case_id}/handover/accept"): {
            "version": world.offered_version,
            "digest": world.offered_digest,
        },
        ("POST", "/cases/{case_id}/handover/reject"): {"reason": "nicht zuständig"},
        ("POST", "/cases/{case_id}/handover/withdraw"): {"reason": "zurückgezogen"},
        ("POST", "/employers"): {
            "account": "sec-x",
            "name": "X GmbH",
            "sector": "Handwerk",
            "locations": ["Erkelenz"],
            "contact": {"name": "X"},
        },
        ("PATCH", "/employers/{employer_id}"): {"name": "Umbenannt GmbH"},
        ("POST", "/employers/{employer_id}/deactivate"): {"reason": "geschlossen"},
        ("POST", "/offers"): {
            "employer_id": world.employer_id,
            "kind": "job",
            "occupation": "Maler",
            "municipality": "Erkelenz",
            "starts_on": ON,
        },
        ("POST", "/offers/{offer_id}/pause"): {"reason": "Pause"},
        ("POST", "/offers/{offer_id}/reopen"): None,
        ("POST", "/offers/{offer_id}/withdraw"): {"reason": "besetzt"},
        ("POST", "/offers/{offer_id}/placements"): {"case_id": world.case_id, "starts_on": ON},
        ("POST", "/volunteers"): {"login": "pate-x", "name": "Pat X", "municipality": "Erkelenz"},
        ("PATCH", "/volunteers/{volunteer_id}"): {"capacity": 2},
        ("POST", "/volunteers/{volunteer_id}/mentees"): {"case_id": world.case_id},
        ("POST", "/volunteers/{volunteer_id}/pause"): {"reason": "Urlaub"},
        ("POST", "/volunteers/{volunteer_id}/resume"): None,
        ("POST", "/volunteers/{volunteer_id}/leave"): {"reason": "umgezogen"},
        ("POST", "/volunteers/{volunteer_id}/mentees/{case_id}/release"): {},
        ("PUT", "/me/notification-settings"): {"follow_up_digest": True},
    }
    return bodies.get((method, path), {})


def fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def operations(api: Api) -> Iterator[tuple[str, str]]:
    """Every (METHOD, path template) of the OpenAPI document."""
    for path, item in api.app.openapi()["paths"].items():
        for method in item:
            yield method.upper(), path


def writing_routes(api: Api) -> list[tuple[str, str]]:
    return [(m, p) for m, p in operations(api) if m.lower() in WRITING]


def token_roles(*roles: str, org: str = AGENTUR, sub: str = "sec-user") -> dict[str, str]:
    return auth(sub, org, list(roles))


def web_session(api: Api, bearer: str) -> str:
    """The id of a web session signed in with ``bearer`` through the sign-in form (the cookie
    holds a session id, never the token: ADR 0009); the client's cookies are left empty."""
    api.client.cookies.clear()
    page = api.client.get("/ui/sign-in")
    r = api.client.post(
        "/ui/sign-in", data={"csrf": csrf_of(page.text), "token": bearer}, follow_redirects=False
    )
    assert r.status_code == 303, (r.status_code, r.text[:300])
    session = str(r.cookies.get(SESSION_COOKIE) or "")
    assert session, r.headers
    api.client.cookies.clear()
    return session

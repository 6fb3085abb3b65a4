"""The staff directory (ADR 0015): names learned from verified tokens, shown on the pages in
place of the actor id, which the events keep; entries not confirmed for too long are deleted."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from adapters.auth import mint
from adapters.claims import ClaimsMapping
from adapters.views.staff_directory import DAY, StaffDirectory
from domain.principal import Principal, Role
from tests.support.api import SAARLAND, SECRET, Api, registration
from tests.support.web import csrf_of

SABINE = "Sabine Klein (Agentur für Arbeit Saarland)"


def bearer(sub: str, name: str) -> dict[str, str]:
    token = mint(SECRET, sub=sub, org=SAARLAND, roles=["caseworker"], name=name)
    return {"Authorization": f"Bearer {token}"}


def test_the_timeline_names_who_acted_and_the_event_keeps_the_id(api: Api) -> None:
    r = api.client.post("/cases", json=registration(), headers=bearer("s.klein", "Sabine Klein"))
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    api.settle()
    history = api.client.get(
        f"/cases/{case_id}/history", headers=bearer("s.klein", "Sabine Klein")
    ).json()
    assert {e["actor"] for e in history["entries"]} == {"s.klein"}  # the stable id

    web = TestClient(api.app)
    page = web.get("/ui/sign-in")
    token = mint(SECRET, sub="t.tester", org=SAARLAND, roles=["caseworker"], name="Tina Tester")
    web.post("/ui/sign-in", data={"csrf": csrf_of(page.text), "token": token})
    html = web.get(f"/ui/cases/{case_id}").text
    assert SABINE in html
    assert "Tina Tester" in html  # the header: the signed-in user's own name


def test_a_new_name_from_the_provider_replaces_the_old(api: Api) -> None:
    api.client.get("/cases", headers=bearer("s.klein2", "Sabine Klein"))
    api.client.get("/cases", headers=bearer("s.klein2", "Sabine Meier-Klein"))
    entry = api.services.directory.get("s.klein2")
    assert entry is not None
    assert entry.name == "Sabine Meier-Klein"


def test_entries_not_confirmed_for_the_keep_days_are_deleted(api: Api) -> None:
    now = [time.time() - 31 * DAY]  # entries of other tests on a shared database stay
    store = api.services.supervisor.store
    directory = StaffDirectory(store, keep_days=30, reload_seconds=0, clock=lambda: now[0])
    sabine = Principal("s.old", "Sabine Alt", SAARLAND, frozenset({Role.CASEWORKER}))
    directory.learn(sabine)
    now[0] += 29 * DAY
    directory.purge()
    assert directory.get("s.old") is not None
    now[0] += 2 * DAY
    directory.learn(Principal("s.new", "Neu", SAARLAND, frozenset({Role.CASEWORKER})))
    assert directory.get("s.old") is None  # purged on the first write of the day
    assert directory.get("s.new") is not None


def test_a_sign_in_under_way_is_taken_once(api: Api) -> None:
    """The state, nonce and PKCE verifier of a sign-in at the provider: one callback only."""
    sessions = api.services.sessions
    pending = sessions.hold({"session": {"_state_provider_x": {"data": {"nonce": "n"}}}})
    assert sessions.take(pending) == {"session": {"_state_provider_x": {"data": {"nonce": "n"}}}}
    assert sessions.take(pending) is None
    assert sessions.take("not a pending id") is None


def test_the_work_address_comes_from_the_email_claim_and_stays_when_a_token_lacks_it(
    api: Api,
) -> None:
    """The daily digest's address (ADR 0018): the provider's ``email`` claim; a token without one
    (an API client's) keeps the address; something that is no single address is ignored."""
    mapping = ClaimsMapping()
    claims = {"sub": "m.post", "org": SAARLAND, "roles": ["caseworker"], "name": "Mia Post"}
    assert mapping.principal({**claims, "email": "mia.post@saarland.example"}, None).email == (
        "mia.post@saarland.example"
    )
    for bad in ("a@b.example, c@d.example", "Mia <mia@x.example>", "keine", 7):
        assert mapping.principal({**claims, "email": bad}, None).email is None
    # an address the provider marks unverified (typed in by the user) is no work address
    unverified = {**claims, "email": "mia@private.example", "email_verified": False}
    assert mapping.principal(unverified, None).email is None
    verified = {**claims, "email": "mia.post@saarland.example", "email_verified": True}
    assert mapping.principal(verified, None).email == "mia.post@saarland.example"
    directory = api.services.directory
    directory.learn(mapping.principal({**claims, "email": "mia.post@saarland.example"}, None))
    directory.learn(mapping.principal(claims, None))
    for entry in (directory.get("m.post"), directory.fresh("m.post")):
        assert entry is not None
        assert entry.email == "mia.post@saarland.example"

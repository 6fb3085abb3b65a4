"""A damaged bundle is refused, naming its first bad event, and leaves nothing behind; the same
bundle twice (or an older one late) changes nothing. Directly (``import_bundle``) and through
B's ``POST /handovers/inbox``.

Deployment A (Agentur Saarland) offers a case to Jobcenter St. Wendel, which runs deployment B;
the two are each other's peers (``demo.federation.prepare``).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.federation.bundle import BundleError, build_bundle, parse
from adapters.federation.signing import sign
from adapters.federation.transfer import import_bundle
from domain.actor import Actor, acting_as
from domain.values import LegalStatus, NoteCategory, Plan, Protection
from service_layer.federation import peer_key
from tests.support.federation import (
    PROBLEM,
    SAARLAND,
    ST_WENDEL,
    Federation,
    open_federation,
    register,
    stored_events,
)

SENDER = Actor("cw-saarland", SAARLAND)
Bundle = dict[str, Any]


@dataclass
class World:
    federation: Federation
    key: Any  # A's public key, as B's organisations file names it

    def offered_case(self) -> UUID:
        """A case at A with a few events, recognised and offered to St. Wendel (N = 7)."""
        app = self.federation.a.app
        case_id = register(app, SENDER, "St. Wendel").id

        def staff(event_type: str, **fields: Any) -> None:
            with acting_as(SENDER):
                app.record(case_id, event_type, fields)

        staff("NoteRecorded", text="Erstgespräch", category=NoteCategory.GENERAL)
        staff("StepAgreed", step_id="s1", description="B1", due_on=None, plan=Plan.KOOPERATIONSPLAN)
        staff("LegalStatusChanged", status=LegalStatus.TOLERATED, effective_on=date(2026, 2, 1),
              document=None, valid_until=None)  # fmt: skip
        staff("NoteRecorded", text="Termin", category=NoteCategory.WORK)
        staff("AsylumRecognized", protection=Protection.REFUGEE, decided_on=date(2026, 4, 20))
        self.federation.a.run_policy()
        assert app.get_case(case_id).version == N
        return case_id

    def bundle(self, case_id: UUID) -> Bundle:
        a = self.federation.a
        return build_bundle(a.app, case_id, SAARLAND, a.services.signing_key)

    def import_(self, bundle: Bundle) -> Any:
        b = self.federation.b
        return import_bundle(b.app, b.store, bundle, self.key)

    def footprint(self, case_id: UUID) -> tuple[int, int, int]:
        """What a refused import must leave as it was."""
        b = self.federation.b
        return b.head(), b.imported_rows(), len(stored_events(b.app, case_id))


N = 7  # events in the offered case's bundle; the recognition is event 6, the offer event 7
RECOGNITION = 6


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    federation = open_federation(tmp_path_factory.mktemp("federation"))
    yield World(federation, peer_key(federation.b.services, SAARLAND))
    federation.close()


@pytest.fixture(scope="module")
def offered(world: World) -> tuple[UUID, Bundle]:
    """One offered case nobody imports validly: every refusal test damages its bundle."""
    case_id = world.offered_case()
    return case_id, world.bundle(case_id)


# -- damage -------------------------------------------------------------------------------------


def flip(text: str, at: int = -1) -> str:
    """``text`` with one character changed (one byte, for ASCII)."""
    chars = list(text)
    chars[at] = chr(ord(chars[at]) ^ 1)
    return "".join(chars)


def changed_state(version: int, key: str = "actor") -> Callable[[Bundle], None]:
    def damage(bundle: Bundle) -> None:
        state = bundle["events"][version - 1]["state"]
        value = state[key]
        if isinstance(value, dict):  # a sealed value (a reason): a byte of its ciphertext
            state[key] = {"box": flip(value["box"], 7)}
        else:
            state[key] = flip(value)

    return damage


def changed_person(bundle: Bundle) -> None:
    person = bundle["events"][0]["state"]["person"]  # sealed: a byte of its ciphertext
    person["box"] = flip(person["box"], 7)


def changed_date(bundle: Bundle) -> None:
    state = bundle["events"][RECOGNITION - 1]["state"]
    state["decided_on"] = state["decided_on"].replace("2026-04-20", "2026-04-21")


def changed_hash(version: int) -> Callable[[Bundle], None]:
    def damage(bundle: Bundle) -> None:
        event = bundle["events"][version - 1]
        event["hash"] = flip(event["hash"])

    return damage


def changed_encoded(version: int) -> Callable[[Bundle], None]:
    """The typed ("encoded") form says another actor; the canonical state and hash are intact."""

    def damage(bundle: Bundle) -> None:
        event = bundle["events"][version - 1]
        assert '"cw-saarland"' in event["encoded"]
        event["encoded"] = event["encoded"].replace('"cw-saarland"', '"cw-saarlanD"')

    return damage


def untyped_encoded_date(bundle: Bundle) -> None:
    """The encoded form holds the recognition's date as a plain string instead of a date: its
    canonical form is the same, but imported as is, the case would carry a string for a date."""
    event = bundle["events"][RECOGNITION - 1]
    encoded = json.loads(event["encoded"])
    tagged = encoded["decided_on"]
    assert isinstance(tagged, dict), encoded
    encoded["decided_on"] = tagged["_data_"]
    event["encoded"] = json.dumps(encoded)


def untyped_encoded_enum(bundle: Bundle) -> None:
    """The encoded form holds the protection as a plain string instead of the enum."""
    event = bundle["events"][RECOGNITION - 1]
    encoded = json.loads(event["encoded"])
    tagged = encoded["protection"]
    assert isinstance(tagged, dict), encoded
    encoded["protection"] = tagged["_data_"]
    event["encoded"] = json.dumps(encoded)


def dropped(version: int) -> Callable[[Bundle], None]:
    def damage(bundle: Bundle) -> None:
        del bundle["events"][version - 1]

    return damage


def swapped(version: int) -> Callable[[Bundle], None]:
    """Events ``version`` and ``version + 1`` change places."""

    def damage(bundle: Bundle) -> None:
        events = bundle["events"]
        events[version - 1], events[version] = events[version], events[version - 1]

    return damage


def renumbered_swap(version: int) -> Callable[[Bundle], None]:
    """Two events swapped and their version numbers swapped with them (so the numbering runs
    1..N): found by the hashes and the links instead."""

    def damage(bundle: Bundle) -> None:
        swapped(version)(bundle)
        events = bundle["events"]
        events[version - 1]["version"], events[version]["version"] = version, version + 1

    return damage


def claims(field: str, value: Any) -> Callable[[Bundle], None]:
    def damage(bundle: Bundle) -> None:
        bundle[field] = value

    return damage


# (damage, the version the refusal must name)
DAMAGE: dict[str, tuple[Callable[[Bundle], None], int]] = {
    "byte changed in event 1's person": (changed_person, 1),
    "byte changed in event 1's actor": (changed_state(1), 1),
    "byte changed in event 4's actor": (changed_state(4), 4),
    "byte changed in the last event's reason": (changed_state(N, "reason"), N),
    "date changed in the recognition": (changed_date, RECOGNITION),
    "byte changed in event 3's prev_hash": (changed_state(3, "prev_hash"), 3),
    "byte changed in event 5's hash": (changed_hash(5), 5),
    "byte changed in event 2's encoded form": (changed_encoded(2), 2),
    "date untyped in the recognition's encoded form": (untyped_encoded_date, RECOGNITION),
    "enum untyped in the recognition's encoded form": (untyped_encoded_enum, RECOGNITION),
    "event 1 dropped": (dropped(1), 1),
    "event 4 dropped": (dropped(4), 4),
    "last event dropped": (dropped(N), N),
    "events 1 and 2 swapped": (swapped(1), 1),
    "events 4 and 5 swapped": (swapped(4), 4),
    "last two events swapped": (swapped(N - 1), N - 1),
    "events 3 and 4 swapped and renumbered": (renumbered_swap(3), 3),
    "bundle claims one more event": (claims("version", N + 1), N + 1),
    "bundle claims another digest": (claims("digest", "0" * 64), N),
    "bundle claims another case": (claims("case_id", "00000000-0000-4000-8000-000000000000"), 1),
}


def refused_import(world: World, case_id: UUID, bundle: Bundle) -> BundleError:
    before = world.footprint(case_id)
    with pytest.raises(BundleError) as refusal:
        world.import_(bundle)
    assert world.footprint(case_id) == before, "a refused bundle left something behind"
    return refusal.value


@pytest.mark.parametrize("signed", ["as damaged", "re-signed by the sender"])
@pytest.mark.parametrize("name", list(DAMAGE))
def test_a_damaged_bundle_is_refused_naming_the_first_bad_event(
    world: World, offered: tuple[UUID, Bundle], name: str, signed: str
) -> None:
    case_id, bundle = offered
    damage, first_bad = DAMAGE[name]
    damaged = copy.deepcopy(bundle)
    damage(damaged)
    if signed != "as damaged":  # a faulty sender: the signature is right, the chain is not
        damaged = sign(damaged, world.federation.a.services.signing_key)

    refusal = refused_import(world, case_id, damaged)

    if signed == "as damaged":  # the signature is checked first (issue 13): it alone refuses
        assert refusal.version is None, str(refusal)
        assert "signature does not verify" in str(refusal)
    else:
        assert refusal.version == first_bad, str(refusal)
        assert f"event {first_bad}" in str(refusal)


def signed_by_another_key(bundle: Bundle) -> None:
    bundle.update(sign(bundle, Ed25519PrivateKey.generate()))


def signature_flipped(bundle: Bundle) -> None:
    bundle["signature"]["value"] = flip(bundle["signature"]["value"], 3)


def signature_missing(bundle: Bundle) -> None:
    del bundle["signature"]


def receiver_changed(bundle: Bundle) -> None:
    bundle["receiver"] = "jobcenter-heinsberg"


@pytest.mark.parametrize(
    "damage", [signed_by_another_key, signature_flipped, signature_missing, receiver_changed]
)
def test_a_bundle_with_a_wrong_signature_is_refused(
    world: World, offered: tuple[UUID, Bundle], damage: Callable[[Bundle], None]
) -> None:
    case_id, bundle = offered
    damaged = copy.deepcopy(bundle)
    damage(damaged)

    refusal = refused_import(world, case_id, damaged)

    assert refusal.version is None  # every event is sound; who signed it is not
    assert "signature" in str(refusal)


@pytest.mark.parametrize("cut", [1, 2, 100, 0.5])
def test_a_truncated_bundle_is_refused(
    world: World, offered: tuple[UUID, Bundle], cut: float
) -> None:
    case_id, bundle = offered
    raw = json.dumps(bundle).encode()
    truncated = raw[: int(len(raw) * cut)] if isinstance(cut, float) else raw[:-cut]
    before = world.footprint(case_id)

    with pytest.raises(BundleError, match="not valid JSON"):
        world.import_(parse(truncated))

    assert world.footprint(case_id) == before


def test_a_truncated_bundle_file_is_refused_by_the_command(
    world: World, offered: tuple[UUID, Bundle], tmp_path: Path
) -> None:
    case_id, bundle = offered
    b = world.federation.b.services.settings
    path = tmp_path / "bundle.json"
    path.write_bytes(json.dumps(bundle).encode()[:-40])
    env = {
        **os.environ,
        "STAFFEL_DATABASE_URL": b.database_url,
        "STAFFEL_DATA_DIR": str(b.data_dir),
        "STAFFEL_ORGS_FILE": str(b.orgs_file),
        "STAFFEL_JWT_SECRET": "unused-" * 5,
    }
    before = world.footprint(case_id)

    run = subprocess.run(
        [str(Path(sys.executable).with_name("staffel")), "handover", "import", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 1, run.stderr
    assert "refused" in run.stderr, run.stderr
    assert "not valid JSON" in run.stderr, run.stderr
    assert world.footprint(case_id) == before


def test_the_same_bundle_twice_or_an_older_one_late_adds_nothing(world: World) -> None:
    a, b = world.federation.a, world.federation.b
    case_id = world.offered_case()
    first = world.bundle(case_id)

    imported = world.import_(first)
    assert (imported.new_events, imported.version) == (N, N)
    head, rows = b.head(), b.imported_rows()

    again = world.import_(copy.deepcopy(first))
    assert again.new_events == 0
    assert (again.version, again.digest) == (imported.version, imported.digest)
    assert (b.head(), b.imported_rows()) == (head, rows)

    with acting_as(SENDER):  # the sender still holds the case: it goes on recording
        a.app.record(
            case_id, "NoteRecorded", {"text": "nachgereicht", "category": NoteCategory.GENERAL}
        )
    newer = world.bundle(case_id)
    assert world.import_(newer).new_events == 1
    assert world.import_(first).new_events == 0  # the older one, delivered late
    assert world.import_(newer).new_events == 0
    assert stored_events(b.app, case_id) == stored_events(a.app, case_id)


# -- through B's inbox ----------------------------------------------------------------------------


def test_the_inbox_refuses_a_damaged_bundle_with_a_problem_naming_the_first_bad_event(
    world: World, offered: tuple[UUID, Bundle]
) -> None:
    case_id, bundle = offered
    b = world.federation.b
    for name in ("byte changed in event 4's actor", "events 4 and 5 swapped", "event 4 dropped"):
        damaged = copy.deepcopy(bundle)
        DAMAGE[name][0](damaged)
        damaged = sign(damaged, world.federation.a.services.signing_key)  # a faulty sender
        before = world.footprint(case_id)

        response = b.client.post("/handovers/inbox", json=damaged)

        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        problem = response.json()
        assert problem["first_bad_version"] == 4, problem
        assert problem["type"].endswith("/bundle-refused")
        assert world.footprint(case_id) == before


def test_the_inbox_refuses_a_truncated_body(world: World, offered: tuple[UUID, Bundle]) -> None:
    case_id, bundle = offered
    b = world.federation.b
    before = world.footprint(case_id)

    response = b.client.post(
        "/handovers/inbox",
        content=json.dumps(bundle).encode()[:-25],
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert world.footprint(case_id) == before


@pytest.mark.parametrize("sender", ["nobody", ST_WENDEL, None])
def test_the_inbox_refuses_a_sender_that_is_no_peer(
    world: World, offered: tuple[UUID, Bundle], sender: str | None
) -> None:
    case_id, bundle = offered
    b = world.federation.b
    foreign = copy.deepcopy(bundle)
    foreign["sender"] = sender
    foreign = sign(foreign, Ed25519PrivateKey.generate())
    before = world.footprint(case_id)

    response = b.client.post("/handovers/inbox", json=foreign)

    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["type"].endswith("/unknown-peer")
    assert world.footprint(case_id) == before


def test_the_inbox_imports_a_bundle_once(world: World) -> None:
    b = world.federation.b
    case_id = world.offered_case()
    bundle = world.bundle(case_id)

    first = b.client.post("/handovers/inbox", json=bundle)
    head = b.head()
    second = b.client.post("/handovers/inbox", json=bundle)

    assert first.status_code == 201, first.text
    assert first.json()["new_events"] == N
    assert second.status_code == 200, second.text
    assert second.json()["new_events"] == 0
    assert second.json()["digest"] == first.json()["digest"] == bundle["digest"]
    assert b.head() == head
    assert stored_events(b.app, case_id) == stored_events(world.federation.a.app, case_id)

"""Erasure while a case is offered to another deployment (ADR 0006, ADR 0008), in-process: each
outbox posts into the other's app. The sender withdraws the offer and erases in one save; its
outbox sends the stream as it now stands, with no data key; the receiver imports it, erases its
copy of the key too, shows markers, and can no longer accept. A bundle from before the erasure
that arrives late does not bring the key back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters.federation.bundle import build_bundle
from adapters.federation.transfer import import_bundle
from adapters.keystore import CaseKeys
from demo.federation import prepare
from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.values import (
    LegalStatus,
    MeasureKind,
    NoteCategory,
    Person,
    PlacementKind,
    Plan,
    Protection,
)
from service_layer.federation import peer_key
from tests.conftest import create_database
from tests.support.dataprotection import MARKER, Subject, database_contents, found_in, token
from tests.support.federation import (
    PROBLEM,
    SAARLAND,
    ST_WENDEL,
    UNUSED_PORT,
    Deployment,
    Federation,
    open_deployment,
    post_into,
    stored_events,
)

SENDER = Actor("cw-saarland", SAARLAND)
URL = "STAFFEL_DATABASE_URL"


@pytest.fixture
def federation(backend: str, tmp_path: Path) -> Iterator[Federation]:
    """Deployments A and B of ``tests.support.federation.open_federation``, each on a database of
    its own on the test's backend."""
    env_a, env_b = prepare(tmp_path, UNUSED_PORT, UNUSED_PORT)
    if not backend.startswith("sqlite"):
        env_a[URL], env_b[URL] = create_database("staffel_fed_a"), create_database("staffel_fed_b")
    a, b = (
        open_deployment(env[URL], Path(env["STAFFEL_DATA_DIR"]), Path(env["STAFFEL_ORGS_FILE"]))
        for env in (env_a, env_b)
    )
    a.outbox.post = post_into(b.client)
    b.outbox.post = post_into(a.client)
    federation = Federation(a, b)
    yield federation
    federation.close()


def keys_of(deployment: Deployment) -> CaseKeys:
    keys = deployment.app.keys
    assert isinstance(keys, CaseKeys)
    return keys


def offered_to_b(federation: Federation, subject: Subject) -> UUID:
    """The subject registered at A with a note, a health note and a step, recognised; A's policy
    offers the case to St. Wendel, and A's outbox delivers the bundle into B."""
    a = federation.a
    person = Person(
        subject.given.capitalize(), subject.family.capitalize(), subject.birth_date, "ER", ("ti",)
    )
    with acting_as(SENDER):
        case_id = a.app.register_case(
            person=person,
            bamf_file_number=subject.bamf,
            residence_municipality="Tholey",
            legal_status=LegalStatus.ASYLUM_SEEKER,
        ).id
        for text, category in (
            (subject.note, NoteCategory.FAMILY),
            (subject.health, NoteCategory.HEALTH),
        ):
            a.app.record(case_id, "NoteRecorded", {"text": text, "category": category})
        step = {"step_id": "s1", "description": subject.step, "due_on": None}
        a.app.record(case_id, "StepAgreed", {**step, "plan": Plan.KOOPERATIONSPLAN})
        a.app.record(
            case_id,
            "AsylumRecognized",
            {"protection": Protection.REFUGEE, "decided_on": date(2026, 4, 20)},
        )
    a.run_policy()
    a.outbox.step()
    assert stored_events(federation.b.app, case_id) == stored_events(a.app, case_id)
    return case_id


def history_at(deployment: Deployment, case_id: UUID, sub: str, org: str) -> dict[str, Any]:
    deployment.catch_up()
    r = deployment.client.get(f"/cases/{case_id}/history", headers=deployment.auth(sub, org))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_erasure_during_an_offer_to_another_deployment_reaches_the_receiver_which_erases_too(
    federation: Federation,
) -> None:
    a, b = federation.a, federation.b
    subject = Subject.new()
    case_id = offered_to_b(federation, subject)
    read = history_at(b, case_id, "t.weber", ST_WENDEL)  # the receiver opens the sealed fields
    shown = [subject.family, subject.note]  # identity and free text (no health: the offer)
    assert found_in(json.dumps(read, ensure_ascii=False), shown) == shown
    assert keys_of(b).stored_keys([case_id])[case_id] is not None
    before_erasure = build_bundle(a.app, case_id, SAARLAND, a.services.signing_key, ST_WENDEL)
    assert before_erasure["data_key"] is not None

    erased = a.client.post(
        f"/cases/{case_id}/erasure",
        json={"ground": "subject_request", "reason": "Antrag vom 20.11.2026"},
        headers=a.auth("tl-saarland", SAARLAND, "team_lead"),
    )
    assert erased.status_code == 201, erased.text
    a.outbox.step()

    assert stored_events(b.app, case_id) == stored_events(a.app, case_id)
    assert [e.topic for e in stored_events(b.app, case_id)][-2:] == [
        ev.HandoverWithdrawn.TOPIC,
        ev.PersonalDataErased.TOPIC,
    ]
    assert keys_of(b).is_erased(case_id)
    assert (
        build_bundle(a.app, case_id, SAARLAND, a.services.signing_key, ST_WENDEL)["data_key"]
        is None
    )
    b.catch_up()  # B's copy as its read models hold it (B may no longer read it over HTTP)
    history = b.services.queries.history(str(case_id))
    summary = b.services.queries.summary(str(case_id))
    assert history is not None
    assert summary is not None
    assert found_in(json.dumps([history, summary], default=str), subject.personal()) == []
    notes = [e for e in history.entries if e["type"] == "NoteRecorded"]
    assert [n["data"]["text"] for n in notes] == [MARKER, MARKER]
    assert MARKER in history.entries[0]["summary"]
    assert summary["person"]["family_name"] == MARKER
    accepted = b.client.post(
        f"/cases/{case_id}/handover/accept",
        json={"version": read["version"], "digest": read["digest"]},
        headers=b.auth("t.weber", ST_WENDEL),
    )
    assert accepted.status_code == 409, accepted.text
    assert accepted.headers["content-type"].startswith(PROBLEM)
    assert accepted.json()["type"].endswith("case-erased")
    assert a.app.get_case(case_id).holder == SAARLAND

    # a bundle from before the erasure, delivered late, adds nothing and brings no key back
    import_bundle(b.app, b.store, before_erasure, peer_key(b.services, SAARLAND))
    assert keys_of(b).is_erased(case_id)
    assert stored_events(b.app, case_id) == stored_events(a.app, case_id)
    a.catch_up()
    for deployment in (a, b):
        url = deployment.services.settings.database_url
        for name, content in database_contents(url).items():
            assert found_in(content, subject.personal()) == [], f"erased values in {name}"


def test_free_text_travels_sealed_opens_at_the_receiver_and_its_erasure_reaches_it_there(
    federation: Federation,
) -> None:
    """Issue 13: reasons, providers, employers, documents are sealed like the other personal
    fields; a bundle carries them as boxes, the receiver opens them with the bundle's data key
    (the offer's reason included), and after the sender's erasure neither side shows them."""
    a, b = federation.a, federation.b
    subject = Subject.new()
    texts = {name: token(name) for name in ("dokument", "traeger", "betrieb", "ende", "grund")}
    with acting_as(SENDER):
        case_id = a.app.register_case(
            person=Person(subject.given, subject.family, subject.birth_date, "ER", ("ti",)),
            bamf_file_number=None,
            residence_municipality="Tholey",
            legal_status=LegalStatus.ASYLUM_SEEKER,
        ).id
        for event_type, fields in (
            ("LegalStatusChanged", {"status": LegalStatus.TOLERATED,
                                    "effective_on": date(2026, 2, 1),
                                    "document": texts["dokument"]}),
            ("MeasureStarted", {"measure_id": "m1", "kind": MeasureKind.INTEGRATION_COURSE,
                                "provider": texts["traeger"], "starts_on": date(2026, 3, 2),
                                "ends_on": None}),
            ("PlacementMade", {"placement_id": "p1", "kind": PlacementKind.INTERNSHIP,
                               "employer": texts["betrieb"], "starts_on": date(2026, 3, 9),
                               "wage_subsidy": None, "offer_id": None}),
            ("PlacementEnded", {"placement_id": "p1", "ended_on": date(2026, 3, 20),
                                "reason": texts["ende"]}),
            ("CaseClosed", {"reason": texts["grund"], "closed_on": date(2026, 3, 21)}),
            ("CaseReopened", {"reason": texts["grund"]}),
            ("AsylumRecognized", {"protection": Protection.REFUGEE,
                                  "decided_on": date(2026, 4, 20)}),
        ):  # fmt: skip
            a.app.record(case_id, event_type, fields)
    a.run_policy()
    a.outbox.step()
    values = list(texts.values())

    bundle = build_bundle(a.app, case_id, SAARLAND, a.services.signing_key, ST_WENDEL)
    assert found_in(json.dumps(bundle, ensure_ascii=False), values) == []
    offered = [e for e in bundle["events"] if e["topic"] == ev.HandoverOffered.TOPIC]
    assert set(offered[-1]["state"]["reason"]) == {"box"}
    assert stored_events(b.app, case_id) == stored_events(a.app, case_id)
    read = history_at(b, case_id, "t.weber", ST_WENDEL)
    assert found_in(json.dumps(read, ensure_ascii=False), values) == values
    [offer] = [e for e in read["entries"] if e["type"] == "HandoverOffered"]
    assert isinstance(offer["data"]["reason"], str)
    assert offer["data"]["reason"] != MARKER

    erased = a.client.post(
        f"/cases/{case_id}/erasure",
        json={"ground": "subject_request", "reason": "Antrag vom 20.11.2026"},
        headers=a.auth("tl-saarland", SAARLAND, "team_lead"),
    )
    assert erased.status_code == 201, erased.text
    a.outbox.step()

    assert keys_of(b).is_erased(case_id)
    after = build_bundle(a.app, case_id, SAARLAND, a.services.signing_key, ST_WENDEL)
    assert found_in(json.dumps(after, ensure_ascii=False), values) == []
    for deployment in (a, b):
        deployment.catch_up()
        history = deployment.services.queries.history(str(case_id))
        summary = deployment.services.queries.summary(str(case_id))
        assert history is not None
        assert summary is not None
        assert found_in(json.dumps([history, summary], default=str), values) == []
        free = {e["type"]: e["data"] for e in history.entries}
        assert free["PlacementMade"]["employer"] == free["HandoverOffered"]["reason"] == MARKER

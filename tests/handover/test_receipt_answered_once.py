"""A receipt is answered once (issue 13). ``POST /handovers/receipts`` needs no login: the peer's
signature stands in. A receipt already processed never produces a new bundle: a replay gets the
stored first answer byte for byte, or a 409; never events recorded after the decision it
answers. The same for ``staffel handover import --answer``. Every answer sent is in the subject
access report's disclosures."""

from __future__ import annotations

import json
import threading
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters.federation.bundle import build_receipt
from adapters.federation.receipts import disclosures
from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.values import ErasureGround, NoteCategory, Protection
from tests.support.federation import (
    PROBLEM,
    SAARLAND,
    ST_WENDEL,
    Deployment,
    Federation,
    count_of,
    open_deployment,
    register,
    stored_events,
)

SENDER = Actor("cw-saarland", SAARLAND)
LEAD = ("tl-saarland", SAARLAND, "team_lead")


def offered_at_b(federation: Federation) -> UUID:
    """A case recognised at A, offered by A's policy to St. Wendel, its bundle delivered to B."""
    a = federation.a
    case_id = register(a.app, SENDER, "Tholey").id
    with acting_as(SENDER):
        a.app.record(
            case_id,
            "AsylumRecognized",
            {"protection": Protection.REFUGEE, "decided_on": date(2026, 4, 20)},
        )
    a.run_policy()
    a.outbox.step()
    assert stored_events(federation.b.app, case_id) == stored_events(a.app, case_id)
    return case_id


def receipt(federation: Federation, case_id: UUID, decision: str = "accepted") -> dict[str, Any]:
    """B's signed answer to the offer as A's copy stands, as B's outbox would send it."""
    case = federation.a.app.get_case(case_id)
    return build_receipt(
        case_id, case.version, case.digest, ST_WENDEL, "t.weber",
        federation.b.services.signing_key, decision=decision,
        reason="nicht unser Kreis" if decision == "rejected" else None,
    )  # fmt: skip


def note(a: Deployment, case_id: UUID, text: str) -> None:
    with acting_as(SENDER):
        a.app.record(case_id, "NoteRecorded", {"text": text, "category": NoteCategory.GENERAL})


def answered_bundle(response: Any) -> dict[str, Any]:
    bundle: dict[str, Any] = response.json()["bundle"]
    return bundle


def test_a_replayed_rejection_gets_the_first_answer_and_nothing_recorded_since(
    federation: Federation,
) -> None:
    a = federation.a
    case_id = offered_at_b(federation)
    rejection = receipt(federation, case_id, "rejected")
    first = a.client.post("/handovers/receipts", json=rejection)
    assert first.status_code == 201, first.text
    decided = a.app.get_case(case_id).version
    note(a, case_id, "nach der Ablehnung, nur für uns")  # A still holds the case

    replayed = a.client.post("/handovers/receipts", json=rejection)

    assert replayed.status_code == 200, replayed.text
    assert replayed.content == first.content
    bundle = answered_bundle(replayed)
    assert bundle["version"] == decided
    assert [e["version"] for e in bundle["events"]] == list(range(1, decided + 1))
    assert count_of(a.app, case_id, ev.HandoverRejected) == 1


def test_a_fresh_signature_on_an_answered_receipt_gets_the_first_answer(
    federation: Federation,
) -> None:
    a = federation.a
    case_id = offered_at_b(federation)
    accepted = receipt(federation, case_id)
    first = a.client.post("/handovers/receipts", json=accepted)
    assert first.status_code == 201, first.text

    again = build_receipt(
        case_id, accepted["version"], accepted["digest"], ST_WENDEL, "t.weber",
        federation.b.services.signing_key,
    )  # fmt: skip
    assert again["signature"] != accepted["signature"]  # signed later: another document
    replayed = a.client.post("/handovers/receipts", json=again)

    assert replayed.status_code == 200, replayed.text
    assert replayed.content == first.content
    assert count_of(a.app, case_id, ev.HandoverAccepted) == 1


def test_another_answer_to_an_answered_offer_is_a_conflict(federation: Federation) -> None:
    a = federation.a
    case_id = offered_at_b(federation)
    rejection = receipt(federation, case_id, "rejected")
    assert a.client.post("/handovers/receipts", json=rejection).status_code == 201
    head = a.head()

    changed_mind = build_receipt(
        case_id, rejection["version"], rejection["digest"], ST_WENDEL, "t.weber",
        federation.b.services.signing_key,
    )  # fmt: skip
    refused = a.client.post("/handovers/receipts", json=changed_mind)

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert "already answered" in refused.json()["detail"]
    assert "bundle" not in refused.json()
    assert a.head() == head


def test_a_replay_after_the_erasure_gets_no_key(federation: Federation) -> None:
    a = federation.a
    case_id = offered_at_b(federation)
    rejection = receipt(federation, case_id, "rejected")
    first = a.client.post("/handovers/receipts", json=rejection)
    assert answered_bundle(first)["data_key"] is not None
    with acting_as(SENDER):
        a.app.erase_personal_data(case_id, ground=ErasureGround.SUBJECT_REQUEST, reason="Art. 17")

    replayed = a.client.post("/handovers/receipts", json=rejection)

    assert replayed.status_code == 409, replayed.text
    assert replayed.headers["content-type"].startswith(PROBLEM)
    assert "data_key" not in replayed.text


def test_two_processes_answering_the_same_receipt_at_once_return_the_same_bytes(
    federation: Federation, backend: str
) -> None:
    a = federation.a
    case_id = offered_at_b(federation)
    accepted = receipt(federation, case_id)
    settings = a.services.settings
    assert settings.orgs_file is not None
    second = open_deployment(settings.database_url, settings.data_dir, settings.orgs_file)
    try:
        barrier = threading.Barrier(2)
        bodies: list[tuple[int, bytes]] = []

        def answer(deployment: Deployment) -> None:
            barrier.wait()
            response = deployment.client.post("/handovers/receipts", json=accepted)
            bodies.append((response.status_code, response.content))

        threads = [threading.Thread(target=answer, args=(d,)) for d in (a, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        second.close()

    assert len(bodies) == 2
    assert all(status in (200, 201) for status, _ in bodies), bodies
    assert bodies[0][1] == bodies[1][1]
    assert count_of(a.app, case_id, ev.HandoverAccepted) == 1
    assert count_of(a.app, case_id, ev.JurisdictionChanged) == 1


def test_every_answer_is_in_the_subject_access_report(federation: Federation) -> None:
    a = federation.a
    case_id = offered_at_b(federation)
    rejection = receipt(federation, case_id, "rejected")
    version = a.client.post("/handovers/receipts", json=rejection).json()["version"]
    a.client.post("/handovers/receipts", json=rejection)
    a.catch_up()

    report = a.client.get(f"/cases/{case_id}/subject-access-report", headers=a.auth(*LEAD))

    assert report.status_code == 200, report.text
    answers = [b for b in report.json()["shared_with"]["bundles"] if b["kind"] == "answer"]
    assert [(b["peer"], b["version"]) for b in answers] == [(ST_WENDEL, version)] * 2
    assert all(b["state"] == "delivered" and b["as_of"] for b in answers)


# -- by file: staffel handover import RECEIPT --answer FILE ------------------------------------


@pytest.fixture
def at_a(federation: Federation, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    """The environment ``staffel`` reads, set to deployment A's."""
    settings = federation.a.services.settings
    monkeypatch.setenv("STAFFEL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("STAFFEL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("STAFFEL_ORGS_FILE", str(settings.orgs_file))
    return federation.a


def staffel(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from tests.support.cli import run

    return run(capsys, *argv)


def test_a_replayed_receipt_file_gets_the_first_answer(
    federation: Federation, at_a: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case_id = offered_at_b(federation)
    rejection = tmp_path / "receipt.json"
    rejection.write_text(json.dumps(receipt(federation, case_id, "rejected")), "utf-8")
    first, second = tmp_path / "confirm-1.json", tmp_path / "confirm-2.json"
    assert staffel(capsys, "handover", "import", str(rejection), "--answer", str(first))[0] == 0
    note(at_a, case_id, "nach der Ablehnung, nur für uns")

    code, _, err = staffel(capsys, "handover", "import", str(rejection), "--answer", str(second))

    assert code == 0, err
    assert second.read_bytes() == first.read_bytes()
    bundle = json.loads(second.read_bytes())
    assert bundle["version"] == at_a.app.get_case(case_id).version - 1
    assert count_of(at_a.app, case_id, ev.HandoverRejected) == 1
    sent = disclosures(at_a.store, str(case_id))
    assert [(d["peer"], d["version"], d["channel"]) for d in sent] == [
        (ST_WENDEL, bundle["version"], "file")
    ] * 2


def test_the_answer_file_is_private_and_never_overwritten_unasked(
    federation: Federation, at_a: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case_id = offered_at_b(federation)
    rejection = tmp_path / "receipt.json"
    rejection.write_text(json.dumps(receipt(federation, case_id, "rejected")), "utf-8")
    answer = tmp_path / "confirm.json"

    assert staffel(capsys, "handover", "import", str(rejection), "--answer", str(answer))[0] == 0
    assert answer.stat().st_mode & 0o777 == 0o600

    answer.write_text("kept", "utf-8")
    code, _, err = staffel(capsys, "handover", "import", str(rejection), "--answer", str(answer))
    assert code == 1
    assert "exists" in err
    assert "--force" in err
    assert answer.read_text("utf-8") == "kept"

    code, _, err = staffel(
        capsys, "handover", "import", str(rejection), "--answer", str(answer), "--force"
    )
    assert code == 0, err
    assert json.loads(answer.read_bytes())["case_id"] == str(case_id)
    assert answer.stat().st_mode & 0o777 == 0o600


def test_the_outbox_sends_a_rejecting_peer_nothing_recorded_after_the_rejection(
    federation: Federation,
) -> None:
    a, b = federation.a, federation.b
    case_id = offered_at_b(federation)
    rejected = b.client.post(
        f"/cases/{case_id}/handover/reject",
        json={"reason": "nicht unser Kreis"},
        headers=b.auth("t.weber", ST_WENDEL),
    )
    assert rejected.status_code == 201, rejected.text
    decided = a.app.get_case(case_id).version
    note(a, case_id, "nach der Ablehnung, nur für uns")  # before the outbox sends the answer

    a.outbox.step()

    assert [e.version for e in stored_events(b.app, case_id)] == list(range(1, decided + 1))
    assert all(j["state"] == "delivered" for j in a.outbox.jobs())

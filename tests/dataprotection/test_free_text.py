"""Free text in case events is personal data too (issue 13): staff write names, diagnoses and
family matters into reasons, documents, certificates, providers and employers whatever the guide
says. Every free-text field of a case event is sealed with the case's key like the other personal
fields (ADR 0008): the stored form holds no clear text, readers with the key see the values, and
erasure reaches them. Events stored before these fields were sealed stay readable and verifying
(tolerant reading: a clear value is shown as stored) and read as erased once their case is."""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.chain_check import verify_case
from adapters.federation.bundle import build_bundle
from adapters.keystore import opened
from api.app import create_app
from bootstrap import build_services
from cli.main import EXIT_OK
from domain.actor import Actor, acting_as
from domain.aggregates.case_events import CASE_EVENTS, CaseEvent
from domain.application import StaffelApplication
from domain.chain import to_canonical
from domain.values import (
    ErasureGround,
    LegalStatus,
    MeasureKind,
    MeasureOutcome,
    NoteCategory,
    Person,
    PlacementKind,
    QualificationRecognition,
    Redacted,
    Sealed,
)
from projections.history import entry_for
from projections.summary import fold
from service_layer.audit import EventFilter, events_page
from tests.support.api import AGENTUR, AUDIT, JOBCENTER, Api, auth, settings_for
from tests.support.cli import run
from tests.support.dataprotection import (
    MARKER,
    database_contents,
    found_in,
    stored_event_states,
    token,
)
from tests.support.web import signed_in

HOLDER = Actor("cw-agentur", AGENTUR)
RECEIVER = Actor("cw-jobcenter", JOBCENTER)
D = date(2026, 3, 2)
LEAD = auth("tl-agentur", AGENTUR, "team_lead")
AUDITOR = auth("pruefer", AUDIT, "auditor")
ERASURE = {"ground": "subject_request", "reason": "Antrag nach Art. 17 DSGVO, Az. DS-2026-17"}

# (event, field) of every free-text field: sealed with the case's key
FREE_TEXT = {
    ("FollowUpCreated", "text"),
    ("FactCorrected", "reason"),
    ("FactCorrected", "personal_value"),  # a corrected name or birth date: the person's own
    ("LegalStatusChanged", "document"),
    ("CompetenceAssessed", "instrument"),
    ("CompetenceAssessed", "school_certificate"),
    ("CompetenceAssessed", "notes"),
    ("StepAgreed", "description"),
    ("MeasureStarted", "provider"),
    ("MeasureEnded", "certificate"),
    ("PlacementMade", "employer"),
    ("PlacementEnded", "reason"),
    ("NoteRecorded", "text"),
    ("CaseClosed", "reason"),
    ("CaseReopened", "reason"),
    ("HandoverOffered", "reason"),
    ("HandoverRejected", "reason"),
    ("HandoverWithdrawn", "reason"),
}
# the text fields that are not free text, and why they stay readable
STRUCTURED = {
    "actor": "the member of staff's id",
    "org": "an organisation of the organisations file",
    "prev_hash": "a hash",
    "originator_topic": "the aggregate's topic",
    "holder": "an organisation",
    "office": "an office of the organisations file",
    "residence_municipality": "a municipality: matching, statistics and jurisdiction need it",
    "municipality": "a municipality: matching, statistics and jurisdiction need it",
    "step_id": "a reference (letters, digits, ._:-)",
    "measure_id": "a reference",
    "placement_id": "a reference",
    "offer_id": "a reference to an offer",
    "volunteer_id": "a reference to a volunteer",
    "consent_id": "a reference",
    "organisation": "the mentor's organisation",
    "recipient": "the organisation or volunteer a consent names (sharing decides on it)",
    "to_org": "an organisation",
    "from_org": "an organisation",
    "offered_digest": "a hash",
    "digest": "a hash",
    "scope": "field names of the consent vocabulary",
    "caseworker": "a member of staff's id (ADR 0017)",
    "assignee": "a member of staff's id",
    "follow_up_id": "a reference made by the case (w-<version>) or derived from a reference",
    "corrects_event": "an event type (a correction names the entry it corrects)",
    "field": "a field name of ``domain.corrections.CORRECTABLE``",
    "value": "a corrected structured value (a date, a CEFR level); a field of the person goes"
    " to ``personal_value``, sealed",
}
# PersonalDataErased.reason is the record of the erasure itself (the legal reason, Az.): it must
# stay readable once the key is gone, so it cannot be sealed with that key
ERASURE_RECORD = ("PersonalDataErased", "reason")


def _text_in(hint: Any) -> bool:
    if hint is str:
        return True
    return any(_text_in(arg) for arg in typing.get_args(hint))


def test_every_free_text_field_of_a_case_event_is_sealed() -> None:
    found: set[tuple[str, str]] = set()
    for cls in CASE_EVENTS:
        hints = typing.get_type_hints(cls)
        for name in (f.name for f in dataclasses.fields(cls)):
            hint = hints[name]
            if name in STRUCTURED or (cls.__name__, name) == ERASURE_RECORD:
                continue
            if _text_in(hint) and name not in ("person", "bamf_file_number"):
                found.add((cls.__name__, name))
    assert found == FREE_TEXT  # a new text field must be decided on: sealed or structured
    sealed = {(cls.__name__, n) for cls in CASE_EVENTS for n in cls.PERSONAL_FIELDS}
    assert sealed >= FREE_TEXT, sorted(FREE_TEXT - sealed)


# -- the stored form --------------------------------------------------------------------------

TAGGED = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=30).map(
    lambda s: f"§{s}§"
)  # "§" is in no base64 box, no hash, no id
FIELDS = (
    "document",
    "instrument",
    "school_certificate",
    "provider",
    "certificate",
    "employer",
    "placement_reason",
    "offer",
    "reject",
    "withdraw",
    "close",
    "reopen",
)


def free_text_case(app: StaffelApplication, t: dict[str, str]) -> UUID:
    """A case whose every free-text field holds ``t``'s value for it."""
    with acting_as(HOLDER):
        case_id = app.register_case(
            person=Person("Amina", "Yusuf", date(1990, 5, 1), "SO"),
            bamf_file_number=None,
            residence_municipality="Heinsberg",
            legal_status=LegalStatus.ASYLUM_SEEKER,
        ).id
        for event_type, fields in staff_events(t):
            app.record(case_id, event_type, fields)
        app.offer_handover(case_id, to_org=JOBCENTER, reason=t["offer"])
    with acting_as(RECEIVER):
        app.reject_handover(case_id, reason=t["reject"])
    with acting_as(HOLDER):
        app.offer_handover(case_id, to_org=JOBCENTER, reason=t["offer"])
        app.withdraw_handover(case_id, reason=t["withdraw"])
        app.record(case_id, "CaseClosed", {"reason": t["close"], "closed_on": D})
        app.record(case_id, "CaseReopened", {"reason": t["reopen"]})
    return case_id


def staff_events(t: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            "LegalStatusChanged",
            {"status": LegalStatus.TOLERATED, "effective_on": D, "document": t["document"]},
        ),
        (
            "CompetenceAssessed",
            {
                "instrument": t["instrument"],
                "assessed_on": D,
                "german_level": None,
                "languages": (),
                "school_years": 9,
                "school_certificate": t["school_certificate"],
                "vocational_training": (),
                "work_experience": (),
                "qualification_recognition": QualificationRecognition.NONE,
                "support_need": False,
                "notes": None,
            },
        ),
        (
            "MeasureStarted",
            {
                "measure_id": "m1",
                "kind": MeasureKind.INTEGRATION_COURSE,
                "provider": t["provider"],
                "starts_on": D,
                "ends_on": None,
            },
        ),
        (
            "MeasureEnded",
            {
                "measure_id": "m1",
                "ended_on": D,
                "outcome": MeasureOutcome.COMPLETED,
                "certificate": t["certificate"],
            },
        ),
        (
            "PlacementMade",
            {
                "placement_id": "p1",
                "kind": PlacementKind.INTERNSHIP,
                "employer": t["employer"],
                "starts_on": D,
                "wage_subsidy": None,
                "offer_id": None,
            },
        ),
        ("PlacementEnded", {"placement_id": "p1", "ended_on": D, "reason": t["placement_reason"]}),
    ]


def case_events(app: StaffelApplication, case_id: UUID) -> list[CaseEvent]:
    """The case's events as stored (sealed values not opened)."""
    return [e for e in app.events.get(case_id) if isinstance(e, CaseEvent)]


def clear_texts(event: CaseEvent, texts: list[str]) -> list[str]:
    state = json.dumps(to_canonical(vars(event)), ensure_ascii=False)
    return [t for t in texts if t in state]


@pytest.fixture
def case_app(make_app: Callable[..., StaffelApplication], tmp_path: Path) -> StaffelApplication:
    return make_app(data_dir=tmp_path / "data")


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.fixed_dictionaries(dict.fromkeys(FIELDS, TAGGED)))
def test_for_any_free_text_the_stored_events_hold_only_sealed_boxes_that_open_to_it(
    case_app: StaffelApplication, texts: dict[str, str]
) -> None:
    case_id = free_text_case(case_app, texts)

    stored = case_events(case_app, case_id)

    values = list(texts.values())
    for event in stored:
        assert clear_texts(event, values) == [], type(event).__name__
        for name in type(event).PERSONAL_FIELDS:
            value = getattr(event, name)
            assert value is None or isinstance(value, Sealed), (type(event).__name__, name)
    shown = json.dumps([to_canonical(vars(e)) for e in opened(case_app, stored)])
    assert all(json.dumps(t)[1:-1] in shown for t in values)
    assert verify_case(case_app, case_id) == []
    assert readable_after_erasure(case_app, case_id, values) == []


def readable_after_erasure(app: StaffelApplication, case_id: UUID, values: list[str]) -> list[str]:
    """The ``values`` still readable once the case is erased: in its events as readers get them,
    the history entries and the summary the projections made before and scrub on the erasure,
    the same rebuilt after it, and a bundle of the case."""
    live = opened(app, case_events(app, case_id))  # as the projections read them before
    with acting_as(HOLDER):
        app.erase_personal_data(case_id, ground=ErasureGround.SUBJECT_REQUEST, reason="Az. 7")
    events = opened(app, case_events(app, case_id))
    summary: dict[str, Any] | None = None
    for event in [*live, events[-1]]:
        summary = fold(summary, event)
    rebuilt: dict[str, Any] | None = None
    for event in events:
        rebuilt = fold(rebuilt, event)
    entries = [entry_for(e, n) for n, e in enumerate(live, start=1)]
    scrubbed = [[e.erased_summary or e.summary, e.erased_data or e.data] for e in entries]
    bundle = build_bundle(app, case_id, AGENTUR, Ed25519PrivateKey.generate(), JOBCENTER)
    assert bundle["data_key"] is None
    texts = [[to_canonical(vars(e)) for e in events], scrubbed, summary, rebuilt, bundle]
    everything = json.dumps(texts, ensure_ascii=False)
    return [v for v in values if v in everything]


# -- erasure reaches them, everywhere ------------------------------------------------------------


@pytest.fixture
def api(db_url: str, env: Path) -> Iterator[Api]:
    settings = settings_for(db_url, data_dir=env / "data")
    services = build_services(settings)
    app = create_app(settings, services)
    client = TestClient(app)
    client.__enter__()
    yield Api(app=app, services=services, client=client)
    client.__exit__(None, None, None)
    services.close()


def tokens() -> dict[str, str]:
    return {name: token(name.replace("_", "")[:8]) for name in FIELDS}


def recorded_over_http(api: Api, t: dict[str, str]) -> str:
    r = api.client.post(
        "/cases",
        json={
            "person": {
                "given_name": "Amina",
                "family_name": "Yusuf",
                "birth_date": "1990-05-01",
                "nationality": "SO",
                "languages": ["so"],
            },
            "bamf_file_number": None,
            "residence_municipality": "Erkelenz",
            "legal_status": "asylum_seeker",
        },
        headers=api.agentur,
    )
    assert r.status_code == 201, r.text
    case_id = str(r.json()["case_id"])
    for event_type, fields in staff_events(t):
        api.record(case_id, {"type": event_type, **to_canonical(fields)})
    path = f"/cases/{case_id}/handover"
    for url, body, headers in (
        (path, {"to_org": JOBCENTER, "reason": t["offer"]}, api.agentur),
        (path + "/reject", {"reason": t["reject"]}, api.jobcenter),
        (path, {"to_org": JOBCENTER, "reason": t["offer"]}, api.agentur),
        (path + "/withdraw", {"reason": t["withdraw"]}, api.agentur),
    ):
        answer = api.client.post(url, json=body, headers=headers)
        assert answer.status_code in (200, 201), answer.text
    api.record(case_id, {"type": "CaseClosed", "reason": t["close"], "closed_on": "2026-03-02"})
    api.record(case_id, {"type": "CaseReopened", "reason": t["reopen"]})
    api.settle()
    return case_id


def everything_read(api: Api, case_id: str) -> dict[str, str]:
    """What staff, auditors and the person's report show about the case, as text."""
    reads = {
        "case": ("/cases/" + case_id, api.agentur, None),
        "history": (f"/cases/{case_id}/history", api.agentur, None),
        "outgoing": ("/handovers", api.agentur, {"direction": "outgoing", "limit": 200}),
        "incoming": ("/handovers", api.jobcenter, {"direction": "incoming", "limit": 200}),
        "audit_events": ("/audit/events", AUDITOR, {"case_id": case_id, "limit": 1000}),
        "audit_state": (f"/audit/cases/{case_id}/state", AUDITOR, None),
        "report": (f"/cases/{case_id}/subject-access-report", LEAD, None),
    }
    shown = {}
    for name, (path, headers, params) in reads.items():
        r = api.client.get(path, params=params, headers=headers)
        assert r.status_code == 200, (name, r.text)
        shown[name] = r.text
    page = signed_in(api, "cw-agentur", AGENTUR).get(f"/ui/cases/{case_id}")
    assert page.status_code == 200
    shown["page"] = page.text
    return shown


def test_free_text_is_stored_sealed_and_after_erasure_reads_as_erased_everywhere(
    api: Api, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    t = tokens()
    values = list(t.values())
    case_id = recorded_over_http(api, t)
    table = api.services.cases.recorder.events_table_name  # type: ignore[attr-defined]

    assert found_in(stored_event_states(db_url, table), values) == []
    before = everything_read(api, case_id)
    assert found_in(before["history"], values) == values  # the holder reads them
    on_page = [t["provider"], t["employer"], t["reject"]]
    assert found_in(before["page"], on_page) == on_page

    r = api.client.post(f"/cases/{case_id}/erasure", json=ERASURE, headers=LEAD)
    assert r.status_code == 201, r.text
    api.settle()

    after = everything_read(api, case_id)
    for name, text in after.items():
        assert found_in(text, values) == [], name
    for name, content in database_contents(db_url).items():
        assert found_in(content, values) == [], name
    code, export, _ = run(capsys, "audit", "export")
    assert code == EXIT_OK
    assert found_in(export, values) == []
    history = json.loads(after["history"])
    sealed_types = {event for event, _ in FREE_TEXT}
    for entry in history["entries"]:
        if entry["type"] in sealed_types:
            assert MARKER in entry["summary"], entry
    free = {e["type"]: e["data"] for e in history["entries"]}
    assert free["HandoverRejected"]["reason"] == MARKER
    assert free["MeasureStarted"]["provider"] == MARKER
    assert free["PlacementMade"]["employer"] == MARKER
    assert free["LegalStatusChanged"]["document"] == MARKER
    assert MARKER in after["page"]
    assert json.loads(after["history"])["entries"][-1]["data"]["reason"] == ERASURE["reason"]


# -- events stored before the fields were sealed ---------------------------------------------


def test_events_stored_with_clear_free_text_stay_readable_and_verifying_and_read_as_erased_after(
    make_app: Callable[..., StaffelApplication], tmp_path: Path
) -> None:
    """Tolerant reading: no upcast could seal an old value (it has no key, and the hash covers
    the event as stored). An old clear value is shown as stored while its case has a key and
    as "[gelöscht]" once the case is erased."""
    t = {name: f"§alt {name}§" for name in FIELDS}
    old = make_app(data_dir=tmp_path / "data")
    old.keys = None  # as an earlier version stored them: free text in clear
    case_id = free_text_case(old, t)
    app = make_app(data_dir=tmp_path / "data")
    with acting_as(HOLDER):
        app.record(case_id, "NoteRecorded", {"text": "§neu§", "category": NoteCategory.GENERAL})

    stored = case_events(app, case_id)
    assert clear_texts(stored[1], list(t.values())) == [t["document"]]  # as stored: in clear
    assert verify_case(app, case_id) == []
    shown = opened(app, stored)
    assert vars(shown[1])["document"] == t["document"]
    assert vars(shown[-1])["text"] == "§neu§"

    with acting_as(HOLDER):
        app.erase_personal_data(case_id, ground=ErasureGround.SUBJECT_REQUEST, reason="Az. 1")

    stored = case_events(app, case_id)
    assert verify_case(app, case_id) == []
    erased = opened(app, stored)
    readable = json.dumps([to_canonical(vars(e)) for e in erased], ensure_ascii=False)
    assert [v for v in [*t.values(), "§neu§"] if v in readable] == []
    assert vars(erased[1])["document"] is Redacted.ERASED
    summary: dict[str, Any] | None = None
    for event in erased:
        summary = fold(summary, event)
        assert all(v not in entry_for(event, 0).summary for v in t.values())
    assert found_in(json.dumps(summary, ensure_ascii=False), list(t.values())) == []
    audited, _ = events_page(app, 0, 1000, EventFilter(case_id=case_id))  # GET /audit/events
    assert found_in(json.dumps(audited, ensure_ascii=False), list(t.values())) == []
    [status_change] = [i for i in audited if i["type"] == "LegalStatusChanged"]
    assert status_change["data"]["document"] == MARKER

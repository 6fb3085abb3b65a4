"""Minimal disclosure (issue 9): the one policy table, and that the JSON API, the operations the
web pages call, the web page itself and the audit views all show what it allows and no more."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import consent, disclosure
from domain.aggregates.case_events import CASE_EVENTS
from domain.disclosure import (
    FIELD_CLASSES,
    PERSONAL_FIELDS,
    POLICY,
    Audience,
    FieldClass,
    Grant,
    audiences_of,
    field_class,
    may_request_subject_access,
    may_share,
    sees,
    visible,
)
from domain.values import NoteCategory, Redacted
from projections import withholding
from service_layer import access
from service_layer import cases as operations
from tests.support.api import (
    AGENTUR,
    AUDIT,
    DRK,
    JOBCENTER,
    SAARLAND,
    Api,
    auth,
    registered_employer,
)
from tests.support.served import Recorded, principal, recorded_case, served
from tests.support.web import signed_in

A = Audience
WITHHELD = Redacted.WITHHELD.value
ERASED = Redacted.ERASED.value
# the table as decided and documented (domain/disclosure.py, docs/data-protection.md):
# identity, free text, health
DECIDED = {
    A.HOLDER_CASEWORKER: ("yes", "yes", "yes"),
    A.HOLDER_TEAM_LEAD: ("yes", "yes", "no"),
    A.HOLDER_ADMIN: ("yes", "yes", "no"),
    A.AUDITOR: ("yes", "yes", "no"),
    A.OFFER_RECEIVER: ("yes", "yes", "no"),
    A.FORMER_HOLDER: ("yes", "yes", "no"),
    A.VOLUNTEER: ("consent", "no", "no"),
    A.EMPLOYER: ("consent", "no", "no"),
    A.SUBJECT_ACCESS: ("yes", "yes", "yes"),
}
MAY_SEE_HEALTH = {A.HOLDER_CASEWORKER, A.SUBJECT_ACCESS}
BOOKKEEPING = {"originator_id", "originator_version", "timestamp", "actor", "org", "prev_hash"}
# every field of every case event, personal or not
EVERY_FIELD = sorted(
    (cls.__name__, name)
    for cls in CASE_EVENTS
    for name in getattr(cls, "__dataclass_fields__", {})
    if name not in BOOKKEEPING
)
CATEGORIES = st.sampled_from([None, *(c.value for c in NoteCategory)])
ROLES = ("caseworker", "team_lead", "admin", "auditor", "volunteer", "employer")


# -- the table ---------------------------------------------------------------------------------


def test_the_policy_table_is_the_one_decided() -> None:
    assert set(POLICY) == set(Audience)
    for audience, grants in DECIDED.items():
        assert tuple(POLICY[audience][c].value for c in FieldClass) == grants, audience


def test_every_personal_field_of_every_case_event_has_a_class() -> None:
    declared = {(cls.__name__, name) for cls in CASE_EVENTS for name in cls.PERSONAL_FIELDS}
    assert declared == set(FIELD_CLASSES)
    assert field_class("NoteRecorded", "text", "health") is FieldClass.HEALTH
    assert field_class("NoteRecorded", "text", "family") is FieldClass.FREE_TEXT
    assert field_class("CaseRegistered", "person") is FieldClass.IDENTITY
    assert field_class("CaseRegistered", "residence_municipality") is None


def test_a_personal_field_the_table_does_not_name_counts_as_health(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(disclosure, "PERSONAL_FIELDS", {"NoteRecorded": ("text", "diagnosis")})
    assert field_class("NoteRecorded", "diagnosis") is FieldClass.HEALTH
    assert not visible(A.HOLDER_TEAM_LEAD, "NoteRecorded", "diagnosis")
    assert visible(A.HOLDER_CASEWORKER, "NoteRecorded", "diagnosis")


@given(
    audience=st.sampled_from(list(Audience)),
    field=st.sampled_from(EVERY_FIELD),
    category=CATEGORIES,
)
def test_visibility_follows_the_table(
    audience: Audience, field: tuple[str, str], category: str | None
) -> None:
    event_type, name = field
    shown = visible(audience, event_type, name, category)
    kind = field_class(event_type, name, category)
    if name not in PERSONAL_FIELDS[event_type]:
        assert kind is None
        assert shown  # what is not personal is never withheld from a permitted reader
        return
    assert kind is not None
    assert shown is (POLICY[audience][kind] is Grant.YES)
    if kind is FieldClass.HEALTH:
        assert shown is (audience in MAY_SEE_HEALTH)
    if audience in (A.VOLUNTEER, A.EMPLOYER):
        assert not shown  # they never see a case's events: only what consent shares


@given(
    audiences=st.frozensets(st.sampled_from(list(Audience))),
    field=st.sampled_from(sorted(FIELD_CLASSES)),
    category=CATEGORIES,
)
def test_a_reader_sees_what_any_of_its_audiences_sees(
    audiences: frozenset[Audience], field: tuple[str, str], category: str | None
) -> None:
    expected = any(visible(a, *field, category) for a in audiences)
    assert sees(audiences, *field, category) is expected
    assert not sees(frozenset(), *field, category)


def test_the_fields_withheld_from_a_reader_are_those_it_may_not_see() -> None:
    """``withheld_fields`` (with its shortcut for readers who see every field of a type) names
    exactly the personal fields that hold a value the reader may not see: every reader of one
    or two audiences, every event type, every category (a few thousand cases, all of them)."""
    readers = [frozenset(c) for n in (1, 2) for c in itertools.combinations(Audience, n)]
    for audiences, event_type, category in itertools.product(
        readers, sorted(PERSONAL_FIELDS), [None, *(c.value for c in NoteCategory)]
    ):
        names = PERSONAL_FIELDS[event_type]
        data: dict[str, Any] = dict.fromkeys(names, "Wert") | {"category": category}
        expected = [
            n for n in names if not any(visible(a, event_type, n, category) for a in audiences)
        ]
        found = withholding.withheld_fields(audiences, event_type, data)
        assert found == expected, (audiences, event_type, category)


def test_consent_can_share_no_free_text_and_no_health() -> None:
    for name in consent.FIELDS:
        kind = disclosure.CONSENT_FIELD_CLASSES.get(name)
        assert kind in (None, FieldClass.IDENTITY), name
        assert may_share(A.VOLUNTEER, name)
        assert may_share(A.EMPLOYER, name)


# -- the audience of a principal ---------------------------------------------------------------

HOLDER, RECEIVER, FORMER, OTHER = "agentur", "jobcenter", "sozialamt", "elsewhere"


@pytest.mark.parametrize(
    ("roles", "org", "expected"),
    [
        (["caseworker"], HOLDER, {A.HOLDER_CASEWORKER}),
        (["caseworker", "team_lead"], HOLDER, {A.HOLDER_CASEWORKER, A.HOLDER_TEAM_LEAD}),
        (["admin"], HOLDER, {A.HOLDER_ADMIN}),
        (["team_lead"], RECEIVER, {A.OFFER_RECEIVER}),
        (["caseworker"], FORMER, {A.FORMER_HOLDER}),
        (["auditor", "caseworker"], HOLDER, {A.AUDITOR}),
        (["auditor"], OTHER, {A.AUDITOR}),
        (["caseworker"], OTHER, set()),
        (["volunteer"], OTHER, {A.VOLUNTEER}),
        (["employer"], HOLDER, {A.EMPLOYER}),
    ],
)
def test_the_audience_of_a_principal(roles: list[str], org: str, expected: set[Audience]) -> None:
    found = audiences_of(roles, org, holder=HOLDER, offered_to=RECEIVER, former_holders=[FORMER])
    assert found == expected


@given(
    roles=st.frozensets(st.sampled_from(ROLES)),
    org=st.sampled_from([HOLDER, RECEIVER, FORMER, OTHER]),
    offered=st.booleans(),
)
def test_health_only_for_the_holders_caseworkers(
    roles: frozenset[str], org: str, offered: bool
) -> None:
    reader = audiences_of(
        roles, org, holder=HOLDER, offered_to=RECEIVER if offered else None,
        former_holders=[FORMER, RECEIVER],
    )  # fmt: skip
    health = sees(reader, "NoteRecorded", "text", "health")
    assert health is (org == HOLDER and "caseworker" in roles and "auditor" not in roles)
    staff = bool(roles & {"caseworker", "team_lead", "admin"})
    identity = sees(reader, "CaseRegistered", "person")
    related = org in (HOLDER, FORMER, RECEIVER)
    assert identity is ("auditor" in roles or (staff and related))


@pytest.mark.parametrize(
    ("roles", "org", "allowed"),
    [
        (["team_lead"], HOLDER, True),
        (["admin"], HOLDER, True),
        (["auditor"], OTHER, True),
        (["caseworker"], HOLDER, False),
        (["team_lead"], RECEIVER, False),
        (["volunteer"], HOLDER, False),
        (["employer"], HOLDER, False),
    ],
)
def test_who_may_prepare_a_subject_access_report(roles: list[str], org: str, allowed: bool) -> None:
    assert may_request_subject_access(roles, org, HOLDER) is allowed


# -- the read models, withheld (pure) ----------------------------------------------------------


def health_row(text: str = "Attest liegt vor") -> dict[str, Any]:
    return {
        "version": 2, "type": "NoteRecorded", "summary": f"Vermerk (Gesundheit): {text}",
        "data": {"text": text, "category": "health"}, "org": HOLDER,
        "erased_summary": f"Vermerk (Gesundheit): {ERASED}",
    }  # fmt: skip


def test_a_withheld_history_entry_reads_the_marker_in_data_and_summary() -> None:
    seen = withholding.history_entry(health_row(), frozenset({A.HOLDER_TEAM_LEAD}))
    assert seen["data"] == {"text": WITHHELD, "category": "health"}
    assert seen["summary"] == f"Vermerk (Gesundheit): {WITHHELD}"
    assert seen["withheld"] == ["text"]
    assert "erased_summary" not in seen
    full = withholding.history_entry(health_row(), frozenset({A.HOLDER_CASEWORKER}))
    assert full["summary"] == "Vermerk (Gesundheit): Attest liegt vor"
    assert full["withheld"] == []


def test_an_erased_value_stays_erased_and_is_not_called_withheld() -> None:
    erased = {**health_row(ERASED), "summary": f"Vermerk (Gesundheit): {ERASED}"}
    erased["erased_summary"] = None
    seen = withholding.history_entry(erased, frozenset({A.AUDITOR}))
    assert seen["data"]["text"] == ERASED
    assert seen["withheld"] == []


def test_a_summary_withholds_what_the_reader_may_not_see() -> None:
    doc = {
        "person": {"given_name": "Rahel", "family_name": "Tesfaye", "birth_date": "1994-03-07",
                   "nationality": "ER", "languages": []},
        "bamf_file_number": "12345678-123",
        "competences": {"notes": "Arbeitsprobe gut"},
        "steps": [{"step_id": "s1", "description": "Bewerbung"}],
    }  # fmt: skip
    for reader in (frozenset({A.AUDITOR}), frozenset({A.OFFER_RECEIVER})):
        assert withholding.summary_doc(doc, reader) == {**doc, "withheld": []}
    nobody = withholding.summary_doc(doc, frozenset({A.VOLUNTEER}))
    assert nobody["person"]["family_name"] == WITHHELD
    assert nobody["bamf_file_number"] == WITHHELD
    assert nobody["competences"]["notes"] == WITHHELD
    assert nobody["steps"][0]["description"] == WITHHELD
    assert nobody["withheld"] == [
        "person", "bamf_file_number", "competences.notes", "steps.description"
    ]  # fmt: skip
    assert "Tesfaye" not in json.dumps(nobody)


# -- through the API, the operations of the web pages, the web page and the audit --------------


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[Api]:
    """The app on the test's own database (``tests/dataprotection/served.py``)."""
    with served(db_url, tmp_path) as built:
        yield built


def health_entry(history: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Any]:
    entries = history["entries"] if isinstance(history, dict) else history
    found = [e for e in entries if e["data"].get("category") == "health"]
    assert len(found) == 1, history
    return found[0]


def via_operations(api: Api, who: Any, case_id: str) -> list[dict[str, Any]]:
    """The history as the web pages get it: ``operations.history_of`` (``api/web/case_page``)."""
    doc = operations.find_case(api.services, UUID(case_id))
    scope = access.read_scope(who, doc)
    return operations.history_of(api.services, who, UUID(case_id), scope).entries


def assert_withheld(api: Api, case: Recorded, headers: dict[str, str], who: Any) -> None:
    body = api.history(case.case_id, headers)
    entry = health_entry(body)
    assert entry["data"]["text"] == WITHHELD
    assert entry["summary"] == f"Vermerk (Gesundheit): {WITHHELD}"
    assert entry["withheld"] == ["text"]
    text = json.dumps(body)
    assert case.health not in text
    assert case.general in text  # free text and identity stay
    assert case.step in text
    assert case.family in text
    assert all(e["withheld"] == [] for e in body["entries"] if e is not entry)
    web = via_operations(api, who, case.case_id)
    assert [{k: e[k] for k in body["entries"][0]} for e in web] == body["entries"]


def test_a_health_note_is_withheld_from_every_role_but_the_holders_caseworker(api: Api) -> None:
    case = recorded_case(api)
    own = api.history(case.case_id, api.agentur)
    assert case.health in health_entry(own)["summary"]
    assert health_entry(own)["withheld"] == []
    holder = principal("cw-agentur", AGENTUR, "caseworker")
    assert health_entry(via_operations(api, holder, case.case_id))["data"]["text"] == (
        f"Attest: {case.health}"
    )
    for role in ("team_lead", "admin"):
        assert_withheld(api, case, auth(f"x-{role}", AGENTUR, role), principal("x", AGENTUR, role))
    assert_withheld(api, case, auth("pruefer", AUDIT, "auditor"), principal("p", AUDIT, "auditor"))
    both = api.history(case.case_id, auth("cw-tl", AGENTUR, ["caseworker", "team_lead"]))
    assert health_entry(both)["withheld"] == []  # a team lead who is also a caseworker
    summary = api.client.get(f"/cases/{case.case_id}", headers=auth("tl", AGENTUR, "team_lead"))
    assert summary.status_code == 200, summary.text
    assert summary.json()["withheld"] == []  # the summary holds no health data
    assert summary.json()["person"]["family_name"] == case.family


def test_volunteers_employers_and_other_organisations_read_nothing(api: Api) -> None:
    case = recorded_case(api)
    # another organisation gets the answer for no case (issue 13), the others a 403
    for headers, status in (
        (auth("p.lang", DRK, "volunteer"), 403),
        (auth("h.dahmen", registered_employer(api, "elektro-dahmen"), "employer"), 403),
        (auth("cw-saar", SAARLAND, "caseworker"), 404),
    ):
        for path in (f"/cases/{case.case_id}", f"/cases/{case.case_id}/history"):
            r = api.client.get(path, headers=headers)
            assert r.status_code == status, r.text
            assert case.health not in r.text
            assert case.family not in r.text


def test_the_web_page_shows_the_health_note_to_the_caseworker_only(api: Api) -> None:
    case = recorded_case(api)
    caseworker = signed_in(api, "cw-agentur", AGENTUR).get(f"/ui/cases/{case.case_id}")
    assert caseworker.status_code == 200, caseworker.text
    assert case.health in caseworker.text
    lead = signed_in(api, "tl-agentur", AGENTUR, "team_lead").get(f"/ui/cases/{case.case_id}")
    assert lead.status_code == 200, lead.text
    assert case.health not in lead.text
    assert WITHHELD in lead.text
    assert case.general in lead.text


def test_the_receiver_of_an_offer_sees_no_health_until_it_accepts(api: Api) -> None:
    case = recorded_case(api)
    r = api.client.post(
        f"/cases/{case.case_id}/handover",
        json={"to_org": JOBCENTER, "reason": "Umzug"},
        headers=api.agentur,
    )
    assert r.status_code == 201, r.text
    offer = r.json()
    api.settle()
    receiver = principal("cw-jobcenter", JOBCENTER, "caseworker")
    assert_withheld(api, case, api.jobcenter, receiver)
    summary = api.client.get(f"/cases/{case.case_id}", headers=api.jobcenter).json()
    assert summary["person"]["family_name"] == case.family
    assert summary["withheld"] == []
    accepted = api.client.post(
        f"/cases/{case.case_id}/handover/accept",
        json={"version": offer["version"], "digest": offer["digest"]},
        headers=api.jobcenter,
    )
    assert accepted.status_code == 201, accepted.text
    api.settle()
    now_holder = api.history(case.case_id, api.jobcenter, min_position=accepted.json()["position"])
    assert case.health in health_entry(now_holder)["summary"]
    former = api.history(case.case_id, api.agentur, min_position=accepted.json()["position"])
    assert former["filtered"] is True
    assert health_entry(former)["withheld"] == ["text"]  # its own note, no longer its task
    assert case.health not in json.dumps(former)
    assert case.general in json.dumps(former)


def test_the_audit_views_apply_the_auditors_row(api: Api) -> None:
    case = recorded_case(api)
    auditor = auth("pruefer", AUDIT, "auditor")
    state = api.client.get(f"/audit/cases/{case.case_id}/state", headers=auditor)
    assert state.status_code == 200, state.text
    entry = health_entry(state.json()["events"])
    assert entry["data"]["text"] == WITHHELD
    assert entry["withheld"] == ["text"]
    assert case.health not in state.text
    assert case.general in state.text
    assert case.family in state.text
    events = api.client.get("/audit/events", params={"case_id": case.case_id}, headers=auditor)
    assert events.status_code == 200, events.text
    assert case.health not in events.text  # the stored log: sealed, and never opened for them
    note = next(e for e in events.json()["events"] if e["type"] == "NoteRecorded")
    assert (note["data"]["text"], note["withheld"], note["sealed"]) == (
        WITHHELD,
        ["text"],
        ["text"],
    )
    assert case.general in events.text
    assert case.family in events.text
    page = signed_in(api, "pruefer", AUDIT, "auditor").get(f"/ui/audit/cases/{case.case_id}")
    assert page.status_code == 200, page.text
    assert case.health not in page.text
    assert WITHHELD in page.text


def test_a_store_from_before_sealing_shows_no_clear_health_value_to_auditors() -> None:
    stored = {"text": "Diabetes", "category": "health"}
    data, withheld = withholding.stored_data("NoteRecorded", stored, frozenset({A.AUDITOR}))
    assert data == {"text": WITHHELD, "category": "health"}
    assert withheld == ["text"]
    sealed = {"text": {"box": "bm9uY2U="}, "category": "health"}
    assert withholding.stored_data("NoteRecorded", sealed, frozenset({A.AUDITOR})) == (sealed, [])

"""A consent that is stored but has no effect is impossible (issue 18): ``POST
/cases/{id}/events`` refuses a ``ConsentGiven`` whose recipient is not an employer, volunteer or
organisation known here (for its purpose) or whose scope names an unknown data category, with a
422 problem naming the field; nothing is recorded."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import AGENTUR, DRK, Api, an_employer, problem_of
from tests.support.web import csrf_of, signed_in

GIVEN = {"type": "ConsentGiven", "consent_id": "c-1", "given_on": "2026-05-04"}


def given(purpose: str, recipient: str, scope: list[str]) -> dict[str, Any]:
    return {**GIVEN, "purpose": purpose, "recipient": recipient, "scope": scope}


@pytest.mark.parametrize(
    ("purpose", "recipient", "scope", "field"),
    [
        ("share_with_employer", "Kita Sonnenschein", ["name"], "recipient"),
        ("share_with_employer", DRK, ["name"], "recipient"),  # an organisation, not an employer
        ("share_with_mentor", "Patenschaften e.V.", ["name"], "recipient"),
        ("share_with_mentor", "00000000-0000-4000-8000-000000000000", ["name"], "recipient"),
        ("share_with_mentor", DRK, ["Name", "Sprachen"], "scope"),  # German labels, not names
        ("share_with_mentor", DRK, ["name", "everything"], "scope"),
    ],
)
def test_a_consent_with_an_unknown_recipient_or_scope_is_refused(
    api: Api, purpose: str, recipient: str, scope: list[str], field: str
) -> None:
    case_id = str(api.register()["case_id"])
    r = api.client.post(
        f"/cases/{case_id}/events", json=given(purpose, recipient, scope), headers=api.agentur
    )
    body = problem_of(r, 422)
    assert [e["field"] for e in body["errors"]] == [field], body
    summary = api.client.get(f"/cases/{case_id}", headers=api.agentur).json()
    assert summary["version"] == 1  # nothing recorded


def test_a_consent_for_a_known_recipient_is_recorded(api: Api) -> None:
    case_id = str(api.register()["case_id"])
    account, employer_id = an_employer(api)
    api.record(case_id, given("share_with_employer", account, ["name", "competences"]))
    api.record(
        case_id, {**given("share_with_employer", employer_id, ["name"]), "consent_id": "c-2"}
    )
    api.record(case_id, {**given("share_with_mentor", DRK, ["languages"]), "consent_id": "c-3"})


def test_the_consent_form_refuses_a_recipient_that_does_not_exist(api: Api) -> None:
    case_id = str(api.register()["case_id"])
    web = signed_in(api, "cw-agentur", AGENTUR)
    page = web.get(f"/ui/cases/{case_id}")
    assert 'name="scope.name"' in page.text  # the scope: checkboxes of the vocabulary
    assert f'<option value="{DRK}">' in page.text  # the recipient: those that exist
    head = api.head()
    response = web.post(
        f"/ui/cases/{case_id}/forms/ConsentGiven",
        data={"csrf": csrf_of(page.text), "consent_id": "c1", "purpose": "share_with_employer",
              "recipient": "Kita Sonnenschein", "scope.name": "1", "given_on": "04.05.2026"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "Bitte einen Wert aus der Liste wählen." in response.text
    assert api.recorded_since(head) == 0

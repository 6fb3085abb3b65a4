"""BAMF file numbers over HTTP (issue 13): another spelling of a registered number is a 409
naming the first case, on the API and in the web form; what is no number is a 422 naming
``bamf_file_number``; nothing is written either way."""

from __future__ import annotations

import pytest

from tests.support.api import AGENTUR, Api, auth, problem_of, registration, unique_bamf
from tests.support.web import csrf_of, signed_in

ARABIC = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")
FULL_WIDTH = str.maketrans("0123456789-", "".join(chr(0xFF10 + d) for d in range(10)) + "\uff0d")


def test_an_arabic_indic_spelling_of_a_registered_number_is_a_conflict(api: Api) -> None:
    number = unique_bamf()
    first = api.register(bamf_file_number=number)
    head = api.head()

    response = api.client.post(
        "/cases", json=registration(bamf_file_number=number.translate(ARABIC)),
        headers=auth("cw-2", AGENTUR),
    )  # fmt: skip

    problem = problem_of(response, 409)
    assert (problem["field"], problem["existing_case_id"]) == ("bamf_file_number", first["case_id"])
    assert api.recorded_since(head) == 0


@pytest.mark.parametrize(
    "text", ["7654321-42a", "\u1369654321-423", "7654321\u200b-423", "7654321/423"]
)
def test_what_is_no_number_is_refused_naming_the_field(api: Api, text: str) -> None:
    head = api.head()
    response = api.client.post(
        "/cases", json=registration(bamf_file_number=text), headers=auth("cw-1", AGENTUR)
    )
    problem = problem_of(response, 422)
    assert "bamf_file_number" in str(problem)
    assert api.recorded_since(head) == 0


def test_the_web_form_refuses_a_full_width_spelling_of_a_registered_number(api: Api) -> None:
    number = unique_bamf()
    first = api.register(bamf_file_number=number)
    web = signed_in(api, "cw-agentur", AGENTUR)
    page = web.get("/ui/cases/new")
    head = api.head()

    response = web.post(
        "/ui/cases/new",
        data={
            "csrf": csrf_of(page.text), "person.given_name": "Amira",
            "person.family_name": "Haddad", "person.birth_date": "21.06.1988",
            "person.nationality": "SY", "bamf_file_number": number.translate(FULL_WIDTH),
            "residence_municipality": "Geilenkirchen", "legal_status": "asylum_seeker",
        },
    )  # fmt: skip

    assert response.status_code == 409, response.text[:2000]
    assert first["case_id"] in response.text
    assert api.recorded_since(head) == 0

"""The web pages over HTTP, once per backend: sign-in with a bearer token (production), session
cookie and security headers, CSRF, conflicts shown plainly, access in German."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.support.api import (
    AGENTUR,
    DRK,
    JOBCENTER,
    Api,
    an_employer,
    an_offer,
    auth,
    note,
    token,
)
from tests.support.web import csrf_of, signed_in

PAGE = "text/html"


def test_token_sign_in_sets_a_strict_session_and_pages_carry_security_headers(api: Api) -> None:
    client = TestClient(api.app)
    page = client.get("/ui/sign-in")
    assert "Demo" not in page.text  # production: no demo users to pick
    bad = client.post("/ui/sign-in", data={"csrf": csrf_of(page.text), "token": "nonsense"})
    assert bad.status_code == 401
    assert "ungültig oder abgelaufen" in bad.text
    assert "staffel_session" not in client.cookies

    response = client.post(
        "/ui/sign-in",
        data={"csrf": csrf_of(page.text), "token": token("cw", AGENTUR, "caseworker")},
        follow_redirects=False,
    )
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("staffel_session="))
    assert "HttpOnly" in session
    assert "SameSite=lax" in session
    assert "Secure" not in session  # plain http here; behind https it is Secure (next test)
    assert any(c.startswith("staffel_csrf=") and "SameSite=strict" in c for c in cookies)

    cases = client.get("/ui/cases")
    assert cases.status_code == 200
    assert cases.headers["content-type"].startswith(PAGE)
    csp = cases.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert cases.headers["x-content-type-options"] == "nosniff"
    assert cases.headers["referrer-policy"] == "no-referrer"
    assert '<html lang="de">' in cases.text

    demo = client.post("/ui/sign-in/demo", data={"csrf": csrf_of(cases.text), "sub": "a.schmitz"})
    assert "Anmelden" in demo.text  # no demo users outside the demo


def test_behind_https_the_cookies_are_secure(api: Api) -> None:
    client = TestClient(api.app, base_url="https://testserver")
    page = client.get("/ui/sign-in")
    response = client.post(
        "/ui/sign-in",
        data={"csrf": csrf_of(page.text), "token": token("cw", AGENTUR, "caseworker")},
        follow_redirects=False,
    )
    assert all("Secure" in c for c in response.headers.get_list("set-cookie"))


def test_pages_need_a_session_and_the_right_role(api: Api) -> None:
    anonymous = TestClient(api.app).get("/ui/cases?q=x", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/ui/sign-in?next=%2Fui%2Fcases%3Fq%3Dx"

    volunteer = signed_in(api, "p.lang", DRK, "volunteer")
    refused = volunteer.get("/ui/cases")
    assert refused.status_code == 403
    assert "Sie haben keinen Zugriff" in refused.text
    assert refused.headers["content-security-policy"]

    stranger = signed_in(api, "cw-st", "jobcenter-st-wendel")
    case_id = api.register()["case_id"]
    api.settle()  # another caller's write: the read models catch up first
    assert stranger.get(f"/ui/cases/{case_id}").status_code == 404  # as for no case (issue 13)
    assert stranger.get("/ui/cases/not-a-case").status_code == 404


def test_a_conflicting_write_is_refused_and_says_how_to_reload(api: Api) -> None:
    case_id = api.register()["case_id"]
    web = signed_in(api, "cw-agentur", AGENTUR)
    page = web.get(f"/ui/cases/{case_id}")
    read = re.search(r'name="expected_version" value="(\d+)"', page.text)
    assert read
    assert read.group(1) == "1"
    api.record(case_id, note("someone else, meanwhile"))  # another caseworker writes

    head = api.head()
    response = web.post(
        f"/ui/cases/{case_id}/forms/NoteRecorded",
        data={"csrf": csrf_of(page.text), "expected_version": "1", "text": "mein Vermerk",
              "category": "general"},
    )  # fmt: skip
    assert response.status_code == 409
    assert "Jemand hat den Fall inzwischen geändert" in response.text
    assert f'<a href="/ui/cases/{case_id}">Fall neu laden</a>' in response.text
    assert "mein Vermerk" in response.text  # what was typed is kept
    assert api.recorded_since(head) == 0

    fresh = web.get(f"/ui/cases/{case_id}")
    saved = web.post(
        f"/ui/cases/{case_id}/forms/NoteRecorded",
        data={"csrf": csrf_of(fresh.text), "expected_version": "2", "text": "mein Vermerk",
              "category": "general"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    shown = web.get(saved.headers["location"])
    assert "Vermerk (Allgemein): mein Vermerk" in shown.text


def test_a_rule_of_the_case_is_shown_next_to_its_field(api: Api) -> None:
    case_id = api.register()["case_id"]
    web = signed_in(api, "cw-agentur", AGENTUR)
    step = {"step_id": "s1", "description": "Integrationskurs", "plan": "kooperationsplan"}
    for expected in ("1", "2"):
        page = web.get(f"/ui/cases/{case_id}")
        response = web.post(
            f"/ui/cases/{case_id}/forms/StepAgreed",
            data={"csrf": csrf_of(page.text), "expected_version": expected, **step},
        )
    assert response.status_code == 409
    assert re.search(
        r'id="f-StepAgreed-step_id-error">Fehler: Die Kennung „s1“ ist in diesem Fall schon',
        response.text,
    )


# -- erasing a person's personal data (issue 9) -------------------------------------------------

ERASE_SECTION = "Personenbezogene Daten löschen</h2>"
REPORT_LINK = "Auskunft (Art. 15 DSGVO)</a>"
ERASURE = {"ground": "subject_request", "reason": "Antrag vom 02.06.2026, Az. DS-17",
           "confirmed": "1"}  # fmt: skip


def test_only_a_team_lead_of_the_holder_may_erase_and_the_form_refuses_plainly(api: Api) -> None:
    counsellor = f"cw-{secrets.token_hex(3)}"  # the case's caseworker: its own caseload figure
    case_id = api.register(auth(counsellor, AGENTUR))["case_id"]
    api.settle()
    path = f"/ui/cases/{case_id}/erasure"

    caseworker = signed_in(api, "cw-agentur", AGENTUR)
    read = caseworker.get(f"/ui/cases/{case_id}")
    assert ERASE_SECTION not in read.text
    assert REPORT_LINK not in read.text  # the report is the team lead's, admin's or auditor's
    head = api.head()
    refused = caseworker.post(path, data={"csrf": csrf_of(read.text), **ERASURE})
    assert refused.status_code == 403
    assert "Sie haben keinen Zugriff" in refused.text
    assert api.recorded_since(head) == 0

    lead = signed_in(api, "tl-agentur", AGENTUR, "team_lead")
    page = lead.get(f"/ui/cases/{case_id}")
    assert ERASE_SECTION in page.text
    assert f'<a href="/ui/cases/{case_id}/subject-access-report">{REPORT_LINK}' in page.text
    assert "Die offene Übergabe" not in page.text  # none is open
    csrf = csrf_of(page.text)

    forged = lead.post(path, data={**ERASURE, "csrf": "forged"})
    assert forged.status_code == 403
    assert "Formular abgelehnt" in forged.text

    unconfirmed = lead.post(path, data={"csrf": csrf, **ERASURE, "confirmed": ""})
    assert unconfirmed.status_code == 422
    assert re.search(
        r'id="f-erase-confirmed-error">Fehler: Bitte bestätigen Sie, dass Sie die Löschung',
        unconfirmed.text,
    )
    assert "Az. DS-17" in unconfirmed.text  # what was typed is kept
    no_ground = lead.post(path, data={"csrf": csrf, **ERASURE, "ground": "", "reason": ""})
    assert no_ground.status_code == 422
    assert 'id="f-erase-ground-error">Fehler: Bitte einen Wert aus der Liste' in no_ground.text
    assert 'id="f-erase-reason-error">Fehler: Bitte ausfüllen.' in no_ground.text
    assert api.recorded_since(head) == 0

    erased = lead.post(path, data={"csrf": csrf, **ERASURE}, follow_redirects=False)
    assert erased.status_code == 303, erased.text
    assert erased.headers["location"] == f"/ui/cases/{case_id}?saved=erase"
    assert api.recorded_since(head) == 2  # the erasure, and the BAMF number's index released
    shown = lead.get(erased.headers["location"])
    assert "Personenbezogene Daten gelöscht am " in shown.text
    assert "Tesfaye" not in shown.text
    assert f'action="/ui/cases/{case_id}/forms/' not in shown.text  # no event forms
    assert ERASE_SECTION not in shown.text
    assert '<span class="redacted" title="Gelöscht:' in shown.text  # the markers, explained
    assert '<dl class="legend"' in shown.text

    # a page read before the erasure: its forms are refused, plainly
    stale = caseworker.post(
        f"/ui/cases/{case_id}/forms/NoteRecorded",
        data={"csrf": csrf_of(read.text), "text": "noch ein Vermerk", "category": "general"},
    )
    assert stale.status_code == 409
    assert "Die personenbezogenen Daten dieses Falls sind gelöscht" in stale.text
    again = lead.post(path, data={"csrf": csrf, **ERASURE, "request_key": "another"})
    assert again.status_code == 409
    assert "Die personenbezogenen Daten dieses Falls sind gelöscht" in again.text
    assert api.recorded_since(head) == 2  # nothing more

    caseload = lead.get("/ui/cases")
    row = next(r for r in caseload.text.split("<tr>") if f"/ui/cases/{case_id}" in r)
    assert '<span class="redacted"' in row
    assert '<span class="badge erased">gelöscht</span>' in row
    assert api.services.queries.statistics(org=AGENTUR)["by_caseworker"][counsellor] == 1
    report = lead.get(f"/ui/cases/{case_id}/subject-access-report")
    assert report.status_code == 200
    assert "[gelöscht]" in report.text


def test_erasing_with_a_handover_open_says_the_offer_is_withdrawn(api: Api) -> None:
    case_id = api.offered_case()
    lead = signed_in(api, "tl-agentur", AGENTUR, "team_lead")
    page = lead.get(f"/ui/cases/{case_id}")
    assert "Die offene Übergabe an Jobcenter" in page.text
    assert "wird dabei zurückgezogen" in page.text
    erased = lead.post(f"/ui/cases/{case_id}/erasure", data={"csrf": csrf_of(page.text), **ERASURE})
    assert erased.status_code == 200  # after the redirect
    assert "Übergabeangebot zurückgezogen" in erased.text
    assert "Offene Übergabe" not in erased.text
    receiver = signed_in(api, "tl-jobcenter", JOBCENTER, "team_lead")
    assert receiver.get(f"/ui/cases/{case_id}").status_code == 403  # no longer offered to it


def test_a_value_withheld_from_the_role_is_marked_and_explained(api: Api) -> None:
    case_id = api.register()["case_id"]
    api.record(case_id, {**note("Attest liegt vor"), "category": "health"})
    api.settle()
    caseworker = signed_in(api, "cw-agentur", AGENTUR).get(f"/ui/cases/{case_id}")
    assert "Attest liegt vor" in caseworker.text  # the holder's caseworkers counsel: they see it
    assert '<dl class="legend"' not in caseworker.text
    lead = signed_in(api, "tl-agentur", AGENTUR, "team_lead").get(f"/ui/cases/{case_id}")
    assert "Attest liegt vor" not in lead.text
    assert '<span class="redacted" title="Für Ihre Rolle nicht freigegeben' in lead.text
    assert re.search(r"<dt>.*\[nicht freigegeben\].*</dt><dd>Für Ihre Rolle", lead.text)


def test_an_unknown_page_address_answers_a_german_page(api: Api) -> None:
    for client in (TestClient(api.app), signed_in(api, "cw", AGENTUR)):
        for path in ("/ui/gibt-es-nicht", "/ui/cases/x/y/z", "/ui/statistik"):
            page = client.get(path)
            assert page.status_code == 404, path
            assert page.headers["content-type"].startswith(PAGE), path
            assert "Nicht gefunden" in page.text
            assert "Diese Seite oder diesen Fall gibt es nicht." in page.text
            assert page.headers["content-security-policy"]
    assert (
        TestClient(api.app)
        .get("/no-such-api")
        .headers["content-type"]
        .startswith("application/problem+json")
    )


def test_the_case_page_names_organisations_and_entries_not_their_ids(api: Api) -> None:
    """Issue 18: the timeline reads "Übergabe an Jobcenter Kreis Heinsberg angeboten" and
    "Schritt „Lebenslauf schreiben“ erledigt", never the slug or the step's id; the case id
    stands only in the "Technische Details" fold."""
    case_id = api.offered_case()
    step = {"type": "StepAgreed", "step_id": "st-77", "description": "Lebenslauf schreiben",
            "due_on": None, "plan": "kooperationsplan"}  # fmt: skip
    api.record(case_id, step)
    api.record(case_id, {"type": "StepCompleted", "step_id": "st-77", "completed_on": "2026-05-01"})
    api.record(case_id, {
        "type": "CompetenceAssessed", "instrument": "MySkills", "assessed_on": "2026-03-02",
        "german_level": "A2", "languages": [{"language": "ar", "level": "B2"}],
        "school_years": 1, "school_certificate": None,
        "vocational_training": [{"occupation": "Schneiderin", "completed": True, "country": "ER"}],
        "work_experience": [{"occupation": "Schneiderin", "years": 4}],
        "qualification_recognition": "applied", "support_need": False, "notes": None,
    })  # fmt: skip
    api.settle()
    page = signed_in(api, "cw", AGENTUR).get(f"/ui/cases/{case_id}")
    assert page.status_code == 200
    technical = re.search(r'<details class="technical">.*?</details>', page.text, re.S)
    assert technical
    assert case_id in technical.group(0)
    shown = re.sub(r"<[^>]+>", " ", page.text.replace(technical.group(0), ""))
    shown = re.sub(r'href="[^"]*"|action="[^"]*"', "", shown)
    assert "Übergabe an Jobcenter Kreis Heinsberg angeboten" in shown
    assert "Schritt „Lebenslauf schreiben“ erledigt am 01.05.2026" in shown
    assert "Schritt st-77" not in shown
    assert JOBCENTER not in shown
    assert case_id not in shown
    assert "(Eritrea)" in shown  # the registration's nationality by its German name
    competences = re.search(r"<dl class=\"facts\" data-competences>(.*?)</dl>", page.text, re.S)
    assert competences, "the competences stand in the summary, not only as one sentence"
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", competences.group(1)))
    for expected in ("1 Schuljahr", "Schneiderin (abgeschlossen, Eritrea)", "4 Jahre",
                     "Anerkennung beantragt", "Arabisch B2"):  # fmt: skip
        assert expected in words, (expected, words)


def test_a_steps_follow_up_names_the_step_as_agreed(api: Api) -> None:
    """The follow-ups view keeps no personal data: its text names only the step's id. The page
    names the step by its description, as the case page does, for a reader of the case."""
    case_id = api.register()["case_id"]
    step = {"type": "StepAgreed", "step_id": "st-79", "description": "Lebenslauf schreiben",
            "due_on": "2027-01-15", "plan": "kooperationsplan"}  # fmt: skip
    api.record(case_id, step)
    api.settle()
    page = signed_in(api, "cw-agentur", AGENTUR).get("/ui/follow-ups")  # the caseworker
    assert page.status_code == 200
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "15.01.2027" in shown
    assert "Schritt „Lebenslauf schreiben“ fällig" in shown
    assert "st-79" not in shown
    listed = api.client.get("/follow-ups", headers=api.agentur).json()["items"]
    assert [f["text"] for f in listed if f["case_id"] == case_id] == [
        "Vereinbarter Schritt st-79 fällig"
    ]  # the view as stored: no description


def test_the_audit_view_names_entries_and_organisations(api: Api) -> None:
    case_id = api.offered_case()
    step = {"type": "StepAgreed", "step_id": "st-78", "description": "Bewerbung schreiben",
            "due_on": None, "plan": "kooperationsplan"}  # fmt: skip
    api.record(case_id, step)
    api.record(case_id, {"type": "StepCompleted", "step_id": "st-78", "completed_on": "2026-05-02"})
    api.settle()
    page = signed_in(api, "aud", "audit-office", "auditor").get(f"/ui/audit/cases/{case_id}")
    assert page.status_code == 200
    assert "Übergabe an Jobcenter Kreis Heinsberg angeboten" in page.text
    assert "Schritt „Bewerbung schreiben“ erledigt am 02.05.2026" in page.text


def test_a_page_refused_on_the_callers_role_answers_403_however_far_behind(
    make_api: Callable[..., Api],
) -> None:
    """As the JSON routes: a page waits for the caller's own last write at its first read of a
    read model, after the checks that need none. An employer is refused the mentees' page at
    once (with the wait first: 503 after the read wait); its offers' page still waits."""
    api = make_api(read_wait_seconds=1.0)
    account, employer_id = an_employer(api)
    api.settle()
    web = signed_in(api, "h", account, "employer")
    api.services.supervisor.stop()  # the read models stop here
    an_offer(api, employer_id, auth("h", account, "employer"))  # never projected now
    refused = web.get("/ui/mentoring")
    assert refused.status_code == 403, refused.text[:300]
    behind = web.get("/ui/offers")
    assert behind.status_code == 503, behind.text[:300]

"""On the web pages (issue 19, ADR 0017): the consent form takes an optional "gültig bis", refuses
one before the consent in German and writes nothing; the Übergabebogen and the withdrawal picker
show the end; the acceptance and assignment forms offer colleagues by name, never their login."""

from __future__ import annotations

from tests.support.api import AGENTUR, DRK, JOBCENTER, Api, auth, get
from tests.support.web import csrf_of, signed_in

CONSENT = {"consent_id": "c1", "purpose": "share_with_mentor", "recipient": DRK,
           "scope.name": "1", "given_on": "04.05.2026"}  # fmt: skip


def test_the_consent_form_takes_an_optional_end_and_the_sheet_shows_it(api: Api) -> None:
    case_id = str(api.register()["case_id"])
    web = signed_in(api, "cw-agentur", AGENTUR)
    page = web.get(f"/ui/cases/{case_id}")
    assert 'for="f-ConsentGiven-valid_until">Gültig bis</label>' in page.text
    head = api.head()

    refused = web.post(
        f"/ui/cases/{case_id}/forms/ConsentGiven",
        data={"csrf": csrf_of(page.text), **CONSENT, "valid_until": "03.05.2026"},
    )
    assert refused.status_code == 422
    assert "Das Datum darf nicht vor dem Tag der Einwilligung liegen." in refused.text
    assert api.recorded_since(head) == 0

    saved = web.post(
        f"/ui/cases/{case_id}/forms/ConsentGiven",
        data={"csrf": csrf_of(page.text), **CONSENT, "valid_until": "03.05.2027"},
    )
    assert saved.status_code == 200, saved.text  # followed to the case page
    assert api.recorded_since(head) == 1
    get(api, f"/cases/{case_id}", api.agentur)  # the read models have caught up
    sheet = web.get(f"/ui/cases/{case_id}/uebergabebogen")
    assert sheet.status_code == 200, sheet.text
    assert "seit 04.05.2026, gültig bis 03.05.2027" in sheet.text
    case_page = web.get(f"/ui/cases/{case_id}")
    assert "gültig bis 03.05.2027" in case_page.text  # the timeline and the withdrawal picker


def test_the_acceptance_and_assignment_forms_offer_colleagues_by_name(api: Api) -> None:
    case_id = api.offered_case()
    colleague = signed_in(api, "cw-hoffmann", JOBCENTER)  # signed in once: in the directory
    api.staff("cw-agentur-kollege", AGENTUR)  # of another organisation: not offered
    del colleague
    lead = signed_in(api, "tl-jc", JOBCENTER, "team_lead")
    page = lead.get(f"/ui/cases/{case_id}")
    assert '<option value="cw-hoffmann">' in page.text
    assert "cw-agentur-kollege" not in page.text

    caseworker = signed_in(api, "cw-jobcenter", JOBCENTER)
    own = caseworker.get(f"/ui/cases/{case_id}")
    assert '<option value="cw-jobcenter">Ich übernehme den Fall selbst</option>' in own.text
    assert '<option value="cw-hoffmann">' not in own.text  # a caseworker takes it only for itself

    case = get(api, f"/cases/{case_id}", auth("tl-jc", JOBCENTER, "team_lead"))
    accepted = lead.post(
        f"/ui/cases/{case_id}/forms/accept",
        data={"csrf": csrf_of(page.text), "version": str(case["version"]),
              "digest": case["digest"], "caseworker": "cw-hoffmann"},
    )  # fmt: skip
    assert accepted.status_code == 200, accepted.text
    assert get(api, f"/cases/{case_id}", api.jobcenter)["caseworker"] == "cw-hoffmann"

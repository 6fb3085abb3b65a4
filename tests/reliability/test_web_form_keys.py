"""The case page's forms carry a per-form ``request_key`` into the same idempotency mechanism as
the JSON API's ``Idempotency-Key``: a resent form (a retry after a lost answer, a double click)
records once."""

from __future__ import annotations

import re

from tests.support.api import AGENTUR, Api
from tests.support.web import csrf_of, signed_in


def test_a_resent_case_form_records_once(api: Api) -> None:
    case_id = api.register()["case_id"]
    web = signed_in(api, "cw-agentur", AGENTUR)
    page = web.get(f"/ui/cases/{case_id}")
    form = page.text[page.text.index(f"/ui/cases/{case_id}/forms/NoteRecorded") :]
    key = re.search(r'name="request_key" value="([0-9a-f]{32})"', form)
    assert key, "the note form carries no request key"
    head = api.head()
    posted = {"csrf": csrf_of(page.text), "request_key": key.group(1), "text": "einmal",
              "category": "general"}  # fmt: skip
    for _ in range(2):
        sent = web.post(f"/ui/cases/{case_id}/forms/NoteRecorded", data=posted,
                        follow_redirects=False)  # fmt: skip
        assert sent.status_code == 303, sent.text[:500]
    assert api.recorded_since(head) == 1

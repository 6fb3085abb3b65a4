"""Every day Staffel records or checks by default is the German calendar day, whatever the
server's own time zone. A server's ``date.today()`` is its own calendar's: on a UTC server it is
still yesterday for an hour each winter night after midnight in Germany (two in summer). Before,
a case registered then was dated the day before, a handover accepted then too, and a
caseworker's "decided today" was refused as lying in the future.

The tests move this process's time zone (``TZ``, ``time.tzset``) to one whose calendar is on
another day than Germany's right now, so the difference shows at any hour they run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.policy import GERMANY
from tests.support.api import Api, problem_of

# UTC-11 and UTC+14: at every moment one of them is on another day than Germany
ZONES = ("Pacific/Pago_Pago", "Pacific/Kiritimati")


@pytest.fixture
def server_on_another_day(monkeypatch: pytest.MonkeyPatch) -> Iterator[date]:
    """This process's calendar on another day than Germany's; yields the German day."""
    german = datetime.now(GERMANY).date()
    zone = next(z for z in ZONES if datetime.now(ZoneInfo(z)).date() != german)
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        assert date.today() != german  # the premise: the server's own calendar disagrees
        yield german
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_case_is_registered_on_the_german_day(api: Api, server_on_another_day: date) -> None:
    case_id = api.register()["case_id"]
    api.settle()
    summary = api.client.get(f"/cases/{case_id}", headers=api.agentur).json()
    assert summary["registered_on"] == server_on_another_day.isoformat()


def test_not_in_the_future_means_after_the_german_day(
    api: Api, server_on_another_day: date
) -> None:
    case_id = api.register()["case_id"]
    tomorrow = server_on_another_day + timedelta(days=1)
    refused = api.client.post(
        f"/cases/{case_id}/events",
        json={"type": "AsylumRecognized", "protection": "refugee", "decided_on": str(tomorrow)},
        headers=api.agentur,
    )
    assert problem_of(refused, 422)["errors"][0]["field"].endswith("decided_on")
    recognised = {"type": "AsylumRecognized", "protection": "refugee"}
    api.record(case_id, {**recognised, "decided_on": str(server_on_another_day)})

"""The working group's figures for a period (ADR 0020), as properties of the one computation
(``adapters.views.statistics.case_statistics``) over any summaries: the three months of a quarter
add up to the quarter for what happens in a period (intake, placements, accepted handovers), and
the caseload of a period is the cases open on its last day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views.statistics import case_statistics
from service_layer.periods import month, quarter

NOW = datetime(2027, 1, 15, tzinfo=UTC)
FIRSTS = [date(2026, m, 1) for m in range(1, 13)]
EDGES = sorted({*FIRSTS, *(d - timedelta(days=1) for d in FIRSTS[1:]), date(2026, 12, 31)})
YEAR = st.dates(date(2026, 1, 1), date(2026, 12, 31)) | st.sampled_from(EDGES)  # the edges often


@st.composite
def summaries(draw: st.DrawFn) -> dict[str, Any]:
    registered = draw(YEAR)
    closed_on = draw(st.none() | YEAR.filter(lambda d: d >= registered))
    recognized = draw(st.none() | st.dates(registered, date(2026, 12, 31)))
    accepted = draw(st.none() | st.dates(recognized, date(2026, 12, 31))) if recognized else None
    placements = draw(st.lists(YEAR, max_size=3))
    return {
        "registered_on": registered.isoformat(),
        "closed": closed_on is not None,
        "closed_on": closed_on and closed_on.isoformat(),
        "office": draw(st.sampled_from(["Siegen", "Olpe", None])),
        "caseworker": draw(st.sampled_from(["a", "b", None])),
        "support_need": None,
        "competences": None,
        "measures": [],
        "placements": [{"kind": "job", "starts_on": p.isoformat()} for p in placements],
        "recognized_on": recognized and recognized.isoformat(),
        "handover_accepted_on": accepted and accepted.isoformat(),
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(summaries(), max_size=25), st.integers(1, 4))
def test_the_months_of_a_quarter_add_up_to_the_quarter(docs: list[dict[str, Any]], q: int) -> None:
    whole = quarter(f"2026-Q{q}")
    parts = [month(f"2026-{m:02d}") for m in range(3 * q - 2, 3 * q + 1)]
    of_quarter = case_statistics(docs, NOW, whole.start, whole.end)
    of_months = [case_statistics(docs, NOW, p.start, p.end) for p in parts]
    assert of_quarter["registrations"] == sum(m["registrations"] for m in of_months)
    assert sum(of_quarter["placements_by_kind"].values()) == sum(
        sum(m["placements_by_kind"].values()) for m in of_months
    )
    assert of_quarter["days_recognition_to_acceptance"] == sorted(
        d for m in of_months for d in m["days_recognition_to_acceptance"]
    )
    assert of_quarter["active_cases"] == of_months[-1]["active_cases"]  # open on the last day
    start, end = whole.start, whole.end
    assert start is not None
    assert end is not None
    open_then = [
        d for d in docs
        if date.fromisoformat(d["registered_on"]) <= end
        and (d["closed_on"] is None or date.fromisoformat(d["closed_on"]) > end)
    ]  # fmt: skip
    assert of_quarter["active_cases"] == len(open_then)
    assert sum(of_quarter["by_office"].values()) == len(open_then)
    assert len(of_quarter["registrations_per_week"]) >= (end - start).days // 7

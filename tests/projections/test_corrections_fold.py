"""Corrections in the summary fold (issue 18, ADR 0019), as a property: for any sequence of
assessments, notes and corrections, the summary folded from all events equals the summary folded
from the original events with each correction written into the entry it names (and the
corrections left out). A correction changes what the summary shows, never the entry itself."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.actor import acting_as
from domain.aggregates import case_events as ev
from domain.corrections import CORRECTABLE
from domain.values import Cefr, NoteCategory
from projections.summary import Doc, fold
from tests.support.builders import HOLDER, STAFF_FIELDS, a_registered_case, case_events

SHOWN = ("person", "registered_on", "competences", "german_level", "support_need")
VALUES = {
    "name": st.sampled_from(["Yonas", "Haile", "Tesfaye", "Rahel"]),
    "date": st.dates(date(1950, 1, 1), date(2026, 1, 1)).map(date.isoformat),
    "country": st.sampled_from(["SY", "ER", "AF", "UA"]),
    "cefr": st.sampled_from([c.value for c in Cefr]),
}
Step = tuple[str, Any]  # ("assess", level) | ("note", None) | ("correct", (pick, field, value))
steps = st.lists(
    st.one_of(
        st.tuples(st.just("assess"), st.sampled_from([None, *Cefr])),
        st.tuples(st.just("note"), st.none()),
        st.tuples(
            st.just("correct"),
            st.tuples(st.integers(0, 50), st.sampled_from(sorted(CORRECTABLE))).flatmap(
                lambda pf: VALUES[CORRECTABLE[pf[1]]].map(lambda v: (pf[0], pf[1], v))
            ),
        ),
    ),
    max_size=12,
)


def _recorded(plan: list[Step]) -> list[ev.CaseEvent]:
    case = a_registered_case()
    with acting_as(HOLDER):
        for kind, arg in plan:
            if kind == "assess":
                fields = {**STAFF_FIELDS["CompetenceAssessed"], "german_level": arg}
                case.record_fact(ev.CompetenceAssessed, **fields)
            elif kind == "note":
                case.record_fact(ev.NoteRecorded, text="x", category=NoteCategory.GENERAL)
            else:
                pick, (event_type, field), value = arg
                events = case_events(case)
                targets = [e for e in events if type(e).__name__ == event_type]
                if targets:
                    target = targets[pick % len(targets)]
                    case.correct_fact(corrects_version=target.originator_version,
                                      corrects_event=event_type, field=field, value=value,
                                      reason="laut Pass")  # fmt: skip
    return case_events(case)


def _written_into(event: ev.CaseEvent, field: str, value: str) -> ev.CaseEvent:
    """A copy of ``event`` with the corrected value in place of the recorded one."""
    copy = object.__new__(type(event))
    copy.__dict__.update(event.__dict__)
    if isinstance(event, ev.CaseRegistered) and field != "registered_on":
        typed: Any = date.fromisoformat(value) if field == "birth_date" else value
        copy.__dict__["person"] = dataclasses.replace(event.person, **{field: typed})
    elif field in ("registered_on", "assessed_on"):
        copy.__dict__[field] = date.fromisoformat(value)
    else:
        copy.__dict__[field] = Cefr(value)
    return copy


def _shown(doc: Doc | None) -> Doc:
    assert doc is not None
    return {k: doc[k] for k in SHOWN}


@settings(max_examples=150, deadline=None)
@given(steps)
def test_the_summary_is_the_fold_with_corrections_written_into_their_entries(
    plan: list[Step],
) -> None:
    events = _recorded(plan)
    folded: Doc | None = None
    for event in events:
        folded = fold(folded, event)

    originals = {e.originator_version: e for e in events if not isinstance(e, ev.FactCorrected)}
    for c in (e for e in events if isinstance(e, ev.FactCorrected)):
        value = c.value if c.personal_value is None else c.personal_value
        assert isinstance(value, str)
        target = originals[c.corrects_version]
        originals[c.corrects_version] = _written_into(target, c.field, value)
    expected: Doc | None = None
    for version in sorted(originals):
        expected = fold(expected, originals[version])

    assert _shown(folded) == _shown(expected)
    corrections = [e for e in events if isinstance(e, ev.FactCorrected)]
    assert [c["version"] for c in (folded or {}).get("corrections", [])] == [
        c.originator_version for c in corrections
    ]

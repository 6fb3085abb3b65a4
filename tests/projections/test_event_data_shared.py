"""The projections share each event's data (``projections.history.event_data``): computed once,
the same dict for every fold of the event. Sharing is safe only while no fold changes it in
place: every fold of every projection runs over varied events, and the data stay as they were."""

from __future__ import annotations

import copy
from pathlib import Path

from domain.chain import to_canonical
from projections import history
from projections.history import BOOKKEEPING, event_data
from projections.matching_inputs import CASE_EVENTS, fold_case
from tests.support.projections import (
    RandomChooser,
    World,
    build_app,
    expected_views,
    save_random_cases,
    stored_case_events,
)


def test_every_fold_gets_the_same_data_and_leaves_it_unchanged(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path}/staffel.db")
    try:
        world, chooser = World.fresh(), RandomChooser(16)
        cases, _ = save_random_cases(app, world, chooser, n=6, events=20)
        save_random_cases(app, world, chooser, events=20, cases=cases)
        events = stored_case_events(app)
    finally:
        app.close()
    # the cache is emptied when full: start this test's events in an empty one (earlier tests in
    # the same worker may have nearly filled it, and then the identity below failed in CI)
    history._DATA.clear()
    assert len(events) < history._DATA_SIZE
    shared = [event_data(e) for e, _ in events]
    before = copy.deepcopy(shared)

    # the summary, follow-up and history folds, then the matching fold of a person
    expected_views(events, {str(e.originator_id) for e, _ in events})
    docs: dict[str, dict[str, object]] = {}
    for event, _ in events:
        if isinstance(event, CASE_EVENTS):
            case_id = str(event.originator_id)
            docs[case_id] = fold_case(docs.get(case_id), event)

    assert len({type(e) for e, _ in events}) > 10
    assert all(event_data(e) is data for (e, _), data in zip(events, shared, strict=True))
    assert shared == before
    assert shared == [
        {k: to_canonical(v) for k, v in vars(e).items() if k not in BOOKKEEPING} for e, _ in events
    ]

"""Every event type comes back from the store exactly as it was recorded, with the same types,
in clear, encrypted and compressed storage; encryption keeps personal data out of the raw rows."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.chain_check import verify_case
from domain.aggregates.case_events import CASE_EVENTS, CaseEvent
from tests.support.store import (
    FAMILY_NAME,
    NOTE_TEXT,
    STORAGE_MODES,
    MakeApp,
    SaveSpy,
    assert_same_typed,
    overwrite_state,
    raw_states,
    record_every_event_type,
)


@pytest.mark.parametrize("mode", list(STORAGE_MODES))
def test_every_event_type_reads_back_equal_and_with_the_same_types(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    settings: dict[str, Any] = STORAGE_MODES[mode]
    writer = make_app(**settings)
    spy = SaveSpy(writer, monkeypatch)
    case_id = record_every_event_type(writer)
    written = [e for e in spy.events if e.originator_id == case_id]
    assert {type(e) for e in written} == set(CASE_EVENTS), "the scenario misses an event type"

    reader = make_app(**settings, aggregate_cache_size=0, snapshot_interval=0)
    read = list(reader.events.get(case_id))

    assert [type(e) for e in read] == [type(e) for e in written]
    for r, w in zip(read, written, strict=True):
        assert isinstance(r, CaseEvent)
        where = f"{type(w).__name__} v{w.originator_version}"
        assert vars(r).keys() == vars(w).keys(), where
        for name, value in vars(w).items():
            assert_same_typed(getattr(r, name), value, f"{where}.{name}")
        assert r.hash == w.hash
    assert verify_case(reader, case_id) == []


@pytest.mark.parametrize("mode", list(STORAGE_MODES))
def test_the_case_reloaded_by_another_instance_equals_the_writer_s(
    make_app: MakeApp, mode: str
) -> None:
    settings: dict[str, Any] = STORAGE_MODES[mode]
    writer = make_app(**settings, snapshot_interval=4)
    case_id = record_every_event_type(writer)
    from_snapshots = make_app(**settings, aggregate_cache_size=0, snapshot_interval=4)
    from_events = make_app(**settings, aggregate_cache_size=0, snapshot_interval=0)
    assert from_snapshots.snapshots is not None
    assert len(list(from_snapshots.snapshots.get(case_id))) == writer.get_case(case_id).version // 4

    live = writer.get_case(case_id)
    for reader in (from_snapshots, from_events):
        assert_same_typed(reader.get_case(case_id).__dict__, live.__dict__)
        for version in range(1, live.version + 1):
            assert_same_typed(
                reader.get_case(case_id, version=version).__dict__,
                from_events.get_case(case_id, version=version).__dict__,
            )
    assert verify_case(writer, case_id) == []


def test_verify_case_notices_a_changed_row(make_app: MakeApp, backend: str) -> None:
    """The control for the checks above: an edited row is reported, so [] means something."""
    app = make_app()
    case_id = record_every_event_type(app)
    version, state = next(
        (i, s) for i, s in enumerate(raw_states(app, backend, case_id), 1) if b"Potsdam" in s
    )

    overwrite_state(app, backend, case_id, version, state.replace(b"Potsdam", b"Postdam"))

    problems = verify_case(app, case_id)
    assert [(p.version, p.kind) for p in problems] == [(version, "changed")]


@pytest.mark.parametrize("mode", ["plain", "encrypted", "encrypted+compressed"])
def test_no_stored_row_holds_personal_data_in_clear(
    make_app: MakeApp, backend: str, mode: str
) -> None:
    """Personal fields are sealed with the case's key whatever the storage mode (ADR 0008); the
    library's cipher encrypts the rest on top."""
    app = make_app(**STORAGE_MODES[mode])
    case_id = record_every_event_type(app)

    rows = raw_states(app, backend, case_id)
    from_recorder = [s.state for s in app.recorder.select_events(case_id)]

    assert rows == from_recorder
    assert len(rows) > 30
    for needle in (FAMILY_NAME, NOTE_TEXT):
        found = any(needle.encode() in row for row in rows)
        assert not found, f"{needle!r} in the {mode} rows"
    assert any(b"Potsdam" in row for row in rows) is (mode == "plain")  # not personal: in clear
    assert verify_case(app, case_id) == []

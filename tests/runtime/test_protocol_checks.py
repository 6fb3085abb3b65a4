"""ADR 0021: on Python 3.11 a runtime-checkable protocol's members are collected once per class
(``adapters.runtime.cache_protocol_members``, applied by ``build_case_application``), not on
every ``isinstance`` the eventsourcing library makes of each event it saves and replays; the
answers stay what the runtime gave without it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from adapters.runtime import cache_protocol_members

ROOT = Path(__file__).resolve().parents[2]

# Counts the runtime's own collections of protocol members while an application records and
# replays a case, then prints every isinstance answer of the library's protocols it relies on.
SCRIPT = """
import json, sys, typing
from pathlib import Path
from typing import Any
calls = [0]
collect = typing._get_protocol_attrs
def counting(cls):
    calls[0] += 1
    return collect(cls)
typing._get_protocol_attrs = counting

from datetime import date
from eventsourcing.domain import CanMutateProtocol, CollectEventsProtocol, DomainEventProtocol
from adapters.runtime import cache_protocol_members
from adapters.settings import Settings
from bootstrap import build_case_application
from domain.actor import Actor, acting_as
from domain.values import LegalStatus, NoteCategory, Person

if sys.argv[1] == "off":  # the runtime as it is: build_case_application finds it cached already
    cache_protocol_members = lambda: False
    import bootstrap
    bootstrap.cache_protocol_members = cache_protocol_members
settings = Settings(database_url="sqlite:///" + sys.argv[2] + "/store.db", data_dir=sys.argv[2])
with build_case_application(settings) as app:
    calls[0] = 0
    with acting_as(Actor("cw-1", "agentur-aachen-dueren")):
        case_id = app.register_case(
            person=Person("Amina", "Haddad", date(1990, 1, 1), "SY", ("ar",)),
            bamf_file_number=None, residence_municipality="Aachen",
            legal_status=LegalStatus.ASYLUM_SEEKER,
        ).id
        for i in range(20):
            note = {"text": f"Notiz {i}", "category": NoteCategory.GENERAL}
            app.record(case_id, "NoteRecorded", note)
    case = app.repository.get(case_id)  # replayed from the store: every event mutates
    events = list(app.events.get(case_id))
    objects = [case, *events, object(), {"id": case_id}, None, "text"]
    protocols = [CanMutateProtocol, CollectEventsProtocol, DomainEventProtocol]
    answers = [[isinstance(o, p) for p in protocols] for o in objects]
    print(json.dumps({"collected": calls[0], "answers": answers, "version": case.version}))
"""


def run(mode: str, tmp_path: Path) -> dict[str, Any]:
    data = tmp_path / mode
    data.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, str(data)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_protocol_members_are_collected_once_per_class_and_every_answer_stays(
    tmp_path: Path,
) -> None:
    if sys.version_info >= (3, 12):  # collected once when the class is made: nothing to change
        assert not cache_protocol_members()
        return
    cached, uncached = run("on", tmp_path), run("off", tmp_path)
    assert cached["version"] == uncached["version"] == 21
    assert cached["answers"] == uncached["answers"]
    # without the cache, every event saved and replayed collects the members again
    assert uncached["collected"] > 100
    # with it, once per protocol class at most (the library's few, the others in the process)
    assert cached["collected"] <= 10

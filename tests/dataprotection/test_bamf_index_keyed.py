"""The BAMF file number index does not tell someone holding only the database whether a number was
ever registered (issue 13, ADR 0010): its id is a keyed hash, not uuid5 of the number, and no
index event carries the number."""

from __future__ import annotations

import secrets
from pathlib import Path
from uuid import NAMESPACE_URL, uuid5

from adapters.settings import Settings
from bootstrap import build_case_application
from tests.support.store import MakeApp, register

UNKEYED = uuid5(NAMESPACE_URL, "https://staffel.example/bamf-file-number")  # before ADR 0010
OTHER_MASTER_KEY = "b3RoZXItZGVwbG95bWVudC1tYXN0ZXIta2V5LTMyYnk="


def test_a_registered_number_cannot_be_tested_without_the_key(
    make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app()
    number = f"{secrets.randbelow(9 * 10**6) + 10**6}-{secrets.randbelow(900) + 100}"
    recorded = register(app, bamf_file_number=number)

    assert list(app.recorder.select_events(uuid5(UNKEYED, number))) == []
    index_id = app.bamf_index_id(number)
    stored = list(app.recorder.select_events(index_id))
    assert [s.topic for s in stored] == ["staffel:BamfFileNumberIndex.Registered"]
    digits = number.replace("-", "")
    for s in stored:  # the index holds the case's id, never the number in any form
        state = app.mapper.to_domain_event(s).__dict__
        assert state["case_id"] == recorded.id
        assert not any(digits[:7] in str(v).replace("-", "") for v in state.values())

    other = build_case_application(
        Settings(database_url=f"sqlite:///{tmp_path}/other.db", master_key=OTHER_MASTER_KEY)  # type: ignore[arg-type]
    )
    try:
        assert other.bamf_index_id(number) != index_id  # another deployment, another key
    finally:
        other.close()

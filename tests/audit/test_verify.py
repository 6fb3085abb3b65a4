"""Verification names every kind of tampering precisely, on both backends, and an export checked
offline gets the same verdict as the database."""

from __future__ import annotations

import io
import itertools
import json
import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.access_log import CREATE, AccessLog
from adapters.audit.checkpoint import build_checkpoint, write_checkpoint
from adapters.audit.export import export
from adapters.audit.verify import load_checkpoint, verify_one, verify_store
from adapters.chain_check import verify_case
from adapters.federation.signing import public_key_text
from domain.application import StaffelApplication
from tests.support.audit import Forger, found, seed
from verifier.audit_verify import verify_export
from workers.projections import build_view_store

KEY = Ed25519PrivateKey.generate()
EVENT_KINDS = {"changed", "missing", "reordered", "inserted", "broken_link"}


def checkpoint_of(app: StaffelApplication, access_log: AccessLog) -> dict[str, Any]:
    document, result = build_checkpoint(app, access_log, KEY)
    assert result["ok"], result
    out = io.StringIO()
    write_checkpoint(document, out)
    parsed: dict[str, Any] = json.loads(out.getvalue())
    assert parsed == document
    return parsed


def verdict(
    app: StaffelApplication,
    access_log: AccessLog,
    tmp_path: Path,
    checkpoint: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The database's verdict, after checking that the offline verifier agrees on an export."""
    loaded = None if checkpoint is None else load_checkpoint(checkpoint, public_key_text(KEY))
    result, _ = verify_store(app, access_log, loaded)
    log = tmp_path / "log.jsonl"
    with log.open("w", encoding="utf-8") as out:
        written = export(app, out)
    offline = verify_export(str(log), checkpoint, public_key_text(KEY))
    events_only = [p for p in result["problems"] if not p["kind"].startswith("access_log")]
    assert offline["problems"] == events_only
    assert (offline["cases_checked"], offline["events_checked"]) == (
        result["cases_checked"],
        result["events_checked"],
    )
    assert written == result["events_checked"]
    return result


def test_an_untouched_store_verifies_clean(
    app: StaffelApplication, access_log: AccessLog, tmp_path: Path
) -> None:
    ids = seed(app)
    access_log.record(actor="pruefer", org="audit", case_ids=[str(i) for i in ids], endpoint="x")
    checkpoint = checkpoint_of(app, access_log)
    assert checkpoint["cases"] == 4
    for with_checkpoint in (None, checkpoint):
        result = verdict(app, access_log, tmp_path, with_checkpoint)
        assert result["ok"] is True
        assert result["problems"] == []
        assert (result["cases_checked"], result["events_checked"]) == (4, 3 * 5 + 6)
    assert all(verify_one(app, i)["ok"] for i in ids)


def test_a_changed_byte_is_named(
    app: StaffelApplication, access_log: AccessLog, tmp_path: Path
) -> None:
    ids = seed(app)
    Forger(app).change_sealed_byte(ids[0], 3)
    expected = [(str(ids[0]), 3, "changed")]
    assert found(verdict(app, access_log, tmp_path)) == expected
    assert found(verify_one(app, ids[0])) == expected
    assert [(p.version, p.kind) for p in verify_case(app, ids[0])] == [(3, "changed")]


def test_deleted_events_are_missing_and_a_dropped_head_shows_against_a_checkpoint(
    app: StaffelApplication, access_log: AccessLog, tmp_path: Path
) -> None:
    ids = seed(app)
    checkpoint = checkpoint_of(app, access_log)
    forger = Forger(app)
    forger.delete(ids[0], 3)
    forger.delete(ids[1], 5)  # the last event: the chain alone cannot tell
    assert found(verdict(app, access_log, tmp_path)) == [(str(ids[0]), 3, "missing")]
    assert sorted(found(verdict(app, access_log, tmp_path, checkpoint))) == sorted(
        [(str(ids[0]), 3, "missing"), (str(ids[1]), 5, "missing")]
    )


def test_two_swapped_versions_are_reordered(
    app: StaffelApplication, access_log: AccessLog, tmp_path: Path
) -> None:
    ids = seed(app)
    checkpoint = checkpoint_of(app, access_log)
    Forger(app).swap(ids[2], 2, 3)
    expected = [(str(ids[2]), 2, "reordered"), (str(ids[2]), 3, "reordered")]
    assert found(verdict(app, access_log, tmp_path)) == expected
    assert found(verdict(app, access_log, tmp_path, checkpoint)) == expected


def test_a_forged_event_that_does_not_link_is_inserted(
    app: StaffelApplication, access_log: AccessLog, tmp_path: Path
) -> None:
    ids = seed(app)
    version = Forger(app).forge_next(ids[0], prev_hash="f" * 64, text="nie stattgefunden")
    assert found(verdict(app, access_log, tmp_path)) == [(str(ids[0]), version, "inserted")]


def test_a_forged_event_that_links_shows_against_a_checkpoint(
    app: StaffelApplication, access_log: AccessLog, tmp_path: Path
) -> None:
    """Hashed and linked like a real one, placed before the checkpoint (below position 1, where
    no reader of the global log looks): only the checkpoint's head gives it away."""
    ids = seed(app)
    checkpoint = checkpoint_of(app, access_log)
    head = app.get_case(ids[1])
    version = Forger(app).forge_next(ids[1], head.digest, "nachgetragen", position=-7)
    assert app.get_case(ids[1]).version == version  # the application believes it
    assert found(verdict(app, access_log, tmp_path)) == []
    assert found(verdict(app, access_log, tmp_path, checkpoint)) == [
        (str(ids[1]), version, "inserted")
    ]


def test_a_recomputed_chain_breaks_only_the_link_to_the_checkpoint(
    app: StaffelApplication, access_log: AccessLog, tmp_path: Path
) -> None:
    ids = seed(app)
    checkpoint = checkpoint_of(app, access_log)

    def change(state: dict[str, Any]) -> None:
        state["text"] = "Termin abgesagt"

    Forger(app).rewrite(ids[2], 2, change, relink=True)
    assert found(verdict(app, access_log, tmp_path)) == []  # every hash and link verifies
    assert found(verdict(app, access_log, tmp_path, checkpoint)) == [
        (str(ids[2]), 5, "broken_checkpoint_link")
    ]


def test_a_rehashed_event_breaks_the_next_link(
    app: StaffelApplication, access_log: AccessLog, tmp_path: Path
) -> None:
    ids = seed(app)

    def change(state: dict[str, Any]) -> None:
        state["text"] = "anders"

    Forger(app).rewrite(ids[0], 3, change, relink=False)
    assert found(verdict(app, access_log, tmp_path)) == [(str(ids[0]), 4, "broken_link")]
    assert [p.kind for p in verify_case(app, ids[0])] == ["broken_link"]


def test_a_forged_or_foreign_checkpoint_is_refused(
    app: StaffelApplication, access_log: AccessLog, tmp_path: Path
) -> None:
    seed(app)
    checkpoint = checkpoint_of(app, access_log)
    checkpoint["heads"][0][1] += 1
    result = verdict(app, access_log, tmp_path, checkpoint)
    assert found(result) == [(None, None, "checkpoint_invalid")]
    assert "signature" in result["problems"][0]["detail"]
    assert "root" in result["problems"][0]["detail"]
    other = Ed25519PrivateKey.generate()
    loaded = load_checkpoint(build_checkpoint(app, access_log, other)[0], public_key_text(KEY))
    assert loaded.errors


def test_the_access_log_is_chained_and_verified(
    app: StaffelApplication, access_log: AccessLog, tmp_path: Path
) -> None:
    ids = [str(i) for i in seed(app)]
    for n in range(3):
        access_log.record(actor=f"reader-{n}", org="jc", case_ids=ids, endpoint="GET /cases")
    rows = access_log.entries(limit=100)
    assert len(rows) == 12
    assert rows[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))
    checkpoint = checkpoint_of(app, access_log)
    assert checkpoint["access_log"]["last_id"] == rows[-1]["id"]
    forger = Forger(app)
    forger.sql("UPDATE access_log SET actor = %s WHERE id = %s", ("someone-else", rows[2]["id"]))
    forger.sql("DELETE FROM access_log WHERE id = %s", (rows[6]["id"],))
    forger.sql("DELETE FROM access_log WHERE id = %s", (rows[-1]["id"],))
    problems = verdict(app, access_log, tmp_path, checkpoint)["problems"]
    named = [(p["kind"], p.get("row")) for p in problems]
    assert ("access_log_changed", rows[2]["id"]) in named
    assert ("access_log_missing", rows[7]["id"]) in named  # the row after the deleted one
    assert ("access_log_missing", rows[-1]["id"]) in named  # the checkpoint's last row
    assert ("access_log_missing", None) in named  # fewer rows than were written
    assert len(named) == 4


def test_an_access_log_from_before_the_chain_is_chained_once(app: StaffelApplication) -> None:
    store = build_view_store(app)
    forger = Forger(app)
    forger.sql("DROP TABLE IF EXISTS access_log")
    forger.sql("DROP TABLE IF EXISTS access_log_head")
    before_the_chain = CREATE["postgres" if forger.pg else "sqlite"]
    forger.sql(before_the_chain.replace(", prev_hash TEXT, hash TEXT", ""))
    for n in range(3):
        forger.sql(
            "INSERT INTO access_log (at, actor, org, case_id, endpoint)"
            " VALUES (%s, %s, %s, %s, %s)",
            (f"2026-01-0{n + 1}T00:00:00+00:00", "old", "jc", f"case-{n}", "GET /cases"),
        )
    log = AccessLog(store)
    rows = log.entries()
    assert [r["actor"] for r in rows] == ["old"] * 3
    assert all(r["hash"] for r in rows)
    assert log.verify() == []
    log.record(actor="new", org="jc", case_ids=["case-9"], endpoint="GET /cases")
    assert AccessLog(store).entries()[:3] == rows  # built again: nothing rehashed
    assert log.verify() == []


def test_concurrent_readers_extend_one_chain(access_log: AccessLog) -> None:
    def reads(n: int) -> None:
        for k in range(10):
            access_log.record(actor=f"t{n}", org="jc", case_ids=[f"c{k}", "x"], endpoint="GET")

    threads = [threading.Thread(target=reads, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = access_log.entries(limit=1000)
    assert len(rows) == 80
    assert access_log.verify() == []
    assert access_log.head()["rows"] == 80

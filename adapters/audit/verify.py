"""Verify every case's hash chain in the store, the access log, and optionally the store against a
signed checkpoint. The verdicts are ``verifier.audit_verify``'s, so that an export checked offline
gets the same ones; only the reading differs (here: the event store, page by page)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from adapters.audit.canonical import CanonicalReader
from adapters.audit.rows import CASE_TOPIC_PREFIX, Row, case_rows, pages, rows_before_start
from domain.application import StaffelApplication
from verifier import audit_verify as av

if TYPE_CHECKING:
    from adapters.access_log import AccessLog

Advance = Callable[[int], None]


@dataclass
class Checkpoint:
    """A checkpoint whose signature and root were checked, or the reasons it was refused."""

    document: dict[str, Any]
    errors: list[str] = field(default_factory=list)

    @property
    def position(self) -> int:
        return int(self.document["position"])

    @property
    def heads(self) -> dict[str, tuple[int, str]]:
        return av.checkpoint_heads(self.document) if not self.errors else {}


def invalid_checkpoint(checkpoint: Checkpoint) -> list[av.Problem]:
    errors = "; ".join(checkpoint.errors)
    return [av.Problem(None, None, "checkpoint_invalid", errors)] if errors else []


def load_checkpoint(document: Any, public_key: str) -> Checkpoint:
    return Checkpoint(document, av.checkpoint_errors(document, public_key))


def records_of(reader: CanonicalReader, rows: list[Row]) -> list[av.Record]:
    """The chain's view of a case's rows (``audit_verify.record_of``, as for an export)."""
    found = []
    for row in rows:
        try:
            class_version, state = reader.state(row.state)
        except Exception:  # any unreadable record is a changed one
            class_version, state = None, None
        found.append(
            av.record_of(
                str(row.case_id), row.version, row.position, row.topic, class_version, state
            )
        )
    return found


def case_records(app: StaffelApplication, case_id: UUID) -> list[av.Record]:
    return records_of(CanonicalReader(app.mapper), case_rows(app, case_id))


def scan(
    app: StaffelApplication,
    reader: CanonicalReader,
    scanner: av.ChainScanner,
    stop: int,
    advance: Advance,
) -> None:
    """Every case event up to position ``stop``: hash checked, fed to the scanner. The hot loop
    of verification: keep it lean (``bench/verify.py``)."""
    digest_of, add, read = av.digest_of, scanner.add, reader.state

    def check(case_id: str, version: int, position: int, topic: str, data: bytes) -> None:
        stored: Any
        prev: Any
        try:
            class_version, state = read(data)
            stored, prev = state.pop("hash"), state.get("prev_hash", "")
            ok = digest_of(case_id, version, topic, class_version, state) == stored
        except Exception:  # unreadable: not ok, whatever the reason
            ok, stored, prev = False, "", ""
        add(case_id, version, position, stored, prev, ok)

    for r in rows_before_start(app):
        check(str(r.case_id), r.version, r.position, r.topic, r.state)
    done = 0
    for page in pages(app, stop=stop):
        for n in page:
            if n.topic.startswith(CASE_TOPIC_PREFIX):
                check(str(n.originator_id), n.originator_version, n.id, n.topic, n.state)
        advance(page[-1].id - done)
        done = page[-1].id


def verify_store(
    app: StaffelApplication,
    access_log: AccessLog | None,
    checkpoint: Checkpoint | None = None,
    advance: Advance = lambda n: None,
    stop: int | None = None,
) -> tuple[dict[str, Any], av.ChainScanner]:
    """The verdict on the store up to position ``stop`` (default: all of it), and the scanner,
    which holds each case's head at the checkpoint's position (default: at ``stop``)."""
    reader = CanonicalReader(app.mapper)
    problems: list[av.Problem] = []
    head = (app.recorder.max_notification_id() or 0) if stop is None else stop
    signed = checkpoint if checkpoint is not None and not checkpoint.errors else None
    if checkpoint is not None:
        problems += invalid_checkpoint(checkpoint)
    heads = signed.heads if signed else {}
    position = signed.position if signed else head
    scanner = av.ChainScanner(position)
    scan(app, reader, scanner, head, advance)
    suspects = scanner.suspects | (scanner.checkpoint_suspects(heads) if signed else set())
    for case_id in sorted(suspects):
        records = records_of(reader, case_rows(app, UUID(case_id)))
        problems += av.case_problems(case_id, records)
        if signed:
            problems += av.checkpoint_problems(case_id, records, heads.get(case_id), position)
    if access_log is not None:
        problems += access_log.verify(signed.document.get("access_log") if signed else None)
    return av.report(len(scanner.cases), scanner.events, scanner.last, problems), scanner


def verify_one(
    app: StaffelApplication, case_id: UUID, checkpoint: Checkpoint | None = None
) -> dict[str, Any]:
    """The verdict on one case (``--case``, ``GET /audit/verify?case_id=``)."""
    rows = case_rows(app, case_id)
    records = records_of(CanonicalReader(app.mapper), rows)
    key = str(case_id)
    problems = av.case_problems(key, records)
    if checkpoint is not None:
        problems += invalid_checkpoint(checkpoint)
        if not checkpoint.errors:
            head = checkpoint.heads.get(key)
            problems += av.checkpoint_problems(key, records, head, checkpoint.position)
    last = max((r.position for r in rows), default=0)
    return av.report(1 if rows else 0, len(rows), last, problems)

"""Audit (issue 6), for auditors only: the global log, cases as they were, verification, the
access log. Every case whose data an answer shows is logged as read (docs/audit.md).

The global log is shown as stored (not upcast), in position order, filtered.

Each event is shown as stored, except its personal values: those an auditor sees as the
disclosure table (``domain.disclosure``) lets it, opened where they are sealed, "[nicht
freigegeben]" where it may not see them (never opened), and "[gelöscht]" for every sealed value
of a case whose key is erased. ``sealed`` names the fields that are stored sealed (the export,
``adapters.audit.export``, keeps the ciphertext: verification needs the stored form). The keys
of a page's cases are read in one query, after the page is chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from adapters.audit import timetravel as tt
from adapters.audit.canonical import CanonicalReader
from adapters.audit.rows import Row, case_rows, is_case_topic, pages, row_of, type_of
from adapters.audit.verify import verify_one, verify_store
from adapters.keystore import CaseKeys, KeyStoreError
from domain.aggregates.case_events import CASE_EVENTS
from domain.application import StaffelApplication
from domain.disclosure import Audience
from domain.principal import Principal
from projections import withholding
from projections.history import BOOKKEEPING
from service_layer import access
from service_layer.cases import log_reads
from service_layer.errors import CaseLogUnreadableError, InvalidInputError, NotFoundError
from service_layer.ports import Services

AUDITOR = frozenset({Audience.AUDITOR})
TOPICS = {cls.__name__: cls.TOPIC for cls in CASE_EVENTS}  # what a sealed box is bound to
Opener = Callable[[str, dict[str, Any]], Any]  # (field, stored box) -> the value in it
SCAN_LIMIT = 20_000  # events read per request at most; ``next_after`` continues from there


# -- the use cases -------------------------------------------------------------------------------


def events(
    services: Services,
    principal: Principal,
    wanted: EventFilter,
    after: int,
    limit: int,
    endpoint: str,
) -> tuple[list[dict[str, Any]], int | None]:
    """Up to ``limit`` events matching ``wanted`` after position ``after`` (``events_page``);
    the cases they show are logged as read under ``endpoint``."""
    access.require_auditor(principal)
    found, next_after = events_page(services.cases, after, limit, wanted)
    log_reads(services, principal, list(dict.fromkeys(e["case_id"] for e in found)), endpoint)
    return found, next_after


@dataclass(frozen=True)
class CaseAsOf:
    """A case as it was (``found``); with ``or_latest``: its version now (``head``) and, when
    the chosen moment was refused and the latest shown instead, the refused parameter."""

    found: tt.CaseAsOf
    head: int | None = None
    refused: str | None = None


def case_as_of(
    services: Services,
    principal: Principal,
    case_id: UUID,
    endpoint: str,
    *,
    version: int | None = None,
    at: datetime | None = None,
    as_accepted: bool = False,
    or_latest: bool = False,
) -> CaseAsOf:
    """The case at ``version``, at the moment ``at`` (naive: UTC) or as the receiver acknowledged
    it in the last acceptance. A moment that does not exist is ``InvalidInputError``, or with
    ``or_latest`` the latest state, naming the refused parameter. The read is logged."""
    access.require_auditor(principal)
    refused = None
    try:
        try:
            found = tt.case_as_of(
                services.cases, case_id, version=version, at=at, as_accepted=as_accepted
            )
        except tt.TimeTravelError as e:
            if not or_latest:
                raise InvalidInputError(e.field, e.message) from None
            refused = e.field
            found = tt.case_as_of(services.cases, case_id)
    except tt.LogUnreadableError as e:
        raise CaseLogUnreadableError(str(e)) from None
    log_reads(services, principal, [str(case_id)], endpoint)
    if not or_latest:
        return CaseAsOf(found)
    return CaseAsOf(found, tt.case_as_of(services.cases, case_id).case.version, refused)


def verify(
    services: Services, principal: Principal, case_id: UUID | None = None, *, known: bool = True
) -> dict[str, Any]:
    """Recompute the hash chain of ``case_id`` (``known``: it must exist), or of every case
    and the access log's chain."""
    access.require_auditor(principal)
    if case_id is None:
        result, _ = verify_store(services.cases, services.access_log)
        return result
    result = verify_one(services.cases, case_id)
    if known and not result["events_checked"]:
        raise NotFoundError("case", case_id)
    return result


def access_entries(
    services: Services,
    principal: Principal,
    *,
    case_id: UUID | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    after: int = 0,
    limit: int = 100,
) -> tuple[list[dict[str, Any]], int | None]:
    """Who read which case when, oldest first, and the row id to continue after (None: all)."""
    access.require_auditor(principal)
    entries = services.access_log.entries(
        case_id=str(case_id) if case_id else None,
        actor=actor,
        since=_utc_moment(since).isoformat() if since else None,
        after=after,
        limit=limit,
    )
    return entries, entries[-1]["id"] if len(entries) == limit else None


def _utc_moment(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- the global log ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilter:
    case_id: UUID | None = None
    type: str | None = None
    org: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, item: dict[str, Any]) -> bool:
        if self.type is not None and item["type"] != self.type:
            return False
        if self.org is not None and item["org"] != self.org:
            return False
        if self.since is None and self.until is None:
            return True
        try:
            at = _utc(datetime.fromisoformat(item["recorded_at"]))
        except (TypeError, ValueError):
            return False
        return (self.since is None or at >= _utc(self.since)) and (
            self.until is None or at <= _utc(self.until)
        )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def item_of(reader: CanonicalReader, row: Row) -> dict[str, Any]:
    """The event as stored, personal values included (``disclosed`` shows them to auditors)."""
    item: dict[str, Any] = {
        "position": row.position,
        "case_id": str(row.case_id),
        "version": row.version,
        "type": type_of(row.topic),
    }
    try:
        _, state = reader.state(row.state)
    except Exception:  # listed as it is; ``/audit/verify`` says what is wrong with it
        state = {}
    data = {k: v for k, v in state.items() if k not in BOOKKEEPING} if state else None
    return item | {
        "recorded_at": _text(state.get("timestamp")),
        "actor": _text(state.get("actor")),
        "org": _text(state.get("org")),
        "hash": _text(state.get("hash")),
        "prev_hash": _text(state.get("prev_hash")),
        "data": data,
        "sealed": withholding.sealed_fields(item["type"], data),
    }


def disclosed(
    app: StaffelApplication, reader: CanonicalReader, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``items`` (from ``item_of``) with their personal values as an auditor sees them. One
    query for the keys of their cases; a key is unwrapped only for a case with a sealed value
    the auditor may see. A sealed value that does not open (a changed box: ``/audit/verify``
    reports it) stays as stored."""
    keys = getattr(app, "keys", None)
    if not isinstance(keys, CaseKeys):  # an application that does not seal: nothing to open
        return [_shown(item, False, None) for item in items]
    sealed = {UUID(i["case_id"]) for i in items if i["sealed"]}
    readable = {
        UUID(i["case_id"])
        for i in items
        if i["sealed"] and withholding.sees_sealed(AUDITOR, i["type"], i["data"])
    }
    held, opened = keys.held_keys(list(sealed), unwrap=readable) if sealed else (frozenset(), {})
    # values stored in clear before their field was sealed: "[gelöscht]" once the case is erased
    clear = {UUID(i["case_id"]) for i in items if withholding.clear_fields(i["type"], i["data"])}
    tombstones = keys.erased_among(list(clear)) if clear else frozenset()

    def opener(item: dict[str, Any]) -> Opener:
        case_id, topic = UUID(item["case_id"]), TOPICS.get(item["type"], "")

        def open_box(field: str, box: dict[str, Any]) -> Any:
            key = opened.get(case_id)
            if key is None or not isinstance(box["box"], str):
                return box
            try:
                return reader.value(keys.open_box(case_id, topic, field, box["box"], key))
            except (KeyStoreError, ValueError):
                return box

        return open_box

    return [
        _shown(
            item,
            bool(item["sealed"]) and UUID(item["case_id"]) not in held,
            opener(item),
            clear_erased=UUID(item["case_id"]) in tombstones,
        )
        for item in items
    ]


def _shown(
    item: dict[str, Any], erased: bool, open_box: Opener | None, *, clear_erased: bool = False
) -> dict[str, Any]:
    data, withheld = withholding.stored_data(
        item["type"], item["data"], AUDITOR, erased=erased, open_box=open_box,
        clear_erased=clear_erased,
    )  # fmt: skip
    return item | {"data": data, "withheld": withheld}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _batches(
    app: StaffelApplication, after: int, wanted: EventFilter
) -> Iterator[tuple[list[Row], int]]:
    """The case events after ``after``, a batch at a time, with the position each batch reached."""
    if wanted.case_id is not None:
        rows = [r for r in case_rows(app, wanted.case_id) if r.position > after]
        rows.sort(key=lambda r: r.position)
        yield rows, rows[-1].position if rows else after
        return
    for page in pages(app, after=after, size=1000):
        rows = [row_of(n) for n in page if is_case_topic(n.topic)]
        yield rows, page[-1].id


def events_page(
    app: StaffelApplication, after: int, limit: int, wanted: EventFilter
) -> tuple[list[dict[str, Any]], int | None]:
    """Up to ``limit`` matching events after position ``after``, and the position to continue
    after (None: the end of the log). At most ``SCAN_LIMIT`` events are read per call."""
    reader = CanonicalReader(app.mapper)
    found, next_after = _matching(reader, app, after, limit, wanted)
    return disclosed(app, reader, found), next_after


def _matching(
    reader: CanonicalReader, app: StaffelApplication, after: int, limit: int, wanted: EventFilter
) -> tuple[list[dict[str, Any]], int | None]:
    found: list[dict[str, Any]] = []
    scanned = 0
    for rows, reached in _batches(app, after, wanted):
        for row in rows:
            item = item_of(reader, row)
            if wanted.matches(item):
                found.append(item)
                if len(found) == limit:
                    return found, row.position
        scanned += len(rows)
        if scanned >= SCAN_LIMIT:
            return found, reached
    return found, None

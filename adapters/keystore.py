"""The per-case data keys that seal personal fields (ADR 0008): crypto-shredding.

Each case gets its own random AES-256 key when it is registered. The key is stored in
``staffel_case_keys`` (same database, same transaction as the case's first events), wrapped
(AES-GCM) under the deployment's master key, with the case id as associated data. Erasing a case
deletes the wrapped key and leaves a tombstone, so the key is never made again: a sealed value of
that case can no longer be opened by anyone, while the stored ciphertext (which the hash chain
covers) stays and still verifies.

Readers open sealed values in batches (``open_events``, or ``held_keys`` for the stored form the
audit log shows): one query per batch for the keys, never a cache that could outlive an erasure.
Writers cache keys of cases they wrote to (an erasure in this process drops the entry; one in
another process is caught by the case itself, which refuses every command once
``PersonalDataErased`` is recorded).
"""

from __future__ import annotations

import base64
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence, Set
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eventsourcing.persistence import Transcoder
from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.federation.signing import create_secret_file
from domain.aggregates.case_errors import CaseErasedError
from domain.values import Redacted, Sealed

TABLE = "staffel_case_keys"
SQLITE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (case_id TEXT PRIMARY KEY, wrapped BLOB,"
    " created_at TEXT NOT NULL, erased_at TEXT)"
)
POSTGRES_DDL = (
    "CREATE TABLE IF NOT EXISTS {schema}." + TABLE + " (case_id TEXT PRIMARY KEY, wrapped BYTEA,"
    " created_at TEXT NOT NULL, erased_at TEXT)"
)
NONCE = 12
CACHE_SIZE = 10_000
E = TypeVar("E")


class KeyStoreError(RuntimeError):
    """The key store cannot do its work (a wrong master key, a damaged key): never user input."""


class MasterKey:
    """Wraps and unwraps the data keys. 32 random bytes from settings or a key file."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise KeyStoreError(f"the master key must be 32 bytes, not {len(raw)}")
        self._aead = AESGCM(raw)
        self._raw = raw

    def derive(self, label: bytes) -> bytes:
        """A 32-byte key for another purpose, named by ``label`` (HKDF-SHA256): independent of
        the wrapping key and of every other label's key (ADR 0010)."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(self._raw)

    @classmethod
    def from_text(cls, text: str) -> MasterKey:
        try:
            return cls(base64.b64decode(text.strip(), validate=True))
        except ValueError as e:
            raise KeyStoreError(f"the master key is not base64: {e}") from e

    @classmethod
    def load_or_create(cls, path: Path) -> MasterKey:
        create_secret_file(path, base64.b64encode(AESGCM.generate_key(256)) + b"\n")
        return cls.from_text(path.read_text("ascii"))

    def wrap(self, case_id: UUID, key: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + self._aead.encrypt(nonce, key, _wrap_aad(case_id))

    def unwrap(self, case_id: UUID, wrapped: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:NONCE], wrapped[NONCE:], _wrap_aad(case_id))
        except InvalidTag as e:
            raise KeyStoreError(
                f"the key of case {case_id} does not open with this master key"
            ) from e


def _wrap_aad(case_id: UUID) -> bytes:
    return b"staffel-case-key:" + case_id.bytes


def _box_aad(case_id: UUID, topic: str, field: str) -> bytes:
    return f"{case_id}|{topic}|{field}".encode()


class CaseKeys:
    """``PersonalDataKeys`` for one application's store (SQLite or PostgreSQL)."""

    def __init__(self, recorder: Any, master: MasterKey, transcoder: Transcoder) -> None:
        self.recorder, self.master, self.transcoder = recorder, master, transcoder
        self.postgres = isinstance(recorder, PostgresApplicationRecorder)
        self._lock = threading.Lock()
        self._new: dict[UUID, bytes] = {}  # made for a case not saved yet
        self._cache: OrderedDict[UUID, bytes] = OrderedDict()

    # -- sealing (writes) -------------------------------------------------------------------

    def seal(self, case_id: UUID, topic: str, field: str, value: Any) -> Sealed:
        key = self._key_for_write(case_id)
        nonce = os.urandom(NONCE)
        plain = self.transcoder.encode({"v": value})
        box = nonce + AESGCM(key).encrypt(nonce, plain, _box_aad(case_id, topic, field))
        return Sealed(base64.b64encode(box).decode("ascii"))

    def _key_for_write(self, case_id: UUID) -> bytes:
        with self._lock:
            if (key := self._new.get(case_id) or self._cache.get(case_id)) is not None:
                return key
        found = self._load([case_id])
        if case_id in found and (stored := found[case_id]) is None:
            raise CaseErasedError
        with self._lock:
            if case_id not in found:  # no key yet: a new case (or one stored before sealing)
                return self._new.setdefault(case_id, AESGCM.generate_key(256))
            assert stored is not None
            return self._remember(case_id, stored)

    def prepare(self, case_ids: Iterable[UUID]) -> None:
        """The keys of these cases, read in one query into the writers' cache (those not there
        yet; an erased case's is not cached: sealing for it still raises ``CaseErasedError``).
        The handover policy seals an offer for each case of its step: with more cases in a wave
        than the cache holds, each offer read its key on its own, a round trip each (30 of the
        policy's 50 seconds for 30,000 cases)."""
        wanted = []
        with self._lock:
            for case_id in dict.fromkeys(case_ids):
                if case_id in self._cache:
                    self._cache.move_to_end(case_id)  # not evicted by the others read now
                elif case_id not in self._new:
                    wanted.append(case_id)
        if not wanted:
            return
        found = self._load(wanted)
        with self._lock:
            for case_id, key in found.items():
                if key is not None and case_id not in self._new:
                    self._remember(case_id, key)

    def take_new(self, case_ids: Iterable[UUID]) -> list[tuple[UUID, bytes]]:
        with self._lock:
            taken = [(i, self._new.pop(i)) for i in set(case_ids) if i in self._new]
        return [(i, self.master.wrap(i, key)) for i, key in taken]

    def saved(self, keys: list[tuple[UUID, bytes]], *, stored: bool) -> None:
        if not stored:
            return  # the events sealed with them were not stored either: the keys are dropped
        for case_id, wrapped in keys:
            with self._lock:
                self._remember(case_id, self.master.unwrap(case_id, wrapped))

    def _remember(self, case_id: UUID, key: bytes) -> bytes:
        self._cache[case_id] = key
        self._cache.move_to_end(case_id)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return key

    # -- erasure ------------------------------------------------------------------------------

    def erase(self, case_id: UUID) -> bool:
        with self._lock:
            self._cache.pop(case_id, None)
            self._new.pop(case_id, None)
        now = datetime.now(UTC).isoformat()
        with self.recorder.datastore.transaction(commit=True) as curs:
            if not self.postgres:  # deleted bytes are overwritten with zeros in the file too
                curs.execute("PRAGMA secure_delete = ON")
            curs.execute(
                self._sql(
                    f"UPDATE {self._table} SET wrapped = NULL, erased_at = %s"
                    " WHERE case_id = %s AND erased_at IS NULL"
                ),
                (now, str(case_id)),
            )
            changed = _rowcount(curs) > 0
            curs.execute(
                self._sql(
                    f"INSERT INTO {self._table} VALUES (%s, NULL, %s, %s)"
                    " ON CONFLICT (case_id) DO NOTHING"
                ),
                (str(case_id), now, now),
            )
            return changed or _rowcount(curs) > 0

    def is_erased(self, case_id: UUID) -> bool:
        found = self._load([case_id])
        return case_id in found and found[case_id] is None

    def stored_keys(self, case_ids: Sequence[UUID]) -> dict[UUID, bytes | None]:
        """Per case with a key row: its raw key (None: erased), for a handover bundle."""
        return self._load(case_ids)

    def adopt(self, case_id: UUID, key: bytes | None) -> list[tuple[UUID, bytes]]:
        """Rows for a key received with a bundle (None: a tombstone), to store with its events."""
        if key is None:
            return []
        return [(case_id, self.master.wrap(case_id, key))]

    # -- opening (reads) ----------------------------------------------------------------------

    def open_events(self, events: Sequence[E]) -> list[E]:
        """``events`` with every sealed value opened, or ``Redacted.ERASED`` where the case's
        key is erased. Events without personal values are returned as they are (not copied).

        Tolerant reading of events stored before a field was sealed (ADR 0008): a personal
        value stored in clear is shown as stored, unless its case is erased (a tombstone):
        then it reads as erased like the sealed ones."""
        ids = {
            e.originator_id  # type: ignore[attr-defined]
            for e in events
            if any(_held(getattr(e, n, None)) for n in _personal(e))
        }
        if not ids:
            return list(events)
        keys = self._load(list(ids))
        return [self._opened(e, keys) for e in events]

    def open_value(self, case_id: UUID, topic: str, field: str, box: Sealed, key: bytes) -> Any:
        return self.transcoder.decode(self.open_box(case_id, topic, field, box.box, key))["v"]

    def open_box(self, case_id: UUID, topic: str, field: str, box: str, key: bytes) -> bytes:
        """The plaintext of a sealed value's ``box``: the transcoded ``{"v": value}``."""
        try:
            raw = base64.b64decode(box, validate=True)
            return AESGCM(key).decrypt(raw[:NONCE], raw[NONCE:], _box_aad(case_id, topic, field))
        except (InvalidTag, ValueError) as e:
            raise KeyStoreError(f"a sealed {field} of case {case_id} does not open") from e

    def held_keys(
        self, case_ids: Sequence[UUID], *, unwrap: Set[UUID]
    ) -> tuple[frozenset[UUID], dict[UUID, bytes]]:
        """In one query: the cases of ``case_ids`` whose key is still stored, and the raw keys of
        those of them in ``unwrap`` (the others stay wrapped: nothing of theirs is to be opened).
        A case not held has no key (erased, or none was ever made): its sealed values are
        ``Redacted.ERASED`` to every reader."""
        held = {i: w for i, w in self._rows(case_ids) if w is not None}
        keys = {i: self.master.unwrap(i, w) for i, w in held.items() if i in unwrap}
        return frozenset(held), keys

    def erased_among(self, case_ids: Sequence[UUID]) -> frozenset[UUID]:
        """The cases of ``case_ids`` whose key is erased (a tombstone), in one query."""
        return frozenset(i for i, wrapped in self._rows(case_ids) if wrapped is None)

    def _opened(self, event: E, keys: dict[UUID, bytes | None]) -> E:
        case_id: UUID = event.originator_id  # type: ignore[attr-defined]
        tombstone = case_id in keys and keys[case_id] is None
        names = [
            n
            for n in _personal(event)
            if isinstance(value := getattr(event, n, None), Sealed) or (tombstone and _held(value))
        ]
        if not names:
            return event
        key = keys.get(case_id)
        topic: str = type(event).TOPIC  # type: ignore[attr-defined]
        copy = object.__new__(type(event))
        copy.__dict__.update(event.__dict__)
        for name in names:
            if isinstance(key, bytes):
                value = self.open_value(case_id, topic, name, getattr(event, name), key)
            else:  # erased, or no key at all: nobody can read it
                value = Redacted.ERASED
            copy.__dict__[name] = value
        return copy

    # -- storage ------------------------------------------------------------------------------

    @property
    def _table(self) -> str:
        if self.postgres:
            return f"{self.recorder.datastore.schema or 'public'}.{TABLE}"
        return TABLE

    def _sql(self, statement: str) -> str:
        return statement if self.postgres else statement.replace("%s", "?")

    def _load(self, case_ids: Sequence[UUID]) -> dict[UUID, bytes | None]:
        """Per case with a key row: its key, or None (erased)."""
        return {
            case_id: None if wrapped is None else self.master.unwrap(case_id, wrapped)
            for case_id, wrapped in self._rows(case_ids)
        }

    def _rows(self, case_ids: Sequence[UUID]) -> list[tuple[UUID, bytes | None]]:
        """Per case with a key row: its wrapped key, or None (erased)."""
        if not case_ids:
            return []
        ids = [str(i) for i in case_ids]
        marks = ", ".join(["%s"] * len(ids))
        with self.recorder.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(f"SELECT case_id, wrapped FROM {self._table} WHERE case_id IN ({marks})"),
                ids,
            )
            rows = curs.fetchall()
        return [
            (UUID(row["case_id"]), None if row["wrapped"] is None else bytes(row["wrapped"]))
            for row in rows
        ]


def _rowcount(curs: Any) -> int:
    """Rows the last statement changed (the library's SQLite cursor wraps the driver's)."""
    return int(getattr(curs, "sqlite_cursor", curs).rowcount)


def opened(app: Any, events: Sequence[E]) -> list[E]:
    """``events`` as readers see them: personal values opened, or marked erased."""
    keys = getattr(app, "keys", None)
    return keys.open_events(events) if isinstance(keys, CaseKeys) else list(events)


def _personal(event: Any) -> tuple[str, ...]:
    return getattr(type(event), "PERSONAL_FIELDS", ())


def _held(value: Any) -> bool:
    """A personal value stored: sealed, or in clear (an event from before its field was sealed)."""
    return value is not None and not isinstance(value, Redacted)


def insert_key_rows(curs: Any, statement: str, keys: Sequence[tuple[UUID, bytes]]) -> None:
    """Inside the recorder's transaction: the keys of new cases, with their first events. A row
    already there wins: above all a tombstone, so an erased case's key is never made again."""
    now = datetime.now(UTC).isoformat()
    for case_id, wrapped in keys:
        curs.execute(statement, (str(case_id), wrapped, now))

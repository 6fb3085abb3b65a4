"""Uniqueness of the BAMF file number: an index aggregate whose id is a keyed hash of the number.

Saved in the same transaction as the case it points to; a second registration of the number
collides on the index's first version and the store refuses it (ADR 0002). When the case's
personal data are erased, the index is released in the same save (ADR 0008): the person can be
registered again later, and the index no longer names the erased case.

The id is ``IndexId(canonical number)``, a keyed hash the application is given (ADR 0010): the
domain knows no key, and someone holding only the database cannot test a number. Neither the id
nor any index event holds the number. ``legacy_id`` is the unkeyed id of earlier versions, kept
for ``staffel migrate bamf-index`` and for registrations before that has run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from domain.bamf_number import InvalidBamfFileNumberError, normalise

__all__ = ["BamfFileNumberIndex", "IndexId", "InvalidBamfFileNumberError", "legacy_id", "normalise"]

IndexId = Callable[[str], UUID]  # the keyed id of a canonical number
NAMESPACE = uuid5(NAMESPACE_URL, "https://staffel.example/bamf-file-number")


def legacy_id(stored_number: str) -> UUID:
    """The index id before ADR 0010 (uuid5 of the number as it was stored): only to find and
    retire such indexes. A legacy id has UUID version 5, a keyed one version 4."""
    return uuid5(NAMESPACE, stored_number)


class BamfFileNumberIndexEvent(Aggregate.Event):
    pass


class BamfFileNumberRegistered(BamfFileNumberIndexEvent, Aggregate.Created):
    TOPIC = "staffel:BamfFileNumberIndex.Registered"
    case_id: UUID

    def apply(self, index: Any) -> None:
        index.case_id = self.case_id


class BamfFileNumberReleased(BamfFileNumberIndexEvent):
    TOPIC = "staffel:BamfFileNumberIndex.Released"

    def apply(self, index: Any) -> None:
        index.case_id = None


class BamfFileNumberReassigned(BamfFileNumberIndexEvent):
    TOPIC = "staffel:BamfFileNumberIndex.Reassigned"
    case_id: UUID

    def apply(self, index: Any) -> None:
        index.case_id = self.case_id


class BamfFileNumberIndex(Aggregate):
    TOPIC = "staffel:BamfFileNumberIndex"
    Event = BamfFileNumberIndexEvent
    Created = BamfFileNumberRegistered

    if TYPE_CHECKING:
        case_id: UUID | None  # None: released (its case was erased)

    @classmethod
    def point(cls, index_id: UUID, case_id: UUID) -> BamfFileNumberIndex:
        """A new index under ``index_id`` (from the application's ``IndexId``)."""
        return cls._create(BamfFileNumberRegistered, id=index_id, case_id=case_id)

    def release(self) -> None:
        self.trigger_event(BamfFileNumberReleased)

    def reassign(self, case_id: UUID) -> None:
        """Point a released number at a new case (the caller checked it is released)."""
        assert self.case_id is None
        self.trigger_event(BamfFileNumberReassigned, case_id=case_id)


for _event in (BamfFileNumberReleased, BamfFileNumberReassigned):
    register_topic(_event.TOPIC, _event)

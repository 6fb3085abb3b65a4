"""Uniqueness of the BAMF file number: an index aggregate whose id is derived from the number.

Saved in the same transaction as the case it points to; a second registration of the number
collides on the index's first version and the store refuses it (ADR 0002). When the case's
personal data are erased, the index is released in the same save (ADR 0008): the person can be
registered again later, and the index no longer names the erased case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

NAMESPACE = uuid5(NAMESPACE_URL, "https://staffel.example/bamf-file-number")


def normalise(bamf_file_number: str) -> str:
    return "".join(bamf_file_number.split()).upper()


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

    @staticmethod
    def create_id(bamf_file_number: str) -> UUID:
        return uuid5(NAMESPACE, normalise(bamf_file_number))

    @classmethod
    def point(cls, bamf_file_number: str, case_id: UUID) -> BamfFileNumberIndex:
        return cls._create(
            BamfFileNumberRegistered, id=cls.create_id(bamf_file_number), case_id=case_id
        )

    def release(self) -> None:
        self.trigger_event(BamfFileNumberReleased)

    def reassign(self, case_id: UUID) -> None:
        """Point a released number at a new case (the caller checked it is released)."""
        assert self.case_id is None
        self.trigger_event(BamfFileNumberReassigned, case_id=case_id)


for _event in (BamfFileNumberReleased, BamfFileNumberReassigned):
    register_topic(_event.TOPIC, _event)

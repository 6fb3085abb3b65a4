"""Uniqueness of the BAMF file number: an index aggregate whose id is derived from the number.

Saved in the same transaction as the case it points to; a second registration of the number
collides on the index's first version and the store refuses it (ADR 0002).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

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


class BamfFileNumberIndex(Aggregate):
    TOPIC = "staffel:BamfFileNumberIndex"
    Event = BamfFileNumberIndexEvent
    Created = BamfFileNumberRegistered

    if TYPE_CHECKING:
        case_id: UUID

    @staticmethod
    def create_id(bamf_file_number: str) -> UUID:
        return uuid5(NAMESPACE, normalise(bamf_file_number))

    @classmethod
    def point(cls, bamf_file_number: str, case_id: UUID) -> BamfFileNumberIndex:
        return cls._create(
            BamfFileNumberRegistered, id=cls.create_id(bamf_file_number), case_id=case_id
        )

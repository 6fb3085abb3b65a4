"""The base of the partner aggregates' events (employers, offers, volunteers): who recorded it.

Like a case event, every event carries ``actor`` and ``org`` (read from ``current_actor()`` by
the aggregate, never passed by hand) and a stable ``TOPIC`` registered when the class is
defined (ADR 0002). Unlike a case, these aggregates carry no hash chain: they are not handed over
between deployments and hold no record of a person.
"""

from __future__ import annotations

from typing import Any, ClassVar

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from domain.actor import current_actor


class StampedEvent(Aggregate.Event):
    TOPIC: ClassVar[str] = ""

    actor: str
    org: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("TOPIC"):
            register_topic(cls.TOPIC, cls)


def stamp() -> dict[str, str]:
    """The ``actor`` and ``org`` fields of the next event: whoever is acting now."""
    actor = current_actor()
    return {"actor": actor.id, "org": actor.org}

"""The HTTP contract of handovers between organisations."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from api.schemas.common import Contract, Ref, Text


class OfferHandover(Contract):
    to_org: Ref
    reason: Text


class AcceptHandover(Contract):
    version: Annotated[int, Field(ge=1)]
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

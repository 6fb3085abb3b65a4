"""The HTTP contract of handovers between organisations."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from api.schemas.common import Contract, Name, Ref, Text


class OfferHandover(Contract):
    to_org: Ref
    reason: Text


class AcceptHandover(Contract):
    version: Annotated[int, Field(ge=1)]
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    caseworker: Annotated[
        Ref | None,
        Field(description="assign the case at once: the accepting caseworker's own id, or (team"
              " lead) a colleague's"),
    ] = None  # fmt: skip
    office: Annotated[Name | None, Field(description="assign the case to this office")] = None

    def assignment(self) -> tuple[str | None, str | None] | None:
        if self.caseworker is None and self.office is None:
            return None
        return (self.office, self.caseworker)

"""Dependencies and helpers of the employer, offer, volunteer and matching routers."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from adapters.views.matching_queries import MatchingQueries
from api.deps import ServicesDep
from api.problems import PROBLEMS, ApiError, problem_response
from domain.application import StaffelApplication
from domain.principal import Principal
from domain.writes import Recorded


def get_partners(services: ServicesDep) -> StaffelApplication:
    return services.cases


PartnersDep = Annotated[StaffelApplication, Depends(get_partners)]


def get_matching(services: ServicesDep) -> MatchingQueries:
    return MatchingQueries(services.supervisor.store)


MatchingDep = Annotated[MatchingQueries, Depends(get_matching)]

# the refusals every employer, offer, volunteer and matching endpoint may answer with
REFUSALS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    404: problem_response("no such employer, offer, volunteer or case"),
}
WRITTEN: dict[int | str, dict[str, Any]] = {
    201: {"description": "recorded"},
    409: problem_response("conflict: a duplicate, a state that forbids it, a concurrent change"),
    403: problem_response("not allowed; the detail says why"),
}


def saved(result: Recorded, request: Request, status: int = 201) -> JSONResponse:
    """The write's id, version and position (for ``?min_position``)."""
    principal: Principal = request.state.principal
    request.app.state.last_writes.remember((principal.org, principal.sub), result.position)
    request.app.state.metrics.recorded()
    request.app.state.services.supervisor.wake()
    body = {"id": str(result.id), "version": result.version, "position": result.position}
    return JSONResponse(body, status_code=status, headers={"ETag": f'"{result.version}"'})


def not_found(kind: str, ref: UUID | str) -> ApiError:
    return ApiError(404, f"{kind}-not-found", f"No such {kind}", f"no {kind} {ref}")


def consents_current(services: ServicesDep) -> None:
    """Reads gated by consent wait until the matching view has every event recorded so far: a
    consent withdrawn before the read began hides the person from it."""
    head = services.cases.recorder.max_notification_id() or 0
    if head and not services.supervisor.wait_for(
        head, services.settings.read_wait_seconds, ["matching"]
    ):
        raise ApiError(
            503,
            "read-model-behind",
            "The read models have not caught up yet",
            f"position {head} not yet processed; retry shortly",
            min_position=head,
        )

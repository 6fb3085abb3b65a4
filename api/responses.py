"""The answer to a write, for every resource: the saved state's body (the case's ``Recorded`` or a
record's ``SavedOut``), its version as the ETag, and the read-your-writes bookkeeping."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel


def after_write(request: Request, position: int) -> None:
    """The caller's own reads wait for this write; the projections wake up for it."""
    principal = request.state.principal
    request.app.state.last_writes.remember((principal.org, principal.sub), position)
    request.app.state.metrics.recorded()
    request.app.state.services.supervisor.wake()


def written(
    request: Request, model: type[BaseModel], result: Any, status: int = 201
) -> JSONResponse:
    """``result`` (a write's result) as ``model`` shows it, after the bookkeeping."""
    after_write(request, result.position)
    body = model.model_validate(result, from_attributes=True).model_dump(mode="json")
    return JSONResponse(body, status_code=status, headers={"ETag": f'"{result.version}"'})

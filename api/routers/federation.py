"""Between deployments: a peer delivers a handover bundle to the inbox, and a receipt back.
Authenticated by the peer's Ed25519 signature (keys in the organisations file), not by a JWT."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response

from api.deps import ServicesDep
from service_layer import federation

router = APIRouter(prefix="/handovers", tags=["federation"])


@router.post("/inbox", status_code=201)
def inbox(
    request: Request, services: ServicesDep, body: Annotated[dict[str, Any], Body()]
) -> JSONResponse:
    """Import a peer's signed handover bundle: verified whole, imported unchanged, idempotent."""
    result = federation.receive_bundle(services, body)
    return JSONResponse(
        {"case_id": str(result.case_id), "version": result.version, "digest": result.digest,
         "new_events": result.new_events, "position": result.position},
        status_code=201 if result.new_events else 200,
    )  # fmt: skip


@router.post("/receipts", status_code=201)
def receipts(
    request: Request, services: ServicesDep, body: Annotated[dict[str, Any], Body()]
) -> Response:
    """Record a peer's signed answer to our offer (accepted at version N with its digest, or
    rejected); answer with the signed bundle of the stream up to the decision. A receipt is
    answered once: a replay gets the first answer byte for byte (200), or a 409."""
    answer = federation.answer_receipt(services, body)
    return Response(
        answer.bytes, status_code=201 if answer.first else 200, media_type="application/json"
    )

"""Between deployments: a peer delivers a handover bundle to the inbox, and a receipt back.
Authenticated by the peer's Ed25519 signature (keys in the organisations file), not by a JWT."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response

from adapters.federation.bundle import BundleError
from adapters.federation.receipts import AlreadyAnsweredError
from adapters.federation.transfer import import_bundle
from api.deps import ServicesDep
from api.problems import ApiError
from bootstrap import Services
from service_layer import federation as answers
from service_layer.federation import record_receipt

router = APIRouter(prefix="/handovers", tags=["federation"])


def peer_key(services: Services, org_id: Any, role: str) -> Any:
    try:
        return answers.peer_key(services, str(org_id))
    except BundleError as e:
        raise ApiError(403, "unknown-peer", "Unknown peer", f"{role}: {e}") from e


def refused(e: BundleError) -> ApiError:
    return ApiError(
        422, "bundle-refused", "The bundle was refused", str(e), first_bad_version=e.version
    )


@router.post("/inbox", status_code=201)
def inbox(
    request: Request, services: ServicesDep, body: Annotated[dict[str, Any], Body()]
) -> JSONResponse:
    """Import a peer's signed handover bundle: verified whole, imported unchanged, idempotent."""
    try:
        result = import_bundle(
            services.cases,
            services.supervisor.store,
            body,
            peer_key(services, body.get("sender"), "sender"),
            lambda org: answers.is_local(services, org),
        )
    except BundleError as e:
        raise refused(e) from e
    services.supervisor.wake()
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
    try:
        answer = record_receipt(services, body)
    except AlreadyAnsweredError as e:
        raise ApiError(409, "receipt-already-answered", "Receipt already answered", str(e)) from e
    except BundleError as e:
        raise refused(e) from e
    services.supervisor.wake()
    return Response(
        answer.bytes, status_code=201 if answer.first else 200, media_type="application/json"
    )

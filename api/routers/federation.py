"""Between deployments: a peer delivers a handover bundle to the inbox, and a receipt back.
Authenticated by the peer's Ed25519 signature (keys in the organisations file), not by a JWT."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from adapters.federation.bundle import BundleError, verify_receipt
from adapters.federation.signing import public_key_from_text
from adapters.federation.transfer import import_bundle
from adapters.services import Services
from api.deps import ServicesDep
from api.problems import ApiError
from domain.actor import Actor, acting_as
from domain.application import IdempotencyKey

router = APIRouter(prefix="/handovers", tags=["federation"])


def peer_key(services: Services, org_id: Any, role: str) -> Any:
    org = services.orgs.get(str(org_id))
    if org is None or not org.is_remote or not org.public_key:
        raise ApiError(
            403,
            "unknown-peer",
            "Unknown peer",
            f"{role} {org_id!r} is not a peer deployment with a key in the organisations file",
        )
    return public_key_from_text(org.public_key)


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
) -> JSONResponse:
    """Record a peer's signed receipt: the receiver accepted version N with its digest."""
    try:
        case_id, version, digest = verify_receipt(
            body, peer_key(services, body.get("receiver"), "receiver")
        )
    except BundleError as e:
        raise refused(e) from e
    key = IdempotencyKey(f"receipt:{case_id}:{version}", digest)
    with acting_as(Actor(str(body.get("accepted_by", "peer")), str(body["receiver"]))):
        result = services.cases.accept_handover(
            case_id, version=version, digest=digest, idempotency=key
        )
    services.supervisor.wake()
    return JSONResponse(
        {"case_id": str(case_id), "version": result.version, "digest": result.digest,
         "position": result.position},
        status_code=201,
    )  # fmt: skip

"""Liveness, readiness and metrics."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from adapters.auth import TokenError
from adapters.database import is_unavailable
from api.deps import ServicesDep
from api.metrics import CONTENT_TYPE
from api.problems import RETRY_AFTER
from projections.registry import PROJECTIONS
from workers.projections import lag

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(services: ServicesDep) -> JSONResponse:
    """Ready: the database answers (within ``STAFFEL_DB_TIMEOUT_SECONDS``, this request's
    budget: the check never hangs) and the projections run. Not ready: 503 with Retry-After."""
    checks: dict[str, str] = {}
    try:
        services.cases.recorder.max_notification_id()
        checks["database"] = "ok"
    except Exception as e:
        if not is_unavailable(e):
            raise
        checks["database"] = f"unreachable: {type(e).__name__}"
    checks["projections"] = "running" if services.supervisor.running else "stopped"
    ready = checks["database"] == "ok" and checks["projections"] == "running"
    if ready:
        return JSONResponse({"ready": True, "checks": checks})
    body = {"ready": False, "checks": checks}
    return JSONResponse(body, status_code=503, headers={"Retry-After": RETRY_AFTER})


def metrics_scraper(request: Request, services: ServicesDep) -> None:
    """With ``STAFFEL_METRICS_TOKEN`` set, only a scraper that sends it reads the metrics."""
    token = services.settings.metrics_token
    if token is None:
        return
    sent = request.headers.get("authorization", "")
    expected = f"Bearer {token.get_secret_value()}"
    if not hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode()):
        raise TokenError("/metrics: send 'Authorization: Bearer <STAFFEL_METRICS_TOKEN>'")


@router.get("/metrics", response_class=PlainTextResponse, dependencies=[Depends(metrics_scraper)])
def metrics(request: Request, services: ServicesDep) -> PlainTextResponse:
    lags = []
    for projection in PROJECTIONS:
        lg = lag(services.cases, services.supervisor.store, projection)
        lags.append((lg.projection, lg.behind, lg.seconds))
    return PlainTextResponse(request.app.state.metrics.render(lags), media_type=CONTENT_TYPE)

"""The FastAPI application, built by ``create_app(settings)``; nothing is wired at import time."""

from __future__ import annotations

import gc
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import Depends, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters import write_positions
from adapters.logging import configure_logging, log_uncaught
from adapters.schema_lock import schema_lock
from adapters.settings import Settings
from api import problems, web
from api.guard import role_gate
from api.identity import VerifiedTokens
from api.input_guard import RefuseNul
from api.metrics import Metrics
from api.peer_body import PeerBodyLimit
from api.routers import (
    audit,
    cases,
    data_protection,
    employers,
    federation,
    follow_ups,
    handover_sheet,
    handovers,
    health,
    matching,
    me,
    offers,
    statistics,
    volunteers,
)
from api.web import not_found as not_found_page
from api.web import subject_access as subject_access_page
from bootstrap import Services, build_services, check_production

log = structlog.get_logger("staffel.http")


def serve_app() -> FastAPI:
    """uvicorn's factory for ``staffel serve`` (``api.app:serve_app``), called in each HTTP
    worker process: its logging, then the app, both from the environment."""
    settings = Settings()
    configure_logging(settings.log_format)
    log_uncaught()
    return create_app(settings, settle_heap=True)


# the youngest generation's threshold for a served worker (CPython's default is 700)
YOUNG_GC_THRESHOLD = 10_000


def settle_the_heap() -> None:
    """For a long-running HTTP worker, once its startup is done: what startup made (modules,
    the app, the services and their caches) is moved out of the collector's sight
    (``gc.freeze``), so a full collection scans only what requests made since, and the youngest
    generation is collected every 10,000 net allocations instead of every 700. Measured under
    ``bench/api.py`` (ADR 0013 addendum): full collections of the unfrozen heap paused a worker
    for up to 188 ms, every request on it with it, and the p99s followed them."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, middle, old)


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    *,
    settle_heap: bool = False,
) -> FastAPI:
    """The HTTP app; without ``settings``, from the environment. ``settle_heap``: a served
    worker's process, whose heap is its own (``settle_the_heap`` after startup); never a test's."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = services is None
        if own:
            check_production(settings)
        app.state.services = services or build_services(settings)
        app.state.metrics.forget_dead_workers()
        if settings.demo and own:
            from demo.seed import seed_directory, seed_if_empty

            # one HTTP worker seeds; the others find the store seeded (ADR 0013)
            with schema_lock(settings):
                seed_directory(app.state.services)
                if settings.seed:
                    seed_if_empty(app.state.services)
        if settle_heap:
            settle_the_heap()
        yield
        if own:
            app.state.services.close()
            app.state.metrics.worker_stopped()

    app = FastAPI(
        title="Staffel",
        version="0.1.0",
        summary="Refugee case records that survive the Rechtskreiswechsel",
        lifespan=lifespan,
        # the interactive documents and the schema: in production only when asked for
        docs_url="/docs" if settings.docs_are_public else None,
        redoc_url="/redoc" if settings.docs_are_public else None,
        openapi_url="/openapi.json" if settings.docs_are_public else None,
        dependencies=[Depends(role_gate)],  # no role: nothing; an auditor: no writes (api/guard.py)
    )
    app.state.metrics = Metrics()
    app.state.last_writes = write_positions.for_this_process()
    app.state.verified_tokens = VerifiedTokens()
    if services is not None:
        app.state.services = services
    problems.install(app)
    app.include_router(cases.router)
    app.include_router(handovers.router)
    app.include_router(follow_ups.router)
    app.include_router(me.router)
    app.include_router(federation.router)
    app.include_router(employers.router)
    app.include_router(offers.router)
    app.include_router(matching.router)
    app.include_router(volunteers.router)
    app.include_router(health.router)
    app.include_router(audit.router)
    app.include_router(data_protection.router)
    app.include_router(handover_sheet.router)
    app.include_router(statistics.router)
    web.install(app, settings)
    app.include_router(subject_access_page.router)
    app.include_router(not_found_page.router)  # last: only what no page answers
    app.add_middleware(PeerBodyLimit, limit=settings.max_peer_body_bytes)
    app.add_middleware(RefuseNul)
    app.add_middleware(RequestContext, metrics=app.state.metrics)
    return app


class RequestContext:
    """Plain ASGI middleware (cheaper than ``BaseHTTPMiddleware``): a request id for the logs and
    the response, one structured log line and the metrics per request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = (headers.get(b"x-request-id", b"").decode("latin-1") or uuid.uuid4().hex)[:64]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._log(scope, status, time.perf_counter() - started)

    def _log(self, scope: Scope, status: int, elapsed: float) -> None:
        template = getattr(scope.get("route"), "path", "unmatched")
        principal = (scope.get("state") or {}).get("principal")
        parts = str(scope.get("path", "")).split("/")
        case_id = parts[2] if len(parts) > 2 and parts[1] in ("cases", "audit") else None
        if "case_id" in (params := scope.get("path_params") or {}):  # the web pages' too
            case_id = str(params["case_id"])
        self.metrics.observe(scope["method"], template, status, elapsed)
        log.info(
            "request",
            method=scope["method"],
            path=template,
            status=status,
            duration_ms=round(elapsed * 1000, 1),
            case_id=case_id,
            actor=principal.sub if principal else None,
            org=principal.org if principal else None,
        )

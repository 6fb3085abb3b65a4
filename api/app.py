"""The FastAPI application, built by ``create_app(settings)``; nothing is wired at import time."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, Response

from adapters.services import Services, build_services, check_production
from adapters.settings import Settings
from api import problems
from api.metrics import Metrics
from api.routers import cases, federation, handovers, health

log = structlog.get_logger("staffel.http")


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = services is None
        if own:
            check_production(settings)
        app.state.services = services or build_services(settings)
        if settings.demo and settings.seed and own:
            from adapters.demo.seed import seed_if_empty

            seed_if_empty(app.state.services)
        yield
        if own:
            app.state.services.close()

    app = FastAPI(
        title="Staffel",
        version="0.1.0",
        summary="Refugee case records that survive the Rechtskreiswechsel",
        lifespan=lifespan,
    )
    app.state.metrics = Metrics()
    app.state.last_writes = LastWrites()
    if services is not None:
        app.state.services = services
    problems.install(app)
    app.include_router(cases.router)
    app.include_router(handovers.router)
    app.include_router(federation.router)
    app.include_router(health.router)
    app.middleware("http")(request_context)
    return app


class LastWrites:
    """Each caller's last write position in this process (bounded), for read-your-writes."""

    def __init__(self, size: int = 10_000) -> None:
        self._positions: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def remember(self, who: tuple[str, str], position: int) -> None:
        with self._lock:
            self._positions[who] = max(position, self._positions.pop(who, 0))
            while len(self._positions) > self._size:
                self._positions.popitem(last=False)

    def get(self, who: tuple[str, str], default: int = 0) -> int:
        with self._lock:
            return self._positions.get(who, default)


async def request_context(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    case_id = request.path_params.get("case_id") if request.path_params else None
    structlog.contextvars.bind_contextvars(request_id=request_id[:64])
    started = time.perf_counter()
    status = 500
    try:
        response = await call_next(request)
        status = response.status_code
    finally:
        elapsed = time.perf_counter() - started
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        principal = getattr(request.state, "principal", None)
        parts = request.url.path.split("/")
        if case_id is None and len(parts) > 2 and parts[1] == "cases":
            case_id = parts[2]
        request.app.state.metrics.observe(request.method, template, status, elapsed)
        log.info(
            "request",
            method=request.method,
            path=template,
            status=status,
            duration_ms=round(elapsed * 1000, 1),
            case_id=case_id,
            actor=principal.sub if principal else None,
            org=principal.org if principal else None,
        )
    response.headers["X-Request-ID"] = request_id[:64]
    return response

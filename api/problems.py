"""Errors as ``application/problem+json`` (RFC 9457): every refusal names the field or the rule.
The only place that maps domain exceptions to status codes."""

from __future__ import annotations

import sqlite3
import traceback
from typing import Any

import psycopg
import structlog
from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.auth import TokenError
from adapters.database import is_unavailable, request_budget
from adapters.provider_keys import ProviderUnavailableError
from adapters.views.queries import BadCursorError
from domain.aggregates import case_errors as ce
from domain.aggregates import employer_errors as ee
from domain.aggregates import offer_errors as oe
from domain.aggregates import volunteer_errors as ve
from domain.aggregates.case import STAFF_COMMANDS
from domain.bamf_number import InvalidBamfFileNumberError
from domain.errors import (
    CaseNotFoundError,
    ConcurrentChangeError,
    EmployerNotFoundError,
    IdempotencyKeyReusedError,
    OfferNotFoundError,
    ReferenceMismatchError,
    UnknownEventTypeError,
    VersionConflictError,
    VolunteerNotFoundError,
)
from service_layer import errors as se

log = structlog.get_logger("staffel.api")
PROBLEM = "application/problem+json"
TYPE_BASE = "https://staffel.example/problems/"


class ApiError(Exception):
    """A refusal decided in the API layer itself (headers, read-model readiness)."""

    def __init__(self, status: int, slug: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail, self.extra = (
            status,
            slug,
            title,
            detail,
            extra,
        )


class Problem(BaseModel):
    """RFC 9457 problem details. Further members name the field or the rule: ``errors`` (one
    ``{field, message}`` per invalid input), ``field``, ``existing_case_id``, ``current_version``,
    ``current_digest``, ``min_position``."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None


def problem_response(description: str) -> dict[str, Any]:
    """An OpenAPI response documented as ``application/problem+json``."""
    return {"description": description, "content": {PROBLEM: {"schema": PROBLEM_SCHEMA}}}


PROBLEM_SCHEMA = Problem.model_json_schema()
# the refusals every case and handover endpoint may answer with
PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: problem_response("the body could not be read (not UTF-8 JSON)"),
    401: problem_response("no valid bearer token"),
    403: problem_response("not allowed; the detail says why"),
    404: problem_response("no such case"),
    409: problem_response("conflict: a duplicate, a stale version, a rule of the case"),
    422: problem_response("invalid input; errors name the fields"),
    431: problem_response("the Authorization header is longer than STAFFEL_JWT_MAX_BYTES"),
    503: problem_response(
        "the read models have not reached min_position yet, or the database is unavailable"
        " (database-unavailable); retry after Retry-After seconds"
    ),
}
# the errors a database may raise; ``is_unavailable`` tells an outage (503) from a fault (500)
DATABASE_ERRORS: tuple[type[Exception], ...] = (PersistenceError, psycopg.Error, sqlite3.Error)
RETRY_AFTER = "5"  # seconds: a client's next try after the database was unavailable
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def unavailable(method: str) -> tuple[str, dict[str, Any]]:
    """The detail and further members of the 503 for an unavailable database. A write may
    have been stored when the connection broke around its commit: the answer says so."""
    if method in SAFE_METHODS:
        return "the database is unavailable at the moment; retry after Retry-After seconds", {}
    return (
        "the database is unavailable at the moment; the write may or may not have been stored:"
        " repeat it with the same Idempotency-Key (a stored write then answers as stored)",
        {"stored": "unknown"},
    )


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


# exception class -> (status, slug, title)
DOMAIN: dict[type[Exception], tuple[int, str, str]] = {
    ce.NotHolderError: (403, "not-holder", "Only the holder records events on this case"),
    ce.NotOfferedOrganisationError: (403, "not-offered", "The handover was offered elsewhere"),
    ce.CaseClosedError: (409, "case-closed", "The case is closed"),
    ce.CaseErasedError: (409, "case-erased", "The case's personal data are erased"),
    ce.CaseNotClosedError: (409, "case-not-closed", "The case is not closed"),
    ce.HandoverOpenError: (409, "handover-open", "A handover is already open"),
    ce.NoOpenHandoverError: (409, "no-open-handover", "No handover is open"),
    ce.OfferToHolderError: (409, "offer-to-holder", "The organisation already holds the case"),
    ce.StaleAcknowledgementError: (409, "stale-acknowledgement", "The case has moved on"),
    ce.UnknownReferenceError: (409, "unknown-reference", "No such open item on the case"),
    ce.UnknownFollowUpError: (409, "unknown-follow-up", "No such open follow-up on the case"),
    ce.DuplicateReferenceError: (409, "duplicate-reference", "The item already exists"),
    ce.AsylumDecisionError: (409, "asylum-decision", "The decision does not fit the status"),
    ce.DuplicateBamfFileNumberError: (409, "duplicate-bamf-file-number", "Already registered"),
    InvalidBamfFileNumberError: (422, "invalid-request", "Not a BAMF file number"),
    VersionConflictError: (409, "version-conflict", "The case changed meanwhile"),
    CaseNotFoundError: (404, "case-not-found", "No such case"),
    UnknownEventTypeError: (422, "unknown-event-type", "Unknown event type"),
    IdempotencyKeyReusedError: (422, "idempotency-key-reused", "Idempotency-Key reused"),
    # employers, offers, volunteers (issue 7)
    ee.NotEmployerManagerError: (403, "not-employer-manager", "Not this employer's manager"),
    ee.EmployerInactiveError: (409, "employer-inactive", "The employer is deactivated"),
    ee.DuplicateEmployerError: (409, "duplicate-employer", "Already registered"),
    oe.InvalidOfferError: (422, "invalid-request", "The request is not valid"),
    oe.OfferStateError: (409, "offer-state", "The offer's state does not allow this"),
    oe.AlreadyPlacedError: (409, "already-placed", "The person holds a position of this offer"),
    oe.WrongEmployerError: (403, "wrong-employer", "Not an offer of this employer"),
    ve.NotVolunteerManagerError: (403, "not-volunteer-manager", "Not the volunteer's organisation"),
    ve.VolunteerStateError: (409, "volunteer-state", "The volunteer's state does not allow this"),
    ve.VolunteerAtCapacityError: (409, "volunteer-at-capacity", "The volunteer is at capacity"),
    ve.AlreadyMenteeError: (409, "duplicate-reference", "The volunteer already mentors the case"),
    ve.InvalidCapacityError: (422, "invalid-request", "The request is not valid"),
    ve.DuplicateVolunteerError: (409, "duplicate-volunteer", "Already registered"),
    EmployerNotFoundError: (404, "employer-not-found", "No such employer"),
    OfferNotFoundError: (404, "offer-not-found", "No such offer"),
    VolunteerNotFoundError: (404, "volunteer-not-found", "No such volunteer"),
    ReferenceMismatchError: (422, "reference-mismatch", "The event contradicts its reference"),
    ConcurrentChangeError: (409, "concurrent-change", "Changed meanwhile, try again"),
}


# service error class -> (status, slug, title); ``service_problem`` completes it
SERVICE: dict[type[se.ServiceError], tuple[int, str, str]] = {
    se.ForbiddenError: (403, "forbidden", "Not allowed"),
    se.NotFoundError: (404, "not-found", "Not found"),  # slug and title name the kind
    se.InvalidInputError: (422, "invalid-request", "The request is not valid"),
    se.UnknownPeerError: (403, "unknown-peer", "Unknown peer"),
    se.BundleRefusedError: (422, "bundle-refused", "The bundle was refused"),
    se.ReceiptAlreadyAnsweredError: (409, "receipt-already-answered", "Receipt already answered"),
    se.SenderRefusedError: (502, "peer-refused", "The sending deployment refused"),  # or 409
    se.SenderAnswerRefusedError: (502, "peer-bundle-refused", "The sender's answer was refused"),
    se.CaseLogUnreadableError: (409, "log-unreadable", "The case's log does not replay"),
}


def service_problem(exc: se.ServiceError) -> tuple[int, str, str, dict[str, Any]]:
    """The status, slug, title and further members of the problem a service error answers."""
    status, slug, title = next(
        (v for cls, v in SERVICE.items() if isinstance(exc, cls)),
        (500, "internal-error", "Internal error"),
    )
    match exc:
        case se.NotFoundError():
            return status, f"{exc.kind}-not-found", f"No such {exc.kind}", {}
        case se.InvalidInputError():
            return status, slug, title, {"errors": [{"field": exc.field, "message": exc.message}]}
        case se.BundleRefusedError():
            return status, slug, title, {"first_bad_version": exc.first_bad_version}
        case se.SenderRefusedError():
            return 409 if exc.status == 409 else status, slug, title, {}
    return status, slug, title, {}


def status_of(exc: Exception) -> int:
    """The status the API answers ``exc`` with (a rule of the case: 409 unless named)."""
    if isinstance(exc, se.ServiceError):
        return service_problem(exc)[0]
    if isinstance(exc, ApiError):
        return exc.status
    return next((s for cls, (s, _, _) in DOMAIN.items() if isinstance(exc, cls)), 409)


def _extra(exc: Exception) -> dict[str, Any]:
    match exc:
        case ce.StaleAcknowledgementError():
            return {"current_version": exc.version, "current_digest": exc.digest}
        case ce.DuplicateBamfFileNumberError():
            if exc.existing_case_id is None:  # the caller may not know which case holds it
                return {"field": "bamf_file_number"}
            return {"existing_case_id": str(exc.existing_case_id), "field": "bamf_file_number"}
        case InvalidBamfFileNumberError():
            field = "bamf_file_number"
            return {"field": field, "errors": [{"field": field, "message": str(exc)}]}
        case VersionConflictError():
            return {"current_version": exc.current_version}
        case UnknownEventTypeError():
            return {"field": "type"}
        case IdempotencyKeyReusedError():
            return {"field": "Idempotency-Key"}
        case ee.DuplicateEmployerError():
            return {"existing_employer_id": str(exc.existing_employer_id), "field": "account"}
        case ve.DuplicateVolunteerError():
            return {"existing_volunteer_id": str(exc.existing_volunteer_id), "field": "login"}
        case oe.InvalidOfferError() | ReferenceMismatchError():
            return {"field": exc.field, "errors": [{"field": exc.field, "message": str(exc)}]}
        case ve.InvalidCapacityError():
            return {"field": "capacity", "errors": [{"field": "capacity", "message": str(exc)}]}
        case oe.OfferStateError() | ve.VolunteerStateError():
            return {"state": exc.state.value}
    return {}


def _field(loc: tuple[Any, ...], error: Any = None) -> str:
    # drop the location's source and the tag a discriminated union adds (the event type)
    kind = error.get("type") if isinstance(error, dict) else None
    if kind == "json_invalid":  # the location's last part is a character offset, not a field
        return "body"
    if kind in ("union_tag_invalid", "union_tag_not_found"):  # a missing or unknown event type
        loc = (*loc, str(error.get("ctx", {}).get("discriminator", "type")).strip("'"))
    skip = {"body", "query", "path", "header", *STAFF_COMMANDS}
    return ".".join(str(p) for p in loc if p not in skip) or "body"


class DatabaseBudget:
    """Plain ASGI middleware: each request gets one budget of patience with the database
    (``adapters/database.py``), so an outage answers after about the timeout, not ten."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with request_budget():
            await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_middleware(DatabaseBudget)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(tuple(e["loc"]), e), "message": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "invalid-request", "The request is not valid", detail, errors=errors)

    @app.exception_handler(ApiError)
    async def api_problem(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"Retry-After": "1"} if exc.status == 503 else None
        return problem(exc.status, exc.slug, exc.title, exc.detail, headers, **exc.extra)

    @app.exception_handler(se.ServiceError)
    async def service_refusal(request: Request, exc: se.ServiceError) -> JSONResponse:
        status, slug, title, extra = service_problem(exc)
        return problem(status, slug, title, exc.detail, **extra)

    @app.exception_handler(ProviderUnavailableError)
    async def provider_unavailable(request: Request, exc: ProviderUnavailableError) -> JSONResponse:
        return problem(503, exc.slug, exc.title, str(exc), {"Retry-After": RETRY_AFTER})

    @app.exception_handler(TokenError)
    async def unauthenticated(request: Request, exc: TokenError) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        return problem(401, exc.slug, exc.title, str(exc), headers)

    @app.exception_handler(BadCursorError)
    async def bad_cursor(request: Request, exc: BadCursorError) -> JSONResponse:
        return problem(
            422,
            "invalid-request",
            "The request is not valid",
            f"cursor: {exc}",
            errors=[{"field": "cursor", "message": str(exc)}],
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(
            exc.status_code,
            "http-error",
            str(exc.detail),
            str(exc.detail),
            dict(exc.headers) if exc.headers else None,
        )

    for exc_class, (status, slug, title) in DOMAIN.items():

        async def domain_error(
            request: Request,
            exc: Exception,
            status: int = status,
            slug: str = slug,
            title: str = title,
        ) -> JSONResponse:
            return problem(status, slug, title, str(exc), **_extra(exc))

        app.add_exception_handler(exc_class, domain_error)

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        if not is_unavailable(exc):
            raise exc  # a fault, not an outage: the 500 below
        log.warning("database_unavailable", error_type=type(exc).__name__)
        detail, extra = unavailable(request.method)
        return problem(
            503,
            "database-unavailable",
            "The database is unavailable",
            detail,
            {"Retry-After": RETRY_AFTER},
            **extra,
        )

    for database_class in DATABASE_ERRORS:
        app.add_exception_handler(database_class, database_error)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # the type and where it arose, never the message or locals: they may hold personal data
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f"{frame.filename}:{frame.lineno}" if frame else None
        log.error("unexpected_error", error_type=type(exc).__name__, where=where)
        return problem(
            500,
            "internal-error",
            "Internal error",
            "the request failed on our side; it was logged with its request id",
        )

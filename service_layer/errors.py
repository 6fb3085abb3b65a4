"""The refusals the use cases decide (access, input, peers). Plain exceptions: ``api/problems.py``
maps them to status codes and problem slugs, the web pages to German text, the CLI to exit codes."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal decided in the service layer; ``detail`` says why."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ForbiddenError(ServiceError):
    """The caller may not do this; the detail names the rule."""


class NotFoundError(ServiceError):
    """No such ``kind`` (``case``, ``employer``, …), also the answer for one the caller may not
    know of."""

    def __init__(self, kind: str, ref: object) -> None:
        super().__init__(f"no {kind} {ref}")
        self.kind, self.ref = kind, ref


class InvalidInputError(ServiceError):
    """A value the use case refuses; ``field`` names it, ``message`` says what is wrong."""

    def __init__(self, field: str, message: str, detail: str | None = None) -> None:
        super().__init__(f"{field}: {detail or message}")
        self.field, self.message = field, message


class UnknownPeerError(ServiceError):
    """A bundle from an organisation that is no peer deployment with a key."""


class BundleRefusedError(ServiceError):
    """A peer's bundle or receipt that does not verify; ``first_bad_version``: where it broke."""

    def __init__(self, detail: str, first_bad_version: int | None = None) -> None:
        super().__init__(detail)
        self.first_bad_version = first_bad_version


class ReceiptAlreadyAnsweredError(ServiceError):
    """A receipt for a version already answered otherwise: a receipt is answered once."""


class SenderRefusedError(ServiceError):
    """The sending deployment refused our answer to its offer with HTTP ``status``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class SenderAnswerRefusedError(ServiceError):
    """The sending deployment's confirming bundle does not verify."""


class CaseLogUnreadableError(ServiceError):
    """A case's stored log does not replay."""

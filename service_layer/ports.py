"""What the use cases work with: the process's services as the composition root
(``bootstrap.build_services``) builds them, seen through small read-only protocols, so the service
layer names no worker and no wiring module. ``bootstrap.Services`` satisfies ``Services``."""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.access_log import AccessLog
from adapters.orgs import Organisations
from adapters.settings import Settings
from adapters.views.notification_settings import NotificationSettings
from adapters.views.queries import CaseQueries
from adapters.views.staff_directory import StaffDirectory
from adapters.views.store import ViewStoreMixin
from domain.application import StaffelApplication


class Followers(Protocol):
    """The projections and the processes beside them (``workers.supervisor.Supervisor``)."""

    @property
    def store(self) -> ViewStoreMixin: ...

    def wake(self) -> None:
        """Something was recorded: follow it now rather than at the next poll."""
        ...


class PeerOutbox(Protocol):
    """Messages to other deployments (``workers.outbox.Outbox``): sent now, or queued."""

    @property
    def store(self) -> ViewStoreMixin: ...

    def post(self, url: str, payload: dict[str, Any]) -> tuple[int, bytes]: ...

    def queue_receipt(
        self, case_id: UUID, version: int, peer: str, receipt: dict[str, Any]
    ) -> None: ...


class Services(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def cases(self) -> StaffelApplication: ...

    @property
    def supervisor(self) -> Followers: ...

    @property
    def queries(self) -> CaseQueries: ...

    @property
    def access_log(self) -> AccessLog: ...

    @property
    def orgs(self) -> Organisations: ...

    @property
    def signing_key(self) -> Ed25519PrivateKey: ...

    @property
    def outbox(self) -> PeerOutbox: ...

    @property
    def directory(self) -> StaffDirectory: ...

    @property
    def notification_settings(self) -> NotificationSettings: ...

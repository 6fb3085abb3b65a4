"""Runs the handover policy from the event log with tracking: it reacts once per event and
catches up after a restart. Its offers carry an idempotency key derived from the triggering event,
saved with the offer, so a re-run after a crash between offer and tracking records nothing twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import structlog
from eventsourcing.persistence import Tracking

from adapters.views.store import ViewStoreMixin
from domain.actor import Actor, acting_as
from domain.aggregates.case_errors import CaseRuleError
from domain.application import StaffelApplication
from domain.errors import VersionConflictError
from domain.handover_policy import POLICY_ACTOR, TRIGGERS, decide
from domain.writes import IdempotencyKey

log = structlog.get_logger("staffel.policy")
TRACKING_KEY = "handover_policy"


class PolicyWorker:
    def __init__(
        self,
        app: StaffelApplication,
        store: ViewStoreMixin,
        receiver_for: Callable[[str], str | None],
        is_jobcenter: Callable[[str], bool],
        batch_size: int = 200,
    ) -> None:
        self.app, self.store = app, store
        self.receiver_for, self.is_jobcenter = receiver_for, is_jobcenter
        self.batch_size = batch_size

    @property
    def position(self) -> int:
        return self.store.max_tracking_id(TRACKING_KEY) or 0

    def step(self) -> int:
        notifications = self.app.recorder.select_notifications(
            start=self.position + 1, limit=self.batch_size
        )
        for n in notifications:
            event = self.app.mapper.to_domain_event(n)
            if isinstance(event, TRIGGERS):
                self._react(event)
        if notifications:
            with self.store.cursor(commit=True) as curs:
                self.store._insert_tracking(curs, Tracking(TRACKING_KEY, notifications[-1].id))
        return len(notifications)

    def _react(self, event: Any, attempts: int = 3) -> None:
        case = self.app.get_case(event.originator_id)
        offer = decide(case, event, self.receiver_for, self.is_jobcenter)
        if offer is None:
            return
        key = IdempotencyKey(f"policy:{event.originator_id}:{event.originator_version}", "offer")
        try:
            with acting_as(Actor(POLICY_ACTOR, case.holder)):
                recorded = self.app.offer_handover(
                    case.id,
                    to_org=offer.to_org,
                    reason=offer.reason,
                    triggered_by_version=cast(int, event.originator_version),
                    idempotency=key,
                )
        except VersionConflictError:
            # the holder wrote meanwhile: decide again on the case as it is now (never drop the
            # offer; after the last attempt the runner retries the batch from its tracking)
            if attempts <= 1:
                raise
            self._react(event, attempts - 1)
            return
        except CaseRuleError as e:
            log.info("policy_offer_skipped", case_id=str(case.id), reason=type(e).__name__)
            return
        log.info(
            "policy_offered", case_id=str(case.id), to_org=offer.to_org, version=recorded.version
        )

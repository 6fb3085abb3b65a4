"""Runs the handover policy from the event log with tracking: it reacts once per event and
catches up after a restart. Its offers carry an idempotency key derived from the triggering event,
saved with the offer, so a re-run after a crash between offer and tracking records nothing twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import structlog

from adapters.views.store import OverlappingBatchError, ViewStoreMixin
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
        start = self.position
        notifications = self.app.recorder.select_notifications(
            start=start + 1, limit=self.batch_size
        )
        for n in notifications:
            event = self.app.mapper.to_domain_event(n)
            if isinstance(event, TRIGGERS):
                self._react(event)
        if notifications:
            try:
                with self.store.cursor(commit=True) as curs:
                    self.store.advance_tracking(curs, TRACKING_KEY, start, notifications[-1].id)
            except OverlappingBatchError:
                # another runner followed the same events (its offers and ours carry the same
                # idempotency keys, so none is recorded twice): go on from where it is
                log.info("policy_batch_refused", start=start)
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

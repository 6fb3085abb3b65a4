"""Runs the handover policy from the event log with tracking: it reacts once per event and
catches up after a restart. Its offers carry an idempotency key derived from the triggering event,
saved with the offer, so a re-run after a crash between offer and tracking records nothing twice.

The offers of one step are made concurrently, one case's in the order of its events: where the
store commits concurrent commands together (PostgreSQL's group commit, ADR 0012) they share
transactions instead of paying one commit each."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast
from uuid import UUID

import structlog

from adapters.views.store import OverlappingBatchError, ViewStoreMixin
from domain.actor import Actor, acting_as
from domain.aggregates.case_errors import CaseRuleError
from domain.application import StaffelApplication
from domain.errors import VersionConflictError
from domain.handover_policy import POLICY_ACTOR, TRIGGERS, decide
from domain.writes import IdempotencyKey
from workers.tracked import Tracked

log = structlog.get_logger("staffel.policy")
TRACKING_KEY = "handover_policy"
CONCURRENCY = 8  # cases reacted to at once, where the store groups commits


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
        self.tracked = Tracked(store, TRACKING_KEY)
        grouped = getattr(app.recorder, "group", None) is not None
        self.concurrency = CONCURRENCY if grouped else 1

    @property
    def position(self) -> int:
        return self.store.max_tracking_id(TRACKING_KEY) or 0

    def step(self) -> int:
        start = self.tracked.start()
        try:
            notifications = self.app.recorder.select_notifications(
                start=start + 1, limit=self.batch_size
            )
            by_case: dict[UUID, list[Any]] = defaultdict(list)
            for n in notifications:
                event = self.app.mapper.to_domain_event(n)
                if isinstance(event, TRIGGERS):
                    by_case[event.originator_id].append(event)
            self._react_to_all(list(by_case.values()))
            if notifications:
                with self.store.cursor(commit=True) as curs:
                    self.store.advance_tracking(curs, TRACKING_KEY, start, notifications[-1].id)
                self.tracked.moved(notifications[-1].id)
        except OverlappingBatchError:
            # another runner followed the same events (its offers and ours carry the same
            # idempotency keys, so none is recorded twice): go on from where it is
            log.info("policy_batch_refused", start=start)
            self.tracked.forget()
        except BaseException:
            self.tracked.forget()
            raise
        return len(notifications)

    def _react_to_all(self, cases: Sequence[Sequence[Any]]) -> None:
        """Each case's triggers in order; the cases concurrently. The first error is raised once
        all are done (the step is then retried from its tracking)."""

        def react(events: Sequence[Any]) -> None:
            for event in events:
                self._react(event)

        if self.concurrency <= 1 or len(cases) <= 1:
            for events in cases:
                react(events)
            return
        with ThreadPoolExecutor(min(self.concurrency, len(cases))) as pool:
            futures = [pool.submit(react, events) for events in cases]
        for future in futures:
            future.result()

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

"""Runs the handover policy from the event log with tracking: it reacts once per event and
catches up after a restart. Its offers carry an idempotency key derived from the triggering event,
saved with the offer, so a re-run after a crash between offer and tracking records nothing twice.

The offers of one step are made together: the step's cases read at once (``get_cases``), the
keys already answered looked up at once, each case's triggers decided in the order of its events,
and every offer saved in one transaction with its idempotency record. When that save collides
(a holder or another runner wrote one of the cases meanwhile) nothing of it is stored and the
step's cases are reacted to one by one, concurrently, one case's in the order of its events:
where the store commits concurrent commands together (PostgreSQL's group commit, ADR 0012)
they share transactions instead of paying one commit each."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast
from uuid import UUID

import structlog
from eventsourcing.persistence import IntegrityError

from adapters.views.store import ViewStoreMixin
from domain.actor import Actor, acting_as
from domain.aggregates.case_errors import CaseRuleError
from domain.application import StaffelApplication
from domain.errors import VersionConflictError
from domain.handover_policy import POLICY_ACTOR, TRIGGERS, decide
from domain.writes import IdempotencyKey, IdempotencyRecord
from workers.tracked import Tracked, decodes_to

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
        # refused: another runner followed the same events (its offers and ours carry the same
        # idempotency keys, so none is recorded twice): go on from where it is
        with self.tracked.following("policy_batch_refused") as start:
            notifications = self.app.recorder.select_notifications(
                start=start + 1, limit=self.batch_size
            )
            by_case: dict[UUID, list[Any]] = defaultdict(list)
            for n in notifications:
                if not decodes_to(n.topic, TRIGGERS):
                    continue  # decoded only to be dropped: most of the log triggers nothing
                event = self.app.mapper.to_domain_event(n)
                if isinstance(event, TRIGGERS):
                    by_case[event.originator_id].append(event)
            self._react_to_all(list(by_case.values()))
            if notifications:
                with self.store.cursor(commit=True) as curs:
                    self.store.advance_tracking(curs, TRACKING_KEY, start, notifications[-1].id)
                self.tracked.moved(notifications[-1].id)
        return len(notifications)

    def _react_to_all(self, cases: Sequence[Sequence[Any]]) -> None:
        """All offers in one save; after a collision each case's triggers in order, the cases
        concurrently. The first error is raised once all are done (the step is then retried from
        its tracking)."""
        if not cases:
            return
        try:
            self._offer_together(cases)
            return
        except IntegrityError:
            log.info("policy_batch_collided", cases=len(cases))
        self._react_one_by_one(cases)

    def _offer_together(self, cases: Sequence[Sequence[Any]]) -> None:
        """Each case's triggers decided in order on the case as read now (with the offers made
        before them in this step); every offer saved in one transaction with its idempotency
        record. A trigger whose key is stored was answered (by a run that crashed before its
        tracking, or by another runner): its offer is already in the case."""
        ids = [events[0].originator_id for events in cases]
        loaded = self.app.get_cases(ids)
        self.app.prepare_writes(ids)  # each offer seals its reason with its case's key
        done = self.app.find_idempotent_keys(
            [_key(event).key for events in cases for event in events]
        )
        changed: list[Any] = []
        records: list[IdempotencyRecord] = []
        for case, events in zip(loaded, cases, strict=True):
            made = len(records)
            for event in events:
                key = _key(event)
                if key.key in done:
                    continue
                offer = decide(case, event, self.receiver_for, self.is_jobcenter)
                if offer is None:
                    continue
                try:
                    with acting_as(Actor(POLICY_ACTOR, case.holder)):
                        self.app.offer_on(
                            case,
                            to_org=offer.to_org,
                            reason=offer.reason,
                            triggered_by_version=cast(int, event.originator_version),
                        )
                except CaseRuleError as e:
                    log.info("policy_offer_skipped", case_id=str(case.id), reason=type(e).__name__)
                    continue
                records.append(
                    IdempotencyRecord(key.key, key.request_hash, case.id, case.version, case.digest)
                )
            if len(records) > made:
                changed.append(case)
        if changed:
            self.app.save(*changed, idempotency_records=records)
        for case in changed:
            log.info(
                "policy_offered", case_id=str(case.id), to_org=case.handover.to_org,
                version=case.version,
            )  # fmt: skip

    def _react_one_by_one(self, cases: Sequence[Sequence[Any]]) -> None:

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
        key = _key(event)
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


def _key(trigger: Any) -> IdempotencyKey:
    """The offer's command id: one per triggering event, whoever reacts to it, however often."""
    return IdempotencyKey(f"policy:{trigger.originator_id}:{trigger.originator_version}", "offer")

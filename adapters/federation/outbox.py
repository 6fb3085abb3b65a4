"""The outbox: bundles and receipts for peer deployments, delivered with retries and backoff.

Jobs are derived from the event log with tracking (enqueued in the same transaction as the
tracking record, so each is enqueued exactly once); delivery is at-least-once, which is safe
because importing a bundle or a receipt twice changes nothing.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import Tracking

from adapters.federation.bundle import build_bundle, build_receipt
from adapters.orgs import Organisations
from adapters.views.store import ViewStoreMixin
from domain.aggregates import case_events as ev
from domain.application import CaseApplication

log = structlog.get_logger("staffel.outbox")
TRACKING_KEY = "outbox"
OUTBOX = (
    "CREATE TABLE IF NOT EXISTS outbox (kind TEXT NOT NULL, case_id TEXT NOT NULL,"
    " version INTEGER NOT NULL, peer TEXT NOT NULL, attempts INTEGER NOT NULL,"
    " next_attempt_at TEXT NOT NULL, state TEXT NOT NULL, last_error TEXT,"
    " PRIMARY KEY (kind, case_id, version))"
)
MAX_BACKOFF = 300.0


def _now() -> datetime:
    return datetime.now(UTC)


class Outbox:
    def __init__(
        self,
        app: CaseApplication,
        store: ViewStoreMixin,
        orgs: Organisations,
        key: Ed25519PrivateKey,
        post: Callable[[str, dict[str, Any]], int] | None = None,
    ) -> None:
        self.app, self.store, self.orgs, self.key = app, store, orgs, key
        self.post = post or http_post
        with store.cursor(commit=True) as curs:
            curs.execute(OUTBOX)

    # -- following the log ------------------------------------------------------------------

    def step(self) -> int:
        position = self.store.max_tracking_id(TRACKING_KEY) or 0
        notifications = self.app.recorder.select_notifications(start=position + 1, limit=200)
        jobs: list[tuple[str, str, int, str]] = []
        for n in notifications:
            event = self.app.mapper.to_domain_event(n)
            if isinstance(event, ev.CaseEvent):
                jobs += self._jobs_for(event)
        if notifications:
            with self.store.cursor(commit=True) as curs:
                curs.executemany(
                    self.store.sql(
                        "INSERT INTO outbox VALUES (%s, %s, %s, %s, 0, %s, 'pending', NULL)"
                        " ON CONFLICT DO NOTHING"
                    ),
                    [(*job, _now().isoformat()) for job in jobs],
                )
                self.store._insert_tracking(curs, Tracking(TRACKING_KEY, notifications[-1].id))
        return len(notifications) + self.deliver_due()

    def _jobs_for(self, event: ev.CaseEvent) -> list[tuple[str, str, int, str]]:
        case_id = str(event.originator_id)
        if isinstance(event, ev.HandoverAccepted):
            # accepted here, for a case that came from a peer: the peer needs our receipt
            sender = self._imported_from(event.originator_id)
            if sender is not None and self._remote(sender) and not self._remote(event.org):
                return [("receipt", case_id, event.version, sender)]
            return []
        if isinstance(event, ev.HandoverOffered) and self._remote(event.to_org):
            return [("bundle", case_id, event.originator_version, event.to_org)]
        return []

    def _remote(self, org_id: str) -> bool:
        org = self.orgs.get(org_id)
        return org is not None and org.is_remote

    def _imported_from(self, case_id: UUID) -> str | None:
        from adapters.federation.transfer import imported_from

        found = imported_from(self.store, case_id)
        return found[0] if found else None

    # -- delivering ---------------------------------------------------------------------------

    def pending(self) -> list[dict[str, Any]]:
        with self.store.cursor() as curs:
            curs.execute("SELECT * FROM outbox WHERE state = 'pending' ORDER BY next_attempt_at")
            return [dict(r) for r in curs.fetchall()]

    def deliver_due(self) -> int:
        now = _now().isoformat()
        delivered = 0
        for job in self.pending():
            if job["next_attempt_at"] > now:
                continue
            delivered += self._deliver(job)
        return delivered

    def _deliver(self, job: dict[str, Any]) -> int:
        peer = self.orgs.get(job["peer"])
        if peer is None or peer.peer_url is None:
            self._finish(job, "failed", f"{job['peer']} is not a configured peer")
            return 0
        try:
            path, payload = self._payload(job)
            status = self.post(peer.peer_url.rstrip("/") + path, payload)
        except Exception as e:
            self._retry(job, f"{type(e).__name__}: {e}")
            return 0
        if 200 <= status < 300:
            self._finish(job, "delivered", None)
            log.info("outbox_delivered", kind=job["kind"], case_id=job["case_id"], peer=job["peer"])
            return 1
        if status in (408, 429) or status >= 500:
            self._retry(job, f"HTTP {status}")
        else:
            self._finish(job, "refused", f"HTTP {status}")
            log.warning("outbox_refused", kind=job["kind"], case_id=job["case_id"], status=status)
        return 0

    def _payload(self, job: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        case_id = UUID(job["case_id"])
        if job["kind"] == "bundle":
            case = self.app.get_case(case_id)
            return "/handovers/inbox", build_bundle(self.app, case_id, case.holder, self.key)
        # the HandoverAccepted event recorded right after the acknowledged version
        accepted = next(
            iter(self.app.events.get(case_id, gt=job["version"], lte=job["version"] + 1))
        )
        assert isinstance(accepted, ev.HandoverAccepted)
        receipt = build_receipt(
            case_id, accepted.version, accepted.digest, accepted.org, accepted.actor, self.key
        )
        return "/handovers/receipts", receipt

    def _retry(self, job: dict[str, Any], error: str) -> None:
        attempts = int(job["attempts"]) + 1
        delay = min(MAX_BACKOFF, 0.5 * 2**attempts)
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                self.store.sql(
                    "UPDATE outbox SET attempts = %s, next_attempt_at = %s, last_error = %s"
                    " WHERE kind = %s AND case_id = %s AND version = %s"
                ),
                (attempts, (_now() + timedelta(seconds=delay)).isoformat(), error[:500],
                 job["kind"], job["case_id"], job["version"]),
            )  # fmt: skip

    def _finish(self, job: dict[str, Any], state: str, error: str | None) -> None:
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                self.store.sql(
                    "UPDATE outbox SET state = %s, last_error = %s, attempts = attempts + 1"
                    " WHERE kind = %s AND case_id = %s AND version = %s"
                ),
                (state, error, job["kind"], job["case_id"], job["version"]),
            )


def http_post(url: str, payload: dict[str, Any]) -> int:
    request = urllib.request.Request(  # noqa: S310 - peer URLs come from the operator's config
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as e:
        return int(e.code)

"""The outbox: bundles and receipts for peer deployments, delivered with retries and backoff.

Bundle jobs are derived from the event log with tracking (enqueued in the same transaction as
the tracking record, so each is enqueued exactly once): on an offer to a peer, on every later
event of that case while the offer is open, and on its answer, the peer gets the stream up to
that event (never what was recorded after it). Receipt jobs are queued when a receipt could not
be delivered at once. Delivery is at least once, which is safe: importing a bundle or a receipt
twice changes nothing.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import Notification

from adapters.federation.bundle import BundleError, build_bundle
from adapters.orgs import Organisations
from adapters.views.store import ViewStoreMixin
from domain.aggregates import case_events as ev
from domain.application import StaffelApplication
from workers.tracked import Tracked, decodes_to

log = structlog.get_logger("staffel.outbox")
TRACKING_KEY = "outbox"
TABLES = (
    "CREATE TABLE IF NOT EXISTS outbox (kind TEXT NOT NULL, case_id TEXT NOT NULL,"
    " version INTEGER NOT NULL, peer TEXT NOT NULL, attempts INTEGER NOT NULL,"
    " next_attempt_at TEXT NOT NULL, state TEXT NOT NULL, last_error TEXT, payload TEXT,"
    " PRIMARY KEY (kind, case_id, version))",
    "CREATE TABLE IF NOT EXISTS remote_offers (case_id TEXT PRIMARY KEY, peer TEXT NOT NULL,"
    " open INTEGER NOT NULL)",
)
ANSWERS = (ev.JurisdictionChanged, ev.HandoverRejected, ev.HandoverWithdrawn)
MAX_BACKOFF = 300.0
Post = Callable[[str, dict[str, Any]], tuple[int, bytes]]


def _now() -> datetime:
    return datetime.now(UTC)


class Outbox:
    def __init__(
        self,
        app: StaffelApplication,
        store: ViewStoreMixin,
        orgs: Organisations,
        key: Ed25519PrivateKey,
        post: Post | None = None,
        on_receipt_answer: Callable[[bytes], Any] | None = None,
    ) -> None:
        self.app, self.store, self.orgs, self.key = app, store, orgs, key
        self.post: Post = post or http_post
        self.on_receipt_answer = on_receipt_answer  # imports the bundle a peer answers with
        self.tracked = Tracked(store, TRACKING_KEY)
        with store.cursor(commit=True) as curs:
            for statement in TABLES:
                curs.execute(statement)

    # -- following the log ------------------------------------------------------------------

    def step(self) -> int:
        with self.tracked.following("outbox_batch_refused") as position:
            notifications = self.app.recorder.select_notifications(start=position + 1, limit=200)
            if notifications:
                with self.store.cursor(commit=True) as curs:
                    # tracking first: on SQLite a transaction that reads before it writes cannot
                    # upgrade its lock when another process wrote meanwhile ("database is
                    # locked"); a compare-and-set, so an overlapping batch enqueues nothing
                    self.store.advance_tracking(curs, TRACKING_KEY, position, notifications[-1].id)
                    self._enqueue(curs, notifications)
                self.tracked.moved(notifications[-1].id)
        return len(notifications) + self.deliver_due()

    def _enqueue(self, curs: Any, notifications: Sequence[Notification]) -> None:
        """The jobs of these events. Decoded are only the events of cases with an offer open to
        a peer, before or in this batch: the others' jobs are none, whatever they say."""
        sql = self.store.sql
        stored = [n for n in notifications if decodes_to(n.topic, (ev.CaseEvent,))]
        ids = sorted({str(n.originator_id) for n in stored})
        open_offers: dict[str, str] = {}
        if ids:
            curs.execute(
                sql(f"SELECT case_id, peer FROM remote_offers WHERE open = 1 AND case_id IN "  # noqa: S608
                    f"({', '.join(['%s'] * len(ids))})"),
                ids,
            )  # fmt: skip
            open_offers = {row["case_id"]: row["peer"] for row in curs.fetchall()}
        cases = open_offers.keys() | {
            str(n.originator_id) for n in stored if decodes_to(n.topic, (ev.HandoverOffered,))
        }
        wanted = [n for n in stored if str(n.originator_id) in cases]
        events = [cast(ev.CaseEvent, self.app.mapper.to_domain_event(n)) for n in wanted]
        for event in events:
            case_id = str(event.originator_id)
            if isinstance(event, ev.HandoverOffered) and self._remote(event.to_org):
                open_offers[case_id] = event.to_org
                curs.execute(
                    sql("INSERT INTO remote_offers VALUES (%s, %s, 1) ON CONFLICT (case_id)"
                        " DO UPDATE SET peer = excluded.peer, open = 1"),
                    (case_id, event.to_org),
                )  # fmt: skip
            peer = open_offers.get(case_id)
            if peer is None:
                continue
            curs.execute(
                sql("INSERT INTO outbox VALUES (%s, %s, %s, %s, 0, %s, 'pending', NULL, NULL)"
                    " ON CONFLICT DO NOTHING"),
                ("bundle", case_id, event.originator_version, peer, _now().isoformat()),
            )  # fmt: skip
            if isinstance(event, ANSWERS):
                del open_offers[case_id]
                curs.execute(
                    sql("UPDATE remote_offers SET open = 0 WHERE case_id = %s"), (case_id,)
                )

    def queue_receipt(
        self, case_id: UUID, version: int, peer: str, receipt: dict[str, Any]
    ) -> None:
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                self.store.sql(
                    "INSERT INTO outbox VALUES (%s, %s, %s, %s, 0, %s, 'pending', NULL, %s)"
                    " ON CONFLICT (kind, case_id, version) DO UPDATE SET state = 'pending',"
                    " payload = excluded.payload, attempts = 0,"
                    " next_attempt_at = excluded.next_attempt_at"
                ),
                ("receipt", str(case_id), version, peer, _now().isoformat(), json.dumps(receipt)),
            )

    def _remote(self, org_id: str) -> bool:
        org = self.orgs.get(org_id)
        return org is not None and org.is_remote

    # -- delivering ---------------------------------------------------------------------------

    def jobs(self, state: str | None = None) -> list[dict[str, Any]]:
        with self.store.cursor() as curs:
            if state is None:
                curs.execute("SELECT * FROM outbox ORDER BY next_attempt_at")
            else:
                curs.execute(
                    self.store.sql(
                        "SELECT * FROM outbox WHERE state = %s ORDER BY next_attempt_at"
                    ),
                    (state,),
                )
            return [dict(r) for r in curs.fetchall()]

    def deliver_due(self) -> int:
        now = _now().isoformat()
        return sum(
            self._deliver(job) for job in self.jobs("pending") if job["next_attempt_at"] <= now
        )

    def _deliver(self, job: dict[str, Any]) -> int:
        peer = self.orgs.get(job["peer"])
        if peer is None or peer.peer_url is None:
            self._finish(job, "failed", f"{job['peer']} is not a configured peer")
            return 0
        try:
            path, payload = self._payload(job)
            status, body = self.post(peer.peer_url.rstrip("/") + path, payload)
            if 200 <= status < 300 and job["kind"] == "receipt" and self.on_receipt_answer:
                self.on_receipt_answer(body)
        except BundleError as e:  # the peer's answer is refused: retrying will not change it
            self._finish(job, "refused", str(e)[:500])
            log.warning("outbox_answer_refused", kind=job["kind"], case_id=job["case_id"])
            return 0
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
            self._finish(job, "refused", f"HTTP {status}: {body[:300].decode('utf-8', 'replace')}")
            log.warning("outbox_refused", kind=job["kind"], case_id=job["case_id"], status=status)
        return 0

    def _payload(self, job: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if job["kind"] == "receipt":
            return "/handovers/receipts", json.loads(job["payload"])
        # the stream as it stood at the job's event, never later: after an answer (a rejection,
        # a withdrawal) the peer is owed nothing the holder records next; but an erasure saved
        # with the withdrawal goes along (it discloses nothing, and the peer must erase too)
        case_id, version = UUID(job["case_id"]), int(job["version"])
        following = self.app.recorder.select_events(case_id, gt=version, limit=1)
        if following and following[0].topic == ev.PersonalDataErased.TOPIC:
            version += 1
        case = self.app.get_case(case_id, version=version)
        sender = case.former_holders[-1] if case.holder == job["peer"] else case.holder
        bundle = build_bundle(self.app, case_id, sender, self.key, job["peer"], up_to=version)
        return "/handovers/inbox", bundle

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


def http_post(url: str, payload: dict[str, Any]) -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310 - peer URLs come from the operator's config
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as e:
        return int(e.code), e.read()

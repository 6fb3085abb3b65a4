"""A client-side history of writes made through HTTP while faults are injected, and the checks
against the store afterwards (the fault suite, tests/reliability/).

Load: threads that each register cases (always with an ``Idempotency-Key``), record notes and
agreed steps (every other one with a key), recognise asylum (the handover policy then offers the
case to Jobcenter Kreis Heinsberg) and accept the offer as the Jobcenter (with a key). Every
answer is recorded: *acknowledged* (2xx with version and position), *refused* (4xx) or
*ambiguous* (5xx, timeout, connection error). A keyed write is repeated with the same key while
its answer is ambiguous, as a careful client does; an unkeyed one is not. Each write carries a
marker (a unique note text, step id or BAMF number) by which it is found in the store.

Checks (``check``): every acknowledged write is stored exactly once, at the version and position
it was acknowledged with; no refused write is stored; an ambiguous write is stored at most once;
each case's versions are 1..N without gaps; the policy offered each recognised case exactly once;
the case has one holder, a known organisation, and the summary names the same; the read models
(history, summary, handovers) equal a fold over the stored events; ``staffel audit verify``
passes.
"""

from __future__ import annotations

import itertools
import random
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx

from adapters.views.store import ViewStoreMixin
from domain.aggregates import case_events as ev
from domain.application import StaffelApplication
from projections.registry import PROJECTIONS
from tests.support.federation import AGENTUR, HEINSBERG_PLACES, JOBCENTER, bearer
from tests.support.processes import STAFFEL
from tests.support.projections import expected_views, read_views, stored_case_events
from workers.handover_policy import TRACKING_KEY
from workers.projections import lag

ACK, REFUSED, AMBIGUOUS = "acknowledged", "refused", "ambiguous"
PROBLEM = "application/problem+json"
HOLDER_SUB, RECEIVER_SUB = "cw-agentur", "cw-jobcenter"


@dataclass
class Attempt:
    """One HTTP request of a write (or a read): when, how long, what came back."""

    started: float  # time.monotonic()
    seconds: float
    status: int | None  # None: no answer (timeout, connection refused or reset)
    error: str | None = None
    retry_after: str | None = None
    content_type: str = ""
    body: str = ""

    @property
    def outcome(self) -> str:
        """5xx and no answer are ambiguous; so is a 409 or 425 saying a request with the same
        Idempotency-Key is still in progress (retry later); any other 4xx is a refusal."""
        if self.status is None or self.status >= 500:
            return AMBIGUOUS
        if self.status in (409, 425) and any(
            word in self.body.lower() for word in ("in-progress", "in progress", "idempotency-key")
        ):
            return AMBIGUOUS
        return ACK if self.status < 300 else REFUSED


@dataclass
class Write:
    """One logical write: ``kind`` (register, note, recognise, accept), its marker, its key."""

    kind: str
    marker: str
    key: str | None
    case_id: UUID | None = None
    attempts: list[Attempt] = field(default_factory=list)
    version: int | None = None  # acknowledged: what the answer said
    position: int | None = None

    @property
    def outcome(self) -> str:
        outcomes = [a.outcome for a in self.attempts]
        if ACK in outcomes:
            return ACK
        return REFUSED if REFUSED in outcomes else AMBIGUOUS

    def describe(self) -> str:
        tried = ", ".join(f"{a.status or a.error}" for a in self.attempts)
        last = self.attempts[-1].body[:200] if self.attempts else ""
        return (
            f"{self.kind} {self.marker} case={self.case_id} key={self.key} "
            f"answers=[{tried}] version={self.version} last={last!r}"
        )


@dataclass
class History:
    """Every write and every request made by the load, thread-safe."""

    writes: list[Write] = field(default_factory=list)
    requests: list[tuple[str, Attempt]] = field(default_factory=list)  # (what, attempt)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, write: Write) -> Write:
        with self.lock:
            self.writes.append(write)
        return write

    def note_request(self, what: str, attempt: Attempt) -> None:
        with self.lock:
            self.requests.append((what, attempt))

    def statuses(self) -> Counter[str]:
        return Counter(f"{what} {a.status or a.error}" for what, a in self.requests)

    def outcomes(self) -> Counter[str]:
        return Counter(f"{w.kind} {w.outcome}" for w in self.writes)

    def summary(self) -> str:
        return f"writes {dict(self.outcomes())}; answers {dict(self.statuses())}"

    def attempts(self) -> list[Attempt]:
        return [a for _, a in self.requests]


# -- the load -------------------------------------------------------------------------------------


class Load:
    """``threads`` clients writing through ``base_urls`` (each request goes to the next one)
    until ``stop()``; ``recognise``: recognitions and accepts too (the handover policy must run
    somewhere)."""

    def __init__(
        self,
        base_urls: Sequence[str],
        secret: str,
        *,
        threads: int = 3,
        notes_per_case: int = 6,
        recognise: bool = True,
        timeout: float = 5.0,
        pause: float = 0.02,
        seed: int | None = None,
    ) -> None:
        self.base_urls = list(base_urls)
        self.holder = bearer(secret, HOLDER_SUB, AGENTUR)
        self.receiver = bearer(secret, RECEIVER_SUB, JOBCENTER)
        self.threads = threads
        self.notes_per_case = notes_per_case
        self.recognise = recognise
        self.timeout, self.pause = timeout, pause
        self.seed = seed if seed is not None else random.randrange(2**32)
        self.history = History()
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._next = itertools.count()
        self._workers = [
            threading.Thread(target=self._run, args=(i,), daemon=True, name=f"load-{i}")
            for i in range(threads)
        ]

    def start(self) -> Load:
        for worker in self._workers:
            worker.start()
        return self

    def stop(self, timeout: float = 30) -> History:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout)
        assert not any(w.is_alive() for w in self._workers), "a load thread did not stop"
        assert not self.errors, f"load thread failed: {self.errors!r}"
        return self.history

    def run_for(self, seconds: float) -> None:
        self._stop.wait(seconds)

    # -- one client -------------------------------------------------------------------------------

    def _run(self, index: int) -> None:
        rng = random.Random(self.seed + index)
        try:
            with httpx.Client(timeout=self.timeout) as http:
                while not self._stop.is_set():
                    self._one_case(http, rng, index)
        except BaseException as e:
            self.errors.append(e)

    def _url(self) -> str:
        return self.base_urls[next(self._next) % len(self.base_urls)]

    def _request(
        self, http: httpx.Client, what: str, method: str, path: str, **kwargs: Any
    ) -> tuple[Attempt, httpx.Response | None]:
        started = time.monotonic()
        try:
            response = http.request(method, self._url() + path, **kwargs)
        except httpx.HTTPError as e:
            attempt = Attempt(started, time.monotonic() - started, None, type(e).__name__)
            self.history.note_request(what, attempt)
            return attempt, None
        attempt = Attempt(
            started,
            time.monotonic() - started,
            response.status_code,
            retry_after=response.headers.get("retry-after"),
            content_type=response.headers.get("content-type", ""),
            body=response.text[:500],
        )
        self.history.note_request(what, attempt)
        return attempt, response

    def _write(
        self,
        http: httpx.Client,
        write: Write,
        path: str,
        body: dict[str, Any],
        headers: dict[str, str],
    ) -> Write:
        """Send ``write``; repeat it with its key while the answer is ambiguous (a few seconds
        at most once the load is stopping)."""
        if write.key is not None:
            headers = {**headers, "Idempotency-Key": write.key}
        give_up = None
        while True:
            attempt, response = self._request(http, write.kind, "POST", path, json=body,
                                              headers=headers)  # fmt: skip
            write.attempts.append(attempt)
            if attempt.outcome == ACK and response is not None:
                answer = response.json()
                if write.case_id is None and "case_id" in answer:
                    write.case_id = UUID(answer["case_id"])
                write.version, write.position = answer.get("version"), answer.get("position")
                return write
            if attempt.outcome == REFUSED or write.key is None:
                return write
            if self._stop.is_set():
                give_up = give_up or time.monotonic() + 8
                if time.monotonic() > give_up:
                    return write
            time.sleep(0.2)

    def _one_case(self, http: httpx.Client, rng: random.Random, index: int) -> None:
        tag = uuid.uuid4().hex[:10]
        bamf = f"{rng.randrange(10**6, 10**7)}-{rng.randrange(100, 1000)}"
        register = self.history.add(Write("register", bamf, f"reg-{tag}"))
        self._write(http, register, "/cases", {
            "person": {"given_name": "Amina", "family_name": f"Haddad {tag}",
                       "birth_date": "1990-05-01", "nationality": "SY"},
            "bamf_file_number": bamf, "residence_municipality": rng.choice(HEINSBERG_PLACES),
            "legal_status": "asylum_seeker",
        }, self.holder)  # fmt: skip
        if register.outcome != ACK or register.case_id is None:
            return
        case_id = register.case_id
        for n in range(self.notes_per_case):
            if self._stop.is_set():
                return
            key = f"note-{tag}-{n}" if n % 2 == 0 else None
            if n % 3 == 2:  # a step: the summary appends it to a list (a double apply shows)
                step = self.history.add(Write("step", f"s-{tag}-{n}", key, case_id))
                body = {"type": "StepAgreed", "step_id": step.marker,
                        "description": "Sprachkurs B1", "plan": "kooperationsplan"}  # fmt: skip
                self._write(http, step, f"/cases/{case_id}/events", body, self.holder)
            else:
                note = self.history.add(Write("note", f"Notiz {tag}-{n}", key, case_id))
                body = {"type": "NoteRecorded", "text": note.marker}
                self._write(http, note, f"/cases/{case_id}/events", body, self.holder)
            time.sleep(self.pause)
        if not self.recognise or self._stop.is_set():
            return
        recognised = self.history.add(Write("recognise", f"recognised {tag}", f"rec-{tag}",
                                            case_id))  # fmt: skip
        self._write(
            http, recognised, f"/cases/{case_id}/events",
            {"type": "AsylumRecognized", "protection": "refugee", "decided_on": "2026-04-20"},
            self.holder,
        )  # fmt: skip
        if recognised.outcome != ACK:
            return
        offered = self._offered(http, case_id)
        if offered is None:
            return
        accept = self.history.add(Write("accept", f"accepted {tag}", f"acc-{tag}", case_id))
        self._write(http, accept, f"/cases/{case_id}/handover/accept", offered, self.receiver)

    def _offered(self, http: httpx.Client, case_id: UUID) -> dict[str, Any] | None:
        """The offer's version and digest, read by the Jobcenter from the history once the
        policy has offered (None: not within a few seconds, or the load is stopping)."""
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not self._stop.is_set():
            _, response = self._request(
                http, "read", "GET", f"/cases/{case_id}/history", headers=self.receiver
            )
            if response is not None and response.status_code == 200:
                read = response.json()
                entries = read["entries"]
                if entries and entries[-1]["type"] == "HandoverOffered":
                    return {"version": read["version"], "digest": read["digest"]}
            time.sleep(0.1)
        return None


# -- the checks -----------------------------------------------------------------------------------

EVENTS_PER_WRITE = {"register": 1, "note": 1, "step": 1, "recognise": 1, "accept": 2}


def _marker_of(event: ev.CaseEvent) -> tuple[str, str] | None:
    if isinstance(event, ev.CaseRegistered):
        return ("register", str(event.bamf_file_number))
    if isinstance(event, ev.NoteRecorded):
        return ("note", str(event.text))
    if isinstance(event, ev.StepAgreed):
        return ("step", event.step_id)
    return None


def _write_marker(write: Write) -> tuple[str, str] | tuple[str, UUID | None]:
    if write.kind in ("recognise", "accept"):
        return (write.kind, write.case_id)
    return (write.kind, write.marker)


def wait_settled(app: StaffelApplication, store: ViewStoreMixin, timeout: float = 30) -> list[str]:
    """Wait until every projection and the handover policy have processed the head (stable for
    a moment); the problems if they do not."""
    deadline = time.monotonic() + timeout
    stable_since: float | None = None
    behind: list[str] = []
    while time.monotonic() < deadline:
        head = app.recorder.max_notification_id() or 0
        behind = [
            f"{lg.projection} at {lg.position} of {lg.head}"
            for lg in (lag(app, store, p) for p in PROJECTIONS)
            if lg.behind
        ]
        policy = store.max_tracking_id(TRACKING_KEY) or 0
        if policy < head:
            behind.append(f"handover policy at {policy} of {head}")
        if not behind:
            stable_since = stable_since or time.monotonic()
            if time.monotonic() - stable_since > 1.0:
                return []
        else:
            stable_since = None
        time.sleep(0.2)
    return behind


def check(
    history: History,
    app: StaffelApplication,
    store: ViewStoreMixin,
    env: dict[str, str],
    *,
    offers_expected: bool = True,
    settle_timeout: float = 30,
) -> list[str]:
    """Every violation of the rules in the module docstring (empty: the run was clean)."""
    problems: list[str] = []
    if behind := wait_settled(app, store, settle_timeout):
        problems.append(f"read models or policy not caught up after {settle_timeout} s: {behind}")
    events = stored_case_events(app)
    by_case: dict[str, list[tuple[ev.CaseEvent, int]]] = {}
    found: dict[tuple[str, Any], list[tuple[ev.CaseEvent, int]]] = {}
    for event, position in events:
        case_id = str(event.originator_id)
        by_case.setdefault(case_id, []).append((event, position))
        marker = _marker_of(event)
        if marker is not None:
            found.setdefault(marker, []).append((event, position))
        if isinstance(event, ev.AsylumRecognized):
            found.setdefault(("recognise", event.originator_id), []).append((event, position))
        if isinstance(event, ev.HandoverAccepted):
            found.setdefault(("accept", event.originator_id), []).append((event, position))

    # -- the writes against the store --
    for write in history.writes:
        stored = found.get(_write_marker(write), [])
        outcome = write.outcome
        if outcome == ACK:
            if len(stored) != 1:
                problems.append(f"acknowledged, stored {len(stored)} times: {write.describe()}")
                continue
            event, position = stored[0]
            last = event.originator_version + EVENTS_PER_WRITE[write.kind] - 1
            if str(event.originator_id) != str(write.case_id) or last != write.version:
                problems.append(
                    f"acknowledged at {write.case_id} v{write.version}, stored at "
                    f"{event.originator_id} v{event.originator_version}: {write.describe()}"
                )
            elif EVENTS_PER_WRITE[write.kind] == 1 and position != write.position:
                problems.append(
                    f"acknowledged at position {write.position}, stored at {position}: "
                    f"{write.describe()}"
                )
        elif outcome == REFUSED and stored:
            problems.append(f"refused ({write.attempts[-1].status}) but stored: {write.describe()}")
        elif outcome == AMBIGUOUS and len(stored) > 1:
            problems.append(f"ambiguous, stored {len(stored)} times: {write.describe()}")

    # -- every case: versions without gaps, one holder, offers exactly once --
    orgs = {AGENTUR, JOBCENTER}
    for case_id, stream in by_case.items():
        versions = [e.originator_version for e, _ in stream]
        if versions != list(range(1, len(versions) + 1)):
            problems.append(f"case {case_id}: versions {versions}")
        case = app.get_case(UUID(case_id))
        if case.holder not in orgs:
            problems.append(f"case {case_id}: holder {case.holder!r}")
        types = Counter(type(e).__name__ for e, _ in stream)
        if types["HandoverAccepted"] != types["JurisdictionChanged"] or types[
            "HandoverAccepted"
        ] > max(types["HandoverOffered"], 0):
            problems.append(f"case {case_id}: handover events {dict(types)}")
        if offers_expected and types["AsylumRecognized"] and types["HandoverOffered"] != 1:
            problems.append(f"case {case_id}: recognised, offered {types['HandoverOffered']} times")
    for write in history.writes:
        if write.kind == "register" and write.outcome == ACK and str(write.case_id) not in by_case:
            problems.append(f"acknowledged case missing from the store: {write.describe()}")

    # -- the read models equal a fold over the stored events --
    case_ids = set(by_case)
    actual = read_views(store, case_ids)
    expected = expected_views(events, case_ids)
    if actual.history_keys != expected.history_keys:
        extra = Counter(actual.history_keys) - Counter(expected.history_keys)
        missing = Counter(expected.history_keys) - Counter(actual.history_keys)
        problems.append(
            f"history view: {sum(extra.values())} rows too many (e.g. {list(extra)[:3]}), "
            f"{sum(missing.values())} missing (e.g. {list(missing)[:3]})"
        )
    wrong = [k for k, doc in actual.docs.items() if expected.docs.get(k) != doc]
    missing_docs = set(expected.docs) - set(actual.docs)
    if wrong or missing_docs:
        sample = wrong[0] if wrong else None
        detail = (
            _doc_difference(actual.docs.get(sample), expected.docs.get(sample)) if sample else ""
        )
        problems.append(
            f"case summary: {len(wrong)} differ from the fold, {len(missing_docs)} missing"
            f" (e.g. case {sample}: {detail})"
        )
    for case_id, doc in actual.docs.items():
        if case_id in by_case and doc.get("holder") != app.get_case(UUID(case_id)).holder:
            problems.append(f"case {case_id}: summary holder {doc.get('holder')!r}")
    handover_keys = [(h["case_id"], h["offer_version"]) for h in actual.handovers]
    if handover_keys != [(h["case_id"], h["offer_version"]) for h in expected.handovers]:
        problems.append("handovers view differs from the fold")

    # -- the audit --
    verified = audit_verify(env)
    if verified.returncode != 0:
        output = verified.stdout[-800:] + verified.stderr[-800:]
        problems.append(f"staffel audit verify: exit {verified.returncode}: {output}")
    return problems


def _doc_difference(actual: Any, expected: Any) -> str:
    if not isinstance(actual, dict) or not isinstance(expected, dict):
        return f"{actual!r} != {expected!r}"
    keys = sorted(k for k in set(actual) | set(expected) if actual.get(k) != expected.get(k))
    return "; ".join(
        f"{k}: view {str(actual.get(k))[:160]} fold {str(expected.get(k))[:160]}" for k in keys[:3]
    )


def audit_verify(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STAFFEL, "audit", "verify"], env=env, capture_output=True, text=True, timeout=120,
        check=False, cwd=env.get("STAFFEL_DATA_DIR"),
    )  # fmt: skip


def no_server_errors(history: History) -> list[str]:
    """A 500 is never the answer to a database fault; a 503 is problem+json with Retry-After."""
    problems = []
    for what, a in history.requests:
        if a.status == 500:
            problems.append(f"{what}: 500 {a.body[:200]!r}")
        elif a.status == 503 and (a.retry_after is None or not a.content_type.startswith(PROBLEM)):
            problems.append(f"{what}: 503 without Retry-After or problem+json: {a.body[:200]!r}")
    return problems


def report(problems: list[str], history: History, limit: int = 25) -> str:
    shown = "\n".join(problems[:limit])
    more = f"\n... and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)} violations ({history.summary()}):\n{shown}{more}"

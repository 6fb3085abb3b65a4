"""The retention run: erase the personal data of closed cases whose retention has run out.

It decides from the case summaries (caught up with the log first) through ``domain.retention``,
and erases each due case through ``StaffelApplication.erase_personal_data`` as a system actor of the
case's holder, naming the summary's version: a case changed since it was read (reopened, say) is
left alone and decided again by the next run. Interrupted, a run leaves each case either erased
or untouched, except between an erasure's event and its key deletion: the next run finds such a
case (the summary says erased, the key is still stored) and deletes the key.

Nothing personal is printed: case ids, legal bases, dates and outcomes only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TextIO
from uuid import UUID

from eventsourcing.persistence import IntegrityError, OperationalError

from adapters.keystore import CaseKeys
from adapters.progress import Progress
from adapters.settings import Settings
from adapters.views import schema
from adapters.views.store import ViewStoreMixin
from domain.actor import Actor, acting_as
from domain.aggregates.case_errors import CaseErasedError, CaseRuleError
from domain.application import StaffelApplication
from domain.errors import VersionConflictError
from domain.retention import CaseState, Due, due_cases
from domain.values import ErasureGround, LegalBasis
from projections.case_views import PROJECTIONS
from projections.labels import LEGAL_BASIS
from workers.projections import ProjectionWorker, ensure_generation

ACTOR_ID = "staffel-retention"
SUMMARY = next(p for p in PROJECTIONS if p.name == "case_summary")
PAGE = 1000
CATCH_UP_SECONDS = 60.0


class CatchUpError(RuntimeError):
    """The case summary could not be brought up to the log's head in time."""


def retention_years(settings: Settings) -> dict[LegalBasis, int]:
    return {
        LegalBasis.SGB_II: settings.retention_years_sgb_ii,
        LegalBasis.SGB_III: settings.retention_years_sgb_iii,
        LegalBasis.ASYLBLG: settings.retention_years_asylblg,
    }


def summary_worker(app: StaffelApplication, store: ViewStoreMixin) -> ProjectionWorker:
    """The case summary's worker. A generation being rebuilt for a new projection version is the
    one to read (the active one lacks fields this run needs); it is not swapped in here."""
    active, rebuild = ensure_generation(store, SUMMARY)
    return ProjectionWorker(app, store, SUMMARY, active if rebuild is None else rebuild)


def catch_up(
    worker: ProjectionWorker, head: int, progress: Callable[[int], None] | None = None
) -> None:
    """Bring the summary up to ``head``. A worker process (``staffel project``) may record the
    same batch first: then this goes on from where it got to."""
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while worker.position < head:
        try:
            worker.catch_up(progress)
        except (IntegrityError, OperationalError):
            if time.monotonic() > deadline:
                raise CatchUpError(f"the case summary is still behind position {head}") from None
            time.sleep(0.1)


@dataclass(frozen=True)
class Closed:
    state: CaseState
    holder: str
    version: int


def closed_cases(store: ViewStoreMixin, generation: int) -> Iterator[Closed]:
    """Every closed case's summary, page by page (keyset on the case id)."""
    table = schema.table("case_summary", generation)
    statement = store.sql(
        f"SELECT case_id, doc FROM {table} WHERE closed = 1 AND case_id > %s"  # noqa: S608
        f" ORDER BY case_id LIMIT {PAGE}"
    )
    after = ""
    while True:
        with store.cursor() as curs:
            curs.execute(statement, (after,))
            rows = [(row["case_id"], row["doc"]) for row in curs.fetchall()]
        for case_id, text in rows:
            yield _closed(case_id, json.loads(text))
        if len(rows) < PAGE:
            return
        after = rows[-1][0]


def _closed(case_id: str, doc: dict[str, Any]) -> Closed:
    closed_on = doc.get("closed_on")
    state = CaseState(
        case_id=case_id,
        legal_basis=LegalBasis(doc["legal_basis"]),
        closed_on=date.fromisoformat(closed_on) if closed_on else None,
        erased=doc.get("erased_on") is not None,
    )
    return Closed(state, doc["holder"], int(doc["version"]))


@dataclass
class Plan:
    today: date
    due: list[Due]
    cases: dict[str, Closed]
    unfinished: list[str]  # erased in the log, the key still stored: an interrupted erasure
    undated: list[str]  # closed, yet the summary has no closing date (cannot be decided)


def plan(
    app: StaffelApplication,
    store: ViewStoreMixin,
    generation: int,
    today: date,
    years: Mapping[LegalBasis, int],
) -> Plan:
    cases = {c.state.case_id: c for c in closed_cases(store, generation)}
    due = due_cases((c.state for c in cases.values()), today, years)
    erased = [i for i, c in cases.items() if c.state.erased]
    undated = [i for i, c in cases.items() if c.state.closed_on is None and not c.state.erased]
    return Plan(today, due, cases, _with_keys(app, erased), sorted(undated))


def _with_keys(app: StaffelApplication, case_ids: list[str]) -> list[str]:
    keys = app.keys
    if not isinstance(keys, CaseKeys):
        return []
    found: list[str] = []
    for start in range(0, len(case_ids), PAGE):
        chunk = [UUID(i) for i in case_ids[start : start + PAGE]]
        found += [str(i) for i, key in keys.stored_keys(chunk).items() if key is not None]
    return sorted(found)


def reason(due: Due, years: Mapping[LegalBasis, int]) -> str:
    """The erasure's recorded reason, in German like the rest of the case's history."""
    basis = due.legal_basis
    return (
        f"Aufbewahrungsfrist abgelaufen: {LEGAL_BASIS[basis]}, {years[basis]} Jahre nach"
        f" Abschluss am {due.closed_on.isoformat()}, fällig seit {due.due_on.isoformat()}"
    )


@dataclass
class Outcome:
    erased: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # erased meanwhile by someone else
    completed: list[str] = field(default_factory=list)  # an interrupted erasure finished now
    failed: list[str] = field(default_factory=list)


def erase_due(
    app: StaffelApplication,
    work: Plan,
    years: Mapping[LegalBasis, int],
    out: TextIO,
    advance: Callable[[int], None],
) -> Outcome:
    """Erase each due case, then finish the interrupted erasures; one line per case on ``out``."""
    outcome = Outcome()
    for due in work.due:
        kind, text = _erase(app, due, work.cases[due.case_id], years)
        getattr(outcome, kind).append(due.case_id)
        print(line(due, text), file=out, flush=True)
        advance(1)
    for case_id in work.unfinished:
        kind, text = _finish(app, case_id, work.cases[case_id].holder)
        getattr(outcome, kind).append(case_id)
        print(f"{case_id:<36}  {text}", file=out, flush=True)
        advance(1)
    return outcome


def _erase(
    app: StaffelApplication, due: Due, case: Closed, years: Mapping[LegalBasis, int]
) -> tuple[str, str]:
    try:
        with acting_as(Actor(ACTOR_ID, case.holder)):
            app.erase_personal_data(
                UUID(due.case_id),
                ground=ErasureGround.RETENTION_EXPIRED,
                reason=reason(due, years),
                expected_version=case.version,
            )
    except CaseErasedError:
        return "skipped", "already erased"
    except VersionConflictError:
        return "failed", "failed: the case changed since it was read; run again to decide anew"
    except Exception as e:
        return "failed", f"failed: {_error(e)}"
    return "erased", "erased"


def _finish(app: StaffelApplication, case_id: str, holder: str) -> tuple[str, str]:
    """The key of a case whose ``PersonalDataErased`` is recorded: the application deletes it
    (ground and reason are not recorded again)."""
    try:
        with acting_as(Actor(ACTOR_ID, holder)):
            app.erase_personal_data(
                UUID(case_id), ground=ErasureGround.RETENTION_EXPIRED, reason="-"
            )
    except CaseErasedError:
        return "skipped", "already erased"
    except Exception as e:
        return "failed", f"failed: {_error(e)}"
    return "completed", "key deleted: completes an interrupted erasure"


def _error(e: Exception) -> str:
    """A refusal's text names rules, organisations and versions; any other error only its type,
    since a database error's text may quote stored values."""
    return f"{type(e).__name__}: {e}" if isinstance(e, CaseRuleError) else type(e).__name__


HEADER = f"{'case_id':<36}  {'basis':<7}  {'closed_on':<10}  {'due_on':<10}  result"


def line(due: Due, result: str) -> str:
    return (
        f"{due.case_id:<36}  {due.legal_basis.value:<7}  {due.closed_on.isoformat():<10}"
        f"  {due.due_on.isoformat():<10}  {result}"
    )


def run(
    app: StaffelApplication,
    store: ViewStoreMixin,
    *,
    today: date,
    years: Mapping[LegalBasis, int],
    dry_run: bool,
    out: TextIO,
) -> tuple[Plan, Outcome | None]:
    """Catch the summary up, decide, and (unless ``dry_run``) erase. Progress bars on stderr."""
    worker = summary_worker(app, store)
    head = app.recorder.max_notification_id() or 0
    with Progress("catch up case_summary", max(0, head - worker.position)) as bar:
        catch_up(worker, head, bar.advance)
    work = plan(app, store, worker.generation, today, years)
    print(HEADER, file=out)
    if dry_run:
        for due in work.due:
            print(line(due, "due"), file=out)
        for case_id in work.unfinished:
            print(f"{case_id:<36}  key still stored: an interrupted erasure to finish", file=out)
    for case_id in work.undated:
        print(f"{case_id:<36}  closed without a closing date in the summary: not decided", file=out)
    if dry_run:
        return work, None
    with Progress("retention", len(work.due) + len(work.unfinished)) as bar:
        return work, erase_due(app, work, years, out, bar.advance)

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

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, TextIO
from uuid import UUID

from eventsourcing.persistence import IntegrityError, OperationalError

from adapters.keystore import CaseKeys
from adapters.settings import Settings
from adapters.views.closed_cases import Closed, closed_cases
from adapters.views.store import ViewStoreMixin
from domain.actor import Actor, acting_as
from domain.aggregates.case_errors import CaseErasedError, CaseRuleError
from domain.application import StaffelApplication
from domain.errors import VersionConflictError
from domain.retention import Due, due_cases
from domain.values import ErasureGround, LegalBasis
from projections.labels import LEGAL_BASIS

ACTOR_ID = "staffel-retention"
PAGE = 1000  # keys looked up at once
CATCH_UP_SECONDS = 60.0


class SummaryFeed(Protocol):
    """The case summary's generation this run reads and how to bring it up to the log's head:
    the summary projection's worker (``workers.projections.newest_worker``). A generation being
    rebuilt for a new projection version is the one to read (the active one lacks fields this
    run needs); it is not swapped in here."""

    @property
    def generation(self) -> int: ...

    @property
    def position(self) -> int: ...

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int: ...


class Bar(Protocol):
    def advance(self, n: int) -> None: ...


# a progress bar (on stderr, from the CLI): label, total -> a context with ``advance``
Bars = Callable[[str, int], AbstractContextManager[Bar]]


class CatchUpError(RuntimeError):
    """The case summary could not be brought up to the log's head in time."""


def retention_years(settings: Settings) -> dict[LegalBasis, int]:
    return {
        LegalBasis.SGB_II: settings.retention_years_sgb_ii,
        LegalBasis.SGB_III: settings.retention_years_sgb_iii,
        LegalBasis.ASYLBLG: settings.retention_years_asylblg,
    }


def catch_up(worker: SummaryFeed, head: int, progress: Callable[[int], None] | None = None) -> None:
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
    worker: SummaryFeed,
    *,
    today: date,
    years: Mapping[LegalBasis, int],
    dry_run: bool,
    out: TextIO,
    progress: Bars,
) -> tuple[Plan, Outcome | None]:
    """Catch the summary up, decide, and (unless ``dry_run``) erase; ``progress`` draws the bars."""
    head = app.recorder.max_notification_id() or 0
    with progress("catch up case_summary", max(0, head - worker.position)) as bar:
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
    with progress("retention", len(work.due) + len(work.unfinished)) as bar:
        return work, erase_due(app, work, years, out, bar.advance)

"""The case history read model: one entry per event, with a one-line German summary; the
projection ``CaseHistoryProjection`` writes the entries through ``HistoryWriter``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Protocol
from uuid import UUID

from domain import corrections
from domain.aggregates import case_events as ev
from domain.chain import to_canonical
from domain.values import ErasureGround, LegalStatus, Person, Redacted
from projections import cldr
from projections import labels as de
from projections.base import Batch

BOOKKEEPING = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "originator_topic",
        "actor",
        "org",
        "prev_hash",
        "hash",
    }
)
# The field that holds the real-world date of an event, where it has one (bitemporal log).
OCCURRED_FIELDS = (
    "registered_on",
    "decided_on",
    "effective_on",
    "assessed_on",
    "completed_on",
    "starts_on",
    "ended_on",
    "assigned_on",
    "released_on",
    "given_on",
    "withdrawn_on",
    "moved_on",
    "closed_on",
    "erased_on",
)


@dataclass(slots=True)
class HistoryEntry:
    case_id: UUID
    version: int
    type: str
    recorded_at: datetime
    occurred_on: date | None
    actor: str
    org: str
    summary: str
    data: dict[str, Any]
    hash: str
    prev_hash: str
    position: int
    # the entry as it reads once the case's personal data are erased (None: no personal field)
    erased_summary: str | None = None
    erased_data: dict[str, Any] | None = None


class HistoryWriter(Protocol):
    """The history view: what ``CaseHistoryProjection`` writes."""

    def insert_history(self, entries: Sequence[HistoryEntry]) -> None: ...

    def erase_history(self, case_ids: Sequence[str]) -> None:
        """Each entry of these cases with personal fields now reads as its erased form."""
        ...


# The projection version from which each history row keeps its entry as shown to a reader who
# sees every field (``shown``, rebuilt on start); a generation built by an earlier version is read
# from its columns until the rebuild is swapped in.
SHOWN_SINCE = 3


class CaseHistoryProjection:
    """One history entry per case event; an erasure turns the case's entries into their erased
    form (computed when each entry was written, so no key is needed to erase)."""

    name: ClassVar[str] = "case_history"
    version: ClassVar[int] = SHOWN_SINCE

    def process(self, batch: Batch, writer: HistoryWriter) -> None:
        entries = [entry_for(e, pos) for e, pos in batch if isinstance(e, ev.CaseEvent)]
        if entries:
            writer.insert_history(entries)
        erased = [str(e.originator_id) for e, _ in batch if isinstance(e, ev.PersonalDataErased)]
        if erased:
            writer.erase_history(erased)


def event_data(event: ev.CaseEvent) -> dict[str, Any]:
    """The event's own facts as JSON values (its canonical form, without bookkeeping). Read
    only: the same dict is answered to every fold of the event (``_DATA``)."""
    seen = _DATA.get(id(event))
    if seen is not None and seen[0] is event:
        return seen[1]
    data = {k: to_canonical(v) for k, v in vars(event).items() if k not in BOOKKEEPING}
    if len(_DATA) >= _DATA_SIZE:
        _DATA.clear()
    _DATA[id(event)] = (event, data)
    return data


# The data of the events folded lately, by the event's id (the event kept with it, so its id is
# not another's while it is here; events are immutable). Every projection folds every event of a
# batch, the runner's four concurrently: each event is canonicalised once instead of once per
# projection (a tenth of a projection's time on the bulk path). No fold changes a value of it in
# place (they build new documents), so sharing it is safe; a second thread computing the same
# entry meanwhile only does the work twice. Room for a few batches, then emptied.
_DATA: dict[int, tuple[ev.CaseEvent, dict[str, Any]]] = {}
_DATA_SIZE = 4096


def occurred_on(event: ev.CaseEvent) -> date | None:
    name = _occurred_field(type(event))
    value = getattr(event, name, None) if name else None
    return value if isinstance(value, date) else None


@functools.cache
def _occurred_field(event_class: type) -> str | None:
    """The first of ``OCCURRED_FIELDS`` the event class declares (looked up once per class)."""
    declared = set(getattr(event_class, "__dataclass_fields__", ()))
    return next((name for name in OCCURRED_FIELDS if name in declared), None)


def personal_values(event: ev.CaseEvent) -> list[str]:
    """The personal fields of ``event`` that hold a value (opened, sealed or redacted)."""
    return [n for n in type(event).PERSONAL_FIELDS if getattr(event, n, None) is not None]


def redacted(event: ev.CaseEvent, marker: Redacted) -> ev.CaseEvent:
    """A copy of ``event`` with each personal value replaced by ``marker``."""
    copy = object.__new__(type(event))
    copy.__dict__.update(event.__dict__)
    for name in personal_values(event):
        copy.__dict__[name] = marker
    return copy


def entry_for(event: ev.CaseEvent, position: int) -> HistoryEntry:
    entry = _entry(event, position)
    names = personal_values(event)
    if names and any(getattr(event, n) is not Redacted.ERASED for n in names):
        entry.erased_summary = summary(redacted(event, Redacted.ERASED))
        # event_data of the redacted copy, without canonicalising every field again: only the
        # personal values differ, the keys and their order are the event's
        entry.erased_data = {k: _ERASED if k in names else v for k, v in entry.data.items()}
    return entry


_ERASED = to_canonical(Redacted.ERASED)


def _entry(event: ev.CaseEvent, position: int) -> HistoryEntry:
    return HistoryEntry(
        case_id=event.originator_id,
        version=event.originator_version,
        type=type(event).__name__,
        recorded_at=event.timestamp,
        occurred_on=occurred_on(event),
        actor=event.actor,
        org=event.org,
        summary=summary(event),
        data=event_data(event),
        hash=event.hash,
        prev_hash=event.prev_hash,
        position=position,
    )


def summary(event: ev.CaseEvent) -> str:
    describe = _SUMMARIES.get(type(event))
    return describe(event) if describe else type(event).__name__


def _registered(e: Any) -> str:
    p = e.person
    who = (
        f"{p.given_name} {p.family_name}, geb. {de.day(p.birth_date)} ({p.nationality})"
        if isinstance(p, Person)
        else str(p if isinstance(p, Redacted) else Redacted.WITHHELD)
    )
    return (
        f"Fall registriert: {who}, {de.LEGAL_STATUS[e.legal_status]}, "
        f"{de.LEGAL_BASIS[e.legal_basis]}"
    )


def _assessed(e: Any) -> str:
    parts = [de.german_level(e.german_level)]
    parts += [f"{de.years(w.years)} Berufserfahrung als {w.occupation}" for w in e.work_experience]
    parts += [
        f"Ausbildung {w.occupation}" + ("" if w.completed else " (nicht abgeschlossen)")
        for w in e.vocational_training
    ]
    if e.school_years is not None:
        parts.append(f"{e.school_years} Schuljahre")
    if e.support_need:
        parts.append("besonderer Förderbedarf")
    return f"Kompetenzfeststellung ({e.instrument}): " + ", ".join(parts)


def corrected_value(field: str, value: Any) -> str:
    """A corrected value as a page shows it: dates German, countries by their German name."""
    if isinstance(value, Redacted) or value is None:
        return str(value if value is not None else Redacted.WITHHELD)
    kind = corrections.CORRECTABLE.get(("CaseRegistered", field)) or corrections.CORRECTABLE.get(
        ("CompetenceAssessed", field)
    )
    if kind == "date":
        try:
            return de.day(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if kind == "country":
        return cldr.country_name(str(value))
    return str(value)


def _corrected(e: Any) -> str:
    value = e.value if e.personal_value is None else e.personal_value
    label = corrections.LABELS.get(e.field, e.field)
    return (
        f"Berichtigung von Eintrag {e.corrects_version}: {label} richtig"
        f" {corrected_value(e.field, value)} (Grund: {e.reason})"
    )


_SUMMARIES: dict[type, Callable[[Any], str]] = {
    ev.CaseRegistered: _registered,
    ev.LegalStatusChanged: lambda e: (
        f"Aufenthaltsstatus: {de.LEGAL_STATUS[e.status]} ab {de.day(e.effective_on)}"
        + (f" ({e.document}, gültig bis {de.day(e.valid_until)})" if e.document else "")
    ),
    ev.AsylumRecognized: lambda e: (
        f"Asyl anerkannt: {de.LEGAL_STATUS[LegalStatus(e.protection.value)]}, "
        f"Bescheid vom {de.day(e.decided_on)}"
        + (f"; Rechtskreiswechsel nach {de.LEGAL_BASIS[e.switch_to]} fällig" if e.switch_to else "")
    ),
    ev.AsylumRejected: lambda e: (
        f"Asylantrag abgelehnt ({de.REJECTION[e.kind]}), Bescheid vom {de.day(e.decided_on)}"
    ),
    ev.CompetenceAssessed: _assessed,
    ev.StepAgreed: lambda e: (
        f"Schritt vereinbart ({de.PLAN[e.plan]}): {e.description}, fällig {de.day(e.due_on)}"
    ),
    ev.StepCompleted: lambda e: f"Schritt {e.step_id} erledigt am {de.day(e.completed_on)}",
    ev.MeasureStarted: lambda e: (
        f"{de.MEASURE[e.kind]} bei {e.provider}: {de.day(e.starts_on)} bis {de.day(e.ends_on)}"
    ),
    ev.MeasureEnded: lambda e: (
        f"Maßnahme {e.measure_id} {de.OUTCOME[e.outcome]} am {de.day(e.ended_on)}"
        + (f", Nachweis: {e.certificate}" if e.certificate else "")
    ),
    ev.PlacementMade: lambda e: (
        f"{de.PLACEMENT[e.kind]} bei {e.employer} ab {de.day(e.starts_on)}"
        + (
            f", Eingliederungszuschuss {e.wage_subsidy.percent} % für "
            f"{e.wage_subsidy.months} Monate"
            if e.wage_subsidy
            else ""
        )
    ),
    ev.PlacementEnded: lambda e: f"Vermittlung beendet am {de.day(e.ended_on)}: {e.reason}",
    ev.MentorAssigned: lambda e: f"Pate zugeordnet ({e.organisation}) ab {de.day(e.assigned_on)}",
    ev.MentorReleased: lambda e: f"Patenschaft beendet am {de.day(e.released_on)}",
    ev.ConsentGiven: lambda e: (
        f"Einwilligung: {de.CONSENT[e.purpose]} an {e.recipient} ({', '.join(e.scope)})"
        + (f", gültig bis {de.day(e.valid_until)}" if getattr(e, "valid_until", None) else "")
    ),
    ev.ConsentWithdrawn: lambda e: f"Einwilligung {e.consent_id} widerrufen",
    ev.NoteRecorded: lambda e: f"Vermerk ({de.NOTE[e.category]}): {e.text}",
    ev.ResidenceChanged: lambda e: f"Umzug nach {e.municipality} am {de.day(e.moved_on)}",
    ev.CaseClosed: lambda e: f"Fall geschlossen: {e.reason}",
    ev.CaseReopened: lambda e: f"Fall wieder eröffnet: {e.reason}",
    ev.HandoverOffered: lambda e: (
        f"Übergabe an {e.to_org} angeboten ({de.LEGAL_BASIS[e.legal_basis]}): {e.reason}; "
        f"Antwort bis {de.day(e.due_on)}"
    ),
    ev.HandoverAccepted: lambda e: (
        f"Übergabe angenommen: Stand {e.version} bestätigt (Prüfsumme {e.digest[:12]}…)"
    ),
    ev.HandoverRejected: lambda e: f"Übergabe abgelehnt: {e.reason}",
    ev.HandoverWithdrawn: lambda e: f"Übergabeangebot zurückgezogen: {e.reason}",
    ev.PersonalDataErased: lambda e: (
        f"Personenbezogene Daten gelöscht ({de.ERASURE_GROUND[ErasureGround(e.ground)]}) am "
        f"{de.day(e.erased_on)}: {e.reason}"
    ),
    ev.CaseAssigned: lambda e: (
        f"Zuständigkeit: {e.caseworker or 'keine Fachkraft'}"
        + (f", Dienststelle {e.office}" if e.office else "")
    ),
    ev.FollowUpCreated: lambda e: (
        f"Wiedervorlage {e.follow_up_id} zum {de.day(e.due_on)}"
        f" für {e.assignee or 'das Team'}: {e.text}"
    ),
    ev.FollowUpCompleted: lambda e: (
        f"Wiedervorlage {e.follow_up_id} erledigt am {de.day(e.completed_on)}"
    ),
    ev.FollowUpPostponed: lambda e: (
        f"Wiedervorlage {e.follow_up_id} verschoben auf {de.day(e.due_on)}"
    ),
    ev.FollowUpCancelled: lambda e: f"Wiedervorlage {e.follow_up_id} aufgehoben",
    ev.FactCorrected: _corrected,
    ev.JurisdictionChanged: lambda e: (
        f"Rechtskreiswechsel: {e.from_org} ({de.LEGAL_BASIS[e.legal_basis_before]}) → "
        f"{e.to_org} ({de.LEGAL_BASIS[e.legal_basis_after]}) wirksam ab {de.day(e.effective_on)}"
    ),
}

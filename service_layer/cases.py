"""What a signed-in caller does with cases: register, record, find, read the history, search,
and the access log of every read. The access rules and the actor on every command, one path to
the data whichever entry point (JSON API, web pages, CLI) the call came through. Handovers:
``service_layer.handovers``; erasure: ``service_layer.data_protection``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from adapters.views.queries import History, HistoryDocument, Page
from domain.actor import Actor, acting_as
from domain.aggregates.case import Case
from domain.aggregates.case_errors import DuplicateBamfFileNumberError
from domain.aggregates.case_events import HandoverOffered
from domain.disclosure import Audience, audiences_of, sees_all
from domain.principal import Principal
from domain.values import LegalBasis, LegalStatus, Person
from domain.writes import IdempotencyKey, Recorded
from projections import withholding
from projections.summary import current_handover
from service_layer import access, assignment, consents, corrections
from service_layer.errors import InvalidInputError, ServiceError
from service_layer.ports import Services


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.sub, principal.org)


@dataclass(frozen=True)
class NewCase:
    """A person to register: who, where they live, their status, and the office (if any)."""

    person: Person
    residence_municipality: str
    legal_status: LegalStatus
    bamf_file_number: str | None = None
    office: str | None = None
    legal_basis: LegalBasis | None = None


# -- writes ---------------------------------------------------------------------------------


# staff events whose checks read more than the case (the assignee, the consent's recipient, the
# corrected fact): the caller must know the case before these run
CHECKED_BEFORE = frozenset({"CaseAssigned", "ConsentGiven", "FactCorrected"})


def require_known(services: Services, principal: Principal, case_id: UUID) -> None:
    """Before a write on a case: an organisation that neither holds, held nor was offered the
    case gets the answer for a case that does not exist."""
    if not is_known(services, principal, case_id):
        raise access.case_not_found(case_id)


def is_known(services: Services, principal: Principal, case_id: UUID) -> bool:
    """Whether the caller's organisation holds, held or was offered the case. The stored case
    decides (no read-model lag); its past offers are read from its events only when it is
    neither the holder, a former holder nor the one offered it now."""
    return knows(services, principal, services.cases.get_case(case_id))


def knows(services: Services, principal: Principal, case: Case) -> bool:
    """``is_known`` of a case read already."""
    offered: tuple[str, ...] = (case.handover.to_org,) if case.handover is not None else ()
    if access.knows_case(principal.org, case.holder, case.former_holders, offered):
        return True
    events = services.cases.events.get(case.id)
    offered = tuple(e.to_org for e in events if isinstance(e, HandoverOffered))
    return access.knows_case(principal.org, case.holder, (), offered)


def register(
    services: Services, principal: Principal, body: NewCase, idem: IdempotencyKey | None = None
) -> Recorded:
    access.require_staff(principal)
    org = services.orgs.get(principal.org)
    if body.office is not None and (org is None or body.office not in org.offices):
        raise InvalidInputError(
            "office",
            "not an office of your organisation",
            f"'{body.office}' is not an office of '{principal.org}'",
        )
    try:
        with acting_as(actor_of(principal)):
            return services.cases.register_case(
                person=body.person,
                bamf_file_number=body.bamf_file_number,
                residence_municipality=body.residence_municipality,
                legal_status=body.legal_status,
                office=body.office,
                legal_basis=body.legal_basis,
                idempotency=idem,
            )
    except DuplicateBamfFileNumberError as e:
        # the number is taken either way; which case holds it only for those who know the case
        if e.existing_case_id is not None and not is_known(services, principal, e.existing_case_id):
            raise DuplicateBamfFileNumberError(e.bamf_file_number, None) from None
        raise


def record(
    services: Services,
    principal: Principal,
    case_id: UUID,
    event_type: str,
    fields: dict[str, Any],
    expected: int | None = None,
    idem: IdempotencyKey | None = None,
) -> Recorded:
    """Record a staff event (``domain.aggregates.case.STAFF_COMMANDS``) with its ``fields``."""
    access.require_staff(principal)
    if event_type in CHECKED_BEFORE:  # they read more than the case: only for a case known
        require_known(services, principal, case_id)
    if event_type == "CaseAssigned":
        holds = services.cases.get_case(case_id).holder == principal.org
        assignment.check_assignment(services, principal, fields, holds=holds)
    if event_type == "ConsentGiven":
        consents.check_consent(services, fields)
    if event_type == "FactCorrected":
        fields = corrections.prepared(services, case_id, fields)

    def admit(case: Case) -> None:  # on the case the command reads: no read of its own
        if not knows(services, principal, case):
            raise access.case_not_found(case_id)

    with acting_as(actor_of(principal)):
        return services.cases.record(case_id, event_type, fields, expected, idem, admit)


# -- reads ----------------------------------------------------------------------------------


def log_reads(services: Services, principal: Principal, case_ids: list[str], endpoint: str) -> None:
    services.access_log.record(
        actor=principal.sub, org=principal.org, case_ids=case_ids, endpoint=endpoint
    )


def reader_of(principal: Principal, summary: dict[str, Any]) -> frozenset[Audience]:
    """The audiences of the disclosure table (``domain.disclosure``) ``principal`` reads as."""
    offer = current_handover(summary)
    return audiences_of(
        principal.roles,
        principal.org,
        holder=summary["holder"],
        offered_to=offer["to_org"] if offer and offer["state"] == "offered" else None,
        former_holders=summary["former_holders"],
    )


def disclosed(principal: Principal, summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with what ``principal`` may not see withheld (``withheld`` names it)."""
    return withholding.summary_doc(summary, reader_of(principal, summary))


def find_case(
    services: Services, case_id: UUID, principal: Principal | None = None
) -> dict[str, Any]:
    """The case's summary; with ``principal``, as the disclosure table lets it see it. Without:
    as stored, for deciding (``access.read_scope``); a caller that shows it passes ``principal``."""
    doc = services.queries.summary(str(case_id))
    if doc is None:
        raise access.case_not_found(case_id)
    return disclosed(principal, doc) if principal is not None else dict(doc)


def history_of(
    services: Services,
    principal: Principal,
    case_id: UUID,
    scope: str,
    summary: dict[str, Any] | None = None,
) -> History:
    """The case's history as ``scope`` lets the caller see it (a former holder: its own), each
    personal value the disclosure table withholds from the caller replaced by the marker and
    named in the entry's ``withheld``. ``summary``: the case's, if the caller has it at hand."""
    history = services.queries.history(str(case_id))
    doc = summary if summary is not None else services.queries.summary(str(case_id))
    if history is None or doc is None:
        raise access.case_not_found(case_id)
    return shown_history(principal, scope, history, doc)


def shown_history(
    principal: Principal, scope: str, history: History, summary: dict[str, Any]
) -> History:
    """``history`` as ``principal`` may see it under ``scope``, given the case's ``summary``."""
    reader = reader_of(principal, summary)
    entries = history.entries
    if scope == "own_events":
        entries = [e for e in entries if e["org"] == principal.org]
    shown = [withholding.history_entry(e, reader) for e in entries]
    return History(history.case_id, history.version, history.digest, shown)


def read_case(
    services: Services, principal: Principal, case_id: UUID, endpoint: str
) -> dict[str, Any]:
    """The case's summary as the caller may see it, for its holder or the organisation it is
    offered to; the read is logged under ``endpoint``."""
    access.require_case_reader(principal)  # before the look-up: the same answer for any id
    doc = find_case(services, case_id)
    if access.read_scope(principal, doc) != "full":
        raise access.forbidden(
            f"'{principal.org}' handed this case over; it may read only the events it recorded"
            " (GET /cases/{case_id}/history)"
        )
    log_reads(services, principal, [str(case_id)], endpoint)
    return disclosed(principal, doc)


@dataclass(frozen=True)
class CaseRead:
    """A case as one caller may see it: its summary, its history and the caller's scope
    (``full``, or ``own_events`` for a former holder). ``entries_json``: the history's entries
    as JSON when the caller sees them as stored (nothing withheld), else None."""

    summary: dict[str, Any]
    stored: HistoryDocument
    scope: str
    principal: Principal

    @property
    def entries_json(self) -> bytes | None:
        reader = reader_of(self.principal, self.summary)
        if self.scope != "full" or not all(sees_all(reader, t) for t in self.stored.types):
            return None
        return self.stored.document

    @functools.cached_property
    def history(self) -> History:
        return shown_history(self.principal, self.scope, self.stored.history(), self.summary)


def read_history(
    services: Services, principal: Principal, case_id: UUID, endpoint: str
) -> CaseRead:
    """The case's summary and history as the caller may see them, from one read-model query;
    the read is logged."""
    access.require_case_reader(principal)  # before the look-up: the same answer for any id
    found = services.queries.case_with_history(str(case_id))
    if found is None:
        raise access.case_not_found(case_id)
    stored, history = found
    doc = disclosed(principal, stored)  # as the disclosure table shows it
    scope = access.read_scope(principal, doc)
    log_reads(services, principal, [str(case_id)], endpoint)
    return CaseRead(doc, history, scope, principal)


def search(
    services: Services, principal: Principal, holder: str | None, endpoint: str, **filters: Any
) -> Page:
    scoped = access.list_scope(principal, holder)
    page = services.queries.search(holder=scoped or None, **filters)
    log_reads(services, principal, [d["case_id"] for d in page.items], endpoint)
    return Page([disclosed(principal, d) for d in page.items], page.next_cursor, page.total)


def with_people(
    services: Services,
    principal: Principal,
    items: list[dict[str, Any]],
    endpoint: str,
    also: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Each item (a handover of the queues) with the person it is about, where the caller may
    read the case, else None; a read of personal data: logged under ``endpoint``. ``also``:
    more of the case for a readable item, from the item and the summary as the disclosure
    table lets the caller see it."""
    shown = []
    for item in items:
        doc = services.queries.summary(item["case_id"])
        if doc is None or not readable(principal, doc):
            shown.append({**item, "person": None})
            continue
        more = also(item, disclosed(principal, doc)) if also is not None else {}
        shown.append({**item, "person": doc["person"], **more})
    log_reads(services, principal, [i["case_id"] for i in shown if i["person"]], endpoint)
    return shown


def readable(principal: Principal, doc: dict[str, Any]) -> bool:
    try:
        access.read_scope(principal, doc)
    except ServiceError:
        return False
    return True


@dataclass(frozen=True)
class Statistics:
    """The figures of one organisation's caseload (``org``), and whether the caller may choose
    another (an auditor)."""

    org: str
    figures: dict[str, Any]
    may_choose: bool


def statistics(services: Services, principal: Principal, org: str | None) -> Statistics:
    """The caseload figures of ``org`` (the caller's own unless an auditor chooses; an auditor
    who chooses none sees the first organisation's)."""
    orgs = [o for o in services.orgs if o.kind != "audit"]
    chosen = access.list_scope(principal, org) or (orgs[0].id if orgs else principal.org)
    stats = services.queries.statistics(org=chosen)
    return Statistics(chosen, stats, access.list_scope(principal, None) == "")

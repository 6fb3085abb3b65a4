"""Minimal disclosure: which reader may see which class of personal field (issue 9). One table.

A case event's personal fields (``PERSONAL_FIELDS``) fall into three classes: *identity* (the
person, the BAMF file number), *free text* (counselling notes, agreed steps, reasons) and
*health*: a ``NoteRecorded`` of category health, data concerning health under Art. 9 GDPR. A
reader's audience comes from its roles and its organisation's relation to the case
(``audiences_of``); a field is shown only if one of its audiences has the grant ``YES`` for the
field's class, and otherwise appears as ``Redacted.WITHHELD``. Who may read a case at all is
``service_layer.access.read_scope``; this table decides only which personal values a permitted
read shows.

Why the table reads as it does (SGB X: §§ 67a, 67c processing only as far as the task needs it;
§ 67d and § 50 SGB II for passing data between the Agentur and the Jobcenters):

- The **holder's caseworkers** counsel the person and decide on measures; performance capacity,
  health included, is part of that profile (§ 37 SGB III, § 15 SGB II). Art. 9(2)(b) and (h)
  GDPR with § 67a(1) SGB X allow them health data as far as the counselling needs it.
- **Team leads and admins of the holder** supervise, distribute caseloads, decide erasure and
  retention: identity and the case file's free text, never health. When the person asks what
  is held about them, they answer through the subject access report (the purpose
  ``SUBJECT_ACCESS``, Art. 15 GDPR, § 83 SGB X), which shows everything and is logged.
- **Auditors** (data-protection officers, internal audit, Rechnungsprüfung) check that the file
  is complete, unaltered and was handed over lawfully: identity and free text, not health. The
  stored ciphertext and the hash chain prove that a health note exists and was not changed
  without revealing it; a data-protection officer who must answer the person uses the report.
- The **receiver of an open handover offer** decides, before it accepts, whether it is the
  responsible body and acknowledges what it gets (version and digest). § 50 SGB II allows the
  Agentur and the Jobcenters to pass each other social data as far as their tasks require: to
  decide on the takeover, it needs who the person is and the file's content, so identity and
  free text. Health data it does not need before it is responsible: Art. 9 GDPR and § 67d SGB X
  ask for a necessity the pending decision does not have; the digest it acknowledges covers the
  sealed note all the same, and once it accepts, its caseworkers are the holder's and see it.
- A **former holder** keeps its own events for proof of what it recorded and handed over (its
  retention under § 84 SGB X): identity and free text of those events; no health, the counselling
  task that justified it passed to the new holder.
- **Volunteers and employers** never see a case's events. They see a person only through the
  consent-based sharing (``projections.sharing``, ``domain.consent``): identity only where the
  person consented (``CONSENT``), never free text, never health (§ 67b(2) SGB X, Art. 9(2)(a)
  GDPR would need an explicit consent to health data, which the consent vocabulary does not
  offer).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from domain.aggregates.case_events import CASE_EVENTS
from domain.values import NoteCategory


class Audience(StrEnum):
    HOLDER_CASEWORKER = "holder_caseworker"
    HOLDER_TEAM_LEAD = "holder_team_lead"
    HOLDER_ADMIN = "holder_admin"
    AUDITOR = "auditor"
    OFFER_RECEIVER = "offer_receiver"  # an open handover offer names its organisation
    FORMER_HOLDER = "former_holder"  # its own events only (``read_scope`` ``own_events``)
    VOLUNTEER = "volunteer"
    EMPLOYER = "employer"
    SUBJECT_ACCESS = "subject_access"  # the purpose: answering the person (Art. 15 GDPR)


class FieldClass(StrEnum):
    IDENTITY = "identity"
    FREE_TEXT = "free_text"
    HEALTH = "health"


class Grant(StrEnum):
    YES = "yes"
    CONSENT = "consent"  # only through the person's consent (``projections.sharing``)
    NO = "no"


Y, C, N = Grant.YES, Grant.CONSENT, Grant.NO
_ROWS: dict[Audience, tuple[Grant, Grant, Grant]] = {
    #                           identity, free text, health
    Audience.HOLDER_CASEWORKER: (Y, Y, Y),
    Audience.HOLDER_TEAM_LEAD: (Y, Y, N),
    Audience.HOLDER_ADMIN: (Y, Y, N),
    Audience.AUDITOR: (Y, Y, N),
    Audience.OFFER_RECEIVER: (Y, Y, N),
    Audience.FORMER_HOLDER: (Y, Y, N),
    Audience.VOLUNTEER: (C, N, N),
    Audience.EMPLOYER: (C, N, N),
    Audience.SUBJECT_ACCESS: (Y, Y, Y),
}
POLICY: Mapping[Audience, Mapping[FieldClass, Grant]] = MappingProxyType(
    {
        audience: MappingProxyType(dict(zip(FieldClass, grants, strict=True)))
        for audience, grants in _ROWS.items()
    }
)

# (event type, field) -> class, for every personal field of every case event
FIELD_CLASSES: Mapping[tuple[str, str], FieldClass] = MappingProxyType(
    {
        ("CaseRegistered", "person"): FieldClass.IDENTITY,
        ("CaseRegistered", "bamf_file_number"): FieldClass.IDENTITY,
        ("CompetenceAssessed", "notes"): FieldClass.FREE_TEXT,
        ("StepAgreed", "description"): FieldClass.FREE_TEXT,
        ("PlacementEnded", "reason"): FieldClass.FREE_TEXT,
        ("NoteRecorded", "text"): FieldClass.FREE_TEXT,  # HEALTH by its category
        ("CaseClosed", "reason"): FieldClass.FREE_TEXT,
        ("LegalStatusChanged", "document"): FieldClass.FREE_TEXT,
        ("CompetenceAssessed", "instrument"): FieldClass.FREE_TEXT,
        ("CompetenceAssessed", "school_certificate"): FieldClass.FREE_TEXT,
        ("MeasureStarted", "provider"): FieldClass.FREE_TEXT,
        ("MeasureEnded", "certificate"): FieldClass.FREE_TEXT,
        ("PlacementMade", "employer"): FieldClass.FREE_TEXT,
        ("CaseReopened", "reason"): FieldClass.FREE_TEXT,
        ("HandoverOffered", "reason"): FieldClass.FREE_TEXT,
        ("HandoverRejected", "reason"): FieldClass.FREE_TEXT,
        ("HandoverWithdrawn", "reason"): FieldClass.FREE_TEXT,
        ("FollowUpCreated", "text"): FieldClass.FREE_TEXT,
        ("FactCorrected", "personal_value"): FieldClass.IDENTITY,  # a field of the person
        ("FactCorrected", "reason"): FieldClass.FREE_TEXT,
    }
)
# the consent vocabulary (``domain.consent.FIELDS``) by class: what a volunteer or an employer
# can be shown with consent; the rest of the vocabulary (competences, measures, placements,
# status, municipality) is structured and holds no personal field of a case event
CONSENT_FIELD_CLASSES: Mapping[str, FieldClass] = MappingProxyType(
    {
        "name": FieldClass.IDENTITY,
        "birth_date": FieldClass.IDENTITY,
        "nationality": FieldClass.IDENTITY,
        "languages": FieldClass.IDENTITY,  # the languages spoken are part of ``Person``
    }
)
HEALTH_CATEGORIES = frozenset({NoteCategory.HEALTH.value})
PERSONAL_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {cls.__name__: cls.PERSONAL_FIELDS for cls in CASE_EVENTS}
)
STAFF = frozenset({"caseworker", "team_lead", "admin"})
_HOLDER_ROLES = {
    "caseworker": Audience.HOLDER_CASEWORKER,
    "team_lead": Audience.HOLDER_TEAM_LEAD,
    "admin": Audience.HOLDER_ADMIN,
}


def field_class(event_type: str, field: str, category: str | None = None) -> FieldClass | None:
    """The class of a personal field; None for a field that holds no personal data. A personal
    field the table does not name counts as health: unknown, it is shown to the fewest."""
    if field not in PERSONAL_FIELDS.get(event_type, ()):
        return None
    if category in HEALTH_CATEGORIES:
        return FieldClass.HEALTH
    return FIELD_CLASSES.get((event_type, field), FieldClass.HEALTH)


def visible(audience: Audience, event_type: str, field: str, category: str | None = None) -> bool:
    """Whether ``audience`` sees ``field`` of an event of ``event_type`` in a case's history or
    summary (``category``: the event's, where it has one)."""
    kind = field_class(event_type, field, category)
    return kind is None or POLICY[audience][kind] is Grant.YES


def sees(
    audiences: Iterable[Audience], event_type: str, field: str, category: str | None = None
) -> bool:
    """Whether a reader with ``audiences`` sees the field (any of them suffices)."""
    return _sees(frozenset(audiences), event_type, field, category)


@functools.lru_cache(maxsize=1024)
def sees_all(audiences: frozenset[Audience], event_type: str) -> bool:
    """Whether a reader with ``audiences`` sees every personal field of an event of
    ``event_type``, whatever its category: nothing of it is ever withheld from them."""
    return all(
        _sees(audiences, event_type, field, category)
        for field in PERSONAL_FIELDS.get(event_type, ())
        for category in (None, *HEALTH_CATEGORIES)
    )


@functools.lru_cache(maxsize=4096)  # a fixed table: a history read asks a few questions often
def _sees(
    audiences: frozenset[Audience], event_type: str, field: str, category: str | None
) -> bool:
    return any(visible(a, event_type, field, category) for a in audiences)


def may_share(audience: Audience, consent_field: str) -> bool:
    """Whether a consent can share ``consent_field`` with ``audience`` at all: never a class the
    table denies it (free text and health for volunteers and employers)."""
    kind = CONSENT_FIELD_CLASSES.get(consent_field)
    return kind is None or POLICY[audience][kind] is not Grant.NO


def audiences_of(
    roles: Iterable[str],
    org: str,
    *,
    holder: str,
    offered_to: str | None,
    former_holders: Iterable[str],
) -> frozenset[Audience]:
    """The audiences a principal with ``roles`` of ``org`` belongs to for a case. An auditor is
    an auditor only, also with a staff role beside it (auditors read, they never act)."""
    held = {str(r) for r in roles}
    if "auditor" in held:
        return frozenset({Audience.AUDITOR})
    found: set[Audience] = set()
    if org == holder:
        found.update(_HOLDER_ROLES[r] for r in held if r in _HOLDER_ROLES)
    elif held & STAFF:
        if offered_to == org:
            found.add(Audience.OFFER_RECEIVER)
        if org in set(former_holders):
            found.add(Audience.FORMER_HOLDER)
    if "volunteer" in held:
        found.add(Audience.VOLUNTEER)
    if "employer" in held:
        found.add(Audience.EMPLOYER)
    return frozenset(found)


def may_request_subject_access(roles: Iterable[str], org: str, holder: str) -> bool:
    """The subject access report: a team lead or an admin of the holder, or an auditor."""
    held = {str(r) for r in roles}
    return "auditor" in held or (org == holder and bool(held & {"team_lead", "admin"}))

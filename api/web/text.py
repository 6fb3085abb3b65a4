"""The German words of the web pages: labels, dates as DD.MM.YYYY, and refusals explained."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from adapters import german
from domain import consent
from domain.aggregates import case_errors as ce
from domain.aggregates import employer_errors as ee
from domain.aggregates import offer_errors as oe
from domain.aggregates import volunteer_errors as ve
from domain.errors import (
    CaseNotFoundError,
    ConcurrentChangeError,
    PartnerNotFoundError,
    ReferenceMismatchError,
    VersionConflictError,
)
from domain.policy import today_in_germany
from domain.principal import Role
from domain.values import (
    ConsentPurpose,
    LegalBasis,
    LegalStatus,
    MeasureKind,
    PlacementKind,
    Plan,
    QualificationRecognition,
    Redacted,
)
from projections import labels as de
from service_layer import staff

BERLIN = ZoneInfo("Europe/Berlin")
ROLES = {
    Role.CASEWORKER: "Sachbearbeitung",
    Role.TEAM_LEAD: "Teamleitung",
    Role.AUDITOR: "Prüfung und Revision",
    Role.VOLUNTEER: "Ehrenamt",
    Role.EMPLOYER: "Arbeitgeber",
    Role.ADMIN: "Administration",
}
HANDOVER_STATES = {
    "none": "keine",
    "due": "Wechsel fällig, noch nicht angeboten",
    "offered": "angeboten",
    "accepted": "angenommen",
    "rejected": "abgelehnt",
    "withdrawn": "zurückgezogen",
    "receiver_unknown": "Empfänger unbekannt",
}
STATUS_TITLES = {
    400: "Ungültige Anfrage",
    403: "Kein Zugriff",
    404: "Nicht gefunden",
    409: "Konflikt",
    422: "Ungültige Eingabe",
    502: "Die andere Stelle hat nicht geantwortet",
    503: "Bitte gleich noch einmal",
}
OFFER_STATES = {
    "open": "offen",
    "paused": "pausiert",
    "filled": "besetzt",
    "withdrawn": "zurückgezogen",
}
VOLUNTEER_STATES = {"available": "verfügbar", "paused": "pausiert", "left": "ausgeschieden"}
NOT_FOUND = "Diese Seite oder diesen Fall gibt es nicht."
CSRF_REFUSED = (
    "Das Formular wurde nicht angenommen, weil sein Sicherheitsmerkmal fehlt oder nicht passt."
    " Bitte laden Sie die Seite neu und senden Sie das Formular noch einmal."
)

# what a marker in place of a personal value means, for the legend under a timeline and as the
# marker's tooltip (``title``): no script needed
MARKERS = {
    Redacted.WITHHELD.value: (
        "Für Ihre Rolle nicht freigegeben: Die Angabe ist gespeichert, aber Ihre Rolle braucht"
        " sie für ihre Aufgabe nicht (zum Beispiel Gesundheitsangaben, die nur die"
        " Fallbearbeitung der zuständigen Stelle sieht)."
    ),
    Redacted.ERASED.value: (
        "Gelöscht: Die personenbezogenen Daten dieses Falls sind unwiderruflich gelöscht"
        " (Art. 17 DSGVO). Art, Datum und Organisation des Eintrags bleiben erhalten, die"
        " Prüfsummen stimmen weiterhin."
    ),
}
_MARKER_SPAN = {
    marker: Markup('<span class="redacted" title="{}">{}</span>').format(meaning, marker)
    for marker, meaning in MARKERS.items()
}


def redactions(value: Any) -> Markup:
    """Text with each marker ("[gelöscht]", "[nicht freigegeben]") set off and explained in its
    tooltip; everything else escaped."""
    shown = escape("" if value is None else str(value))
    for marker, span in _MARKER_SPAN.items():
        shown = shown.replace(escape(marker), span)
    return shown


def person_name(person: dict[str, Any]) -> str:
    """The person's name in a page's title: family name, given name; or the marker alone where
    one stands in for them (withheld or erased)."""
    family = person["family_name"]
    return family if family in MARKERS else f"{family}, {person['given_name']}"


def markers_in(texts: Any) -> list[str]:
    """The markers that occur in ``texts``, in the legend's order."""
    joined = " ".join(str(t) for t in texts if t)
    return [marker for marker in MARKERS if marker in joined]


def day(value: Any) -> str:
    """A date (or the date of an ISO timestamp) as DD.MM.YYYY; empty for nothing."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(BERLIN) if value.tzinfo else value
    return f"{value:%d.%m.%Y}"


def day_key(entry: dict[str, Any]) -> str:
    """The ISO day an entry of a timeline happened: its own date, else the (German) day it was
    recorded."""
    if entry.get("occurred_on"):
        return str(entry["occurred_on"])[:10]
    at = datetime.fromisoformat(entry["recorded_at"])
    return (at.astimezone(BERLIN) if at.tzinfo else at).date().isoformat()


def moment(value: Any) -> str:
    """A point in time in German local time: DD.MM.YYYY, HH:MM Uhr."""
    if not value:
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{at.astimezone(BERLIN):%d.%m.%Y, %H:%M} Uhr"


def legal_status(value: str | None) -> str:
    return de.LEGAL_STATUS[LegalStatus(value)] if value else ""


def legal_basis(value: str | None) -> str:
    return de.LEGAL_BASIS[LegalBasis(value)] if value else ""


def actor(value: str, services: Any = None, org_id: str | None = None) -> str:
    """Who acted, for people (``service_layer.staff.display_name``): the one lookup every page
    and text function uses; the events keep the id."""
    return staff.display_name(services, value, org_id)


@pass_context
def actor_filter(context: Context, value: str, org_id: str | None = None) -> str:
    return actor(value, context.get("services"), org_id)


def colleague(value: str | None, services: Any = None) -> str:
    """A caseworker in a list of one's own organisation: the name alone where the staff
    directory knows it, else as ``actor`` shows it; empty for none."""
    if not value:
        return ""
    entry = services.directory.get(value) if services is not None else None
    return entry.name if entry is not None else actor(value, services)


@pass_context
def colleague_filter(context: Context, value: str | None) -> str:
    return colleague(value, context.get("services"))


# ids a page must not show (issue 18): organisation slugs and login ids look like this
_ID_LIKE = re.compile(r"(?<![\w.-])[a-z0-9]+(?:[.-][a-z0-9]+)+(?![\w-])")
# an entry of the case referred to by its internal id, after the word naming its kind
_REFERENCE = re.compile(r"\b(Schritt|Maßnahme|Einwilligung|Wiedervorlage|Vermittlung) (\S+)")
_COUNTRY = re.compile(r"\(([A-Z]{2})\)")  # "geb. 15.01.1999 (SY)": the nationality's code
_NAMED_BY: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "StepAgreed": ("step_id", lambda d: d["description"]),
    "MeasureStarted": ("measure_id", lambda d: f"{de.MEASURE[MeasureKind(d['kind'])]}"
                       f" bei {d['provider']}"),
    "ConsentGiven": ("consent_id", lambda d: de.CONSENT[ConsentPurpose(d["purpose"])]),
    "FollowUpCreated": ("follow_up_id", lambda d: d["text"]),
    "PlacementMade": ("placement_id", lambda d: f"{de.PLACEMENT[PlacementKind(d['kind'])]}"
                      f" bei {d['employer']}"),
}  # fmt: skip


def references(entries: Any) -> dict[str, str]:
    """What a case's entries call their steps, measures, consents, follow-ups and placements
    (their internal ids) in words, from the entries that started them."""
    named: dict[str, str] = {}
    for entry in entries:  # rows of the history view (dicts) or the audit's ``HistoryEntry``
        kind, data = (
            (entry.get("type", ""), entry.get("data"))
            if isinstance(entry, dict)
            else (getattr(entry, "type", ""), getattr(entry, "data", None))
        )
        how = _NAMED_BY.get(kind)
        if how is None or not isinstance(data, dict):
            continue
        field, words = how
        try:
            named[str(data[field])] = f"„{words(data)}“"
        except (KeyError, ValueError, TypeError):
            continue
    return named


def people_words(text: str, services: Any, refs: dict[str, str] | None = None) -> str:
    """A stored German summary as people read it: organisation slugs and login ids replaced by
    names (orgs file, staff directory), internal ids of a case's entries by what they are."""
    if not text:
        return ""
    if refs:
        text = _REFERENCE.sub(
            lambda m: f"{m.group(1)} {refs.get(m.group(2), m.group(2))}", str(text)
        )
    text = _COUNTRY.sub(lambda m: f"({german.country_name(m.group(1))})", str(text))
    if services is None:
        return text

    def name(match: re.Match[str]) -> str:
        token = match.group(0)
        if not any(c.isalpha() for c in token):  # a date, a number
            return token
        org = services.orgs.get(token)
        if org is not None:
            return str(org.name)
        entry = services.directory.get(token)
        return str(entry.name) if entry is not None else token

    return _ID_LIKE.sub(name, str(text))


@pass_context
def people_filter(context: Context, text: str, refs: dict[str, str] | None = None) -> str:
    return people_words(text, context.get("services"), refs)


def roles(principal: Any) -> str:
    return ", ".join(ROLES[r] for r in sorted(principal.roles))


@pass_context
def org_name(context: Context, org_id: str | None) -> str:
    services = context.get("services")
    org = services.orgs.get(org_id) if services is not None and org_id else None
    return org.name if org else (org_id or "")


def shared_fields(fields: list[str]) -> str:
    """The fields a person shares, in German, in the consent vocabulary's order."""
    return ", ".join(label for name, label in consent.FIELDS.items() if name in fields)


def install_filters(env: Environment) -> None:
    env.filters.update(
        day=day,
        moment=moment,
        legal_status=legal_status,
        legal_basis=legal_basis,
        actor=actor_filter,
        colleague=colleague_filter,
        handover_state=lambda v: HANDOVER_STATES.get(v, v),
        measure=lambda v: de.MEASURE[MeasureKind(v)],
        placement=lambda v: de.PLACEMENT[PlacementKind(v)],
        plan=lambda v: de.PLAN[Plan(v)],
        role=lambda v: ROLES[Role(v)],
        roles=roles,
        event_name=lambda v: EVENT_NAMES.get(v, v),
        offer_state=lambda v: OFFER_STATES.get(v, v),
        volunteer_state=lambda v: VOLUNTEER_STATES.get(v, v),
        shared_fields=shared_fields,
        problem_kind=lambda v: PROBLEM_KINDS.get(v, v),
        redactions=redactions,
        people=people_filter,
        recognition=lambda v: de.RECOGNITION.get(QualificationRecognition(v), v) if v else "",
        references=references,
        decimal=german.decimal,
        count=german.count,
        calendar_week=german.calendar_week,
        country=german.country_name,
        language=german.language_name,
        starting=lambda v: german.starting(v, today_in_germany()),
    )
    env.globals.update(org_name=org_name, markers=MARKERS)


def domain_error(exc: Exception) -> str:
    match exc:
        case ce.NotHolderError():
            return (
                "Nur die zuständige Stelle kann in diesem Fall etwas erfassen; "
                "Ihre Organisation ist nicht (mehr) zuständig."
            )
        case ce.NotOfferedOrganisationError():
            return "Die Übergabe wurde einer anderen Stelle angeboten."
        case ce.CaseErasedError():
            return (
                "Die personenbezogenen Daten dieses Falls sind gelöscht: Es kann nichts mehr"
                " erfasst werden."
            )
        case ce.CaseClosedError():
            return "Der Fall ist geschlossen: Er kann nur wieder eröffnet werden."
        case ce.CaseNotClosedError():
            return "Der Fall ist nicht geschlossen."
        case ce.HandoverOpenError():
            return f"Es ist bereits eine Übergabe an {exc.to_org} offen."
        case ce.NoOpenHandoverError():
            return "Es ist keine Übergabe offen."
        case ce.OfferToHolderError():
            return "Diese Stelle ist bereits zuständig."
        case ce.StaleAcknowledgementError():
            return (
                f"Der Fall hat sich geändert, seit Sie ihn gelesen haben (jetzt Stand "
                f"{exc.version}). Bitte lesen Sie den Verlauf erneut, bevor Sie annehmen."
            )
        case ce.UnknownReferenceError():
            return f"Es gibt keinen offenen Eintrag „{exc.ref}“."
        case ce.DuplicateReferenceError():
            return f"Die Kennung „{exc.ref}“ ist in diesem Fall schon vergeben."
        case ce.AsylumDecisionError():
            return "Die Entscheidung passt nicht zum aktuellen Aufenthaltsstatus."
        case ce.DuplicateBamfFileNumberError():
            return "Dieses BAMF-Aktenzeichen ist bereits registriert."
        case VersionConflictError():
            return (
                f"Jemand hat den Fall inzwischen geändert (jetzt Stand {exc.current_version}). "
                "Ihre Eingabe wurde nicht gespeichert."
            )
        case CaseNotFoundError():
            return NOT_FOUND
    return partner_error(exc) or "Die Eingabe verstößt gegen eine Regel des Falls."


def partner_error(exc: Exception) -> str | None:
    """Refusals of employers, offers and volunteers, in German."""
    match exc:
        case ee.NotEmployerManagerError():
            return (
                "Nur der Arbeitgeber selbst oder die Stelle, die ihn betreut, kann seine Angebote"
                " verwalten."
            )
        case ee.EmployerInactiveError():
            return "Dieser Arbeitgeber ist abgemeldet."
        case oe.OfferStateError():
            state = OFFER_STATES.get(exc.state.value, exc.state.value)
            return f"Das Angebot ist {state}: Das geht jetzt nicht."
        case oe.AlreadyPlacedError():
            return "Die Person hat bereits einen Platz in diesem Angebot."
        case oe.WrongEmployerError():
            return "Dieses Angebot gehört einem anderen Arbeitgeber."
        case oe.InvalidOfferError():
            return "Ein Angebot hat mindestens einen Platz."
        case ve.VolunteerAtCapacityError():
            people = "eine Person" if exc.capacity == 1 else f"{exc.capacity} Personen"
            return (
                f"Diese Patin oder dieser Pate begleitet schon {people}, so viele wie vereinbart."
            )
        case ve.VolunteerStateError():
            state = VOLUNTEER_STATES.get(exc.state.value, exc.state.value)
            return f"Diese Patin oder dieser Pate ist zurzeit {state}."
        case ve.AlreadyMenteeError():
            return "Diese Patin oder dieser Pate begleitet die Person bereits."
        case ve.NotVolunteerManagerError():
            return "Nur die eigene Organisation verwaltet ihre Ehrenamtlichen."
        case ReferenceMismatchError():
            return "Die Angabe passt nicht zum Angebot oder zur Patin bzw. zum Paten."
        case ConcurrentChangeError():
            return (
                "Das wurde gerade gleichzeitig geändert. Bitte laden Sie die Seite neu und"
                " versuchen Sie es noch einmal."
            )
        case PartnerNotFoundError():
            return "Diesen Arbeitgeber, dieses Angebot oder diese Patenschaft gibt es nicht."
    return None


def api_error(status: int, detail: str) -> str:
    """A refusal the API answers with ``status`` and ``detail``, in German."""
    if status == 403:
        return "Sie haben keinen Zugriff auf diese Seite oder diesen Fall."
    if status == 404:
        return NOT_FOUND
    if status == 503:
        return "Die Ansicht wird gerade aktualisiert. Bitte laden Sie die Seite gleich neu."
    if status in (409, 502):
        return f"Die andere Stelle hat die Antwort nicht angenommen: {detail}"
    return "Die Eingabe ist ungültig."


EVENT_NAMES = {
    "CaseRegistered": "Fall registriert",
    "CompetenceAssessed": "Kompetenzfeststellung",
    "AsylumRecognized": "Asyl anerkannt",
    "AsylumRejected": "Asylantrag abgelehnt",
    "LegalStatusChanged": "Aufenthaltsstatus geändert",
    "StepAgreed": "Schritt vereinbart",
    "StepCompleted": "Schritt erledigt",
    "MeasureStarted": "Maßnahme begonnen",
    "MeasureEnded": "Maßnahme beendet",
    "PlacementMade": "Vermittlung",
    "PlacementEnded": "Vermittlung beendet",
    "MentorAssigned": "Pate zugeordnet",
    "MentorReleased": "Patenschaft beendet",
    "ConsentGiven": "Einwilligung erteilt",
    "ConsentWithdrawn": "Einwilligung widerrufen",
    "NoteRecorded": "Vermerk",
    "ResidenceChanged": "Umzug",
    "CaseClosed": "Fall geschlossen",
    "CaseReopened": "Fall wieder eröffnet",
    "HandoverOffered": "Übergabe angeboten",
    "HandoverAccepted": "Übergabe angenommen",
    "HandoverRejected": "Übergabe abgelehnt",
    "HandoverWithdrawn": "Übergabeangebot zurückgezogen",
    "JurisdictionChanged": "Rechtskreiswechsel",
    "PersonalDataErased": "Personenbezogene Daten gelöscht",
}
PROBLEM_KINDS = {
    "changed": "Inhalt passt nicht zur gespeicherten Prüfsumme (verändert)",
    "missing": "Eintrag fehlt",
    "reordered": "Eintrag an falscher Stelle",
    "inserted": "Eintrag eingeschoben (gefälscht)",
    "broken_link": "Verkettung unterbrochen (Vorgänger ersetzt)",
    "access_log_changed": "Zugriffsprotokoll verändert",
    "access_log_missing": "Zugriffsprotokoll unvollständig",
}

"""The forms of the web pages, described once: their fields with German labels, and how a posted
form becomes the API's own input model (``api/schemas/``), so a form is validated exactly as a
JSON request is. Validation errors come back per field, in German."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ValidationError

from api.schemas.cases import (
    AsylumRecognizedIn,
    AsylumRejectedIn,
    CaseAssignedIn,
    CaseClosedIn,
    CaseReopenedIn,
    CompetenceAssessedIn,
    ConsentGivenIn,
    ConsentWithdrawnIn,
    EraseCase,
    FactCorrectedIn,
    LegalStatusChangedIn,
    MeasureEndedIn,
    MeasureStartedIn,
    MentorAssignedIn,
    MentorReleasedIn,
    NoteRecordedIn,
    PlacementEndedIn,
    PlacementMadeIn,
    RegisterCase,
    ResidenceChangedIn,
    StepAgreedIn,
    StepCompletedIn,
)
from api.schemas.common import OptionalReason, Reason
from api.schemas.follow_ups import FollowUpCreatedIn
from api.schemas.handovers import AcceptHandover, OfferHandover
from api.schemas.offers import PlaceCase, PublishOffer
from api.schemas.volunteers import AssignMentee
from domain import consent, corrections
from domain.values import (
    Cefr,
    ConsentPurpose,
    LegalStatus,
    MeasureKind,
    NoteCategory,
    PlacementKind,
    Plan,
    Protection,
    QualificationRecognition,
)
from projections import cldr
from projections import labels as de

Options = tuple[tuple[str, str], ...]


def options(labels: dict[Any, str]) -> Options:
    return tuple((str(k.value if isinstance(k, StrEnum) else k), v) for k, v in labels.items())


SCOPE: Options = (*((name, label) for name, label in consent.FIELDS.items()),)
CORRECTABLE_EVENTS = frozenset(e for e, _ in corrections.CORRECTABLE)
CORRECTION_FIELDS: Options = tuple(
    (f, corrections.LABELS[f]) for f in dict.fromkeys(f for _, f in corrections.CORRECTABLE)
)
PICKERS: dict[str, tuple[Callable[[str], str | None], str]] = {
    "country": (cldr.country_code, "Bitte ein Land aus der Liste wählen."),
    "language": (cldr.language_code, "Bitte eine Sprache aus der Liste wählen."),
}
PROTECTION = tuple((p.value, de.LEGAL_STATUS[LegalStatus(p.value)]) for p in Protection)
CEFR = tuple((c.value, c.value) for c in Cefr)
BAMF_HINT = "Aktenzeichen des BAMF, z. B. 7654321-423"
COUNTRY_HINT = "Land aus der Liste wählen oder seinen Namen tippen, z. B. Syrien"
LANGUAGE_HINT = "Sprache aus der Liste wählen oder ihren Namen tippen, z. B. Arabisch"
REF_HINT = "Kurze Kennung aus Buchstaben, Ziffern und . _ : -"


@dataclass(frozen=True)
class Input:
    name: str  # the field of the input model; dots for nested fields and list rows
    label: str
    # text | date | number | select | textarea | checkbox | checkboxes | list | hidden, and the
    # pickers country | language (German CLDR names offered, the code posted on: ``cldr``)
    kind: str = "text"
    required: bool = False
    hint: str | None = None
    options: Options = ()
    choices: str | None = None  # options from the case: see ``page_choices``
    default: str | None = None  # a default from the case, or a literal value
    group: str | None = None  # inputs of one group share a fieldset with this legend
    placeholder: str | None = None  # a required select's empty first option: choose deliberately

    @property
    def html_id(self) -> str:
        return self.name.replace(".", "-")


@dataclass(frozen=True)
class Form:
    key: str
    title: str
    model: type[BaseModel]
    inputs: tuple[Input, ...]
    button: str = "Speichern"
    event: str | None = None  # the staff event type this form records
    shown: Callable[[dict[str, Any]], bool] = field(default=lambda doc: True)


def _on(name: str, label: str, required: bool = True) -> Input:
    return Input(name, label, "date", required, "TT.MM.JJJJ")


def _id(name: str, default: str) -> Input:
    return Input(name, "Kennung", required=True, hint=REF_HINT, default=default)


def _pick(name: str, label: str, choices: str) -> Input:
    return Input(name, label, "select", True, choices=choices)


def _open(doc: dict[str, Any], key: str, ended: str) -> bool:
    return any(item.get(ended) is None for item in doc[key])


def _protected(doc: dict[str, Any]) -> bool:
    return doc["legal_status"] in {p.value for p in Protection}


def _handover_open(doc: dict[str, Any]) -> bool:
    return bool(doc["handovers"]) and doc["handovers"][-1]["state"] == "offered"


_EXPERIENCE = tuple(
    i
    for n in (0, 1)
    for i in (
        Input(f"work_experience.{n}.occupation", f"Beruf {n + 1}", group="Berufserfahrung"),
        Input(f"work_experience.{n}.years", f"Jahre im Beruf {n + 1}", "number", group="Berufserfahrung"),
    )
)  # fmt: skip
_LANGUAGES = tuple(
    i
    for n in (0, 1)
    for i in (
        Input(f"languages.{n}.language", f"Sprache {n + 1}", "language", hint=LANGUAGE_HINT, group="Weitere Sprachen"),
        Input(f"languages.{n}.level", f"Niveau Sprache {n + 1}", "select", options=CEFR, group="Weitere Sprachen"),
    )
)  # fmt: skip

EVENT_FORMS: tuple[Form, ...] = (
    Form("CompetenceAssessed", "Kompetenzfeststellung", CompetenceAssessedIn, (
        Input("instrument", "Verfahren", required=True, hint="z. B. MYSKILLS, Kompetenzkarten"),
        _on("assessed_on", "Durchgeführt am"),
        Input("german_level", "Deutschkenntnisse", "select", options=CEFR),
        *_LANGUAGES,
        Input("school_years", "Schuljahre", "number", group="Schule und Ausbildung"),
        Input("school_certificate", "Schulabschluss", group="Schule und Ausbildung"),
        Input("vocational_training.0.occupation", "Ausbildungsberuf", group="Schule und Ausbildung"),
        Input("vocational_training.0.completed", "Ausbildung abgeschlossen", "checkbox", group="Schule und Ausbildung"),
        Input("vocational_training.0.country", "Land der Ausbildung", "country", hint=COUNTRY_HINT, group="Schule und Ausbildung"),
        *_EXPERIENCE,
        Input("qualification_recognition", "Anerkennung der Qualifikation", "select",
              options=options(de.RECOGNITION), default=QualificationRecognition.NOT_APPLICABLE.value),
        Input("support_need", "Besonderer Förderbedarf", "checkbox"),
        Input("notes", "Bemerkungen", "textarea"),
    ), event="CompetenceAssessed"),
    Form("AsylumRecognized", "Asyl anerkannt", AsylumRecognizedIn, (
        Input("protection", "Schutzstatus", "select", True, options=PROTECTION),
        _on("decided_on", "Bescheid vom"),
    ), event="AsylumRecognized", shown=lambda doc: not _protected(doc)),
    Form("AsylumRejected", "Asylantrag abgelehnt", AsylumRejectedIn, (
        Input("kind", "Art der Ablehnung", "select", True, options=options(de.REJECTION)),
        _on("decided_on", "Bescheid vom"),
    ), event="AsylumRejected", shown=lambda doc: doc["legal_status"] == LegalStatus.ASYLUM_SEEKER),
    Form("LegalStatusChanged", "Aufenthaltsstatus geändert", LegalStatusChangedIn, (
        Input("status", "Neuer Aufenthaltsstatus", "select", True, options=options(de.LEGAL_STATUS)),
        _on("effective_on", "Gültig ab"),
        Input("document", "Dokument", hint="z. B. Ausbildungsduldung § 60c AufenthG"),
        _on("valid_until", "Gültig bis", required=False),
    ), event="LegalStatusChanged"),
    Form("StepAgreed", "Schritt vereinbart", StepAgreedIn, (
        _id("step_id", "next_step"),
        Input("description", "Was wurde vereinbart?", required=True),
        Input("plan", "Grundlage", "select", True, options=options(de.PLAN),
              default=Plan.EINGLIEDERUNGSVEREINBARUNG.value),
        _on("due_on", "Fällig am", required=False),
    ), event="StepAgreed"),
    Form("StepCompleted", "Schritt erledigt", StepCompletedIn, (
        _pick("step_id", "Schritt", "open_steps"),
        _on("completed_on", "Erledigt am"),
    ), event="StepCompleted", shown=lambda doc: _open(doc, "steps", "completed_on")),
    Form("MeasureStarted", "Maßnahme begonnen", MeasureStartedIn, (
        _id("measure_id", "next_measure"),
        Input("kind", "Art der Maßnahme", "select", True, options=options(de.MEASURE)),
        Input("provider", "Träger", required=True),
        _on("starts_on", "Beginn"),
        _on("ends_on", "Geplantes Ende", required=False),
    ), event="MeasureStarted"),
    Form("MeasureEnded", "Maßnahme beendet", MeasureEndedIn, (
        _pick("measure_id", "Maßnahme", "open_measures"),
        _on("ended_on", "Beendet am"),
        Input("outcome", "Ergebnis", "select", True, options=options(de.OUTCOME)),
        Input("certificate", "Nachweis"),
    ), event="MeasureEnded", shown=lambda doc: _open(doc, "measures", "ended_on")),
    Form("PlacementMade", "Vermittlung", PlacementMadeIn, (
        _id("placement_id", "next_placement"),
        Input("kind", "Art", "select", True, options=options(de.PLACEMENT)),
        Input("employer", "Arbeitgeber", required=True),
        _on("starts_on", "Beginn"),
        Input("wage_subsidy.percent", "Eingliederungszuschuss in Prozent", "number", group="Eingliederungszuschuss"),
        Input("wage_subsidy.months", "Dauer in Monaten", "number", group="Eingliederungszuschuss"),
    ), event="PlacementMade"),
    Form("PlacementEnded", "Vermittlung beendet", PlacementEndedIn, (
        _pick("placement_id", "Vermittlung", "open_placements"),
        _on("ended_on", "Beendet am"),
        Input("reason", "Grund", required=True),
    ), event="PlacementEnded", shown=lambda doc: _open(doc, "placements", "ended_on")),
    Form("MentorAssigned", "Externen Paten eintragen (nicht in Staffel registriert)", MentorAssignedIn, (
        Input("volunteer_id", "Kennung des Paten", required=True, hint=REF_HINT),
        Input("organisation", "Organisation des Paten", required=True),
        _on("assigned_on", "Ab"),
    ), event="MentorAssigned"),
    Form("MentorReleased", "Patenschaft beendet", MentorReleasedIn, (
        _pick("volunteer_id", "Pate", "mentors"),
        _on("released_on", "Beendet am"),
    ), "Patenschaft beenden", event="MentorReleased", shown=lambda doc: bool(doc["mentors"])),
    Form("ConsentGiven", "Einwilligung erteilt", ConsentGivenIn, (
        _id("consent_id", "next_consent"),
        Input("purpose", "Zweck", "select", True, options=options(de.CONSENT)),
        Input("recipient", "Empfänger", "select", True, choices="recipients", placeholder="(bitte wählen)",
              hint="Arbeitgeber, Patin oder Pate, oder ihre Organisation"),
        Input("scope", "Was darf gezeigt werden?", "checkboxes", True, options=SCOPE),
        _on("given_on", "Erteilt am"),
        Input("valid_until", "Gültig bis", "date", hint="TT.MM.JJJJ; leer lassen: bis zum Widerruf"),
    ), event="ConsentGiven"),
    Form("ConsentWithdrawn", "Einwilligung widerrufen", ConsentWithdrawnIn, (
        _pick("consent_id", "Einwilligung", "consents"),
        _on("withdrawn_on", "Widerrufen am"),
    ), event="ConsentWithdrawn", shown=lambda doc: bool(doc["consents"])),
    Form("NoteRecorded", "Vermerk", NoteRecordedIn, (
        Input("text", "Vermerk", "textarea", True),
        Input("category", "Kategorie", "select", True, options=options(de.NOTE),
              default=NoteCategory.GENERAL.value),
    ), event="NoteRecorded"),
    Form("ResidenceChanged", "Umzug", ResidenceChangedIn, (
        Input("municipality", "Neuer Wohnort", required=True),
        _on("moved_on", "Umgezogen am"),
    ), event="ResidenceChanged"),
    Form("FollowUpCreated", "Wiedervorlage", FollowUpCreatedIn, (
        _on("due_on", "Fällig am"),
        Input("text", "Was ist zu tun?", required=True),
        Input("assignee", "Für", hint="Kennung der Fachkraft; leer lassen: für das Team"),
    ), "Wiedervorlage anlegen", event="FollowUpCreated"),
    Form("CaseAssigned", "Zuständigkeit (Teamleitung)", CaseAssignedIn, (
        Input("office", "Dienststelle", "select", choices="offices"),
        Input("caseworker", "Fachkraft", "select", choices="colleagues",
              hint="Kolleginnen und Kollegen, die sich angemeldet haben; keine Angabe: niemand"),
    ), "Zuweisen", event="CaseAssigned"),
    Form("FactCorrected", "Angabe berichtigen (Art. 16 DSGVO)", FactCorrectedIn, (
        Input("corrects_version", "Welcher Eintrag?", "select", True, choices="entries",
              placeholder="(bitte wählen)"),
        Input("field", "Welche Angabe?", "select", True, options=CORRECTION_FIELDS,
              placeholder="(bitte wählen)"),
        Input("value", "Richtiger Wert", "correction", True,
              hint="Datum als TT.MM.JJJJ, Land mit Namen (z. B. Syrien), Deutsch als A1 bis C2"),
        Input("reason", "Grund der Berichtigung", required=True,
              hint="z. B. Tippfehler bei der Registrierung, laut Pass"),
    ), "Berichtigen", event="FactCorrected"),
    Form("CaseClosed", "Fall schließen", CaseClosedIn, (
        Input("reason", "Grund", required=True),
        _on("closed_on", "Geschlossen am"),
    ), "Fall schließen", event="CaseClosed", shown=lambda doc: not _handover_open(doc)),
)  # fmt: skip
REOPEN = Form("CaseReopened", "Fall wieder eröffnen", CaseReopenedIn, (
    Input("reason", "Grund", required=True),
), "Wieder eröffnen", event="CaseReopened")  # fmt: skip
OFFER = Form("offer", "Übergabe anbieten", OfferHandover, (
    _pick("to_org", "An", "orgs"),
    Input("reason", "Grund", required=True, default="Asyl anerkannt: Rechtskreiswechsel"),
), "Übergabe anbieten", shown=lambda doc: not _handover_open(doc))  # fmt: skip
WITHDRAW = Form("withdraw", "Übergabeangebot zurückziehen", Reason, (
    Input("reason", "Grund", required=True),
), "Angebot zurückziehen")  # fmt: skip
ACCEPT = Form("accept", "Übergabe annehmen", AcceptHandover, (
    Input("version", "Bestätigter Stand", "hidden", True),
    Input("digest", "Bestätigte Prüfsumme", "hidden", True),
    Input("caseworker", "Fachkraft zuweisen", "select", choices="colleagues",
          hint="Wer den Fall bearbeitet; keine Angabe: später auf der Seite Team"),
), "Übergabe annehmen")  # fmt: skip
REJECT = Form("reject", "Übergabe ablehnen", Reason, (
    Input("reason", "Begründung der Ablehnung", "textarea", True),
), "Übergabe ablehnen")  # fmt: skip
REGISTER = Form("register", "Person registrieren", RegisterCase, (
    Input("person.given_name", "Vorname", required=True, group="Person"),
    Input("person.family_name", "Familienname", required=True, group="Person"),
    Input("person.birth_date", "Geburtsdatum", "date", True, "TT.MM.JJJJ", group="Person"),
    Input("person.nationality", "Staatsangehörigkeit", "country", True, COUNTRY_HINT, group="Person"),
    *(Input(f"person.languages.{n}", f"Sprache {n + 1}", "language", hint=LANGUAGE_HINT if n == 0 else None,
            group="Sprachen") for n in range(3)),
    Input("bamf_file_number", "BAMF-Aktenzeichen", hint=BAMF_HINT, group="Verfahren"),
    Input("residence_municipality", "Wohnort (Gemeinde)", required=True, group="Verfahren"),
    Input("legal_status", "Aufenthaltsstatus", "select", True, options=options(de.LEGAL_STATUS),
          default=LegalStatus.ASYLUM_SEEKER.value, group="Verfahren"),
    Input("office", "Dienststelle", "select", choices="offices", group="Verfahren"),
    Input("legal_basis", "Rechtskreis", "select", options=options(de.LEGAL_BASIS),
          hint="leer lassen: ergibt sich aus dem Aufenthaltsstatus", group="Verfahren"),
), "Registrieren")  # fmt: skip


# -- employers' offers, placements, mentors (the API's own input models) ----------------------


class ChooseMentor(AssignMentee):
    """The API's ``AssignMentee`` and the volunteer, which the API takes from the path."""

    volunteer_id: UUID


PUBLISH_OFFER = Form("publish", "Angebot veröffentlichen", PublishOffer, (
    Input("employer_id", "Arbeitgeber", "hidden", True),
    Input("kind", "Art des Angebots", "select", True, options=options(de.PLACEMENT)),
    Input("occupation", "Beruf", required=True, hint="z. B. Elektriker, Bäckerin, Lagerist"),
    Input("municipality", "Ort", required=True, hint="Gemeinde des Arbeitsplatzes"),
    Input("german_level", "Deutschkenntnisse mindestens", "select", options=CEFR),
    _on("starts_on", "Beginn"),
    Input("positions", "Anzahl der Plätze", "number", True, default="1"),
    Input("wage_subsidy_possible", "Eingliederungszuschuss möglich", "checkbox"),
), "Angebot veröffentlichen")  # fmt: skip
PLACE = Form("place", "Vermitteln", PlaceCase, (
    Input("case_id", "Person", "hidden", True),
    _on("starts_on", "Beginn"),
    Input("wage_subsidy.percent", "Eingliederungszuschuss in Prozent", "number", group="Eingliederungszuschuss (freiwillig)"),
    Input("wage_subsidy.months", "Dauer in Monaten", "number", group="Eingliederungszuschuss (freiwillig)"),
), "Vermittlung speichern")  # fmt: skip
MENTOR = Form("mentor", "Paten zuordnen", ChooseMentor, (
    Input("volunteer_id", "Pate oder Patin", "select", True, choices="volunteers",
          placeholder="(bitte wählen)"),
    Input("case_id", "Person", "hidden", True),
    Input("assigned_on", "Ab", "date", hint="TT.MM.JJJJ; leer lassen: heute"),
), "Paten zuordnen")  # fmt: skip
PAUSE_OFFER = Form("pause", "Angebot pausieren", Reason, (
    Input("reason", "Grund für die Pause", required=True),
), "Angebot pausieren")  # fmt: skip
REOPEN_OFFER = Form("reopen", "Angebot wieder öffnen", OptionalReason, (), "Angebot wieder öffnen")
WITHDRAW_OFFER = Form("withdraw", "Angebot zurückziehen", Reason, (
    Input("reason", "Grund für das Zurückziehen", required=True),
), "Angebot zurückziehen")  # fmt: skip
OFFER_FORMS = {f.key: f for f in (PAUSE_OFFER, REOPEN_OFFER, WITHDRAW_OFFER)}


class ConfirmErasure(EraseCase):
    """The API's ``EraseCase`` and the page's confirmation, which the API does not take."""

    confirmed: bool = False

    def erasure(self) -> EraseCase:
        return EraseCase(ground=self.ground, reason=self.reason)


ERASE_CONFIRMATION = "Ich habe geprüft, dass die Löschung zulässig ist"
ERASE_UNCONFIRMED = "Bitte bestätigen Sie, dass Sie die Löschung geprüft haben."
ERASE = Form("erase", "Personenbezogene Daten löschen", ConfirmErasure, (
    Input("ground", "Rechtsgrund", "select", True, options=options(de.ERASURE_GROUND),
          placeholder="(bitte wählen)"),
    Input("reason", "Begründung", "textarea", True,
          hint="Aktenzeichen des Antrags oder der Entscheidung; keine personenbezogenen Daten"),
    Input("confirmed", ERASE_CONFIRMATION, "checkbox", True),
), "Personenbezogene Daten endgültig löschen")  # fmt: skip
CASE_FORMS = {f.key: f for f in (*EVENT_FORMS, REOPEN, OFFER, WITHDRAW, ACCEPT, REJECT, MENTOR)}


# -- from a posted form to the input model ------------------------------------------------------

_GERMAN_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def _shown_day(value: str | None) -> str:
    """An ISO date of a case's entry as DD.MM.YYYY, for the pickers' words."""
    return de.day(date.fromisoformat(value[:10])) if value else ""


def iso_day(value: str) -> str:
    """DD.MM.YYYY (or ISO) as ISO; anything else unchanged, for the model to refuse."""
    found = _GERMAN_DAY.match(value)
    if not found:
        return value
    d, m, y = (int(g) for g in found.groups())
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return value


def _put(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.0.b`` in nested dicts; numeric parts are list rows, gathered in ``_rows``."""
    *path, last = dotted.split(".")
    node = data
    for part in path:
        node = node.setdefault(part, {})
    node[last] = value


def _rows(node: Any) -> Any:
    """Turn dicts keyed by row numbers into lists (rows left empty are absent already)."""
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_rows(node[k]) for k in sorted(node, key=int)]
    return {k: _rows(v) for k, v in node.items()}


def to_input(form: Form, posted: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"type": form.event} if form.event else {}
    for spec in form.inputs:
        if spec.kind == "checkboxes":
            chosen = [v for v, _ in spec.options if posted.get(f"{spec.name}.{v}")]
            if chosen:
                _put(data, spec.name, chosen)
            continue
        raw = posted.get(spec.name, "").strip()
        if spec.kind == "checkbox":
            _put(data, spec.name, bool(raw))
            continue
        if not raw:
            continue
        value: Any = raw
        if spec.kind in ("date", "correction"):  # a correction's value: a date, if it is one
            value = iso_day(raw)
        elif spec.kind in PICKERS:
            value = PICKERS[spec.kind][0](raw) or raw  # unknown: left for the model to refuse
        elif spec.kind == "list":
            value = [v.strip() for v in raw.split(",") if v.strip()]
        _put(data, spec.name, value)
    rows = _rows(data)
    vt = rows.get("vocational_training")
    if isinstance(vt, list):  # a training row needs its occupation; the checkbox alone is no row
        rows["vocational_training"] = [r for r in vt if set(r) - {"completed"}]
    return dict(rows)


def validate(form: Form, posted: dict[str, str]) -> tuple[BaseModel | None, dict[str, str]]:
    """The input model, or German messages keyed by form field name."""
    try:
        return form.model.model_validate(to_input(form, posted)), {}
    except ValidationError as e:
        errors: dict[str, str] = {}
        for error in e.errors():
            spec = _spec(form, ".".join(str(p) for p in error["loc"]))
            errors.setdefault(spec.name if spec else "form", german(error, spec))
        return None, errors


def _spec(form: Form, name: str) -> Input | None:
    """The input an error location is about: the field itself or the list input holding it."""
    while name:
        found = next((i for i in form.inputs if i.name == name), None)
        if found is not None:
            return found
        name = name.rpartition(".")[0]
    return None


def groups(inputs: tuple[Input, ...]) -> list[tuple[str | None, list[Input]]]:
    """Consecutive inputs of one group together, in the form's order."""
    out: list[tuple[str | None, list[Input]]] = []
    for spec in inputs:
        if out and out[-1][0] == spec.group:
            out[-1][1].append(spec)
        else:
            out.append((spec.group, [spec]))
    return out


def label_of(form: Form, name: str) -> str:
    spec = _spec(form, name)
    return spec.label if spec else name


def german(error: Any, spec: Input | None) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if spec is not None and spec.kind in PICKERS and kind != "missing":
        return PICKERS[spec.kind][1]  # never "höchstens 3 Zeichen" to someone who typed a name
    if spec is not None and spec.kind == "checkboxes":
        return "Bitte mindestens eine Angabe ankreuzen."
    if kind == "missing" and spec is not None and spec.kind == "select":
        return "Bitte einen Wert aus der Liste wählen."
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "Bitte ausfüllen."
    if kind == "too_short":
        return "Bitte mindestens einen Eintrag angeben."
    if kind == "string_too_short":
        return f"Bitte mindestens {ctx['min_length']} Zeichen angeben."
    if kind == "string_too_long":
        return f"Bitte höchstens {ctx['max_length']} Zeichen angeben."
    if kind == "string_pattern_mismatch":
        return "Das Format stimmt nicht" + (f": {spec.hint}." if spec and spec.hint else ".")
    if kind.startswith("date_"):
        return "Bitte ein Datum im Format TT.MM.JJJJ angeben."
    if kind.startswith("int_"):
        return "Bitte eine ganze Zahl angeben."
    if kind == "greater_than_equal":
        return f"Der Wert muss mindestens {ctx['ge']} sein."
    if kind == "less_than_equal":
        return f"Der Wert darf höchstens {ctx['le']} sein."
    if kind == "greater_than":
        bound = ctx["gt"]
        return (
            f"Das Datum muss nach dem {bound:%d.%m.%Y} liegen."
            if isinstance(bound, date)
            else f"Der Wert muss größer als {bound} sein."
        )
    if kind in ("enum", "literal_error"):
        return "Bitte einen Wert aus der Liste wählen."
    if kind == "value_error" and "future" in str(error.get("msg", "")):
        return "Das Datum darf nicht in der Zukunft liegen."
    return "Diese Angabe ist ungültig."


# -- what a form offers on a case page ------------------------------------------------------------


def next_id(prefix: str, items: list[dict[str, Any]], key: str) -> str:
    taken = {i[key] for i in items}
    n = len(items) + 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def _consent_words(consent: dict[str, Any], orgs: Any) -> str:
    """A consent in force, as the withdrawal picker names it: purpose, recipient by name, date."""
    org = orgs.get(consent["recipient"]) if orgs is not None else None
    try:
        purpose = de.CONSENT[ConsentPurpose(consent["purpose"])]
    except (KeyError, ValueError):
        purpose = "Einwilligung"
    given = _shown_day(consent.get("given_on"))
    until = _shown_day(consent.get("valid_until"))
    return (
        f"{purpose} an {org.name if org else consent['recipient']}"
        + (f" vom {given}" if given else "")
        + (f", gültig bis {until}" if until else "")
    )


def page_choices(doc: dict[str, Any], orgs: Any, holder: str) -> dict[str, Any]:
    """Options and defaults a case page's forms take from the case as it stands."""

    def open_items(
        key: str, ref: str, ended: str, label: Callable[[dict[str, Any]], str]
    ) -> Options:
        return tuple((i[ref], label(i)) for i in doc[key] if i.get(ended) is None)

    return {
        "open_steps": open_items("steps", "step_id", "completed_on", lambda i: f"{i['description']}" + (f" (fällig {_shown_day(i['due_on'])})" if i.get("due_on") else "")),
        "open_measures": open_items("measures", "measure_id", "ended_on", lambda i: f"{de.MEASURE[MeasureKind(i['kind'])]} bei {i['provider']} ab {_shown_day(i['starts_on'])}"),
        "open_placements": open_items("placements", "placement_id", "ended_on", lambda i: f"{de.PLACEMENT[PlacementKind(i['kind'])]} bei {i['employer']} ab {_shown_day(i['starts_on'])}"),
        "mentors": tuple((m["volunteer_id"], f"{m['volunteer_id']} ({m['organisation']})") for m in doc["mentors"]),
        "consents": tuple((c["consent_id"], _consent_words(c, orgs)) for c in doc["consents"]),
        "orgs": tuple((o.id, o.name) for o in orgs if o.id != holder and o.kind != "audit"),
        "next_step": next_id("s", doc["steps"], "step_id"),
        "next_measure": next_id("m", doc["measures"], "measure_id"),
        "next_placement": next_id("p", doc["placements"], "placement_id"),
        "next_consent": next_id("c", doc["consents"], "consent_id"),
        "countries": cldr.countries(),
        "languages": cldr.languages(),
    }  # fmt: skip

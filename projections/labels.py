"""German labels for the domain's values: what a caseworker reads in summaries and the web UI."""

from __future__ import annotations

from datetime import date

from domain.values import (
    Cefr,
    ConsentPurpose,
    ErasureGround,
    LegalBasis,
    LegalStatus,
    MeasureKind,
    MeasureOutcome,
    NoteCategory,
    PlacementKind,
    Plan,
    QualificationRecognition,
    RejectionKind,
)

LEGAL_STATUS = {
    LegalStatus.ASYLUM_SEEKER: "Aufenthaltsgestattung",
    LegalStatus.TOLERATED: "Duldung",
    LegalStatus.TRAINING_TOLERATION: "Ausbildungsduldung",
    LegalStatus.EMPLOYMENT_TOLERATION: "Beschäftigungsduldung",
    LegalStatus.ASYLUM_ENTITLED: "Asylberechtigung",
    LegalStatus.REFUGEE: "Flüchtlingseigenschaft",
    LegalStatus.SUBSIDIARY_PROTECTION: "subsidiärer Schutz",
    LegalStatus.DEPORTATION_BAN: "Abschiebungsverbot",
    LegalStatus.TEMPORARY_PROTECTION: "vorübergehender Schutz (§ 24 AufenthG)",
    LegalStatus.OTHER_RESIDENCE_PERMIT: "sonstige Aufenthaltserlaubnis",
}
LEGAL_BASIS = {
    LegalBasis.SGB_III: "SGB III",
    LegalBasis.SGB_II: "SGB II",
    LegalBasis.ASYLBLG: "AsylbLG",
}
REJECTION = {
    RejectionKind.UNFOUNDED: "unbegründet",
    RejectionKind.MANIFESTLY_UNFOUNDED: "offensichtlich unbegründet",
    RejectionKind.INADMISSIBLE: "unzulässig",
}
RECOGNITION = {
    QualificationRecognition.NONE: "keine Anerkennung",
    QualificationRecognition.APPLIED: "Anerkennung beantragt",
    QualificationRecognition.PARTIAL: "teilweise anerkannt",
    QualificationRecognition.FULL: "voll anerkannt",
    QualificationRecognition.NOT_APPLICABLE: "Anerkennung nicht erforderlich",
}
PLAN = {
    Plan.EINGLIEDERUNGSVEREINBARUNG: "Eingliederungsvereinbarung",
    Plan.KOOPERATIONSPLAN: "Kooperationsplan",
}
MEASURE = {
    MeasureKind.INTEGRATION_COURSE: "Integrationskurs",
    MeasureKind.JOB_LANGUAGE_COURSE: "Berufssprachkurs",
    MeasureKind.QUALIFICATION: "Qualifizierung",
    MeasureKind.EINSTIEGSQUALIFIZIERUNG: "Einstiegsqualifizierung",
    MeasureKind.EMPLOYER_MEASURE: "Maßnahme bei einem Arbeitgeber",
    MeasureKind.PERF: "Perspektiven für Flüchtlinge",
    MeasureKind.ASSISTED_TRAINING: "Assistierte Ausbildung",
}
OUTCOME = {MeasureOutcome.COMPLETED: "abgeschlossen", MeasureOutcome.ABORTED: "abgebrochen"}
PLACEMENT = {
    PlacementKind.INTERNSHIP: "Praktikum",
    PlacementKind.APPRENTICESHIP: "Ausbildung",
    PlacementKind.JOB: "Arbeitsstelle",
    PlacementKind.EINSTIEGSQUALIFIZIERUNG: "Einstiegsqualifizierung",
}
CONSENT = {
    ConsentPurpose.SHARE_WITH_EMPLOYER: "Weitergabe an Arbeitgeber",
    ConsentPurpose.SHARE_WITH_MENTOR: "Weitergabe an Paten",
}
ERASURE_GROUND = {
    ErasureGround.RETENTION_EXPIRED: "Aufbewahrungsfrist abgelaufen, Art. 17 Abs. 1 lit. a DSGVO",
    ErasureGround.SUBJECT_REQUEST: "Antrag der betroffenen Person, Art. 17 DSGVO",
    ErasureGround.UNLAWFULLY_PROCESSED: "unrechtmäßig verarbeitet, Art. 17 Abs. 1 lit. d DSGVO",
    ErasureGround.CONSENT_WITHDRAWN: "Einwilligung widerrufen, Art. 17 Abs. 1 lit. b DSGVO",
}
NOTE = {
    NoteCategory.GENERAL: "Allgemein",
    NoteCategory.COUNSELLING: "Beratung",
    NoteCategory.LANGUAGE: "Sprache",
    NoteCategory.WORK: "Arbeit",
    NoteCategory.FAMILY: "Familie",
    NoteCategory.HEALTH: "Gesundheit",
}


def german_level(level: Cefr | None) -> str:
    return f"Deutsch {level.value}" if level else "keine Deutschkenntnisse"


def day(value: date | None) -> str:
    # what strftime("%d.%m.%Y") gives, at a third of its cost (history summaries call this a lot)
    return f"{value.day:02d}.{value.month:02d}.{value.year}" if value else "offen"


def years(n: int) -> str:
    return "1 Jahr" if n == 1 else f"{n} Jahre"

"""Which e-mails a handover causes, when, and what they say; the daily digest of a user's due
follow-ups (ADR 0018). Pure: no clock, no store.

A mail names the organisation, the case's reference (its id) and a link to the page; never the
person, the reason of the offer, or anything else the case holds. The digest carries only
counts and a link, not even a case reference (docs/data-protection.md, "E-mail
notifications"). The text is German, as the web interface."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class MailKind(StrEnum):
    HANDOVER_OFFERED = "handover_offered"
    HANDOVER_REMINDER = "handover_reminder"  # one working day before the answer deadline
    HANDOVER_OVERDUE = "handover_overdue"
    FOLLOW_UP_DIGEST = "follow_up_digest"  # daily, to each user who chose it


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


def previous_working_day(day: date) -> date:
    """The Monday-to-Friday day before ``day`` (public holidays are not counted apart, as in
    ``policy.handover_due_date``, which sets the deadlines)."""
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def reminder_day(offered_on: date, due_on: date) -> date | None:
    """The day the reminder is due, or None when that day is not after the offer (the offer's
    own mail has just said when the deadline is)."""
    day = previous_working_day(due_on)
    return day if day > offered_on else None


def is_overdue(due_on: date, today: date) -> bool:
    """As the handover lists mark it: the deadline day has passed."""
    return due_on < today


def _date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


FOOTER = (
    "\n\nDiese Nachricht enthält bewusst keine Angaben zur Person. Sie sehen den Fall nach der"
    " Anmeldung in Staffel.\n\n-- \nStaffel (automatische Nachricht, bitte nicht antworten)\n"
)

DIGEST_FOOTER = (
    "\n\nDiese Nachricht enthält bewusst keine Angaben zu Personen oder Fällen, nur Anzahlen."
    "\n\n-- \nStaffel (automatische Nachricht, bitte nicht antworten)\n"
)


def handover_mail(
    kind: MailKind, *, org_name: str, case_ref: str, due_on: date, base_url: str
) -> Mail:
    """The mail of ``kind`` to the team an offer was made to; the link goes to its inbox."""
    link = base_url.rstrip("/") + "/ui/handovers?direction=incoming"
    ref = f"Vorgang {case_ref}"
    if kind is MailKind.HANDOVER_OFFERED:
        subject = f"Staffel: Neues Übergabeangebot ({ref})"
        text = (
            f"Guten Tag,\n\nan {org_name} wurde in Staffel ein Fall zur Übernahme angeboten"
            f" ({ref}).\nBitte beantworten Sie das Angebot bis zum {_date(due_on)}."
        )
    elif kind is MailKind.HANDOVER_REMINDER:
        subject = f"Staffel: Übergabeangebot bis {_date(due_on)} beantworten ({ref})"
        text = (
            f"Guten Tag,\n\ndas Übergabeangebot an {org_name} ({ref}) ist noch offen. Die"
            f" Antwortfrist endet am {_date(due_on)}."
        )
    else:
        subject = f"Staffel: Übergabeangebot überfällig ({ref})"
        text = (
            f"Guten Tag,\n\ndas Übergabeangebot an {org_name} ({ref}) ist überfällig: Die"
            f" Antwortfrist ist am {_date(due_on)} abgelaufen. Bitte nehmen Sie es an oder lehnen"
            " Sie es ab."
        )
    return Mail(subject, f"{text}\n\nZum Posteingang: {link}{FOOTER}")


@dataclass(frozen=True)
class DueCounts:
    """Open follow-ups due by today: for the user (``mine``) and for the user's team."""

    mine_overdue: int = 0
    mine_today: int = 0
    team_overdue: int = 0
    team_today: int = 0

    @property
    def any(self) -> bool:
        return bool(self.mine_overdue or self.mine_today or self.team_overdue or self.team_today)


def _line(label: str, overdue: int, today: int) -> str:
    return f"- {label}: {overdue} überfällig, {today} heute fällig"


def digest_mail(day: date, counts: DueCounts, *, base_url: str) -> Mail:
    """The daily digest: how many follow-ups are overdue and due today, and the link to
    *Meine Wiedervorlagen*; nothing of a case or a person."""
    link = base_url.rstrip("/") + "/ui/follow-ups"
    overdue = counts.mine_overdue + counts.team_overdue
    due = counts.mine_today + counts.team_today
    subject = f"Staffel: Ihre Wiedervorlagen am {_date(day)} ({overdue} überfällig, {due} heute)"
    text = (
        f"Guten Tag,\n\nIhre fälligen Wiedervorlagen in Staffel am {_date(day)}:\n"
        f"{_line('für Sie', counts.mine_overdue, counts.mine_today)}\n"
        f"{_line('für Ihr Team', counts.team_overdue, counts.team_today)}"
    )
    settings = base_url.rstrip("/") + "/ui/settings"
    return Mail(
        subject,
        f"{text}\n\nZu Ihren Wiedervorlagen: {link}\n\nDiese Übersicht haben Sie selbst"
        f" bestellt; abbestellen können Sie sie unter {settings}{DIGEST_FOOTER}",
    )

"""The working group's figures from the case summaries of one organisation, for the whole time or
for a period (``start``..``end``, both days included): one computation for the statistics page, its
exports and the monthly report (ADR 0020).

For a period, a case counts for the organisation that was responsible for it at the end of the
period's last day, and its caseload under the office and caseworker responsible then: the summary's
``responsible`` history (``responsible_on``), not who holds it today. Intake counts the
registrations the organisation made in the period (``registrar``: a case handed over counts for the
Agentur that registered it, never for the Jobcenter that received it); the caseload (per office and
caseworker, the share with support need) the cases open on its last day; measures count those
running at some time in it; placements those starting in it; the days from recognition to acceptance
those handovers accepted in it. Without a period: the cases the organisation holds now, under their
office and caseworker now; the cases open now, every registration, every placement and acceptance,
the measures running now.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta
from typing import Any

Doc = dict[str, Any]


def _day(iso: str) -> date:
    return date.fromisoformat(iso)


def _within(iso: str | None, start: date | None, end: date | None) -> bool:
    if not iso:
        return False
    day = _day(iso)
    return (start is None or day >= start) and (end is None or day <= end)


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _weeks_between(start: date, end: date) -> list[str]:
    monday = start - timedelta(days=start.weekday())
    return [week_of(monday + timedelta(weeks=i)) for i in range((end - monday).days // 7 + 1)]


def open_on(doc: Doc, end: date | None) -> bool:
    """Whether the case was open at the end of ``end`` (now, without an end)."""
    if end is None:
        return not doc["closed"]
    if _day(doc["registered_on"]) > end:
        return False
    return not (doc["closed"] and doc["closed_on"] and _day(doc["closed_on"]) <= end)


def _open_during(doc: Doc, start: date | None, end: date | None) -> bool:
    if start is None or end is None:
        return open_on(doc, end)
    closed = doc["closed"] and doc["closed_on"] and _day(doc["closed_on"]) < start
    return _day(doc["registered_on"]) <= end and not closed


def responsible_on(doc: Doc, day: date | None) -> Doc:
    """Who was responsible for the case at the end of ``day`` (now, without a day): ``holder``,
    ``office`` and ``caseworker`` of the last entry of its history since then or earlier."""
    now = {"holder": doc.get("holder"), "office": doc["office"], "caseworker": doc["caseworker"]}
    history: list[Doc] = doc.get("responsible") or []
    if day is None or not history:
        return now
    earlier = [e for e in history if _day(e["since"]) <= day]
    return earlier[-1] if earlier else history[0]  # before its first entry: not open yet


def registrar(doc: Doc) -> str | None:
    """The organisation that registered the case (``registered_by``). A summary of before
    version 8 has none: the first responsible one, which a handover on the day of registration
    replaced (the day counts who was responsible at its end); before version 6, its holder."""
    if registered_by := doc.get("registered_by"):
        return str(registered_by)
    history: list[Doc] = doc.get("responsible") or []
    return history[0]["holder"] if history else doc.get("holder")


def _running(measure: Doc, start: date | None, end: date | None) -> bool:
    if start is None or end is None:
        return measure["ended_on"] is None
    begun = _day(measure["starts_on"]) <= end
    return begun and (measure["ended_on"] is None or _day(measure["ended_on"]) >= start)


def _count(keys: list[str]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for key in keys:
        counted[key] = counted.get(key, 0) + 1
    return dict(sorted(counted.items()))


def case_statistics(
    docs: list[Doc],
    now: datetime,
    start: date | None = None,
    end: date | None = None,
    org: str | None = None,
) -> dict[str, Any]:
    """The figures of ``docs``; with ``org``, of those ``org`` was responsible for at the end
    (now, or the period's last day), and the registrations ``org`` made."""
    registered = docs if org is None else [d for d in docs if registrar(d) == org]
    if org is not None:
        docs = [d for d in docs if responsible_on(d, end)["holder"] == org]
    active = [d for d in docs if open_on(d, end)]
    then = [responsible_on(d, end) for d in active]
    weeks = _count([week_of(_day(d["registered_on"])) for d in registered
                    if _within(d["registered_on"], start, end)])  # fmt: skip
    if start is not None and end is not None:  # every week of the period, also those without
        weeks = {w: weeks.get(w, 0) for w in _weeks_between(start, end)}
    assessed = [
        d for d in active
        if d["support_need"] is not None
        and (end is None or _within((d["competences"] or {}).get("assessed_on"), None, end))
    ]  # fmt: skip
    measures = [m["kind"] for d in docs if _open_during(d, start, end)
                for m in d["measures"] if _running(m, start, end)]  # fmt: skip
    placements = [p["kind"] for d in docs for p in d["placements"]
                  if _within(p["starts_on"], start, end)]  # fmt: skip
    days = [
        (_day(d["handover_accepted_on"]) - _day(d["recognized_on"])).days
        for d in docs if d["recognized_on"] and d["handover_accepted_on"]
        and _within(d["handover_accepted_on"], start, end)
    ]  # fmt: skip
    return {
        "period": {"from": start and start.isoformat(), "to": end and end.isoformat()},
        "active_cases": len(active),
        "by_office": _count([r["office"] or "-" for r in then]),
        "by_caseworker": _count([r["caseworker"] or "-" for r in then]),
        "registrations_per_week": weeks,
        "registrations": sum(weeks.values()),
        "support_need_share": (
            round(sum(1 for d in assessed if d["support_need"]) / len(assessed), 3)
            if assessed
            else None
        ),
        "support_need": {
            "with": sum(1 for d in assessed if d["support_need"]),
            "without": sum(1 for d in assessed if not d["support_need"]),
        },
        "measures_in_progress": len(measures),
        "measures_by_kind": _count(measures),
        "placements_by_kind": _count(placements),
        "median_days_recognition_to_acceptance": statistics.median(days) if days else None,
        "days_recognition_to_acceptance": sorted(days),
        "as_of": now.isoformat(),
    }

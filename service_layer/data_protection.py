"""Data protection: erasure (Art. 17 GDPR, crypto-shredding) and the subject access report
(Art. 15 GDPR, § 83 SGB X). Consent is recorded on the case (``service_layer.cases.record``).

The report holds everything held about the person, who it was shared with and who read it, for a
team lead or an admin of the holder or an auditor. Read from the read models (history, summary,
matching documents), the outbox and the access log: the history holds each entry opened, or
marked "[gelöscht]" once the case's key is erased, so the report works after erasure too and
shows the markers. Nothing is withheld: the report is for the person
(``Audience.SUBJECT_ACCESS``). Its own read is logged before the reads are listed, so the report
names itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog

from adapters.federation import receipts
from adapters.views.matching_queries import MatchingQueries
from domain import corrections
from domain.actor import acting_as
from domain.aggregates.case import Case
from domain.errors import CaseNotFoundError
from domain.principal import Principal, Role
from domain.values import ErasureGround, Redacted
from domain.writes import IdempotencyKey, Recorded
from service_layer import access
from service_layer import cases as operations
from service_layer.federation import is_remote
from service_layer.ports import Services

log = structlog.get_logger("staffel.cases")

Doc = dict[str, Any]
ERASED = Redacted.ERASED.value
ENTRY_FIELDS = ("version", "type", "recorded_at", "occurred_on", "actor", "org", "summary", "data")
PURPOSES = (
    "Beratung, Vermittlung und Förderung der Eingliederung in Arbeit (§§ 29 ff. SGB III,"
    " §§ 14 ff. SGB II)",
    "Übergabe des Falls an die zuständige Stelle beim Rechtskreiswechsel (§ 50 SGB II,"
    " § 67d SGB X)",
    "Weitergabe an Arbeitgeber und Patinnen und Paten nur mit Ihrer Einwilligung (§ 67b SGB X)",
)
LOG_PAGE = 1000


# -- erasure (Art. 17 GDPR, ADR 0008) -----------------------------------------------------------


def erase(
    services: Services,
    principal: Principal,
    case_id: UUID,
    ground: ErasureGround,
    reason: str,
    expected: int | None = None,
    idem: IdempotencyKey | None = None,
) -> Recorded:
    """Erase the case's personal data (crypto-shredding): ``PersonalDataErased``, then the case's
    key is deleted. A team lead or an admin of the holder; run again after an interruption, it
    completes the erasure."""
    access.require_erasure_right(principal)
    operations.require_known(services, principal, case_id)
    with acting_as(operations.actor_of(principal)):
        result = services.cases.erase_personal_data(
            case_id,
            ground=ground,
            reason=reason,
            expected_version=expected,
            idempotency=idem,
        )
    log.info("personal_data_erased", case_id=str(case_id), ground=ground.value)
    return result


@dataclass(frozen=True)
class ErasureTarget:
    """What an operator erasing a case needs to know first (``staffel erase``)."""

    case_id: UUID
    holder: str
    held_elsewhere: bool  # by an organisation of another deployment: erased there
    erased: bool  # recorded before (its key may survive an interruption)


def erasure_target(services: Services, case_id: UUID) -> ErasureTarget:
    try:
        case = services.cases.get_case(case_id)
    except CaseNotFoundError:
        raise access.case_not_found(case_id) from None
    if not isinstance(case, Case):
        raise access.case_not_found(case_id)
    return ErasureTarget(case.id, case.holder, is_remote(services, case.holder), case.erased)


# -- the subject access report (Art. 15 GDPR, § 83 SGB X) ---------------------------------------


def report(services: Services, principal: Principal, case_id: UUID, endpoint: str) -> Doc:
    """The report on ``case_id`` for ``principal`` (403 unless it may prepare one); its read is
    logged under ``endpoint``."""
    if not principal.has(Role.TEAM_LEAD, Role.ADMIN, Role.AUDITOR):  # before the look-up
        raise access.forbidden(
            f"role(s) {sorted(principal.roles)} may not prepare a subject access report"
            " (team_lead or admin of the holding organisation, or auditor needed)"
        )
    summary = operations.find_case(services, case_id)
    access.read_scope(principal, summary)  # another organisation: as for no case (404)
    access.require_subject_access_right(principal, summary)
    history = services.queries.history(str(case_id))
    if history is None:
        raise access.case_not_found(case_id)
    operations.log_reads(services, principal, [str(case_id)], endpoint)
    entries = [{k: e[k] for k in ENTRY_FIELDS} for e in history.entries]
    names = _names(services)
    erased = summary.get("erased_on") is not None
    return {
        "case_id": str(case_id),
        "generated_at": datetime.now(UTC).isoformat(),
        "generated_by": {"actor": principal.sub, "org": principal.org},
        "controller": _org(summary["holder"], names),
        "erased": erased,
        "erased_on": summary.get("erased_on"),
        "person": {
            **summary["person"],
            "bamf_file_number": ERASED if erased else summary["bamf_file_number"],
        },
        "purposes": list(PURPOSES),
        "summary": summary,
        "history": entries,
        "sources": [_org(org, names) for org in dict.fromkeys(e["org"] for e in entries)],
        "corrections": _corrections(entries, names),
        "shared_with": {
            "handovers": [_handover(h, names) for h in summary["handovers"]],
            "bundles": _bundles(services, case_id, entries, names),
            "consents": _consents(entries, names),
            "mentors": _mentors(services, entries, names),
            "employers": _placements(entries),
        },
        "reads": [
            {"at": r["at"], "actor": r["actor"], **_org(r["org"], names), "endpoint": r["endpoint"]}
            for r in _reads(services, case_id)
        ],
    }


def _names(services: Services) -> dict[str, str]:
    return {o.id: o.name for o in services.orgs}


def _org(org: str, names: dict[str, str]) -> Doc:
    return {"org": org, "org_name": names.get(org)}


def _handover(h: Doc, names: dict[str, str]) -> Doc:
    return {
        "from_org": h["from_org"],
        "from_name": names.get(h["from_org"]),
        "to_org": h["to_org"],
        "to_name": names.get(h["to_org"]),
        "legal_basis": h["legal_basis"],
        "reason": h["reason"],
        "state": h["state"],
        "offered_at": h["offered_at"],
        "decided_at": h["decided_at"],
        "effective_on": h["effective_on"],
    }


def _bundles(
    services: Services, case_id: UUID, entries: list[Doc], names: dict[str, str]
) -> list[Doc]:
    """Bundles (the case's events as they then stood) and receipts sent to other deployments,
    and every answer to a peer's receipt (``adapters.federation.receipts``)."""
    store = services.outbox.store
    with store.cursor() as curs:
        curs.execute(
            store.sql(
                "SELECT kind, version, peer, state, attempts FROM outbox WHERE case_id = %s"
                " ORDER BY version, kind"
            ),
            (str(case_id),),
        )
        rows = [dict(r) for r in curs.fetchall()]
    recorded = {e["version"]: e["recorded_at"] for e in entries}
    sent = [
        {"kind": r["kind"], "version": int(r["version"]), "as_of": recorded.get(int(r["version"])),
         "peer": r["peer"], "peer_name": names.get(r["peer"]), "state": r["state"],
         "attempts": int(r["attempts"]), "sent_at": None, "channel": "outbox"}
        for r in rows
    ]  # fmt: skip
    # each answer to a peer's receipt (the stream up to the decision), replays included
    return sent + [
        {"kind": d["kind"], "version": int(d["version"]), "as_of": recorded.get(int(d["version"])),
         "peer": d["peer"], "peer_name": names.get(d["peer"]), "state": "delivered",
         "attempts": 1, "sent_at": d["at"], "channel": d["channel"]}
        for d in receipts.disclosures(store, str(case_id))
    ]  # fmt: skip


def _corrections(entries: list[Doc], names: dict[str, str]) -> list[Doc]:
    """Each correction (Art. 16 GDPR): which entry, which field, the new value and why."""
    return [
        {
            "version": e["version"],
            "recorded_at": e["recorded_at"],
            **_org(e["org"], names),
            "corrects_version": e["data"]["corrects_version"],
            "field": e["data"]["field"],
            "field_label": corrections.LABELS.get(e["data"]["field"], e["data"]["field"]),
            "value": e["data"]["value"] or e["data"]["personal_value"],
            "reason": e["data"]["reason"],
        }
        for e in entries
        if e["type"] == "FactCorrected"
    ]


def _consents(entries: list[Doc], names: dict[str, str]) -> list[Doc]:
    withdrawn = {
        e["data"]["consent_id"]: e["data"]["withdrawn_on"]
        for e in entries
        if e["type"] == "ConsentWithdrawn"
    }
    return [
        {
            "consent_id": e["data"]["consent_id"],
            "purpose": e["data"]["purpose"],
            "recipient": e["data"]["recipient"],
            "recipient_name": names.get(e["data"]["recipient"]),
            "scope": e["data"]["scope"],
            "given_on": e["data"]["given_on"],
            "valid_until": e["data"].get("valid_until"),  # none before it existed
            "withdrawn_on": withdrawn.get(e["data"]["consent_id"]),
        }
        for e in entries
        if e["type"] == "ConsentGiven"
    ]


def _mentors(services: Services, entries: list[Doc], names: dict[str, str]) -> list[Doc]:
    """Each mentoring from its assignment to its release (None: still going)."""
    spans: list[Doc] = []
    for e in entries:
        data = e["data"]
        if e["type"] == "MentorAssigned":
            spans.append(
                {"volunteer_id": data["volunteer_id"], **_org(data["organisation"], names),
                 "assigned_on": data["assigned_on"], "released_on": None}
            )  # fmt: skip
        elif e["type"] == "MentorReleased":
            open_ = [s for s in spans if s["volunteer_id"] == data["volunteer_id"]]
            if open_ and open_[-1]["released_on"] is None:
                open_[-1]["released_on"] = data["released_on"]
    volunteers = MatchingQueries(services.supervisor.store)
    for span in spans:
        found = volunteers.volunteer(span["volunteer_id"])
        span["volunteer_name"] = found.get("name") if found else None
    return spans


def _placements(entries: list[Doc]) -> list[Doc]:
    ended = {
        e["data"]["placement_id"]: e["data"]["ended_on"]
        for e in entries
        if e["type"] == "PlacementEnded"
    }
    return [
        {
            "placement_id": e["data"]["placement_id"],
            "employer": e["data"]["employer"],
            "kind": e["data"]["kind"],
            "offer_id": e["data"]["offer_id"],
            "starts_on": e["data"]["starts_on"],
            "ended_on": ended.get(e["data"]["placement_id"]),
        }
        for e in entries
        if e["type"] == "PlacementMade"
    ]


def _reads(services: Services, case_id: UUID) -> list[Doc]:
    rows: list[Doc] = []
    after = 0
    while page := services.access_log.entries(case_id=str(case_id), after=after, limit=LOG_PAGE):
        rows += page
        if len(page) < LOG_PAGE:
            break
        after = page[-1]["id"]
    return rows

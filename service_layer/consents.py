"""A consent must have an effect (issue 18): its recipient is an employer, a volunteer or an
organisation that exists here, and its scope names only data categories of the consent
vocabulary (``domain.consent``). Checked for every staff entry point before ``ConsentGiven`` is
recorded (the JSON API, the web form, the CLI all go through ``cases.record``); refused as
``InvalidInputError`` naming the field (422). ADR 0019.

Which recipient a consent may name follows from who reads it (``service_layer.matching``): a
consent to share with an employer is read by the employer (its account or id); one to share with
a mentor by the volunteer (its id) or the volunteer's organisation. The stored aggregates decide
existence, so an employer registered a moment ago counts (no read-model lag)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adapters.views.matching_queries import MatchingQueries
from domain import consent
from domain.aggregates.employer import Employer
from domain.aggregates.volunteer import Volunteer
from domain.values import ConsentPurpose
from service_layer.errors import InvalidInputError
from service_layer.ports import Services

EMPLOYER, MENTOR = ConsentPurpose.SHARE_WITH_EMPLOYER, ConsentPurpose.SHARE_WITH_MENTOR


def check_consent(services: Services, fields: dict[str, Any]) -> None:
    """Refuse a ``ConsentGiven`` whose scope or recipient is unknown here, or that ends before
    it was given."""
    given_on, valid_until = fields.get("given_on"), fields.get("valid_until")
    if valid_until is not None and given_on is not None and valid_until < given_on:
        raise InvalidInputError(
            "valid_until",
            "before the day the consent was given",
            f"valid until {valid_until.isoformat()} is before given_on {given_on.isoformat()}",
        )
    unknown = sorted(set(fields.get("scope") or ()) - consent.VOCABULARY)
    if unknown:
        raise InvalidInputError(
            "scope",
            "unknown data category",
            f"{', '.join(unknown)} not in the consent vocabulary"
            f" ({', '.join(sorted(consent.VOCABULARY))})",
        )
    purpose = ConsentPurpose(fields["purpose"])
    recipient = str(fields["recipient"])
    if not _is_recipient(services, purpose, recipient):
        wanted = "an employer" if purpose == EMPLOYER else "a volunteer or an organisation"
        raise InvalidInputError(
            "recipient",
            "unknown recipient",
            f"'{recipient}' is not {wanted} known here (purpose {purpose.value})",
        )


def _is_recipient(services: Services, purpose: ConsentPurpose, recipient: str) -> bool:
    app = services.cases
    as_id = _uuid(recipient)
    if purpose == EMPLOYER:
        ids = [as_id] if as_id else [Employer.create_id(recipient)]
        return any(app.exists(i, Employer) for i in ids)
    if as_id is not None:
        return app.exists(as_id, Volunteer)
    return recipient in services.orgs


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def recipients(services: Services) -> tuple[tuple[str, str], ...]:
    """What a consent form offers staff as recipients: employers, volunteers, organisations."""
    q = MatchingQueries(services.supervisor.store)
    employers = q.employers(filters={"active": True}, limit=200).items
    volunteers = q.volunteers(filters={}, limit=200).items
    orgs = {o.id: o.name for o in services.orgs}
    return (
        *((e["account"], f"{e['name']} (Arbeitgeber)") for e in employers),
        *(
            (v["volunteer_id"], f"{v['name']} (Pate/Patin, {orgs.get(v['organisation'], '')})")
            for v in volunteers
        ),
        *((o.id, f"{o.name} (Organisation)") for o in services.orgs if o.kind != "audit"),
    )

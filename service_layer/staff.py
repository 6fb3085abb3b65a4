"""Staff as people read them: "Sabine Klein (Agentur für Arbeit Saarland)" from the staff
directory (ADR 0015), the actor id where the directory does not know it. The one lookup the
pages (the ``actor`` filter), the exports and the reports use; the events keep the id."""

from __future__ import annotations

from domain.handover_policy import POLICY_ACTOR
from service_layer.ports import Services

POLICY_NAME = "automatisch (Übergaberegel)"


def display_name(services: Services | None, login: str, org_id: str | None = None) -> str:
    """``login``'s name and organisation; with ``org_id``, the organisation shows even where the
    directory does not know the person."""
    if login == POLICY_ACTOR:
        return POLICY_NAME
    entry = services.directory.get(login) if services is not None and login else None
    if entry is None and org_id is None:
        return login
    name, org_id = (entry.name, entry.org) if entry else (login, org_id)
    org = services.orgs.get(org_id) if services is not None and org_id else None
    return f"{name} ({org.name if org else org_id})"

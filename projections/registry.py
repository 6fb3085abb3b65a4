"""The projections a deployment runs, in the order the runner feeds them. Each lives in its own
module with the view protocol it writes through; its tables are in ``adapters/views/schema.py``
and its writer in ``adapters/views/store.py`` (``WRITERS``), both keyed by the projection's name.

The handover policy and the federation outbox follow the same log but are not projections: they
run beside these in ``workers/``."""

from __future__ import annotations

from typing import Any

from projections.base import Projection
from projections.follow_ups import FollowUpProjection
from projections.history import CaseHistoryProjection
from projections.matching_view import MatchingProjection
from projections.summary import CaseSummaryProjection

PROJECTIONS: tuple[Projection[Any], ...] = (
    CaseHistoryProjection(),
    CaseSummaryProjection(),
    MatchingProjection(),
    FollowUpProjection(),
)

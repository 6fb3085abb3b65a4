"""Build the application objects from settings: the one place that wires persistence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from adapters.settings import Settings, library_env
from domain.placements import StaffelApplication


def build_case_application(
    settings: Settings | None = None, today: Callable[[], date] = date.today
) -> StaffelApplication:
    """The case application with employers, offers and volunteers (one store)."""
    return StaffelApplication(env=library_env(settings or Settings()), today=today)

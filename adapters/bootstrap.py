"""Build the application objects from settings: the one place that wires persistence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from adapters.bamf_index_key import keyed_index_id
from adapters.files import private_dir
from adapters.keystore import CaseKeys, MasterKey
from adapters.settings import Settings, library_env
from domain.placements import StaffelApplication


def master_key(settings: Settings) -> MasterKey:
    if settings.master_key is not None:
        return MasterKey.from_text(settings.master_key.get_secret_value())
    return MasterKey.load_or_create(settings.master_key_path)


def build_case_application(
    settings: Settings | None = None, today: Callable[[], date] = date.today
) -> StaffelApplication:
    """The case application with employers, offers and volunteers (one store), sealing
    personal fields with per-case keys (ADR 0008), its BAMF index keyed (ADR 0010)."""
    settings = settings or Settings()
    private_dir(settings.data_dir)  # keys, the SQLite store, bundles: this account's only
    master = master_key(settings)
    app = StaffelApplication(
        env=library_env(settings), today=today, index_id=keyed_index_id(master)
    )
    app.keys = CaseKeys(app.recorder, master, app.mapper.transcoder)
    return app

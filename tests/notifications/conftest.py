"""The app on the test's backend with its mail going to a real SMTP server (aiosmtpd on a free
loopback port) and a clock the test moves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.clock import SettableClock
from api.app import create_app
from bootstrap import build_services
from tests.conftest import create_database
from tests.support.api import Api, settings_for
from tests.support.processes import wait_until
from tests.support.smtp import Handler, Received, smtp_server

BASE_URL = "https://staffel.kreis-heinsberg.example"
TEAM = "team@jobcenter-heinsberg.example"  # demo/orgs.toml's team address of the Jobcenter


@dataclass
class Mailed:
    api: Api
    smtp: Handler
    clock: SettableClock

    def rounds(self, n: int = 2) -> None:
        """Let the workers run ``n`` whole rounds (after the clock moved)."""
        for _ in range(n):
            assert self.api.services.supervisor.finish_round(20), "the round did not end"

    def rows(self, case_id: str) -> list[dict[str, Any]]:
        return [r for r in self.api.services.mail.rows() if r["case_id"] == case_id]

    def received(self, case_id: str) -> list[Received]:
        """The mails about ``case_id`` (on PostgreSQL the tests of a session share a database)."""
        return [m for m in self.smtp.received if case_id in m.text]

    def wait_for(self, case_id: str, count: int, timeout: float = 20.0) -> list[Received]:
        assert wait_until(lambda: len(self.received(case_id)) >= count, timeout, 0.05), (
            f"{len(self.received(case_id))} mails, not {count}"
        )
        return self.received(case_id)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL per backend; on PostgreSQL a database of the test's own: the mail outbox
    reads the whole log, and the session's shared database holds other tests' events sealed with
    keys this app does not have."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/staffel.db"
    request.getfixturevalue("postgres_server")
    return create_database("staffel_mail")


@pytest.fixture
def make_mailed(backend: str, tmp_path: Path) -> Iterator[Callable[..., Mailed]]:
    built: list[tuple[Api, Any]] = []

    def make(
        tls: tuple[Path, Path] | None = None, login: tuple[str, str] | None = None,
        **overrides: Any,
    ) -> Mailed:  # fmt: skip
        server = smtp_server(tls, login)
        smtp, port = server.__enter__()
        clock = SettableClock(datetime.now(UTC))
        settings = settings_for(
            backend, data_dir=tmp_path / "data",
            **{"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False,
               "mail_from": "staffel@kreis-heinsberg.example", "public_url": BASE_URL,
               **overrides},
        )  # fmt: skip
        services = build_services(settings, clock=clock)
        app = create_app(settings, services)
        client = TestClient(app)
        client.__enter__()
        api = Api(app=app, services=services, client=client)
        built.append((api, server))
        return Mailed(api, smtp, clock)

    yield make
    for api, server in reversed(built):
        api.client.__exit__(None, None, None)
        api.services.close()
        server.__exit__(None, None, None)


@pytest.fixture
def mailed(make_mailed: Callable[..., Mailed]) -> Mailed:
    return make_mailed()

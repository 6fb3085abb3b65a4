"""``staffel mail status``: what the outbox holds, per state and kind, and exit 1 for monitoring
when a mail has waited too long."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.notifications.conftest import Mailed
from tests.support.cli import run


def test_mail_status_shows_pending_and_sent_mails(
    mailed: Mailed, backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("STAFFEL_DATABASE_URL", backend)
    monkeypatch.setenv("STAFFEL_DATA_DIR", str(tmp_path / "data"))
    mailed.smtp.refuse_next = 10**6
    case_id = mailed.api.offered_case()
    mailed.rounds(3)
    assert mailed.rows(case_id)[0]["state"] == "pending"

    code, out, _ = run(capsys, "mail", "status", "--json")
    assert code == 0
    state = json.loads(out[out.index('{\n  "smtp_configured"') :])  # after the log lines
    counts = {(c["state"], c["kind"]): c["mails"] for c in state["counts"]}
    assert counts[("pending", "handover_offered")] >= 1  # on PostgreSQL: other tests' too
    assert state["oldest_pending"]["attempts"] >= 1
    code, _, _ = run(capsys, "mail", "status", "--max-pending-seconds", "0")
    assert code == 1

    mailed.smtp.refuse_next = 0
    mailed.clock.advance(hours=2)
    mailed.wait_for(case_id, 1)
    mailed.rounds(2)
    code, out, _ = run(capsys, "mail", "status")
    assert code == 0
    assert "sent       handover_offered" in out

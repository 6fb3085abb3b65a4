"""STARTTLS: the mail goes over TLS to a server that requires it, trusting the configured CA
(here the server's self-signed certificate), and is kept, not lost, while the certificate is not
trusted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.notifications.conftest import TEAM, Mailed
from tests.support.smtp import self_signed


def test_mail_goes_over_starttls_trusting_the_configured_ca(
    make_mailed: Callable[..., Mailed], tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    mailed = make_mailed(tls=(cert, key), smtp_starttls=True, smtp_cafile=cert)
    case_id = mailed.api.offered_case()
    [mail] = mailed.wait_for(case_id, 1)
    assert mail.recipients == [TEAM]


def test_an_untrusted_certificate_keeps_the_mail_pending(
    make_mailed: Callable[..., Mailed], tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    mailed = make_mailed(tls=(cert, key), smtp_starttls=True)  # the system's CAs only
    case_id = mailed.api.offered_case()
    mailed.rounds(3)
    assert mailed.received(case_id) == []
    [row] = mailed.rows(case_id)
    assert row["state"] == "pending"
    assert row["attempts"] >= 1
    assert "SSLCertVerificationError" in row["last_error"]

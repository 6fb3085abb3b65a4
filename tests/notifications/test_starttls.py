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


def test_mail_logs_in_after_starttls_and_a_wrong_password_fails_it(
    make_mailed: Callable[..., Mailed], tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    login = ("staffel-relay", "richtig-" + "0" * 8)
    right = make_mailed(
        tls=(cert, key), login=login, smtp_starttls=True, smtp_cafile=cert,
        smtp_username=login[0], smtp_password=login[1],
    )  # fmt: skip
    case_id = right.api.offered_case()
    [mail] = right.wait_for(case_id, 1)
    assert mail.recipients == [TEAM]


def test_a_refused_login_marks_the_mail_failed(
    make_mailed: Callable[..., Mailed], tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    wrong = make_mailed(
        tls=(cert, key), login=("staffel-relay", "richtig"), smtp_starttls=True,
        smtp_cafile=cert, smtp_username="staffel-relay", smtp_password="falsch",
    )  # fmt: skip
    case_id = wrong.api.offered_case()
    wrong.rounds(3)
    assert wrong.received(case_id) == []
    [row] = wrong.rows(case_id)
    assert row["state"] == "failed"
    assert "535" in row["last_error"]

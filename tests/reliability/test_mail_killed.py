"""The e-mail outbox survives SIGKILL: a ``staffel serve`` on PostgreSQL records a handover offer
and its mail row, the SMTP server refuses the mail (451) and the process is killed before it got
it out; started again, it sends the mail, which arrives once (ADR 0018)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.reliability.conftest import Deployment
from tests.support.api import AGENTUR, RECOGNIZED, registration
from tests.support.federation import bearer
from tests.support.processes import JWT_SECRET, wait_until
from tests.support.smtp import smtp_server

TEAM = "team@jobcenter-heinsberg.example"


def mail_rows(deployment: Deployment, case_id: str) -> list[dict[str, Any]]:
    with deployment.store.cursor() as curs:
        curs.execute("SELECT * FROM mail_outbox WHERE case_id = %s", (case_id,))
        return [dict(r) for r in curs.fetchall()]


def test_a_mail_committed_but_not_sent_when_the_server_is_killed_arrives_once_after_restart(
    deployment: Deployment,
) -> None:
    with smtp_server() as (smtp, port):
        smtp.refuse_next = 10**6  # every attempt answered 451 until the restart
        server = deployment.serve(
            STAFFEL_SMTP_HOST="127.0.0.1", STAFFEL_SMTP_PORT=str(port),
            STAFFEL_SMTP_STARTTLS="false", STAFFEL_MAIL_RETRY_SECONDS="0.2",
            STAFFEL_PUBLIC_URL="https://staffel.example",
            STAFFEL_MAIL_FROM="staffel@staffel.example",
        )  # fmt: skip
        server.wait_ready()
        holder = bearer(JWT_SECRET, "cw-agentur", AGENTUR)
        with httpx.Client(base_url=server.base_url, headers=holder, timeout=10) as client:
            r = client.post("/cases", json=registration())
            assert r.status_code == 201, r.text
            case_id = str(r.json()["case_id"])
            r = client.post(f"/cases/{case_id}/events", json=RECOGNIZED)
            assert r.status_code == 201, r.text

        # the policy offers, the outbox writes the row and tries it: refused at least twice
        assert wait_until(lambda: smtp.refused >= 2, 30, 0.05), deployment.logs_tail()
        server.kill()
        [row] = mail_rows(deployment, case_id)
        assert (row["state"], row["recipient"]) == ("pending", TEAM), row
        assert smtp.received == []

        smtp.refuse_next = 0
        server.restart()
        server.wait_ready()
        # a send under way at the kill is due again after its claim (15 s): within 45 s
        assert wait_until(lambda: len(smtp.received) >= 1, 45, 0.05), deployment.logs_tail()
        assert wait_until(lambda: mail_rows(deployment, case_id)[0]["state"] == "sent", 10)
        time.sleep(1.5)  # rounds enough for a duplicate to show
        assert [m.recipients for m in smtp.received] == [[TEAM]]
        assert case_id in smtp.received[0].text
        [row] = mail_rows(deployment, case_id)
        assert row["state"] == "sent"
        assert int(row["attempts"]) >= 3

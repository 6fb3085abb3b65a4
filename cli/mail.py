"""``staffel mail status``: the e-mail outbox's state (ADR 0018), for operators and monitoring."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime

from adapters.settings import Settings
from bootstrap import build_case_application
from workers.mail_sending import outbox_status
from workers.projections import build_view_store

EXIT_OK, EXIT_PROBLEM = 0, 1


def status(args: argparse.Namespace) -> int:
    settings = Settings()
    app = build_case_application(settings)
    try:
        found = outbox_status(build_view_store(app), datetime.now(UTC))
    finally:
        app.close()
    oldest = found["oldest_pending"]
    if args.json:
        print(json.dumps({"smtp_configured": bool(settings.smtp_host), **found}, indent=2))
    else:
        print(f"SMTP: {settings.smtp_host or 'not configured (no mails are written)'}")
        print("{:<10} {:<20} {:>6}".format("state", "kind", "mails"))
        for c in found["counts"]:
            print(f"{c['state']:<10} {c['kind']:<20} {c['mails']:>6}")
        if oldest:
            print(
                f"oldest pending: {oldest['age_seconds']:.0f} s old, {oldest['attempts']} attempts,"
                f" next {oldest['next_attempt_at']}, last error: {oldest['last_error'] or '-'}"
            )
        for f in found["failed"]:
            print(f"failed: {f['kind']} {f['event_key']} to {f['recipient']}: {f['last_error']}")
    too_old = args.max_pending_seconds is not None and oldest is not None
    if too_old and oldest["age_seconds"] > args.max_pending_seconds:
        return EXIT_PROBLEM
    if args.fail_on_failed and found["failed"]:
        return EXIT_PROBLEM
    return EXIT_OK


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    mail = command("mail", "The e-mail notifications' outbox (ADR 0018).")
    steps = mail.add_subparsers(dest="step", required=True, metavar="STEP")
    text = (
        "Show the outbox: mails per state (pending, sent, failed) and kind, the oldest unsent"
        " one with its last error, the failed ones (refused with 5xx, not retried)."
    )
    show = steps.add_parser("status", help=text, description=text)
    show.add_argument("--json", action="store_true", help="print the state as JSON")
    show.add_argument(
        "--max-pending-seconds",
        type=float,
        default=None,
        metavar="S",
        help="exit 1 when a mail has waited longer than S seconds (for monitoring)",
    )
    show.add_argument(
        "--fail-on-failed", action="store_true", help="exit 1 when any mail has failed"
    )
    show.set_defaults(run=status)

"""The ``staffel`` command. Subcommands arrive with the issues that need them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from adapters.bootstrap import build_case_application
from adapters.settings import Settings


def _info(_: argparse.Namespace) -> int:
    settings = Settings()
    app = build_case_application(settings)
    try:
        backend = "PostgreSQL" if settings.is_postgres else "SQLite"
        name = app.env.get("POSTGRES_DBNAME") or app.env.get("SQLITE_DBNAME")
        print(f"store:     {backend} ({name})")
        print(f"position:  {app.recorder.max_notification_id() or 0}")
        print(f"encrypted: {'yes' if settings.cipher_key else 'no'}")
        print(f"compressed: {'yes' if settings.compress else 'no'}")
        print(
            f"snapshots: every {settings.snapshot_interval} events"
            if settings.snapshot_interval
            else "snapshots: off"
        )
    finally:
        app.close()
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="staffel",
        description="Staffel: refugee case records that survive the Rechtskreiswechsel.",
        epilog="Settings come from STAFFEL_* environment variables (see README).",
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    info = commands.add_parser(
        "info",
        help="show the configured event store and its global position",
        description="Show the configured event store and its global position.",
    )
    info.set_defaults(run=_info)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ValidationError as e:
        print(f"staffel: invalid settings:\n{e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

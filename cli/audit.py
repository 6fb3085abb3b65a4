"""``staffel audit verify | checkpoint | export``: the handlers behind ``cli.main``. Output
goes to stdout (redirect it to a file), progress and summaries to stderr."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adapters.access_log import AccessLog
from adapters.audit.checkpoint import build_checkpoint, write_checkpoint
from adapters.audit.export import export
from adapters.audit.verify import Checkpoint, load_checkpoint, verify_one, verify_store
from adapters.federation.signing import load_or_create_key, public_key_text
from adapters.files import private_stdout
from adapters.progress import Progress
from adapters.settings import Settings
from bootstrap import build_case_application
from domain.application import StaffelApplication
from verifier import audit_verify as av
from workers.projections import build_view_store

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


@contextmanager
def opened() -> Iterator[tuple[Settings, StaffelApplication]]:
    settings = Settings()
    app = build_case_application(settings)
    try:
        yield settings, app
    finally:
        app.close()


def _utf8_stdout() -> None:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")


def _own_public_key(settings: Settings, given: str | None) -> str:
    if given:
        return given
    if not settings.signing_key_path.exists():
        raise UsageError(f"no signing key at {settings.signing_key_path}: pass --public-key")
    return public_key_text(load_or_create_key(settings.signing_key_path))


def _checkpoint(path: str | None, public_key: str) -> Checkpoint | None:
    if path is None:
        return None
    try:
        document = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read checkpoint {path}: {e}") from None
    return load_checkpoint(document, public_key)


def _print(result: dict[str, Any], as_json: bool) -> int:
    if as_json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        av.print_report(result)
    return EXIT_PROBLEM if result["problems"] else EXIT_OK


def verify(args: argparse.Namespace) -> int:
    try:
        with opened() as (settings, app):
            key = _own_public_key(settings, args.public_key) if args.since_checkpoint else ""
            checkpoint = _checkpoint(args.since_checkpoint, key)
            if args.case:
                return _print(verify_one(app, args.case, checkpoint), args.json)
            access_log = AccessLog(build_view_store(app))
            with Progress("verify", app.recorder.max_notification_id() or 0) as bar:
                result, _ = verify_store(app, access_log, checkpoint, bar.advance)
            return _print(result, args.json)
    except (UsageError, ValueError) as e:
        print(f"staffel: {e}", file=sys.stderr)
        return EXIT_USAGE


def checkpoint(args: argparse.Namespace) -> int:
    with opened() as (settings, app):
        key = load_or_create_key(settings.signing_key_path)
        access_log = AccessLog(build_view_store(app))
        with Progress("checkpoint", app.recorder.max_notification_id() or 0) as bar:
            backend = "PostgreSQL" if settings.is_postgres else "SQLite"
            store = f"{backend} {app.env.get('POSTGRES_DBNAME') or app.env.get('SQLITE_DBNAME')}"
            document, result = build_checkpoint(app, access_log, key, bar.advance, store)
    if result["problems"] and not args.force:
        av.print_report(result, sys.stderr)
        print("staffel: no checkpoint written: it would sign these problems (--force signs"
              " them anyway, listed as known_problems)", file=sys.stderr)  # fmt: skip
        return EXIT_PROBLEM
    _utf8_stdout()
    write_checkpoint(document, sys.stdout)
    print(f"checkpoint at position {document['position']:,}: {document['cases']:,} cases,"
          f" root {document['root']}", file=sys.stderr)  # fmt: skip
    return EXIT_OK


def export_log(args: argparse.Namespace) -> int:
    with opened() as (_, app):
        _utf8_stdout()
        private_stdout()  # the export holds pseudonymous personal data
        if args.case:
            count = export(app, sys.stdout, args.case)
            if not count:
                print(f"staffel: no case {args.case}", file=sys.stderr)
                return EXIT_PROBLEM
        else:
            with Progress("export", app.recorder.max_notification_id() or 0) as bar:
                count = export(app, sys.stdout, advance=bar.advance)
    print(f"exported {count:,} events", file=sys.stderr)
    return EXIT_OK

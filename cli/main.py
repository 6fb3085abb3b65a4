"""The ``staffel`` command. Exit codes: 0 done, 1 the work found a problem, 2 bad usage or
settings, 130 interrupted (safe to run again: every command resumes from what is stored)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from pydantic import ValidationError

from adapters import http_listener
from adapters.files import private_stdout
from adapters.progress import Progress
from adapters.settings import Settings
from bootstrap import build_case_application
from cli.mail import add_commands as mail_commands
from domain.policy import today_in_germany
from domain.principal import Role
from domain.values import ErasureGround
from projections.registry import PROJECTIONS
from workers.projections import (
    ProjectionWorker,
    build_view_store,
    lag,
)

if TYPE_CHECKING:
    import uvicorn

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
WORKER_HEALTHCHECK_SECONDS = 60


def _info(_: argparse.Namespace) -> int:
    settings = Settings()
    app = build_case_application(settings)
    try:
        backend = "PostgreSQL" if settings.is_postgres else "SQLite"
        name = app.env.get("POSTGRES_DBNAME") or app.env.get("SQLITE_DBNAME")
        print(f"store:      {backend} ({name})")
        print(f"position:   {app.recorder.max_notification_id() or 0}")
        print(f"encrypted:  {'yes' if settings.cipher_key else 'no'}")
        print(f"compressed: {'yes' if settings.compress else 'no'}")
        interval = settings.snapshot_interval
        print(f"snapshots:  {f'every {interval} events' if interval else 'off'}")
    finally:
        app.close()
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    import json

    from workers.leader import MEMBERS, holder

    app = build_case_application(Settings())
    try:
        store = build_view_store(app)
        lags = [lag(app, store, projection) for projection in PROJECTIONS]
        lead = holder(app, store)
    finally:
        app.close()
    worst = max((lg.behind for lg in lags), default=0)
    leader = (
        None
        if lead is None
        else {"host": lead.host, "pid": lead.pid, "since": lead.since, "live": lead.live}
    )
    if args.json:
        projections = [
            {"projection": lg.projection, "generation": lg.generation, "position": lg.position,
             "head": lg.head, "behind": lg.behind, "seconds": round(lg.seconds, 1)}
            for lg in lags
        ]  # fmt: skip
        leads = dict.fromkeys(MEMBERS, leader)
        print(json.dumps({"projections": projections, "leads": leads}, indent=2))
    else:
        header = ("projection", "gen", "position", "head", "behind", "seconds")
        print("{:<14} {:>4} {:>10} {:>10} {:>8} {:>8}".format(*header))
        for lg in lags:
            print(
                f"{lg.projection:<14} {lg.generation:>4} {lg.position:>10} {lg.head:>10}"
                f" {lg.behind:>8} {lg.seconds:>8.1f}"
            )
        print("{:<16} {}".format("worker", "lead"))
        for member in MEMBERS:
            print(f"{member:<16} {_lead_text(lead)}")
    if args.max_behind is not None and worst > args.max_behind:
        return EXIT_PROBLEM
    if args.require_lead and not (lead and lead.live):
        return EXIT_PROBLEM
    return EXIT_OK


def _lead_text(lead: object) -> str:
    from workers.leader import Holder

    if not isinstance(lead, Holder):
        return "none (no process has led on this database)"
    who = f"{lead.host} pid {lead.pid} since {lead.since}"
    return who if lead.live else f"none (last: {who})"


def _project(args: argparse.Namespace) -> int:
    from adapters.logging import configure_logging
    from bootstrap import build_services

    settings = Settings()
    configure_logging(settings.log_format)
    services = build_services(settings, start_projections=False)
    services.supervisor.poll_interval = args.poll_interval
    services.supervisor.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(
        "projections, handover policy and outbox running (leading or standing by); Ctrl-C to stop",
        file=sys.stderr,
    )
    stop.wait()
    services.close()
    return EXIT_OK


def _replay(args: argparse.Namespace) -> int:
    chosen = [p for p in PROJECTIONS if args.projection in (None, p.name)]
    if not chosen:
        print(f"staffel: no projection '{args.projection}'", file=sys.stderr)
        return EXIT_USAGE
    app = build_case_application(Settings())
    try:
        store = build_view_store(app)
        head = app.recorder.max_notification_id() or 0
        for projection in chosen:
            building = [
                g["generation"] for g in store.generations(projection.name)
                if g["state"] == "building" and g["version"] == projection.version
            ]  # fmt: skip
            generation = (
                building[-1]
                if building
                else store.new_generation(projection.name, projection.version)
            )
            worker = ProjectionWorker(app, store, projection, generation)
            with Progress(f"replay {projection.name} (g{generation})", head) as bar:
                bar.advance(worker.position)
                worker.catch_up(bar.advance)
            retired = store.activate(projection.name, generation)
            print(
                f"{projection.name}: generation {generation} active (replaced {retired or 'none'})"
            )
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        app.close()
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from adapters import write_positions
    from adapters.logging import configure_logging, log_uncaught
    from adapters.metrics_dir import shared_metrics_dir
    from bootstrap import StartupError, check_production
    from demo.seed import DEMO_USERS

    settings = Settings(demo=True) if args.demo else Settings()
    if args.demo and "database_url" not in Settings().model_fields_set:
        settings = Settings(demo=True, database_url=f"sqlite:///{settings.data_dir}/staffel.db")
    configure_logging(settings.log_format)
    log_uncaught()
    try:
        check_production(settings)
    except StartupError as e:
        print(f"staffel: {e}", file=sys.stderr)
        return EXIT_USAGE
    if settings.demo:
        url = f"http://{args.host}:{args.port}"
        print(f"Staffel demo on {url} (API docs: {url}/docs), data in {settings.data_dir}/")
        print("Tokens for the demo users (run in this folder):")
        for sub, name, org, role in DEMO_USERS:
            print(f"  {name:<16} .venv/bin/staffel token --sub {sub} --org {org} --role {role}")
    # the app reads the same settings from the environment (the CLI never imports ``api``)
    os.environ["STAFFEL_DEMO"] = "true" if settings.demo else "false"
    os.environ["STAFFEL_DATABASE_URL"] = settings.database_url
    if args.no_workers:
        os.environ["STAFFEL_WORKERS"] = "false"
    workers = args.workers or settings.http_worker_count
    # each worker knows how many serve beside it (a read may follow a write another answered)
    os.environ["STAFFEL_HTTP_WORKERS"] = str(workers)
    # the HTTP workers' shared metrics: a fresh private directory per start (api/metrics.py)
    with shared_metrics_dir() as metrics_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        # the callers' last write positions, read by every worker (read-your-writes, ADR 0013)
        positions = write_positions.create(metrics_dir / "write-positions.bin")
        os.environ[write_positions.ENV] = str(positions)
        # each worker process builds its own app (``serve_app``); of their background workers
        # one leads and the others stand by (workers/leader.py, ADR 0013)
        options: dict[str, Any] = {
            "factory": True,
            "host": args.host,
            "port": args.port,
            "workers": workers,
            "log_config": None,
            "access_log": False,  # api.app logs each request, without the query string
            # a worker must answer the manager's ping within this; its default (5 s) killed
            # workers still starting on a loaded machine, again and again (ADR 0013)
            "timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS,
        }
        if workers > 1 and http_listener.reuse_port_supported():
            return _serve_reuse_port(uvicorn.Config("api.app:serve_app", **options))
        uvicorn.run("api.app:serve_app", **options)
    return EXIT_OK


def _serve_reuse_port(config: uvicorn.Config) -> int:
    """uvicorn's process manager, each worker on a listening socket of its own
    (``adapters/http_listener.py``, ADR 0013)."""
    import structlog
    from uvicorn.supervisors import Multiprocess

    try:
        reserved, listener = http_listener.reserve(config.host, config.port)
    except OSError as e:
        print(f"staffel: cannot listen on {config.host}:{config.port}: {e}", file=sys.stderr)
        return EXIT_USAGE
    with reserved:
        structlog.get_logger("staffel.serve").info(
            "listening", url=f"http://{config.host}:{listener.port}", workers=config.workers
        )
        # uvicorn pickles the list into each worker it starts; there the listener is a socket
        sockets = cast("list[socket.socket]", [listener])
        with contextlib.suppress(KeyboardInterrupt):
            Multiprocess(config, sockets=sockets).run()
    return EXIT_OK


def _token(args: argparse.Namespace) -> int:
    from adapters.auth import mint
    from bootstrap import jwt_secret

    settings = Settings()
    if settings.jwt_secret is None:
        settings = Settings(demo=True)  # the demo secret in the data directory
    secret = jwt_secret(settings)
    assert secret is not None
    if not 0 < args.ttl <= settings.jwt_max_lifetime_seconds:
        print(
            f"staffel: --ttl must be 1 to {settings.jwt_max_lifetime_seconds} seconds"
            " (STAFFEL_JWT_MAX_LIFETIME_SECONDS): a longer-lived token is refused",
            file=sys.stderr,
        )
        return EXIT_USAGE
    roles = [Role(r).value for r in args.role]
    print(
        f"token for {args.sub} ({args.org}, {', '.join(roles)}), valid {args.ttl} s:",
        file=sys.stderr,
    )
    token = mint(
        secret,
        sub=args.sub,
        org=args.org,
        roles=roles,
        name=args.name,
        ttl=args.ttl,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    print(token)
    return EXIT_OK


def _handover_export(args: argparse.Namespace) -> int:
    import json
    from uuid import UUID

    from adapters.federation.bundle import BundleError
    from adapters.federation.bundle import build_bundle as build
    from bootstrap import build_services

    services = build_services(Settings(), start_projections=False)
    try:
        case = services.cases.get_case(UUID(args.case_id))
        bundle = build(services.cases, case.id, case.holder, services.signing_key)
    except (BundleError, ValueError) as e:
        print(f"staffel: {e}", file=sys.stderr)
        return EXIT_PROBLEM
    finally:
        services.close()
    private_stdout()  # the bundle holds the case's data key
    json.dump(bundle, sys.stdout, ensure_ascii=False, indent=1)
    print()
    summary = f"{len(bundle['events'])} events, digest {bundle['digest']}"
    print(f"bundle of case {args.case_id}: {summary}", file=sys.stderr)
    return EXIT_OK


def _handover_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from adapters.federation.answer_file import write_private
    from adapters.federation.bundle import BundleError, parse
    from adapters.federation.receipts import render
    from bootstrap import build_services
    from service_layer import federation
    from service_layer.errors import ServiceError

    services = build_services(Settings(), start_projections=False)
    try:
        document = parse(Path(args.file).read_bytes())
        if str(document.get("protocol", "")).startswith("staffel-receipt"):
            if args.answer and Path(args.answer).exists() and not args.force:
                print(f"staffel: {args.answer} exists: not overwritten (--force to replace it)",
                      file=sys.stderr)  # fmt: skip
                return EXIT_PROBLEM
            answer = federation.answer_receipt(services, document, channel=None)
            what = "recorded" if answer.first else "already answered: the first answer stands"
            print(f"receipt {what}: case {answer.body['case_id']} at {answer.body['version']}")
            if args.answer:
                write_private(Path(args.answer), render(answer.bundle), force=args.force)
                federation.disclosed(services, answer, "file")
                print(f"the confirming bundle for the peer is in {args.answer}")
        else:
            result = federation.receive_bundle(services, document)
            print(f"case {result.case_id}: {result.new_events} new events imported, "
                  f"version {result.version}, digest {result.digest}")  # fmt: skip
    except (BundleError, ServiceError, OSError) as e:
        print(f"staffel: refused: {e}", file=sys.stderr)
        return EXIT_PROBLEM
    finally:
        services.close()
    return EXIT_OK


def _handover_answer(args: argparse.Namespace) -> int:
    import json
    from uuid import UUID

    from bootstrap import build_services
    from domain.actor import Actor
    from service_layer.federation import prepare_answer

    services = build_services(Settings(), start_projections=False)
    try:
        answer = prepare_answer(
            services, Actor(args.sub, args.org), UUID(args.case_id),
            decision="rejected" if args.reject else "accepted",
            version=args.version, digest=args.digest, reason=args.reject,
        )  # fmt: skip
    except Exception as e:
        print(f"staffel: refused: {e}", file=sys.stderr)
        return EXIT_PROBLEM
    finally:
        services.close()
    private_stdout()  # a rejection's reason is free text
    json.dump(answer.receipt, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return EXIT_OK


def _keys(args: argparse.Namespace) -> int:
    from adapters.federation.signing import load_or_create_key, public_key_text

    settings = Settings()
    print(f"# public key of this deployment ({settings.signing_key_path}); give it to peers as")
    print(f'public_key = "{public_key_text(load_or_create_key(settings.signing_key_path))}"')
    return EXIT_OK


def _demo_federation(args: argparse.Namespace) -> int:
    from pathlib import Path

    from demo.federation import run

    return run(Path(args.dir), args.port_a, args.port_b)


def _log_to_stderr() -> None:
    """stdout is the command's answer (scripts read it): the use cases' log lines go to stderr,
    whichever stream it is when they are written."""
    import structlog

    structlog.configure(logger_factory=lambda *_: structlog.PrintLogger(sys.stderr))


def _erase(args: argparse.Namespace) -> int:
    from bootstrap import build_services
    from domain.aggregates.case_errors import CaseErasedError, CaseRuleError
    from domain.principal import Principal
    from domain.values import ErasureGround
    from service_layer import data_protection
    from service_layer.errors import NotFoundError, ServiceError

    if not args.reason.strip():
        print("staffel: --reason must name the legal reason", file=sys.stderr)
        return EXIT_USAGE
    _log_to_stderr()
    services = build_services(Settings(), start_projections=False)
    try:
        try:
            target = data_protection.erasure_target(services, args.case_id)
        except NotFoundError:
            print(f"staffel: no case {args.case_id} in this store", file=sys.stderr)
            return EXIT_PROBLEM
        if target.held_elsewhere:
            print(
                f"staffel: case {target.case_id} is held by {target.holder} in another deployment:"
                " erase it there; its answer bundle brings the erasure here",
                file=sys.stderr,
            )
            return EXIT_PROBLEM
        # the operator decides as an admin of the holder (or of the organisation named)
        org = args.org or target.holder
        operator = Principal(args.actor, args.actor, org, frozenset({Role.ADMIN}))
        try:
            recorded = data_protection.erase(
                services, operator, target.case_id, ErasureGround(args.ground), args.reason.strip()
            )
        except CaseErasedError:
            print(f"case {target.case_id}: personal data already erased and key deleted;"
                  " nothing to do")  # fmt: skip
            return EXIT_OK
        except NotFoundError:
            print(f"staffel: refused: '{org}' neither holds, held nor was offered case"
                  f" {target.case_id}",
                  file=sys.stderr)  # fmt: skip
            return EXIT_PROBLEM
        except (CaseRuleError, ServiceError) as e:
            print(f"staffel: refused: {e}", file=sys.stderr)
            return EXIT_PROBLEM
    finally:
        services.close()
    if target.erased:
        print(f"case {target.case_id}: key deleted; completes the erasure recorded before")
    else:
        print(
            f"case {target.case_id}: personal data erased ({args.ground}, by {args.actor} for"
            f" {org}): PersonalDataErased is version {recorded.version}, digest"
            f" {recorded.digest}; the case's key is deleted"
        )
    return EXIT_OK


def _retention_run(args: argparse.Namespace) -> int:
    from adapters.keystore import KeyStoreError
    from projections.summary import CaseSummaryProjection
    from service_layer import retention
    from workers.projections import newest_worker

    real_today = today_in_germany()
    today = args.today or real_today
    if today > real_today and not args.dry_run:
        print("staffel: --today after today would erase before the due date; add --dry-run",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    settings = Settings()
    years = retention.retention_years(settings)
    print("retention (years after closure): "
          + ", ".join(f"{basis.value} {n}" for basis, n in years.items()))  # fmt: skip
    app = build_case_application(settings)
    try:
        store = build_view_store(app)
        summary = newest_worker(app, store, CaseSummaryProjection())
        work, done = retention.run(
            app,
            store,
            summary,
            today=today,
            years=years,
            dry_run=args.dry_run,
            out=sys.stdout,
            progress=Progress,
        )
    except KeyStoreError as e:
        print(f"staffel: {e} (check STAFFEL_MASTER_KEY or STAFFEL_MASTER_KEY_FILE)",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    except retention.CatchUpError as e:
        print(f"staffel: {e}", file=sys.stderr)
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        app.close()
    undecided = f"{len(work.undated)} not decidable"
    if done is None:
        print(f"dry run for {today}: {len(work.due)} due, {len(work.unfinished)} interrupted"
              f" erasures to finish, {undecided}; nothing changed")  # fmt: skip
        return EXIT_PROBLEM if work.undated else EXIT_OK
    print(f"retention for {today}: {len(done.erased)} erased, {len(done.skipped)} already"
          f" erased, {len(done.completed)} interrupted erasures finished, {len(done.failed)}"
          f" failed, {undecided}")  # fmt: skip
    return EXIT_PROBLEM if done.failed or work.undated else EXIT_OK


def _migrate_bamf_index(_: argparse.Namespace) -> int:
    from adapters import bamf_migration
    from adapters.keystore import KeyStoreError

    app = build_case_application(Settings())
    try:
        with Progress("cases", bamf_migration.count_registrations(app)) as progress:
            done = bamf_migration.migrate(app, progress.advance)
    except KeyStoreError as e:
        print(f"staffel: {e} (check STAFFEL_MASTER_KEY or STAFFEL_MASTER_KEY_FILE)",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        app.close()
    for case_id, why in done.problems:
        print(f"case {case_id}: not migrated: {why}")
    print(f"bamf index: {done.migrated} migrated, {done.already} already keyed, {done.erased}"
          f" erased (skipped), {done.unindexed} without an index, {done.deleted} legacy indexes"
          f" deleted, {len(done.problems)} not migrated")  # fmt: skip
    return EXIT_PROBLEM if done.problems else EXIT_OK


def _audit(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from cli import audit as commands

        return int(getattr(commands, name)(args))

    return run


def _audit_commands(audit: argparse.ArgumentParser) -> None:
    steps = audit.add_subparsers(dest="step", required=True, metavar="STEP")
    verify = steps.add_parser(
        "verify",
        help="recompute every hash chain (events and access log); exit 1 naming each problem",
        description="Recompute every case's hash chain from the stored events and the access"
        " log's chain, and print each problem with its case id and version: changed, missing,"
        " reordered, inserted, broken_link, broken_checkpoint_link, access_log_changed,"
        " access_log_missing. Exit 1 when there is any (docs/audit.md).",
    )
    verify.add_argument("--case", type=UUID, metavar="ID", help="only this case")
    verify.add_argument(
        "--since-checkpoint",
        metavar="FILE",
        help="also prove nothing before this checkpoint was changed or removed since",
    )
    verify.add_argument(
        "--public-key", metavar="BASE64", help="the checkpoint's signer (default: this deployment)"
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(run=_audit("verify"))
    checkpoint = steps.add_parser(
        "checkpoint",
        help="print a signed checkpoint of every case's head (keep it outside the database)",
        description="Verify the store and print a checkpoint on stdout: the global position,"
        " the time, the head (version, digest) of every case there and their Merkle root, the"
        " access log's head, signed with this deployment's Ed25519 key. Run it from cron and"
        " keep the files elsewhere. A store with problems gets none (exit 1) unless --force.",
    )
    checkpoint.add_argument(
        "--force", action="store_true", help="sign even with problems (listed in the file)"
    )
    checkpoint.set_defaults(run=_audit("checkpoint"))
    export = steps.add_parser(
        "export",
        help="print every stored case event as JSON lines, for python -m verifier.audit_verify",
        description="Print each stored case event as one JSON line: position, case_id,"
        " version, topic, class_version, state (canonical values) and hash. Check it offline"
        " with: python -m verifier.audit_verify FILE [--checkpoint FILE].",
    )
    export.add_argument("--case", type=UUID, metavar="ID", help="only this case")
    export.set_defaults(run=_audit("export_log"))


def _positive(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"must be a number from 1 to 64, not {text!r}")
    return int(text)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="staffel",
        description="Staffel: refugee case records that survive the Rechtskreiswechsel.",
        epilog="Settings come from STAFFEL_* environment variables (see README).",
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=text, description=text)

    mail_commands(command)
    command("info", "Show the configured event store and its global position.").set_defaults(
        run=_info
    )
    status = command(
        "status",
        "Show each projection's position and lag behind the event store, and which process"
        " leads the workers (projections, handover policy, outbox; the others stand by).",
    )
    status.add_argument(
        "--max-behind",
        type=int,
        default=None,
        metavar="N",
        help="exit 1 when a projection is more than N events behind (for monitoring)",
    )
    status.add_argument(
        "--require-lead",
        action="store_true",
        help="exit 1 when no process leads the workers (for monitoring)",
    )
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(run=_status)
    project = command(
        "project",
        "Run the projections, the handover policy and the outbox as a worker until stopped.",
    )
    project.add_argument("--poll-interval", type=float, default=0.5, metavar="SECONDS")
    project.set_defaults(run=_project)
    replay = command(
        "replay",
        "Rebuild projections into fresh tables from position 0 and swap them in when caught up;"
        " reads keep being served meanwhile. Interrupted, it resumes where it stopped.",
    )
    replay.add_argument("--projection", choices=[p.name for p in PROJECTIONS], default=None)
    replay.set_defaults(run=_replay)
    serve = command(
        "serve",
        "Serve the HTTP API. Production needs STAFFEL_DATABASE_URL, STAFFEL_ORGS_FILE,"
        " STAFFEL_JWT_SECRET (or STAFFEL_JWT_PUBLIC_KEY_FILE), STAFFEL_JWT_ISSUER,"
        " STAFFEL_JWT_AUDIENCE and the master key; --demo needs nothing.",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo",
        action="store_true",
        help="embedded SQLite store under ./var, demo organisations and data, demo token secret",
    )
    serve.add_argument(
        "--no-workers",
        action="store_true",
        help="serve HTTP only: the projections, the handover policy and the outbox run in a"
        " separate `staffel project` (same as STAFFEL_WORKERS=false; default: in the HTTP"
        " worker processes, one of them leading)",
    )
    serve.add_argument(
        "--workers",
        type=_positive,
        default=None,
        metavar="N",
        help="HTTP worker processes (default: STAFFEL_HTTP_WORKERS, else one per core); the"
        " projections, the handover policy and the outbox run in one of them at a time",
    )
    serve.set_defaults(run=_serve)
    token = command(
        "token",
        "Print a bearer token (alone on the last line) signed with STAFFEL_JWT_SECRET, or with"
        " the demo secret in the data directory when no secret is set; it names"
        " STAFFEL_JWT_ISSUER and STAFFEL_JWT_AUDIENCE (or the demo's).",
    )
    token.add_argument("--sub", required=True, help="the user's id")
    token.add_argument("--org", required=True, help="the organisation id")
    token.add_argument(
        "--role",
        required=True,
        action="append",
        choices=[r.value for r in Role],
        help="repeat for several roles",
    )
    token.add_argument("--name", default=None, help="display name (default: the sub)")
    token.add_argument("--ttl", type=int, default=8 * 3600, metavar="SECONDS")
    token.set_defaults(run=_token)
    federation = command(
        "demo-federation",
        "Scenario 1 across two deployments on loopback: the Agentur's Staffel and the municipal"
        " Jobcenter St. Wendel's own, handing cases over by signed bundles and receipts.",
    )
    federation.add_argument("--dir", default="var/federation", help="data of both deployments")
    federation.add_argument("--port-a", type=int, default=8000)
    federation.add_argument("--port-b", type=int, default=8001)
    federation.set_defaults(run=_demo_federation)
    handover = command("handover", "Hand a case over to a peer deployment by file (offline).")
    steps = handover.add_subparsers(dest="step", required=True, metavar="STEP")
    export = steps.add_parser(
        "export",
        help="print the signed bundle of a case's open offer (JSON) on stdout",
        description="Print the signed bundle of a case's open handover offer on stdout.",
    )
    export.add_argument("case_id")
    export.set_defaults(run=_handover_export)
    imp = steps.add_parser(
        "import",
        help="verify and import a bundle, or record a receipt, from a file",
        description="Verify and import a peer's bundle, or record a peer's receipt. Importing"
        " the same file twice changes nothing; a bad file is refused naming the first bad event"
        " and leaves nothing behind (exit 1).",
    )
    imp.add_argument("file")
    imp.add_argument(
        "--answer",
        metavar="FILE",
        help="for a receipt: write the confirming bundle here (mode 600, never over a file)",
    )
    imp.add_argument("--force", action="store_true", help="replace an existing --answer file")
    imp.set_defaults(run=_handover_import)
    answer = steps.add_parser(
        "answer",
        help="print a signed receipt answering a peer's offer (accept, or --reject REASON)",
        description="Check an answer to a peer's offer against the imported case and print it"
        " as a signed receipt for the sender (offline transfer). The sender's log records it.",
    )
    answer.add_argument("case_id")
    answer.add_argument("--sub", required=True, help="the caseworker answering")
    answer.add_argument("--org", required=True, help="the receiving organisation")
    answer.add_argument("--version", type=int, default=None, help="version acknowledged")
    answer.add_argument("--digest", default=None, help="digest acknowledged")
    answer.add_argument("--reject", metavar="REASON", default=None)
    answer.set_defaults(run=_handover_answer)
    erase = command(
        "erase",
        "Erase a case's personal data (crypto-shredding): record PersonalDataErased, then delete"
        " the case's key. Nothing can be recorded on the case afterwards. Safe to run again: an"
        " erased case is reported as such, an interrupted erasure is completed.",
    )
    erase.add_argument("case_id", type=UUID, metavar="CASE_ID")
    erase.add_argument(
        "--ground",
        required=True,
        choices=[g.value for g in ErasureGround],
        help="the legal ground, under Art. 17 GDPR with section 84 SGB X (docs/data-protection.md)",
    )
    erase.add_argument("--reason", required=True, help="the legal reason, recorded (no names)")
    erase.add_argument(
        "--as", dest="org", metavar="ORG", help="acting organisation (default: the holder)"
    )
    erase.add_argument("--actor", default="staffel-cli", help="who is acting, recorded")
    erase.set_defaults(run=_erase)
    retention = command(
        "retention",
        "Erase the personal data of closed cases whose retention period has run out.",
    )
    retention_steps = retention.add_subparsers(dest="step", required=True, metavar="STEP")
    run = retention_steps.add_parser(
        "run",
        help="erase (or with --dry-run list) the closed cases due for erasure",
        description="Catch the case summary up with the log, then erase every closed case whose"
        " retention (STAFFEL_RETENTION_YEARS_SGB_II, _SGB_III, _ASYLBLG: years after the"
        " closing date, per the legal basis it was closed under) has run out by today, acting"
        " for its holder as staffel-retention. One line per case: id, legal basis, closed on,"
        " due on, result; no personal data. Safe to interrupt and run again. Exit 1 when any"
        " case failed.",
    )
    run.add_argument("--dry-run", action="store_true", help="list what is due, change nothing")
    run.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="decide as of this date (default: today; a later date only with --dry-run)",
    )
    run.set_defaults(run=_retention_run)
    command(
        "keys", "Print this deployment's public signing key for peers' organisations files."
    ).set_defaults(run=_keys)
    migrate = command("migrate", "Migrate stored data to what this version expects.")
    migrate_steps = migrate.add_subparsers(dest="step", required=True, metavar="STEP")
    migrate_steps.add_parser(
        "bamf-index",
        help="key the BAMF file number index (ADR 0010); safe to interrupt and run again",
        description="For every case whose BAMF file number index still has the unkeyed id of"
        " earlier versions (uuid5 of the number), record the keyed index (HMAC under a key"
        " derived from STAFFEL_MASTER_KEY) and release the old one in one transaction, then"
        " delete the stored events of every released old index. Erased cases are skipped. One"
        " line per case that could not be migrated (id and reason, no personal data). Safe to"
        " run while the service runs, to interrupt and to run again. Exit 0 when every case is"
        " keyed, 1 when some case is not, 2 on bad settings, 130 when interrupted.",
    ).set_defaults(run=_migrate_bamf_index)
    _audit_commands(command("audit", "Verify, checkpoint and export the log for auditors."))
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # every file a command creates holds personal data or keys: this account's only
    # (docs/data-protection.md); restored for callers in the same process
    umask = os.umask(0o077)
    try:
        return int(args.run(args))
    except ValidationError as e:
        print(f"staffel: invalid settings:\n{e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        os.umask(umask)


if __name__ == "__main__":
    sys.exit(main())

"""HTTP worker processes: one server and its process manager against another, side by side.

    .venv/bin/python bench/http_workers.py [--servers uvicorn,gunicorn,granian] [--workers 1,2]
                                           [--seconds S] [--connections N]

For each server and worker count, on one PostgreSQL database per run (dropped at the end): start
the Staffel app (``api.app:serve_app``, production settings, JSON logs to a file), register
cases, then ``GET /healthz`` (the HTTP ceiling) and ``GET /cases/{id}/history`` (a real read:
token check, the read model, an access-log entry) for ``--seconds`` each with ``--connections``
keep-alive connections from bench/api.py's load generator. Prints requests/s, p99 and the CPU
of the server's processes (the manager and its workers summed).

- ``uvicorn``: ``staffel serve --workers N`` (uvicorn's own manager; what Staffel ships);
- ``gunicorn``: ``gunicorn -k uvicorn_worker.UvicornWorker -w N`` (needs ``gunicorn`` and
  ``uvicorn-worker`` installed; not project dependencies);
- ``granian``: ``granian --interface asgi --workers N`` (needs ``granian``).

ADR 0013 quotes a run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.auth import mint
from adapters.settings import DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER
from bench.api import (
    HOST,
    ORG,
    ORGS_FILE,
    ROOT,
    CpuSnapshot,
    Endpoint,
    Next,
    Server,
    _machine_ticks,
    _postgres_ticks,
    _process_ticks,
    _tree_ticks,
    cpu_usage,
    drive,
    free_port,
    http_request,
    percentile,
    reads,
    register,
    run_async,
    stop_server,
    wait_ready,
)
from bench.store import load_average, postgres_database

BIN = Path(sys.executable).parent


def command(kind: str, workers: int, port: int) -> list[str]:
    if kind == "uvicorn":
        return [
            str(BIN / "staffel"),
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
    if kind == "gunicorn":
        return [
            str(BIN / "gunicorn"),
            "-k",
            "uvicorn_worker.UvicornWorker",
            "-w",
            str(workers),
            "-b",
            f"{HOST}:{port}",
            "api.app:serve_app()",
        ]
    if kind == "granian":
        return [
            str(BIN / "granian"),
            "--interface",
            "asgi",
            "--workers",
            str(workers),
            "--host",
            HOST,
            "--port",
            str(port),
            "--factory",
            "--no-ws",
            "api.app:serve_app",
        ]
    raise ValueError(kind)


@contextmanager
def server(kind: str, workers: int, database_url: str, secret: str, tmp: Path) -> Iterator[Server]:
    port = free_port()
    metrics_dir = tempfile.mkdtemp(prefix="staffel-metrics-")  # ``staffel serve`` makes its own
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFEL_")}
    env.update(
        STAFFEL_DATABASE_URL=database_url,
        STAFFEL_ORGS_FILE=str(ORGS_FILE),
        STAFFEL_JWT_SECRET=secret,
        STAFFEL_JWT_ISSUER=DEFAULT_JWT_ISSUER,
        STAFFEL_JWT_AUDIENCE=DEFAULT_JWT_AUDIENCE,
        STAFFEL_DATA_DIR=str(tmp),
        STAFFEL_MASTER_KEY_FILE=str(tmp / "master.key"),
        STAFFEL_LOG_FORMAT="json",
        PROMETHEUS_MULTIPROC_DIR=metrics_dir,
    )
    log = tmp / f"{kind}-{workers}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command(kind, workers, port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    made = Server(process, port, log, database_url.rsplit("/", 1)[1])
    try:
        wait_ready(made)
        time.sleep(3.0)  # every worker up, not only the first to answer
        yield made
    finally:
        if kind == "granian" and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # granian stops on SIGTERM, not SIGINT's path
        stop_server(made)
        shutil.rmtree(metrics_dir, ignore_errors=True)


def snapshot(made: Server) -> CpuSnapshot:
    busy, total = _machine_ticks()
    return CpuSnapshot(
        time.perf_counter(),
        _tree_ticks(made.process.pid),
        _postgres_ticks(made.database),
        _process_ticks(os.getpid()),
        busy,
        total,
    )


def measure(
    made: Server,
    label: str,
    make: Callable[[list[Endpoint]], Callable[[int], Next]],
    connections: int,
    seconds: float,
) -> str:
    endpoint = Endpoint(label)
    before: list[CpuSnapshot] = []
    warmup = 1.0

    async def run() -> None:
        async def mark() -> None:
            await asyncio.sleep(warmup)
            before.append(snapshot(made))

        await asyncio.gather(
            mark(), drive(made.port, connections, warmup, seconds, make([endpoint]))
        )

    run_async(run)
    cpu = cpu_usage(before[0], snapshot(made), "load generator")
    latencies = sorted(endpoint.latencies)
    bad = {s: n for s, n in endpoint.statuses.items() if not s.startswith("2")}
    p99 = 1000 * percentile(latencies, 99)
    return (
        f"{label:<24} {endpoint.ok / seconds:>7.0f}/s  p99 {p99:>6.1f} ms  not 2xx {bad or 0}"
        f"\n    CPU (% of one core): {cpu}"
    )


def healthz(port: int) -> Callable[[list[Endpoint]], Callable[[int], Next]]:
    def make(endpoints: list[Endpoint]) -> Callable[[int], Next]:
        (endpoint,) = endpoints
        raw = http_request("GET", "/healthz", port)
        return lambda _i: lambda _n: (endpoint, raw)

    return make


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--servers", default="uvicorn,gunicorn,granian")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--cases", type=int, default=40)
    args = parser.parse_args(argv)
    secret = secrets.token_urlsafe(32)
    writer = mint(secret, sub="bench-writer", org=ORG, roles=["caseworker"], ttl=3600)
    reader = mint(secret, sub="bench-reader", org=ORG, roles=["caseworker"], ttl=3600)
    print(
        f"load average at the start {load_average()}; {os.cpu_count()} cores;"
        f" {args.connections} connections, {args.seconds:g} s per endpoint"
    )
    for kind in args.servers.split(","):
        for workers in (int(w) for w in args.workers.split(",")):
            with (
                tempfile.TemporaryDirectory(prefix="staffel-bench-workers-") as tmp,
                postgres_database() as pg,
                server(kind, workers, pg, secret, Path(tmp)) as made,
            ):
                case_ids, _ = register(made.port, writer, args.cases, 8)
                time.sleep(1.0)  # the projections catch up with the registrations
                print(f"\n{kind}, {workers} worker(s)")
                print(
                    "  "
                    + measure(
                        made, "GET /healthz", healthz(made.port), args.connections, args.seconds
                    )
                )
                print(
                    "  "
                    + measure(
                        made,
                        "GET /cases/{id}/history",
                        reads(made.port, reader, case_ids),
                        args.connections,
                        args.seconds,
                    )
                )
    print(f"\nload average at the end {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

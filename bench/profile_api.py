"""Where one request's time goes: pyinstrument over a served instance on PostgreSQL.

    .venv/bin/python bench/profile_api.py [--requests N] [--out DIR]

Serves the app with uvicorn in this process on a database made for the run (production
settings, as ``bench/api.py`` starts ``staffel serve``), and profiles its main thread while a
client process sends ``--requests`` sequential requests on one keep-alive connection: first
``POST /cases/{id}/events``, then (projections caught up) ``GET /cases/{id}/history`` by another
caseworker. FastAPI runs plain ``def`` endpoints and dependencies in worker threads, which a
profiler of one thread does not see; here they run in the event loop's thread instead
(``run_in_threadpool`` replaced by a direct call), so a request's whole path is one call tree.
Sequential requests measure what one request costs, not how requests contend.

Prints per endpoint the rate, the heaviest functions by own time and the call tree's top, and
writes the full profiles as HTML to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
ORG = "agentur-aachen-dueren"
CASES = 20
NOTE = {"type": "NoteRecorded", "text": "Beratungsgespräch geführt"}


def client(port: int, token: str, method: str, paths: list[str], body: str) -> None:
    """The load: each path in turn, one keep-alive connection (run in its own process)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    failed = 0
    for path in paths:
        conn.request(method, path, body=body or None, headers=headers)
        r = conn.getresponse()
        r.read()
        failed += r.status >= 300
    print(json.dumps({"failed": failed}))


def in_loop_thread() -> None:
    """Run FastAPI's sync endpoints and dependencies in the event loop's thread."""
    import fastapi.dependencies.utils
    import fastapi.routing

    async def direct(func: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    for module in (fastapi.routing, fastapi.dependencies.utils):
        setattr(module, "run_in_threadpool", direct)  # noqa: B010


def request(port: int, method: str, path: str, token: str = "", body: Any = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, json.loads(data) if data else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "profiles")
    parser.add_argument("--client", nargs=4, help=argparse.SUPPRESS)  # the paths on stdin
    args = parser.parse_args(argv)
    if args.client:
        port, token, method, body = args.client
        client(int(port), token, method, json.loads(sys.stdin.read()), body)
        return 0

    import uvicorn
    from pyinstrument import Profiler

    from adapters.auth import mint
    from adapters.settings import DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER
    from bench.api import case_body, free_port
    from bench.store import postgres_database

    in_loop_thread()
    args.out.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    writer = mint(secret, sub="profile-writer", org=ORG, roles=["caseworker"], ttl=3600)
    reader = mint(secret, sub="profile-reader", org=ORG, roles=["caseworker"], ttl=3600)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="staffel-profile-") as tmp, postgres_database() as pg:
        os.environ.update(
            STAFFEL_DATABASE_URL=pg,
            STAFFEL_ORGS_FILE=str(ROOT / "demo" / "orgs.toml"),
            STAFFEL_JWT_SECRET=secret,
            STAFFEL_JWT_ISSUER=DEFAULT_JWT_ISSUER,
            STAFFEL_JWT_AUDIENCE=DEFAULT_JWT_AUDIENCE,
            STAFFEL_DATA_DIR=tmp,
            STAFFEL_MASTER_KEY_FILE=str(Path(tmp) / "master.key"),
            STAFFEL_LOG_FORMAT="json",
            STAFFEL_DEMO="false",
        )
        from adapters.logging import configure_logging

        log = (Path(tmp) / "server.log").open("w")
        os.dup2(log.fileno(), 2)  # the server's JSON lines: as in production, to a file
        configure_logging("json")
        config = uvicorn.Config(
            "api.app:create_app", factory=True, host="127.0.0.1", port=port, log_config=None
        )
        server = uvicorn.Server(config)
        profiler = Profiler(interval=0.0005, async_mode="disabled")
        results: dict[str, str] = {}
        failure: list[str] = []  # the driver's error: stderr is the server's log, deleted after

        def drive() -> None:
            try:
                while not server.started:
                    time.sleep(0.05)
                ids = []
                for i in range(CASES):
                    case = json.loads(case_body(i))
                    status, body = request(port, "POST", "/cases", writer, case)
                    assert status == 201, body
                    ids.append(body["case_id"])
                phases = [
                    ("POST /cases/{id}/events", writer, "POST", "events", json.dumps(NOTE)),
                    ("GET /cases/{id}/history", reader, "GET", "history", ""),
                ]
                for label, token, method, tail, body_text in phases:
                    paths = [f"/cases/{ids[i % CASES]}/{tail}" for i in range(args.requests)]
                    # the paths on stdin: as one argument, 3,000 of them passed Linux's limit
                    # for one argument (128 KiB: "Argument list too long")
                    warm = [sys.executable, __file__, "--client", str(port), token, method]
                    warm += [body_text]
                    subprocess.run(warm, input=json.dumps(paths[:100]).encode(), check=True)
                    time.sleep(2)  # the projections catch up with the warm-up's writes
                    server_loop.call_soon_threadsafe(profiler.start)
                    started = time.perf_counter()
                    done = subprocess.run(
                        warm, input=json.dumps(paths).encode(), check=True, capture_output=True
                    )
                    seconds = time.perf_counter() - started
                    stopped = threading.Event()

                    def stop(done: threading.Event = stopped) -> None:
                        profiler.stop()
                        done.set()

                    server_loop.call_soon_threadsafe(stop)
                    stopped.wait()
                    slug = tail
                    (args.out / f"{slug}.html").write_text(profiler.output_html())
                    flat = profiler.output_text(flat=True, show_all=False)
                    tree = profiler.output_text(show_all=False)
                    results[label] = (
                        f"{label}: {args.requests / seconds:,.0f} requests/s sequential "
                        f"({1000 * seconds / args.requests:.2f} ms each), "
                        f"client: {done.stdout.decode().strip()}\n"
                        f"-- heaviest by own time --\n{_head(flat, 22)}\n"
                        f"-- call tree --\n{_head(tree, 45)}"
                    )
                    profiler.reset()  # type: ignore[no-untyped-call]
            except BaseException:
                failure.append(traceback.format_exc())
            finally:
                server.should_exit = True

        server_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(server_loop)
        threading.Thread(target=drive, daemon=True).start()
        server_loop.run_until_complete(server.serve())
    for text in results.values():
        print(text)
        print()
    if failure:
        print(f"profile_api: the run stopped early:\n{failure[0]}", file=sys.stdout)
        return 1
    print(f"(HTML profiles in {args.out})")
    return 0


def _head(text: str, lines: int) -> str:
    """The first ``lines`` of a pyinstrument text report, without its banner."""
    kept = [line for line in text.splitlines()[6:] if line.strip()]
    return "\n".join(kept[:lines])


if __name__ == "__main__":
    raise SystemExit(main())

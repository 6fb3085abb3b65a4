"""Scenario 1 across two deployments on loopback: the Agentur's Staffel (with Kreis Heinsberg)
and the municipal Jobcenter St. Wendel's own Staffel. Each gets its own data directory, SQLite
store, signing key and organisations file naming the other as a peer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from importlib import resources
from pathlib import Path

from adapters.federation.signing import load_or_create_key, public_key_text

REMOTE = "jobcenter-st-wendel"


def _blocks() -> list[str]:
    """The demo organisations file, split before each organisation (the header first)."""
    text = resources.files("demo").joinpath("orgs.toml").read_text("utf-8")
    return text.split("[[organisation]]")


def _id(block: str) -> str:
    return block.split('id = "', 1)[1].split('"', 1)[0]


def _orgs(peer_ids: set[str], peer_url: str, peer_key: str) -> str:
    """The demo organisations, with the peer's organisations marked remote."""
    blocks = _blocks()
    out = [blocks[0]]
    for block in blocks[1:]:
        if _id(block) in peer_ids:
            block = block.rstrip() + f'\npeer_url = "{peer_url}"\npublic_key = "{peer_key}"\n\n'
        out.append(block)
    return "[[organisation]]".join(out)


def prepare(base: Path, port_a: int, port_b: int) -> tuple[dict[str, str], dict[str, str]]:
    dirs = {"a": base / "agentur", "b": base / "st-wendel"}
    keys = {name: load_or_create_key(d / "signing-key.pem") for name, d in dirs.items()}
    local_a = {_id(b) for b in _blocks()[1:]} - {REMOTE}  # all but St. Wendel live in A
    (dirs["a"] / "orgs.toml").write_text(
        _orgs({REMOTE}, f"http://127.0.0.1:{port_b}", public_key_text(keys["b"])), "utf-8"
    )
    (dirs["b"] / "orgs.toml").write_text(
        _orgs(local_a, f"http://127.0.0.1:{port_a}", public_key_text(keys["a"])), "utf-8"
    )
    envs = {}
    for name, d in dirs.items():
        envs[name] = {
            **os.environ,
            "STAFFEL_DEMO": "true",
            "STAFFEL_DATA_DIR": str(d),
            "STAFFEL_DATABASE_URL": f"sqlite:///{d}/staffel.db",
            "STAFFEL_ORGS_FILE": str(d / "orgs.toml"),
            "STAFFEL_SEED": "true" if name == "a" else "false",
        }
    return envs["a"], envs["b"]


def run(base: Path, port_a: int = 8000, port_b: int = 8001) -> int:
    env_a, env_b = prepare(base, port_a, port_b)
    staffel = str(Path(sys.executable).with_name("staffel"))
    procs = [
        subprocess.Popen([staffel, "serve", "--port", str(port_a)], env=env_a),  # noqa: S603
        subprocess.Popen([staffel, "serve", "--port", str(port_b)], env=env_b),  # noqa: S603
    ]
    for port in (port_a, port_b):
        _wait_ready(port)
    a, b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    print(f"""
Scenario 1 on two deployments (Ctrl-C stops both):
  A  {a}/ui  Agentur für Arbeit Saarland (and Kreis Heinsberg)
     pick "Sabine Klein": Meine Fälle, Übergaben: Ausgang (offered to St. Wendel), Statistik
  B  {b}/ui  Kommunale Arbeitsförderung Landkreis St. Wendel, its own Staffel
     pick "Thomas Weber": Übergaben: Eingang (Huda Al-Sayed, Ahmad Noori, sent as signed
     bundles), open a case, read the history, accept; A's Ausgang then shows "angenommen"
Tokens for the API: STAFFEL_DATA_DIR={env_a["STAFFEL_DATA_DIR"]} staffel token ...
                    STAFFEL_DATA_DIR={env_b["STAFFEL_DATA_DIR"]} staffel token \\
                      --sub t.weber --org jobcenter-st-wendel --role caseworker""")
    signal.signal(signal.SIGTERM, _interrupted)  # a terminated demo stops both deployments
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(timeout=15)
    return 0


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"deployment on port {port} did not become ready")

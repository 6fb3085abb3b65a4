"""Each deployment signs bundles and receipts with one Ed25519 key, created on first start by
whichever process starts first (``staffel serve``, ``staffel project``): processes starting at
once all end up with the same key, and none can leave a half-written key behind."""

from __future__ import annotations

import stat
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from adapters.federation.signing import load_or_create_key, public_key_text


def _public_key(path: str) -> str:
    return public_key_text(load_or_create_key(Path(path)))


def test_processes_creating_the_key_at_once_all_use_the_same_one(tmp_path: Path) -> None:
    path = tmp_path / "data" / "signing-key.pem"

    with ProcessPoolExecutor(8) as pool:
        keys = set(pool.map(_public_key, [str(path)] * 32))

    assert len(keys) == 1
    assert keys == {_public_key(str(path))}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["signing-key.pem"]  # no leftovers

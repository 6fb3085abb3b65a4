"""Signed checkpoints: the head (version, digest) of every case at one global position, their
Merkle root, and the access log's head, signed with the deployment's Ed25519 key.

Kept outside the database, a checkpoint proves that nothing before it was changed or removed
since: whoever rewrites a case's chain and recomputes every hash still changes its head."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TextIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.access_log import AccessLog
from adapters.audit.verify import Advance, verify_store
from adapters.federation.signing import public_key_text, sign
from domain.application import StaffelApplication
from verifier import audit_verify as av


def heads_of(scanner: av.ChainScanner) -> list[tuple[str, int, str]]:
    found = ((c, scanner.head_at_position(c)) for c in scanner.cases)
    return sorted((c, h[0], h[1]) for c, h in found if h is not None)


def build_checkpoint(
    app: StaffelApplication,
    access_log: AccessLog,
    key: Ed25519PrivateKey,
    advance: Advance = lambda n: None,
    deployment: str = "",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the signed checkpoint, the verdict of the pass that read it). The caller decides whether
    to write a checkpoint of a store with problems (it would bless them)."""
    log_head = access_log.head()  # before the events: the rows it signs are committed
    position = app.recorder.max_notification_id() or 0
    result, scanner = verify_store(app, access_log, advance=advance, stop=position)
    heads = heads_of(scanner)
    document = {
        "format": av.CHECKPOINT_FORMAT,
        "deployment": deployment,
        "created_at": datetime.now(UTC).isoformat(),
        "position": position,
        "cases": len(heads),
        "events": scanner.events,
        "root": av.merkle_root(heads),
        "access_log": log_head,
        "public_key": public_key_text(key),
        "heads": [list(h) for h in heads],
    }
    if result["problems"]:
        document["known_problems"] = result["problems"]
    return sign(document, key), result


def write_checkpoint(document: dict[str, Any], out: TextIO) -> None:
    """Readable JSON: one field a line, one case head a line."""

    def dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    fields = [f" {dumps(k)}: {dumps(v)}" for k, v in document.items() if k != "heads"]
    heads = ",\n".join(f"  {dumps(h)}" for h in document["heads"])
    out.write("{\n" + ",\n".join([*fields, f' "heads": [\n{heads}\n ]']) + "\n}\n")

"""Check an exported Staffel audit log offline: no database, no Staffel code.

    python -m verifier.audit_verify LOG.jsonl [--checkpoint FILE] [--public-key BASE64]

LOG.jsonl comes from ``staffel audit export``: one JSON object per stored event of a case, with
``position`` (its place in the global log), ``case_id``, ``version``, ``topic``,
``class_version`` and ``state`` (every stored field of the event, including ``hash``).

The canonical form (ADR 0003). An event's hash is the lowercase hex SHA-256 of the UTF-8 bytes of

    {"case_id": "<uuid>", "version": N, "topic": "<topic>", "class_version": K,
     "state": {<every field of "state" except "hash">}}

written as JSON with the keys of every object sorted, no spaces (separators "," and ":") and no
ASCII escaping. Values are already in canonical form in the export: dates and times as ISO 8601
text, enumerations as their value, lists as arrays, UUIDs with hyphens; a number with a decimal
point is refused. ``state.prev_hash`` of version 1 is 64 zeros; of version N it is the hash of
version N-1. Because the hash covers the version, an event moved to another place no longer
matches it.

Verdicts, per case: ``changed`` (the content does not match its stored hash), ``reordered`` (its
hash matches the content at another version), ``missing`` (no event has this version),
``inserted`` (the hash matches but the event does not link to its predecessor, and nothing after
it vouches for it: a forged event), ``broken_link`` (it does not link to its predecessor although
the events after it link to it: the predecessor was replaced). With ``--checkpoint``, each case's
head at the checkpoint's position is compared with the signed head: ``broken_checkpoint_link``
(another digest: the chain was rewritten), ``missing`` (versions the checkpoint saw are gone),
``inserted`` (versions beyond the checkpoint's head, placed before its position). A checkpoint is
a signed document (Ed25519 over its canonical JSON without ``signature``) of the case heads at a
position; their Merkle root (RFC 6962: leaf = SHA-256(0x00 | ["<case_id>",N,"<digest>"]), node =
SHA-256(0x01 | left | right)) must match ``root``.

Exit status: 0 no problem, 1 problems found (each printed with its case id), 2 unusable input.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64
CASE_TOPIC_PREFIX = "staffel:Case."
CHECKPOINT_FORMAT = "staffel-audit-checkpoint/1"
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_REPLACED = "the chain after it links to it: the event before it was replaced"
DETAILS = {
    "changed": "the content does not match its stored hash",
    "reordered": "its hash matches the content at version {}",
    "missing": "no event has this version",
    "inserted": "its hash matches but it does not link to its predecessor (a forged event)",
    "broken_link": "prev_hash is not its predecessor's hash; " + _REPLACED,
}


def canonical(document: Any) -> bytes:
    return _CANONICAL.encode(document).encode("utf-8")


def digest_of(case_id: str, version: int, topic: str, class_version: Any, body: Any) -> str:
    """The hash of an event whose ``body`` is its state without ``hash``."""
    document = {
        "case_id": case_id,
        "version": version,
        "topic": topic,
        "class_version": class_version,
        "state": body,
    }
    return hashlib.sha256(canonical(document)).hexdigest()


def event_digest(
    case_id: str, version: int, topic: str, class_version: Any, state: dict[str, Any]
) -> str:
    body = {k: v for k, v in state.items() if k != "hash"}
    return digest_of(case_id, version, topic, class_version, body)


@dataclass(frozen=True)
class Problem:
    case_id: str | None
    version: int | None
    kind: str
    detail: str = field(default="", compare=False)
    row: int | None = None  # the access-log row, for its problems

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"case_id": self.case_id, "version": self.version}
        found |= {"kind": self.kind, "detail": self.detail}
        return found if self.row is None else found | {"row": self.row}

    def line(self) -> str:
        where = f"case {self.case_id}" if self.case_id else "store"
        where += f" version {self.version}" if self.version is not None else ""
        where += f" access-log row {self.row}" if self.row is not None else ""
        return f"{where}: {self.kind} ({self.detail})"


def problem(case_id: str | None, version: int | None, kind: str, *args: Any) -> Problem:
    return Problem(case_id, version, kind, DETAILS.get(kind, "{}").format(*args))


def sort_key(p: Problem) -> tuple[str, int, int, str]:
    return (p.case_id or "", p.version or 0, p.row or 0, p.kind)


@dataclass(frozen=True)
class Record:
    """One stored event of a case, as far as the chain is concerned."""

    version: int
    position: int
    hash: str
    prev_hash: str
    ok: bool  # its content matches its stored hash at its own version
    rehash: Callable[[int], str] | None = None  # its content's hash at another version


def record_of(
    case_id: str, version: int, position: int, topic: str, class_version: Any, state: Any
) -> Record:
    """A record from canonical values; ``state`` is None when it could not be read at all."""
    if not isinstance(state, dict):
        return Record(version, position, "", "", False)
    stored, prev = state.get("hash"), state.get("prev_hash")
    stored, prev = (v if isinstance(v, str) else "" for v in (stored, prev))
    body = {k: v for k, v in state.items() if k != "hash"}
    try:
        ok = digest_of(case_id, version, topic, class_version, body) == stored
    except (TypeError, ValueError, UnicodeError):
        return Record(version, position, stored, prev, False)

    def rehash(other: int) -> str:
        return digest_of(case_id, other, topic, class_version, body)

    return Record(version, position, stored, prev, ok, None if ok else rehash)


class ChainScanner:
    """One pass over the log in position order. A case whose events come as 1, 2, 3... each
    matching its hash and linking to the one before is clean; any other is a suspect, to be
    judged on all its records (``case_problems``). Also keeps each case's head at a position."""

    def __init__(self, checkpoint_position: int | None = None) -> None:
        self.cases: dict[str, list[Any]] = {}  # id -> [next version, last hash, head at position]
        self.suspects: set[str] = set()
        self.events = self.last = 0  # events seen, the last position seen
        self.position = checkpoint_position

    def add(
        self, case_id: str, version: int, position: int, stored: str, prev: str, ok: bool
    ) -> None:
        self.events += 1
        if position > self.last:
            self.last = position
        case = self.cases.get(case_id)
        if case is None:
            case = self.cases[case_id] = [1, GENESIS, None]
        if not ok or version != case[0] or prev != case[1]:
            self.suspects.add(case_id)
        case[0], case[1] = version + 1, stored
        if self.position is not None and position <= self.position:
            case[2] = (version, stored)

    def head_at_position(self, case_id: str) -> tuple[int, str] | None:
        case = self.cases.get(case_id)
        return None if case is None else case[2]

    def checkpoint_suspects(self, heads: dict[str, tuple[int, str]]) -> set[str]:
        """Cases whose head at the checkpoint's position is not the signed one."""
        ids = set(heads) | {c for c, case in self.cases.items() if case[2] is not None}
        return {c for c in ids if self.head_at_position(c) != heads.get(c)}


def true_versions(records: list[Record]) -> list[int | None]:
    """Each record's version as its hash tells it: its own, another one (reordered) or None."""
    present = {r.version for r in records}
    top = max(present, default=0) + 1
    loose = {r.version for r in records if not r.ok}
    candidates = sorted(loose | (set(range(1, top + 1)) - present))[:256]
    found: list[int | None] = []
    for r in records:
        if r.ok or r.rehash is None:
            found.append(r.version if r.ok else None)
            continue
        found.append(
            next((w for w in candidates if w != r.version and r.rehash(w) == r.hash), None)
        )
    return found


def case_problems(case_id: str, records: Iterable[Record]) -> list[Problem]:
    """Every problem of one case's chain, from all its stored records."""
    ordered = sorted(records, key=lambda r: (r.version, r.position))
    truth = true_versions(ordered)
    problems: list[Problem] = []
    at: dict[int, Record] = {}  # true version -> record
    occupied: set[int] = set()
    for r, t in zip(ordered, truth, strict=True):
        if t is None:
            problems.append(problem(case_id, r.version, "changed"))
            occupied.add(r.version)
        elif t in at:
            problems.append(problem(case_id, r.version, "inserted"))
        else:
            if t != r.version:
                problems.append(problem(case_id, r.version, "reordered", t))
            at[t] = r
            occupied.add(t)
    top = max(occupied, default=0)
    problems += [problem(case_id, v, "missing") for v in range(1, top) if v not in occupied]
    links = {t: _links(t, r, at) for t, r in at.items()}
    for t, r in at.items():
        if links[t] is not False or not r.ok:
            continue
        vouched = links.get(t + 1)
        kind = "broken_link" if vouched or (t + 1 in occupied and vouched is None) else "inserted"
        problems.append(problem(case_id, r.version, kind))
    return sorted(problems, key=sort_key)


def _links(t: int, r: Record, at: dict[int, Record]) -> bool | None:
    """Whether the event at true version ``t`` links to its predecessor (None: can't tell)."""
    if t == 1:
        return r.prev_hash == GENESIS
    if t - 1 in at:
        return r.prev_hash == at[t - 1].hash
    return None


def checkpoint_problems(
    case_id: str, records: Iterable[Record], head: tuple[int, str] | None, position: int
) -> list[Problem]:
    """The case at the checkpoint's ``position`` against the checkpoint's ``head``."""
    before = [r for r in records if r.position <= position]
    if head is None:
        detail = "the checkpoint knows no such case before its position"
        return [Problem(case_id, r.version, "inserted", detail) for r in before]
    version, digest = head
    signed = f"the checkpoint signed version {version} with digest {digest[:16]}…"
    if not before:
        return [Problem(case_id, v, "missing", signed) for v in range(1, version + 1)]
    truth = true_versions(before)
    ranked = sorted(zip(truth, before, strict=True), key=lambda p: p[0] or p[1].version)
    top, last = ranked[-1][0] or ranked[-1][1].version, ranked[-1][1]
    at_head = [r for t, r in ranked if (t or r.version) == version]
    if top > version and at_head and at_head[0].hash == digest:
        return [
            Problem(case_id, r.version, "inserted", signed)
            for t, r in ranked
            if (t or r.version) > version
        ]
    if top < version:
        return [Problem(case_id, v, "missing", signed) for v in range(top + 1, version + 1)]
    if top == version and last.hash == digest:
        return []
    return [Problem(case_id, version, "broken_checkpoint_link", signed)]


# -- checkpoints -------------------------------------------------------------------------------


def merkle_root(heads: Iterable[tuple[str, int, str]]) -> str:
    """RFC 6962 Merkle tree hash over the case heads, ordered by case id."""
    level = [hashlib.sha256(b"\x00" + canonical([c, v, d])).digest() for c, v, d in sorted(heads)]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        paired = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        level = paired + ([level[-1]] if len(level) % 2 else [])
    return level[0].hex()


def checkpoint_heads(document: dict[str, Any]) -> dict[str, tuple[int, str]]:
    return {str(c): (int(v), str(d)) for c, v, d in document.get("heads", [])}


def checkpoint_errors(document: Any, public_key: str | None) -> list[str]:
    """Why a checkpoint cannot be trusted: format, signature, root (empty: it can)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not isinstance(document, dict) or document.get("format") != CHECKPOINT_FORMAT:
        return [f"not a checkpoint (format {CHECKPOINT_FORMAT} expected)"]
    errors = []
    key = public_key or str(document.get("public_key", ""))
    if public_key and public_key != document.get("public_key"):
        errors.append("it names another public key than the one given")
    signature = document.get("signature")
    body = {k: v for k, v in document.items() if k != "signature"}
    try:
        value = base64.b64decode(str(signature.get("value")))  # type: ignore[union-attr]
        Ed25519PublicKey.from_public_bytes(base64.b64decode(key)).verify(value, canonical(body))
    except (InvalidSignature, ValueError, TypeError, AttributeError):
        errors.append("the signature does not verify")
    try:
        heads = checkpoint_heads(document)
        root = merkle_root((c, v, d) for c, (v, d) in heads.items())
    except (TypeError, ValueError):
        return [*errors, "its heads cannot be read"]
    if root != document.get("root") or len(heads) != document.get("cases"):
        errors.append("its Merkle root or case count does not match its heads")
    return errors


# -- an export file ----------------------------------------------------------------------------


def _refuse_float(text: str) -> Any:
    raise ValueError(f"number {text} is not canonical")


_DECODER = json.JSONDecoder(parse_float=_refuse_float, parse_constant=_refuse_float)


def read_lines(path: str) -> Iterator[tuple[int, dict[str, Any] | None]]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = _DECODER.decode(line)
            except ValueError:
                item = None
            yield n, item if isinstance(item, dict) else None


def record_from_line(item: dict[str, Any]) -> tuple[str, Record] | None:
    try:
        case_id, version = str(item["case_id"]), int(item["version"])
        position, topic = int(item["position"]), str(item["topic"])
    except (KeyError, TypeError, ValueError):
        return None
    state = item.get("state")
    record = record_of(case_id, version, position, topic, item.get("class_version"), state)
    if "hash" in item and isinstance(state, dict) and item["hash"] != state.get("hash"):
        record = Record(version, position, record.hash, record.prev_hash, False, record.rehash)
    return case_id, record


def verify_export(
    path: str, checkpoint: dict[str, Any] | None = None, public_key: str | None = None
) -> dict[str, Any]:
    """The verdict on an export, in the shape of ``staffel audit verify --json``."""
    problems: list[Problem] = []
    heads: dict[str, tuple[int, str]] = {}
    position = None
    if checkpoint is not None:
        errors = checkpoint_errors(checkpoint, public_key)
        problems += [Problem(None, None, "checkpoint_invalid", "; ".join(errors))] * bool(errors)
        if not errors:
            heads, position = checkpoint_heads(checkpoint), int(checkpoint["position"])
    scanner = ChainScanner(position)
    for n, item in read_lines(path):
        found = None if item is None else record_from_line(item)
        if found is None:
            problems.append(Problem(None, None, "unreadable", f"line {n} is not an event"))
            continue
        case_id, r = found
        scanner.add(case_id, r.version, r.position, r.hash, r.prev_hash, r.ok)
    signed = position is not None
    suspects = scanner.suspects | (scanner.checkpoint_suspects(heads) if signed else set())
    records: dict[str, list[Record]] = {c: [] for c in suspects}
    if suspects:
        for _, item in read_lines(path):
            found = None if item is None else record_from_line(item)
            if found is not None and found[0] in records:
                records[found[0]].append(found[1])
    for case_id, rs in records.items():
        problems += case_problems(case_id, rs)
        if position is not None:
            problems += checkpoint_problems(case_id, rs, heads.get(case_id), position)
    return report(len(scanner.cases), scanner.events, scanner.last, problems)


def report(cases: int, events: int, position: int, problems: list[Problem]) -> dict[str, Any]:
    unique = sorted(set(problems), key=sort_key)
    return {
        "ok": not unique,
        "cases_checked": cases,
        "events_checked": events,
        "position": position,
        "problems": [p.as_dict() for p in unique],
    }


def print_report(result: dict[str, Any], out: Any = None) -> None:
    out = out or sys.stdout
    for p in result["problems"]:
        print(Problem(**p).line(), file=out)
    count = len(result["problems"])
    print(
        f"checked {result['events_checked']:,} events of {result['cases_checked']:,} cases"
        f" (up to position {result['position']:,}): "
        + ("no problems" if not count else f"{count} problem{'s' * (count != 1)}"),
        file=out,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m verifier.audit_verify" if __package__ else None,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("log", help="the export of `staffel audit export` (JSON lines)")
    parser.add_argument(
        "--checkpoint", metavar="FILE", help="a checkpoint from `staffel audit checkpoint`"
    )
    parser.add_argument(
        "--public-key",
        metavar="BASE64",
        help="the deployment's Ed25519 public key (`staffel keys`);"
        " default: the key the checkpoint names",
    )
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    args = parser.parse_args(argv)
    try:
        checkpoint = None
        if args.checkpoint:
            with open(args.checkpoint, encoding="utf-8") as f:
                checkpoint = json.load(f)
        result = verify_export(args.log, checkpoint, args.public_key)
    except (OSError, ValueError) as e:
        print(f"audit_verify: {e}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        if checkpoint is not None and not args.public_key:
            print(
                "note: the signature was checked against the key the checkpoint names;"
                " pass --public-key to check it is the deployment's",
                file=sys.stderr,
            )
        print_report(result)
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())

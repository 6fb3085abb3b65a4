"""Ed25519 keys and signatures over canonical JSON (sorted keys, compact, UTF-8)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from adapters.files import private_dir


def canonical(document: Any) -> bytes:
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def create_secret_file(path: Path, content: bytes) -> None:
    """Write a key file (mode 600) unless it exists. Written whole under another name, then
    linked into place: a process killed meanwhile leaves no empty or half-written key behind,
    and of two creating it at once one wins and everyone uses that one."""
    if path.exists():
        return
    if not path.parent.exists():
        private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        create_secret_file(path, pem)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return loaded


def public_key_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def public_key_from_text(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text))


def sign(document: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """``document`` with a ``signature`` over the canonical JSON of everything else."""
    body = {k: v for k, v in document.items() if k != "signature"}
    value = base64.b64encode(key.sign(canonical(body))).decode()
    return {**body, "signature": {"alg": "Ed25519", "value": value}}


def verify(document: dict[str, Any], public_key: Ed25519PublicKey) -> bool:
    signature = document.get("signature")
    if not isinstance(signature, dict) or signature.get("alg") != "Ed25519":
        return False
    body = {k: v for k, v in document.items() if k != "signature"}
    try:
        public_key.verify(base64.b64decode(str(signature.get("value", ""))), canonical(body))
    except (InvalidSignature, ValueError):
        return False
    return True

"""The answer file of ``staffel handover import RECEIPT --answer FILE``: the confirming bundle
holds the case's data key, so it is created with mode 600 and never replaces a file unasked."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, content: bytes, *, force: bool = False) -> None:
    """Create ``path`` (mode 600) with ``content``; ``FileExistsError`` if it exists, unless
    ``force``: then it is replaced whole (written beside it, then renamed into place)."""
    target = path.with_name(f".{path.name}.{os.getpid()}.tmp") if force else path
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(content)
        if force:
            os.replace(target, path)
    finally:
        if force:
            target.unlink(missing_ok=True)

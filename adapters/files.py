"""Files at rest: what Staffel writes holds personal data (the SQLite store, keys, exports,
bundles), so it is readable by the service's own account only (0600) and the data directory only
that account can enter (0700), whatever the process's umask (docs/data-protection.md).

SQLite creates the database file itself and gives its ``-wal``, ``-shm`` and ``-journal`` the
database file's permissions. The store is therefore created (empty, 0600) before the library
opens it; SQLite takes an empty file for a new database.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import TextIO

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """``path`` as a directory only this account may enter: created 0700 (missing parents
    too), an existing one of this account's closed to group and others."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        os.chmod(folder, PRIVATE_DIR)  # exactly 0700, whatever the umask took away
    _close_to_others(path, PRIVATE_DIR)
    return path


def private_sqlite_file(path: Path) -> Path:
    """The SQLite store at ``path``, created empty with 0600 unless it exists (its folder 0700
    if Staffel creates it); an existing store of this account's and its companions (``-wal``,
    ``-shm``, ``-journal``) closed to group and others."""
    if not path.parent.exists():
        private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        pass
    else:
        os.fchmod(fd, PRIVATE_FILE)
        os.close(fd)
    for file in (path, *(path.with_name(path.name + s) for s in SQLITE_COMPANIONS)):
        if file.exists():
            _close_to_others(file, PRIVATE_FILE)
    return path


def private_stdout(out: TextIO | None = None) -> None:
    """Close ``out`` (default: stdout) to group and others when it is a regular file: what
    ``staffel audit export > FILE`` writes holds personal data, and the shell created the file
    under its umask before Staffel started."""
    stream = out or sys.stdout
    try:
        fd = stream.fileno()
        mode = os.fstat(fd)
    except (OSError, ValueError):  # not a file descriptor (captured, a pipe closed)
        return
    if stat.S_ISREG(mode.st_mode) and mode.st_uid == os.getuid():
        os.fchmod(fd, stat.S_IMODE(mode.st_mode) & PRIVATE_FILE)


def _close_to_others(path: Path, allowed: int) -> None:
    """Remove from ``path`` every permission outside ``allowed``, if this account owns it (a
    file of another account's is left as it is: the operator decided on it)."""
    found = path.stat()
    current = stat.S_IMODE(found.st_mode)
    if found.st_uid == os.getuid() and current & ~allowed:
        os.chmod(path, current & allowed)

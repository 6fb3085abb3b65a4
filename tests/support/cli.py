"""The ``staffel`` command run in the test's own process."""

from __future__ import annotations

import pytest

from cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``staffel ARGV`` in this process: exit code (argparse's own exits too), stdout, stderr."""
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err

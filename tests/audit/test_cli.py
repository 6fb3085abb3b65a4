"""``staffel audit verify | checkpoint | export`` and the standalone verifier, as an operator and
an auditor run them: exit codes, what they print, and the same verdict offline as online."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import verifier.audit_verify
from adapters.federation.signing import load_or_create_key, public_key_text
from cli.main import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, main
from domain.application import StaffelApplication
from tests.support.audit import Forger, seed


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STAFFEL_DATABASE_URL", db_url)
    monkeypatch.setenv("STAFFEL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def standalone(*argv: str) -> tuple[int, Any]:
    """The verifier as an auditor runs it: a copy of the file alone, in a fresh interpreter."""
    return_code, out = 0, ""
    proc = subprocess.run(
        [sys.executable, "-I", *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    return_code, out = proc.returncode, proc.stdout
    return return_code, json.loads(out) if out.startswith("{") else out


def test_the_commands_and_the_offline_verifier_agree(
    app: StaffelApplication, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = seed(app)
    assert run(capsys, "audit", "verify")[0] == EXIT_OK
    code, checkpoint, err = run(capsys, "audit", "checkpoint")
    assert code == EXIT_OK, err
    cp = env / "checkpoint.json"
    cp.write_text(checkpoint, "utf-8")
    assert json.loads(checkpoint)["cases"] == 4

    forger = Forger(app)
    forger.change_sealed_byte(ids[0], 4)
    forger.rewrite(ids[2], 3, lambda state: state.update(text="umgeschrieben"), relink=True)
    code, out, err = run(capsys, "audit", "verify")
    assert code == EXIT_PROBLEM
    assert f"case {ids[0]} version 4: changed" in out
    assert str(ids[2]) not in out  # a recomputed chain verifies on its own...
    assert "verify:" in err  # the progress bar
    code, out, _ = run(capsys, "audit", "verify", "--since-checkpoint", str(cp), "--json")
    online = json.loads(out)
    assert code == EXIT_PROBLEM
    assert [(p["case_id"], p["version"], p["kind"]) for p in online["problems"]] == sorted(
        [(str(ids[0]), 4, "changed"), (str(ids[2]), 5, "broken_checkpoint_link")]
    )  # ...but not against the checkpoint
    assert run(capsys, "audit", "verify", "--case", str(ids[1]))[0] == EXIT_OK
    assert run(capsys, "audit", "verify", "--case", str(ids[0]))[0] == EXIT_PROBLEM

    code, log, _ = run(capsys, "audit", "export")
    assert code == EXIT_OK
    (env / "log.jsonl").write_text(log, "utf-8")
    assert len(log.splitlines()) == online["events_checked"]
    alone = env / "auditor" / "verify.py"
    alone.parent.mkdir()
    shutil.copy(verifier.audit_verify.__file__, alone)
    key = public_key_text(load_or_create_key(env / "data" / "signing-key.pem"))
    code, offline = standalone(
        str(alone), str(env / "log.jsonl"), "--checkpoint", str(cp), "--public-key", key, "--json"
    )
    assert code == EXIT_PROBLEM
    assert offline == online
    code, text = standalone(str(alone), str(env / "log.jsonl"))
    assert code == EXIT_PROBLEM
    assert f"case {ids[0]} version 4: changed" in text

    code, one, _ = run(capsys, "audit", "export", "--case", str(ids[1]))
    assert code == EXIT_OK
    assert len(one.splitlines()) == 5


def test_refusals(app: StaffelApplication, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = seed(app)
    Forger(app).delete(ids[0], 2)
    code, out, err = run(capsys, "audit", "checkpoint")
    assert code == EXIT_PROBLEM
    assert out == ""
    assert "missing" in err
    code, out, _ = run(capsys, "audit", "checkpoint", "--force")
    assert code == EXIT_OK
    assert json.loads(out)["known_problems"][0]["kind"] == "missing"
    missing = str(env / "nowhere.json")
    assert run(capsys, "audit", "verify", "--since-checkpoint", missing)[0] == EXIT_USAGE
    unknown = "00000000-0000-4000-8000-000000000000"
    assert run(capsys, "audit", "export", "--case", unknown)[0] == EXIT_PROBLEM
    with pytest.raises(SystemExit):
        main(["audit", "verify", "--case", "not-a-uuid"])


def test_the_standalone_verifier_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(Path(verifier.audit_verify.__file__).read_text("utf-8"))
    modules = {
        str(node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert modules - sys.stdlib_module_names == {"cryptography"}
    help_text = subprocess.run(
        [sys.executable, "-I", verifier.audit_verify.__file__, "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "sorted" in help_text
    assert "SHA-256" in help_text

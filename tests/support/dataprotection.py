"""Givens of the erasure tests: a person whose every personal value is a random token found
nowhere else, and ways to look for those tokens where an attacker would: the raw SQLite files
(database and write-ahead log), a ``pg_dump`` of the test's PostgreSQL database, and texts."""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

MARKER = "[gelöscht]"
PG_DUMP_FALLBACK = Path("/usr/lib/postgresql/15/bin/pg_dump")
T = TypeVar("T")


def token(prefix: str) -> str:
    """A lowercase token of letters outside hex: it collides with no hash, id or base64 text."""
    return prefix + "zq" + secrets.token_hex(5)


_BIRTH_DATES: set[date] = set()
_BAMF_NUMBERS: set[str] = set()


def _unused(used: set[T], draw: Callable[[], T]) -> T:
    """A value ``draw`` gives that is not in ``used`` yet (then it is)."""
    while (value := draw()) in used:
        pass
    used.add(value)
    return value


@dataclass(frozen=True)
class Subject:
    """The person and what was recorded about them: each personal value carries its own token.
    ``reference`` is not personal (a measure's id, a structured reference): it must stay, and
    shows that a search for a token does find text where it is stored. The measure's
    ``provider`` is free text, sealed like every free-text field (issue 13)."""

    given: str
    family: str
    birth_date: date
    bamf: str
    note: str
    health: str
    step: str
    assessment: str
    provider: str
    reference: str

    @classmethod
    def new(cls) -> Subject:
        """A new person. The birth date is one of some 11,000 days: two subjects of a test (one
        erased, one not) would share it about once in 5,000 runs, and the erased one's date
        would be "found" in the other's rows. So no date (nor file number) is drawn twice."""
        born = _unused(
            _BIRTH_DATES, lambda: date(1950, 1, 1) + timedelta(days=secrets.randbelow(365 * 30))
        )
        bamf = _unused(
            _BAMF_NUMBERS,
            lambda: f"{secrets.randbelow(9 * 10**7) + 10**7}-{secrets.randbelow(900) + 100}",
        )
        return cls(
            given=token("mehari"),
            family=token("woldu"),
            birth_date=born,
            bamf=bamf,
            note=token("wohnung"),
            health=token("diabetes"),
            step=token("bewerbung"),
            assessment=token("schneiderei"),
            provider=token("vhs"),
            reference=token("massnahme"),
        )

    def registration(self) -> dict[str, Any]:
        return {
            "person": {
                "given_name": self.given.capitalize(),
                "family_name": self.family.capitalize(),
                "birth_date": self.birth_date.isoformat(),
                "nationality": "ER",
                "languages": ["ti"],
            },
            "bamf_file_number": self.bamf,
            "residence_municipality": "Erkelenz",
            "legal_status": "asylum_seeker",
        }

    def events(self) -> list[dict[str, Any]]:
        """Staff events with a personal value each (and one without: the measure)."""
        return [
            {"type": "NoteRecorded", "text": f"Vorsprache wegen {self.note}", "category": "family"},
            {
                "type": "NoteRecorded",
                "text": f"Attest liegt vor: {self.health}",
                "category": "health",
            },
            {
                "type": "CompetenceAssessed",
                "instrument": "MYSKILLS",
                "assessed_on": "2026-02-10",
                "german_level": "A2",
                "languages": [{"language": "ti", "level": "C2"}],
                "work_experience": [{"occupation": "Schneiderin", "years": 4}],
                "support_need": True,
                "notes": f"Arbeitsprobe {self.assessment}",
            },
            {
                "type": "StepAgreed",
                "step_id": "s1",
                "description": f"Bewerbungstraining {self.step}",
                "plan": "eingliederungsvereinbarung",
                "due_on": "2026-06-30",
            },
            {
                "type": "MeasureStarted",
                "measure_id": self.reference,
                "kind": "integration_course",
                "provider": self.provider,
                "starts_on": "2026-03-02",
            },
        ]

    def personal(self) -> list[str]:
        """Every personal value as it could be written anywhere (lowercase: compare casefolded)."""
        born = self.birth_date
        return [
            self.given,
            self.family,
            born.isoformat(),
            born.strftime("%d.%m.%Y"),
            born.strftime("%Y%m%d"),
            self.bamf,
            self.note,
            self.health,
            self.step,
            self.assessment,
            self.provider,
        ]


def found_in(haystack: str | bytes, needles: list[str]) -> list[str]:
    """The needles in ``haystack``: casefolded, and also hex-encoded (how ``pg_dump`` writes a
    bytea column such as the events' state)."""
    text = haystack.decode("utf-8", "replace") if isinstance(haystack, bytes) else haystack
    text = text.casefold()
    return [n for n in needles if n.casefold() in text or n.encode().hex() in text]


# -- where the values could be ----------------------------------------------------------------


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def sqlite_files(url: str) -> dict[str, bytes]:
    """The bytes of the database file and of its write-ahead log (if there is one)."""
    db = sqlite_path(url)
    files = {db.name: db.read_bytes()}
    for suffix in ("-wal", "-journal"):
        extra = db.with_name(db.name + suffix)
        if extra.exists():
            files[extra.name] = extra.read_bytes()
    return files


def pg_dump_binary() -> str:
    found = shutil.which("pg_dump") or (
        str(PG_DUMP_FALLBACK) if PG_DUMP_FALLBACK.exists() else None
    )
    assert found, "pg_dump is needed to check what a PostgreSQL database holds"
    return found


def pg_dump(url: str, *tables: str) -> str:
    """A plain-text dump of the test's own database (or of ``tables`` only)."""
    parts = urlsplit(url)
    command = [pg_dump_binary(), "--no-owner", "--dbname", url]
    for table in tables:
        command += ["--table", table]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, f"pg_dump of {parts.path} failed: {done.stderr}"
    return done.stdout


def database_contents(url: str) -> dict[str, str | bytes]:
    """Everything the database holds, as an attacker with the files or a dump would see it."""
    if url.startswith("sqlite"):
        return dict(sqlite_files(url))
    return {"pg_dump": pg_dump(url)}


def stored_event_states(url: str, table: str) -> bytes:
    """The events table's stored bytes (the state column as written, nothing decoded)."""
    if url.startswith("sqlite"):
        with sqlite3.connect(sqlite_path(url)) as conn:
            rows = conn.execute(f"SELECT state FROM {table}").fetchall()
        return b"\n".join(bytes(r[0]) for r in rows)
    return pg_dump(url, table).encode()

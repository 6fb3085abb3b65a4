"""Demo data: the organisations, users, cases and partners ``staffel serve --demo`` seeds."""

from pathlib import Path

ORGS_FILE = Path(__file__).parent / "orgs.toml"  # the demo's organisations (also the tests')

"""Tables of the matching projection (``projections/matching_view.py``), one generation each like
the others (``schema.table``). ``doc`` holds the JSON document; the other columns are what
queries filter, order and score on."""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {
    "matching": {
        "match_cases": (
            "CREATE TABLE IF NOT EXISTS {t} ("
            " case_id TEXT PRIMARY KEY, holder TEXT NOT NULL, closed INTEGER NOT NULL,"
            " municipality TEXT NOT NULL, legal_status TEXT NOT NULL, german_level TEXT,"
            " occupations TEXT NOT NULL, doc TEXT NOT NULL)"
        ),
        "match_shares": (
            "CREATE TABLE IF NOT EXISTS {t} ("
            " case_id TEXT NOT NULL, consent_id TEXT NOT NULL, purpose TEXT NOT NULL,"
            " recipient TEXT NOT NULL, scope TEXT NOT NULL, PRIMARY KEY (case_id, consent_id))"
        ),
        "match_mentors": (
            "CREATE TABLE IF NOT EXISTS {t} ("
            " volunteer_id TEXT NOT NULL, case_id TEXT NOT NULL,"
            " PRIMARY KEY (volunteer_id, case_id))"
        ),
        "match_offers": (
            "CREATE TABLE IF NOT EXISTS {t} ("
            " offer_id TEXT PRIMARY KEY, employer_id TEXT NOT NULL, state TEXT NOT NULL,"
            " kind TEXT NOT NULL, municipality TEXT NOT NULL, occupation_key TEXT NOT NULL,"
            " published_at TEXT NOT NULL, doc TEXT NOT NULL)"
        ),
        "match_employers": (
            "CREATE TABLE IF NOT EXISTS {t} ("
            " employer_id TEXT PRIMARY KEY, account TEXT NOT NULL, caring_org TEXT NOT NULL,"
            " active INTEGER NOT NULL, name_key TEXT NOT NULL, locations TEXT NOT NULL,"
            " doc TEXT NOT NULL)"
        ),
        "match_volunteers": (
            "CREATE TABLE IF NOT EXISTS {t} ("
            " volunteer_id TEXT PRIMARY KEY, organisation TEXT NOT NULL, login TEXT NOT NULL,"
            " state TEXT NOT NULL, municipality TEXT NOT NULL, languages TEXT NOT NULL,"
            " capacity INTEGER NOT NULL, mentees INTEGER NOT NULL, name_key TEXT NOT NULL,"
            " doc TEXT NOT NULL)"
        ),
    }
}

INDEXES: dict[str, tuple[str, ...]] = {
    "match_cases": ("CREATE INDEX IF NOT EXISTS {t}_holder ON {t} (holder, closed)",),
    "match_shares": ("CREATE INDEX IF NOT EXISTS {t}_to ON {t} (purpose, recipient, case_id)",),
    "match_mentors": ("CREATE INDEX IF NOT EXISTS {t}_case ON {t} (case_id)",),
    "match_offers": (
        "CREATE INDEX IF NOT EXISTS {t}_state ON {t} (state, published_at, offer_id)",
        "CREATE INDEX IF NOT EXISTS {t}_employer ON {t} (employer_id, published_at, offer_id)",
    ),
    "match_employers": (
        "CREATE INDEX IF NOT EXISTS {t}_account ON {t} (account)",
        "CREATE INDEX IF NOT EXISTS {t}_name ON {t} (name_key, employer_id)",
    ),
    "match_volunteers": (
        "CREATE INDEX IF NOT EXISTS {t}_org ON {t} (organisation, name_key, volunteer_id)",
    ),
}

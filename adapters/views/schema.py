"""Tables of the read models. Each projection owns tables suffixed by a generation number, so a
rebuild writes fresh tables beside the live ones and swaps them in when it has caught up."""

from __future__ import annotations

from adapters.views import matching_schema

TABLES: dict[str, dict[str, str]] = {
    "case_history": {
        "case_history": (
            "CREATE TABLE IF NOT EXISTS {t} ("
            " case_id TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL, occurred_on TEXT, actor TEXT NOT NULL,"
            " org TEXT NOT NULL, summary TEXT NOT NULL, data TEXT NOT NULL,"
            " hash TEXT NOT NULL, prev_hash TEXT NOT NULL, position BIGINT NOT NULL,"
            " erased_summary TEXT, erased_data TEXT, shown TEXT,"
            " PRIMARY KEY (case_id, version))"
        ),
    },
    "case_summary": {
        "case_summary": (
            "CREATE TABLE IF NOT EXISTS {t} ("
            " case_id TEXT PRIMARY KEY, doc TEXT NOT NULL, holder TEXT NOT NULL, office TEXT,"
            " caseworker TEXT, legal_status TEXT NOT NULL, handover_state TEXT NOT NULL,"
            " handover_to TEXT, name_key TEXT NOT NULL, bamf_file_number TEXT,"
            " registered_on TEXT NOT NULL, closed INTEGER NOT NULL, support_need INTEGER,"
            " version INTEGER NOT NULL, last_activity TEXT NOT NULL, position BIGINT NOT NULL,"
            " search_key TEXT NOT NULL)"
        ),
        "handovers": (
            "CREATE TABLE IF NOT EXISTS {t} ("
            " case_id TEXT NOT NULL, offer_version INTEGER NOT NULL, from_org TEXT NOT NULL,"
            " to_org TEXT NOT NULL, state TEXT NOT NULL, offered_at TEXT NOT NULL,"
            " due_on TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (case_id, offer_version))"
        ),
    },
    "follow_ups": {
        "follow_up_cases": (
            "CREATE TABLE IF NOT EXISTS {t} (case_id TEXT PRIMARY KEY, doc TEXT NOT NULL)"
        ),
        "follow_ups": (
            "CREATE TABLE IF NOT EXISTS {t} ("
            " case_id TEXT NOT NULL, org TEXT NOT NULL, follow_up_id TEXT NOT NULL,"
            " assignee TEXT, due_on TEXT NOT NULL, state TEXT NOT NULL, doc TEXT NOT NULL,"
            " PRIMARY KEY (case_id, org, follow_up_id))"
        ),
    },
    **matching_schema.TABLES,
}

INDEXES: dict[str, tuple[str, ...]] = {
    "case_summary": (
        "CREATE INDEX IF NOT EXISTS {t}_holder ON {t} (holder, name_key, case_id)",
        "CREATE INDEX IF NOT EXISTS {t}_name ON {t} (name_key, case_id)",
        "CREATE INDEX IF NOT EXISTS {t}_bamf ON {t} (bamf_file_number)",
        "CREATE INDEX IF NOT EXISTS {t}_handover_to ON {t} (handover_to, handover_state)",
    ),
    "handovers": (
        "CREATE INDEX IF NOT EXISTS {t}_to ON {t} (to_org, state, offered_at)",
        "CREATE INDEX IF NOT EXISTS {t}_from ON {t} (from_org, state, offered_at)",
    ),
    "follow_ups": (
        "CREATE INDEX IF NOT EXISTS {t}_list ON {t} (org, state, due_on, case_id, follow_up_id)",
    ),
    **matching_schema.INDEXES,
}

# state: building -> active -> retired -> dropped
REGISTRY = (
    "CREATE TABLE IF NOT EXISTS projection_generations ("
    " name TEXT NOT NULL, generation INTEGER NOT NULL, version INTEGER NOT NULL,"
    " state TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (name, generation))"
)


def table(base: str, generation: int) -> str:
    return f"{base}_g{generation}"


def create_statements(projection: str, generation: int) -> list[str]:
    statements = []
    for base, ddl in TABLES[projection].items():
        name = table(base, generation)
        statements.append(ddl.format(t=name))
        statements += [index.format(t=name) for index in INDEXES.get(base, ())]
    return statements


def drop_statements(projection: str, generation: int) -> list[str]:
    return [f"DROP TABLE IF EXISTS {table(base, generation)}" for base in TABLES[projection]]

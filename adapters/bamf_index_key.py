"""The keyed id of the BAMF file number index (ADR 0010): HMAC-SHA256 of the canonical number
under a key derived from the master key. Without the key nobody can tell from the database
whether a number was ever registered; with it, one number maps to one id, in every process."""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID

from adapters.keystore import MasterKey
from domain.aggregates.bamf_index import IndexId

LABEL = b"staffel/bamf-file-number-index/v1"


def keyed_index_id(master: MasterKey) -> IndexId:
    key = master.derive(LABEL)

    def index_id(canonical: str) -> UUID:
        digest = hmac.new(key, canonical.encode("ascii"), hashlib.sha256).digest()
        return UUID(bytes=digest[:16], version=4)  # version 4: never mistaken for a legacy id

    return index_id

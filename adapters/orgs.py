"""Organisations of a deployment, from a TOML file (``STAFFEL_ORGS_FILE``)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path


class OrgKind(StrEnum):
    AGENTUR = "agentur"
    JOBCENTER = "jobcenter"
    MUNICIPAL_JOBCENTER = "municipal_jobcenter"
    IMMIGRATION_OFFICE = "immigration_office"
    WELFARE = "welfare"
    MUNICIPALITY = "municipality"
    AUDIT = "audit"


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    kind: OrgKind
    offices: tuple[str, ...] = ()
    serves: tuple[str, ...] = ()  # municipalities a Jobcenter is responsible for
    peer_url: str | None = None  # set when the organisation runs its own Staffel deployment
    public_key: str | None = None  # that deployment's Ed25519 key (base64), for bundles/receipts
    team_email: str | None = None  # the team's shared address for notifications (ADR 0018)

    @property
    def is_remote(self) -> bool:
        return self.peer_url is not None

    @property
    def is_jobcenter(self) -> bool:
        return self.kind in (OrgKind.JOBCENTER, OrgKind.MUNICIPAL_JOBCENTER)


class OrgsFileError(ValueError):
    pass


class Organisations:
    def __init__(self, orgs: list[Organisation]) -> None:
        self._by_id = {o.id: o for o in orgs}
        if len(self._by_id) != len(orgs):
            raise OrgsFileError("organisation ids must be unique")
        self._jobcenter_for: dict[str, str] = {}
        for org in orgs:
            for municipality in org.serves:
                if municipality in self._jobcenter_for:
                    raise OrgsFileError(f"{municipality} is served by two Jobcenters")
                self._jobcenter_for[municipality] = org.id

    def __contains__(self, org_id: object) -> bool:
        return org_id in self._by_id

    def __iter__(self) -> Iterator[Organisation]:
        return iter(self._by_id.values())

    def get(self, org_id: str) -> Organisation | None:
        return self._by_id.get(org_id)

    def jobcenter_for(self, municipality: str) -> str | None:
        return self._jobcenter_for.get(municipality)

    @classmethod
    def from_toml(cls, text: str) -> Organisations:
        try:
            data = tomllib.loads(text)
            return cls(
                [
                    Organisation(
                        id=o["id"],
                        name=o["name"],
                        kind=OrgKind(o["kind"]),
                        offices=tuple(o.get("offices", ())),
                        serves=tuple(o.get("serves", ())),
                        peer_url=o.get("peer_url"),
                        public_key=o.get("public_key"),
                        team_email=_email(o.get("team_email")),
                    )
                    for o in data.get("organisation", [])
                ]
            )
        except (tomllib.TOMLDecodeError, KeyError, ValueError, TypeError) as e:
            raise OrgsFileError(f"invalid organisations file: {e}") from e

    @classmethod
    def load(cls, path: Path | None) -> Organisations:
        if path is None:
            return cls.from_toml(resources.files("demo").joinpath("orgs.toml").read_text("utf-8"))
        return cls.from_toml(path.read_text("utf-8"))


def _email(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.count("@") != 1 or any(c in value for c in " ,;<>\r\n"):
        raise ValueError(f"team_email {value!r} is not one e-mail address")
    return value

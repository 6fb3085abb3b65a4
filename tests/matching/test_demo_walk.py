"""The demo data set carries scenarios 2 and 4 (SQLite, as ``staffel serve --demo`` runs it):
about 100 employers with offers, the DRK's volunteers, and a newcomer's walk from an offer to a
placement to mentoring, through the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from bootstrap import Services, build_services
from demo.partners import DAHMEN_JOB, MENTOR
from demo.seed import seed_if_empty
from tests.support.api import auth, settings_for

AGENTUR = auth("a.schmitz", "agentur-aachen-dueren")
DAHMEN = auth("h.dahmen", "elektro-dahmen", "employer")
PETRA = auth("p.lang", "drk-heinsberg", "volunteer")
REUTLINGEN = auth("s.bader", "integration-reutlingen")
FIRM = auth("b.kaechele", "textilwerk-metzingen-ag", "employer")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Services]]:
    root: Path = tmp_path_factory.mktemp("demo")
    settings = settings_for(f"sqlite:///{root}/staffel.db", data_dir=root / "data")
    services = build_services(settings)
    seed_if_empty(services)
    assert services.supervisor.wait_for(services.cases.recorder.max_notification_id() or 0, 30)
    with TestClient(create_app(settings, services)) as client:
        yield client, services
    services.close()


def read(client: TestClient, services: Services, path: str, headers: dict[str, str]) -> Any:
    head = services.cases.recorder.max_notification_id()
    r = client.get(f"{path}{'&' if '?' in path else '?'}min_position={head}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def write(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    r = client.post(path, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_about_a_hundred_employers_with_offers_and_the_drk_volunteers(
    demo: tuple[TestClient, Services],
) -> None:
    client, services = demo
    employers = read(client, services, "/employers?limit=200", AGENTUR)["items"]
    assert 90 <= len(employers) <= 110
    places = {p for e in employers for p in e["locations"]}
    assert {"Heinsberg", "Erkelenz", "Metzingen", "Münsingen", "Reutlingen"} <= places
    offers = read(client, services, "/offers?limit=200&state=open", AGENTUR)["items"]
    assert len(offers) >= 100
    assert {o["kind"] for o in offers} == {"internship", "apprenticeship", "job",
                                           "einstiegsqualifizierung"}  # fmt: skip
    volunteers = read(client, services, "/volunteers?organisation=drk-heinsberg", AGENTUR)
    assert len(volunteers["items"]) >= 15
    bundled = read(client, services, "/offers?caring_org=integration-reutlingen&limit=200",
                   REUTLINGEN)["items"]  # fmt: skip
    assert any(o["employer_name"] == "Textilwerk Metzingen AG" for o in bundled)


def test_scenario_2_from_offer_to_placement_to_mentoring(demo: tuple[TestClient, Services]) -> None:
    client, services = demo
    (offer,) = read(client, services, "/offers", DAHMEN)["items"]
    assert (offer["offer_id"], offer["free"], offer["employer_name"]) == (
        str(DAHMEN_JOB), 1, "Elektro Dahmen GmbH"
    )  # fmt: skip

    best = read(client, services, f"/offers/{DAHMEN_JOB}/candidates", AGENTUR)["items"][0]
    assert best["person"]["name"] == {"given_name": "Yonas", "family_name": "Haile"}
    assert best["explanation"].startswith("Deutsch B1 erfüllt A2; 6 Jahre als Elektriker")
    (shared,) = read(client, services, f"/offers/{DAHMEN_JOB}/candidates", DAHMEN)["items"]
    assert shared["case_id"] == best["case_id"]
    assert "birth_date" not in shared["person"]

    yonas = best["case_id"]
    write(client, f"/offers/{DAHMEN_JOB}/placements", {"case_id": yonas, "starts_on": "2026-07-01"},
          AGENTUR)  # fmt: skip
    assert read(client, services, f"/offers/{DAHMEN_JOB}", DAHMEN)["state"] == "filled"
    write(client, f"/volunteers/{MENTOR}/mentees", {"case_id": yonas}, AGENTUR)
    write(client, f"/cases/{yonas}/events", {
        "type": "ConsentGiven", "consent_id": "c-pate", "purpose": "share_with_mentor",
        "recipient": "drk-heinsberg", "scope": ["name", "placements"], "given_on": "2026-07-01",
    }, AGENTUR)  # fmt: skip

    mentees = read(client, services, f"/volunteers/{MENTOR}/mentees", PETRA)["items"]
    names = {m["person"]["name"]["family_name"] for m in mentees}
    assert names == {"Kovalenko", "Haile"}  # mentoring goes on after the placement
    (haile,) = [m for m in mentees if m["person"]["name"]["family_name"] == "Haile"]
    assert haile["person"]["placements"][0]["offer_id"] == str(DAHMEN_JOB)


def test_scenario_4_competence_based_placement_in_metzingen(
    demo: tuple[TestClient, Services],
) -> None:
    client, services = demo
    offers = read(client, services, "/offers?occupation=Verkäufer&municipality=Metzingen",
                  REUTLINGEN)["items"]  # fmt: skip
    (sales,) = [o for o in offers if o["employer_name"] == "Textilwerk Metzingen AG"]
    staff = read(client, services, f"/offers/{sales['offer_id']}/candidates", REUTLINGEN)["items"]
    assert staff[0]["person"]["name"]["family_name"] == "Sultani"
    assert staff[0]["explanation"] == (
        "Deutsch B1 erfüllt B1; 3 Jahre als Verkäufer; gleiche Gemeinde; Beschäftigung erlaubt"
    )
    shared = read(client, services, f"/offers/{sales['offer_id']}/candidates", FIRM)["items"]
    assert {c["person"]["name"]["family_name"] for c in shared} == {"Sultani", "Aziz", "Petrenko"}

"""The matching projection keeps the inputs current and runs like the others: batches with
tracking, a rebuilt generation equal to the live one. Once per backend."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from adapters.views.matching_queries import MatchingQueries
from domain.actor import Actor, acting_as
from domain.values import Cefr, ConsentPurpose, LegalStatus, OfferState
from projections.matching_view import MatchingProjection
from service_layer.matching import candidates_for_employer, candidates_for_staff
from tests.support.partners import AGENCY, ON, consent, employer, offer, person, volunteer
from tests.support.store import MakeApp
from workers.projections import ProjectionWorker, build_view_store, run_once

PROJECTION = MatchingProjection()


def test_the_view_follows_people_offers_and_consents(make_app: MakeApp) -> None:
    app = make_app()
    store = build_view_store(app)
    q = MatchingQueries(store)
    account = f"dahmen-{uuid4().hex[:8]}"  # the PostgreSQL database is shared by the session
    office = Actor("cw-2", f"jobcenter-{uuid4().hex[:8]}")
    firm = employer(app, account=account)
    post = offer(app, firm.id, positions=1).id
    fits = person(app, municipality="Wassenberg", by=office)
    poor = person(app, municipality="Aachen", status=LegalStatus.TOLERATED, german=Cefr.A1,
                  work=("Bäcker", 2), by=office)  # fmt: skip
    given = consent(app, fits, account, ("name", "german_level", "work_experience"), by=office)
    run_once(app, PROJECTION, store)

    offered = q.offer(str(post))
    assert offered is not None
    staff = candidates_for_staff(q, offered, office.org, 10)
    assert [c["case_id"] for c in staff] == [str(fits), str(poor)]
    assert staff[0]["explanation"] == (
        "Deutsch B1 erfüllt A2; 3 Jahre als Elektriker; gleiche Gemeinde; Beschäftigung erlaubt"
    )
    recipients = [account, str(firm.id)]
    shared = candidates_for_employer(q, offered, recipients, 10)
    assert [c["case_id"] for c in shared] == [str(fits)]
    assert shared[0]["fields"] == ["german_level", "name", "work_experience"]
    assert set(shared[0]["person"]) == {"german_level", "name", "work_experience"}
    assert shared[0]["explanation"] == (
        "Deutsch B1 erfüllt A2; 3 Jahre als Elektriker; Wohnort nicht freigegeben;"
        " Aufenthaltsstatus nicht freigegeben"
    )

    mentor = volunteer(app, capacity=2).id
    with acting_as(office):
        app.record(fits, "ConsentWithdrawn", {"consent_id": given, "withdrawn_on": ON})
        app.assign_mentor(poor, mentor)
        app.place(fits, post, placement_id="p1", starts_on=ON)
    consent(app, poor, "drk-heinsberg", ("name",), ConsentPurpose.SHARE_WITH_MENTOR, by=office)
    run_once(app, PROJECTION, store)

    assert candidates_for_employer(q, offered, recipients, 10) == []
    now = q.offer(str(post))
    assert now is not None
    assert (now["state"], now["free"], now["placed"]) == (OfferState.FILLED.value, 0, [str(fits)])
    (mentee,) = q.mentees(str(mentor))
    assert mentee["case_id"] == str(poor)
    assert mentee["consents"][0]["recipient"] == "drk-heinsberg"
    assert q.person(str(fits))["placements"][0]["offer_id"] == str(post)  # type: ignore[index]
    assert {r["case_id"] for r in q.held_by(office.org)} == {str(fits), str(poor)}
    page = q.offers(filters={"employer_id": str(firm.id), "state": "filled"})
    assert [d["offer_id"] for d in page.items] == [str(post)]
    assert q.volunteers(filters={"volunteer_id": str(mentor)}).items[0]["mentees"] == [str(poor)]


def test_a_rebuilt_generation_equals_the_live_one(make_app: MakeApp) -> None:
    app = make_app()
    store = build_view_store(app)
    firm = employer(app)
    posts = [offer(app, firm.id, positions=2).id for _ in range(3)]
    people = [person(app) for _ in range(5)]
    mentor = volunteer(app, capacity=3).id
    with acting_as(AGENCY):
        for i, case_id in enumerate(people[:3]):
            app.place(case_id, posts[i % 2], placement_id="p1", starts_on=ON)
        app.assign_mentor(people[0], mentor)
        app.withdraw_offer(posts[2], reason="besetzt")
        app.record(people[4], "CaseClosed", {"reason": "verzogen", "closed_on": date(2026, 5, 1)})
    live = run_once(app, PROJECTION, store)
    assert live > 0
    rebuilt = store.new_generation(PROJECTION.name, PROJECTION.version)
    ProjectionWorker(app, store, PROJECTION, rebuilt, batch_size=7).catch_up()
    active = store.active_generation(PROJECTION.name)
    assert active is not None
    for table in ("match_cases", "match_offers", "match_employers", "match_volunteers",
                  "match_shares", "match_mentors"):  # fmt: skip
        assert _rows(store, f"{table}_g{active}") == _rows(store, f"{table}_g{rebuilt}"), table
    store.activate(PROJECTION.name, rebuilt)
    assert MatchingQueries(store).person(str(people[4]))["closed"] is True  # type: ignore[index]


def _rows(store: object, table: str) -> list[tuple[object, ...]]:
    with store.cursor() as curs:  # type: ignore[attr-defined]
        curs.execute(f"SELECT * FROM {table} ORDER BY 1, 2")
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in curs.fetchall()]

"""What every request resolves stays small (issue 16): FastAPI solves a sub-dependency's own tree
again wherever it appears, before it finds the value it cached for the request, so a dependency
shared under the role gate, the principal and read-your-writes costs a solve at each place, on
every request. Those three take the services from the app's state instead.

Counted on the app's real routes: the solves a history read costs, and no ``get_services`` below
the per-request dependencies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.dependencies.models import Dependant

from adapters.settings import Settings
from api.app import create_app
from api.deps import bearer, get_principal, get_services, read_your_writes
from api.guard import role_gate

PER_REQUEST = (role_gate, get_principal, read_your_writes)


def solves(dependant: Dependant) -> int:
    """How many times ``solve_dependencies`` runs for ``dependant``: once for it, and once for
    each node below it, repeated nodes included."""
    return 1 + sum(solves(sub) for sub in dependant.dependencies)


def calls_below(dependant: Dependant) -> set[object]:
    found: set[object] = set()
    for sub in dependant.dependencies:
        found.add(sub.call)
        found |= calls_below(sub)
    return found


def routes(tmp_path: Path) -> dict[tuple[str, str], Any]:
    # the routes are built with the app; its services only at startup, which is not run here
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 's.db'}", data_dir=tmp_path))
    # what a request is matched to: the routes as included, the app's own gate among their
    # dependencies (``request.scope["route"]``)
    found: dict[tuple[str, str], Any] = {}
    for included in app.routes:
        contexts = getattr(included, "effective_route_contexts", None)
        candidates: list[Any] = list(contexts()) if contexts is not None else [included]
        for route in candidates:
            if isinstance(getattr(route, "dependant", None), Dependant):
                for method in route.methods or ():
                    found[(method, route.path)] = route
    return found


def test_a_history_read_solves_six_dependencies(tmp_path: Path) -> None:
    route = routes(tmp_path)[("GET", "/cases/{case_id}/history")]
    # the route, the gate and the bearer scheme under it, the services, the principal,
    # read-your-writes: the bearer scheme is declared (and documented) once, by the gate
    assert solves(route.dependant) == 6


def test_the_bearer_scheme_is_solved_once_per_request(tmp_path: Path) -> None:
    for key, route in routes(tmp_path).items():
        found: list[object] = []
        stack = [route.dependant]
        while stack:
            node = stack.pop()
            found += [sub.call for sub in node.dependencies if sub.call is bearer]
            stack.extend(node.dependencies)
        assert len(found) <= 1, key


def test_no_per_request_dependency_solves_the_services_again(tmp_path: Path) -> None:
    for key, route in routes(tmp_path).items():
        stack = [route.dependant]
        while stack:
            node = stack.pop()
            if node.call in PER_REQUEST:
                assert get_services not in calls_below(node), (key, node.call)
            stack.extend(node.dependencies)

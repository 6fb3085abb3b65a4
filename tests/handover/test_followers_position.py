"""Issue 16, cheaper rounds: the followers of the log beside the projections (the handover
policy, the peers' outbox, the mail outbox) ask the store for their tracking position once and
then follow their own batches; a batch refused because another runner moved the position on
makes them read it again, and nothing is done twice."""

from __future__ import annotations

from typing import Any

from domain.actor import Actor
from tests.support.federation import AGENTUR, Deployment, register

HOLDER = Actor("cw-agentur", AGENTUR)


def test_each_follower_reads_its_position_once_then_again_after_a_refused_batch(
    deployment: Deployment,
) -> None:
    store = deployment.store
    reads: list[str] = []
    max_tracking_id = store.max_tracking_id

    def counted(key: str) -> Any:
        reads.append(key)
        return max_tracking_id(key)

    store.max_tracking_id = counted  # type: ignore[method-assign,assignment]
    followers = deployment.services.supervisor.processes
    assert len(followers) >= 2
    register(deployment.app, HOLDER, "Wegberg")
    for follower in followers:
        follower.step()
    first = len(reads)
    register(deployment.app, HOLDER, "Wegberg")
    for follower in followers:
        assert follower.step() >= 1
        assert follower.step() == 0  # nothing new: its own position, no read
    assert len(reads) == first  # followed their own batches: no position asked
    # another runner moves every follower's tracking on
    head = deployment.head()
    register(deployment.app, HOLDER, "Wegberg")
    keys = set(reads)
    with store.cursor(commit=True) as curs:
        for key in keys:
            start = max_tracking_id(key) or 0
            store.advance_tracking(curs, key, start, deployment.head())
    for follower in followers:
        follower.step()  # refused: a stale start, nothing done
        follower.step()  # the position read again
    assert len(reads) == first + len(keys)
    assert all((max_tracking_id(key) or 0) > head for key in keys)

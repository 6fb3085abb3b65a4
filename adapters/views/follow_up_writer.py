"""The follow-up view's writer (``projections.follow_ups.FollowUpWriter``): the fold's state of
each case, and one row per follow-up with the columns the lists filter and sort on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from adapters.views.batch_writer import BatchWriter, dumps, loads
from projections.follow_ups import FollowUpWriter, State, rows


class SqlFollowUpWriter(BatchWriter, FollowUpWriter):
    """Rewrites a case's follow-up rows only when its follow-ups changed in the batch: most
    events (a recognition, an assessment) change the fold's state but none of its follow-ups."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stored: dict[str, Any] = {}  # case_id -> the follow-ups its rows hold now

    def load_follow_up_states(self, case_ids: Iterable[str]) -> dict[str, State]:
        condition, params = self.keys_in("case_id", list(case_ids))
        self.curs.execute(
            self.sql(f"SELECT doc FROM {self.t('follow_up_cases')} WHERE {condition}"), params
        )
        states = {d["case_id"]: d for d in (loads(r["doc"]) for r in self.curs.fetchall())}
        self._stored.update((case_id, s["items"]) for case_id, s in states.items())
        return states

    def save_follow_up_states(self, states: Sequence[State]) -> None:
        if not states:
            return
        self.replace(
            self.t("follow_up_cases"),
            ("case_id", "doc"),
            [(s["case_id"], dumps(s)) for s in states],
        )
        changed = [s for s in states if s["items"] != self._stored.get(s["case_id"], {})]
        self._stored.update((s["case_id"], s["items"]) for s in changed)
        if not changed:
            return
        self.delete_keys(self.t("follow_ups"), "case_id", sorted(s["case_id"] for s in changed))
        self.insert(
            self.t("follow_ups"),
            ("case_id", "org", "follow_up_id", "assignee", "due_on", "state", "doc"),
            [_row(r) for s in changed for r in rows(s)],
        )


def _row(r: dict[str, Any]) -> tuple[Any, ...]:
    return (
        r["case_id"], r["org"], r["follow_up_id"], r["assignee"], r["due_on"], r["state"],
        dumps(r),
    )  # fmt: skip

"""Rules a volunteer refuses to break. Only ``api/`` maps them to status codes."""

from __future__ import annotations

from uuid import UUID

from domain.values import VolunteerState


class VolunteerRuleError(Exception):
    """A command was refused because it would break a rule of the volunteer."""


class NotVolunteerManagerError(VolunteerRuleError):
    def __init__(self, org: str, organisation: str) -> None:
        super().__init__(f"only '{organisation}' manages its volunteers, not '{org}'")
        self.org, self.organisation = org, organisation


class VolunteerStateError(VolunteerRuleError):
    def __init__(self, volunteer_id: UUID, state: VolunteerState, action: str) -> None:
        super().__init__(f"volunteer {volunteer_id} is {state.value}: cannot {action}")
        self.volunteer_id, self.state, self.action = volunteer_id, state, action


class VolunteerAtCapacityError(VolunteerRuleError):
    def __init__(self, volunteer_id: UUID, capacity: int) -> None:
        super().__init__(f"volunteer {volunteer_id} already mentors {capacity} (their capacity)")
        self.volunteer_id, self.capacity = volunteer_id, capacity


class AlreadyMenteeError(VolunteerRuleError):
    def __init__(self, volunteer_id: UUID, case_id: UUID) -> None:
        super().__init__(f"volunteer {volunteer_id} already mentors case {case_id}")
        self.volunteer_id, self.case_id = volunteer_id, case_id


class InvalidCapacityError(VolunteerRuleError):
    def __init__(self, capacity: int) -> None:
        super().__init__(f"capacity: a volunteer mentors at least 1 person, not {capacity}")
        self.capacity = capacity


class DuplicateVolunteerError(VolunteerRuleError):
    def __init__(self, organisation: str, login: str, existing_volunteer_id: UUID) -> None:
        super().__init__(
            f"volunteer '{login}' of '{organisation}' is already registered as"
            f" {existing_volunteer_id}"
        )
        self.existing_volunteer_id = existing_volunteer_id

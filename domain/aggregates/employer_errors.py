"""Rules an employer refuses to break. Only ``api/`` maps them to status codes."""

from __future__ import annotations

from uuid import UUID


class EmployerRuleError(Exception):
    """A command was refused because it would break a rule of the employer."""


class NotEmployerManagerError(EmployerRuleError):
    def __init__(self, org: str, account: str, caring_org: str) -> None:
        super().__init__(
            f"only the employer '{account}' or the organisation looking after it"
            f" '{caring_org}' manages it, not '{org}'"
        )
        self.org, self.account, self.caring_org = org, account, caring_org


class EmployerInactiveError(EmployerRuleError):
    def __init__(self, employer_id: UUID) -> None:
        super().__init__(f"employer {employer_id} is deactivated")
        self.employer_id = employer_id


class DuplicateEmployerError(EmployerRuleError):
    def __init__(self, account: str, existing_employer_id: UUID) -> None:
        super().__init__(f"employer '{account}' is already registered as {existing_employer_id}")
        self.account, self.existing_employer_id = account, existing_employer_id

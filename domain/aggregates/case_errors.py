"""Rules a case refuses to break. Only ``api/`` maps them to status codes."""

from __future__ import annotations

from uuid import UUID


class CaseRuleError(Exception):
    """A command was refused because it would break a rule of the case."""


class NotHolderError(CaseRuleError):
    def __init__(self, org: str, holder: str) -> None:
        # the message never names the holder: the caller may not know who holds the case
        super().__init__(f"only the organisation holding this case records events, not '{org}'")
        self.org, self.holder = org, holder


class CaseClosedError(CaseRuleError):
    def __init__(self) -> None:
        super().__init__("the case is closed: only reopening it is allowed")


class CaseErasedError(CaseRuleError):
    def __init__(self) -> None:
        super().__init__("the case's personal data are erased: nothing more can be recorded on it")


class CaseNotClosedError(CaseRuleError):
    def __init__(self) -> None:
        super().__init__("the case is not closed")


class HandoverOpenError(CaseRuleError):
    def __init__(self, to_org: str) -> None:
        super().__init__(f"a handover to '{to_org}' is already open")
        self.to_org = to_org


class NoOpenHandoverError(CaseRuleError):
    def __init__(self) -> None:
        super().__init__("no handover is open on this case")


class NotOfferedOrganisationError(CaseRuleError):
    def __init__(self, org: str, to_org: str) -> None:
        super().__init__(f"the handover was offered to another organisation, not to '{org}'")
        self.org, self.to_org = org, to_org


class OfferToHolderError(CaseRuleError):
    def __init__(self, org: str) -> None:
        super().__init__(f"'{org}' already holds the case")


class StaleAcknowledgementError(CaseRuleError):
    """The receiver acknowledged a version or digest the case no longer has."""

    def __init__(self, version: int, digest: str) -> None:
        super().__init__(
            f"the case is at version {version} with digest {digest}: read its history again"
        )
        self.version, self.digest = version, digest


class UnknownReferenceError(CaseRuleError):
    def __init__(self, kind: str, ref: str) -> None:
        super().__init__(f"no open {kind} '{ref}' on this case")
        self.kind, self.ref = kind, ref


class DuplicateReferenceError(CaseRuleError):
    def __init__(self, kind: str, ref: str) -> None:
        super().__init__(f"{kind} '{ref}' already exists on this case")
        self.kind, self.ref = kind, ref


class AsylumDecisionError(CaseRuleError):
    """An asylum decision that does not fit the person's current legal status."""


class DuplicateBamfFileNumberError(CaseRuleError):
    def __init__(self, bamf_file_number: str, existing_case_id: UUID | None) -> None:
        """``existing_case_id`` None: the case is not named (the caller may not know of it)."""
        super().__init__(
            f"BAMF file number {bamf_file_number} is already registered"
            + (f" as case {existing_case_id}" if existing_case_id is not None else "")
        )
        self.bamf_file_number, self.existing_case_id = bamf_file_number, existing_case_id


class UnknownFollowUpError(CaseRuleError):
    """The follow-up (Wiedervorlage) is not an open one of the holder on this case."""

    def __init__(self, follow_up_id: str) -> None:
        super().__init__(f"no open follow-up '{follow_up_id}' on this case")
        self.follow_up_id = follow_up_id

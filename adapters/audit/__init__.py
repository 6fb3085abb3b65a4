"""The auditor's view of the store (issue 6): the global log, cases as they were, verification
of every hash chain and of the access log, signed checkpoints and offline exports.

Everything here reads the event store itself, never a read model. ``verifier.audit_verify`` is the
standalone half: it checks an export without a database and shares its verdicts with ``verify``.
"""

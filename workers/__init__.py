"""What runs in the background beside HTTP: the supervisor (``supervisor.py``) keeps the
projections current (``projections.py`` runs one) and, beside them, steps the processes that
are not projections: the handover policy (``handover_policy.py``) and the federation outbox
(``outbox.py``)."""

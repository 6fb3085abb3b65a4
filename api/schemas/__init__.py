"""The HTTP contract: pydantic models of their own, one module per resource, never the aggregate
or its events."""

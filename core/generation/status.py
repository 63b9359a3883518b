"""How a kept generation ended, and the usage event that counts it."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """The outcome written to its row and record.json ("running" only exists in memory)."""

    COMPLETED = "completed"
    FAILED = "failed"


def usage_event_type(status: str) -> str:
    """The `usage_events.event_type` of a generation that ended with `status`."""
    return f"generation.{status}"

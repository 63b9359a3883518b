"""Where a piece of work stands (seed 003's states), and the usage event that counts it."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A generation's (and later a job's) state. Rows and record.json only hold the two
    outcomes today; the others are for work that is queued or still running."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


def usage_event_type(status: Status) -> str:
    """The `usage_events.event_type` of a generation that ended with `status`."""
    return f"generation.{status.value}"

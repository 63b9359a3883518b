"""Errors whose message a user can act on.

Anything raised as an `AtelierError` is shown to the user as it is; anything else is logged with
its traceback and shown as a generic failure.
"""

from __future__ import annotations


class AtelierError(Exception):
    """Base class: `str(error)` is written for the person using the app."""


class ConfigurationError(AtelierError):
    """The settings cannot work (missing secret, unreachable service, bad value)."""


class InvalidInput(AtelierError):
    """A value the user typed is not acceptable; the message says why."""


class AuthenticationFailed(AtelierError):
    """Wrong credentials, or a token or session that is no longer valid."""


class PermissionDenied(AtelierError):
    """The user is known but not allowed to do this."""


class NotFound(AtelierError):
    """The thing does not exist, or it is not the user's to see (we never say which)."""


class RateLimited(AtelierError):
    def __init__(self, action: str, retry_after_seconds: int, message: str | None = None) -> None:
        self.retry_after_seconds = max(1, retry_after_seconds)
        super().__init__(
            message or f"Too many {action} attempts. Try again in {self.retry_after_seconds} s."
        )


class StorageUnavailable(AtelierError):
    """The database or the object store did not answer."""


class ProviderError(AtelierError):
    """A generation provider failed; `retryable` tells the pipeline whether to try again."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        self.retryable = retryable
        super().__init__(message)

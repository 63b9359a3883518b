"""Finding the provider a request names, and checking its model, with the same plain refusal
for every studio and every face (pages, API, workers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypeVar

from core.errors import InvalidInput

P = TypeVar("P")


class _Offers(Protocol):
    @property
    def label(self) -> str: ...

    def models(self) -> list[str]: ...


def find_provider(providers: Mapping[str, P], name: str, *, kind: str) -> P:
    """`kind` names the family in the refusal: "image engine", "speech provider", ..."""
    try:
        return providers[name]
    except KeyError:
        raise InvalidInput(f"There is no {kind} called {name!r}.") from None


def require_model(provider: _Offers, model: str) -> None:
    """Refused with the models there are: a replay of a model retired since (sketch-v1) is
    told what to ask for instead."""
    offered = provider.models()
    if model not in offered:
        raise InvalidInput(
            f"{provider.label} has no model called {model!r}; "
            f"it has {', '.join(repr(name) for name in offered)}."
        )

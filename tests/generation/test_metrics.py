"""The pipeline and the limits count what happened, for `/metrics` (prometheus-client's
registry of this process; each test reads the change it caused)."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client import REGISTRY

from core.errors import ProviderError
from core.generation.records import GenerationContext, GenerationFailed, ProducedMedia
from core.limits import LimitOverrides, LimitReached
from core.services import Services
from tests.generation.conftest import PASSWORD, image_spec, made_image


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _generations(status: str) -> float:
    labels = {"modality": "image", "provider": "test-painter", "model": "flat", "status": status}
    return _value("atelier_generations_total", **labels)


def test_completed_and_failed_generations_are_counted_and_timed(
    services: Services, user_id: uuid.UUID
) -> None:
    completed, failed = _generations("completed"), _generations("failed")
    timed = _value("atelier_generation_seconds_count", provider="test-painter")

    def refuse(_context: GenerationContext) -> ProducedMedia:
        raise ProviderError("The painter is asleep.")

    services.pipeline.run(user_id, image_spec(), made_image)
    with pytest.raises(GenerationFailed):
        services.pipeline.run(user_id, image_spec(), refuse)

    assert _generations("completed") == completed + 1
    assert _generations("failed") == failed + 1
    assert _value("atelier_generation_seconds_count", provider="test-painter") == timed + 2


def test_a_refusal_is_counted_under_the_limit_that_refused(services: Services) -> None:
    admin = services.auth.register("root@example.com", PASSWORD, ip=None)
    user_id = services.auth.register("ada@example.com", PASSWORD, ip=None).id
    services.limits.set_overrides(admin, user_id, LimitOverrides(daily_image=1))
    before = _value("atelier_limit_refusals_total", limit="daily_image")

    services.pipeline.run(user_id, image_spec(), made_image)
    with pytest.raises(LimitReached):
        services.pipeline.run(user_id, image_spec(), made_image)

    assert _value("atelier_limit_refusals_total", limit="daily_image") == before + 1

"""Model names as API clients send them (seeds 000/001), onto the studios' engines and speed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.config import Settings
from core.errors import InvalidInput
from core.services import Services, start_services


def test_seed_model_names_map_to_provider_and_speed(services: Services) -> None:
    studio = services.speech
    assert studio.models() == ["offline", "offline-slow", "gtts", "gtts-slow"]
    assert studio.provider_for_model("gtts") == ("gtts", False)
    assert studio.provider_for_model("gtts-slow") == ("gtts", True)
    assert studio.provider_for_model("offline-slow") == ("offline", True)
    assert studio.provider_for_model(None) == (studio.default_provider, False)
    with pytest.raises(InvalidInput, match="gtts-slow"):
        studio.provider_for_model("-slow")


def test_image_engine_from_a_model_alone(make_settings: Callable[..., Settings]) -> None:
    # The configured Pollinations models, without asking the network for its list.
    app = start_services(make_settings(image_pollinations_fetch_models=False))
    try:
        studio = app.images
        assert studio.engine_for(None, None) == ("sketch", "sketch-v2")
        assert studio.engine_for(None, "flux") == ("pollinations", "flux")
        with pytest.raises(InvalidInput):
            studio.engine_for("sketch", "flux")
        with pytest.raises(InvalidInput):
            studio.engine_for(None, "no-such-model")
    finally:
        app.close()

"""Image Studio end to end in core: real engines (the sketch; Pollinations against its fake)."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from core.errors import InvalidInput
from core.generation.image import ImageOrder
from core.generation.records import GenerationFailed
from core.services import Services, start_services
from storage.models import Generation
from tests.support.clock import FakeClock
from tests.support.fake_pollinations import FakePollinations, Reply


def _order(**changes: object) -> ImageOrder:
    values: dict[str, object] = {
        "prompt": "A lighthouse on a cliff at dusk",
        "width": 256,
        "height": 192,
        "seed": 1234,
        "model": "sketch-v2",
        "style": None,
        "provider": "sketch",
    }
    return ImageOrder(**(values | changes))  # type: ignore[arg-type]


def _rows(services: Services) -> int:
    with services.db() as db:
        return int(db.scalar(select(func.count()).select_from(Generation)) or 0)


def _image(services: Services, key: str) -> Image.Image:
    data = services.objects.get(services.settings.s3_bucket_image, key).data
    return Image.open(io.BytesIO(data))


def test_the_offline_sketch_makes_and_keeps_a_real_png(
    services: Services, user_id: uuid.UUID
) -> None:
    record = services.images.generate(user_id, _order())

    assert record.status == "completed"
    image = _image(services, record.media_key or "")
    assert (image.format, image.size) == ("PNG", (256, 192))
    thumbnail = _image(services, record.thumbnail_key or "")
    assert thumbnail.format == "WEBP" and max(thumbnail.size) <= 384
    assert record.params == {
        "prompt": "A lighthouse on a cliff at dusk", "size": "256x192", "width": 256,
        "height": 192, "seed": 1234, "model": "sketch-v2", "style": None, "provider": "sketch",
        "reference": None,
    }  # fmt: skip
    assert record.meta["isAi"] is False and record.meta["seed"] == 1234


def test_the_same_seed_gives_the_same_image_and_another_seed_another(
    services: Services, user_id: uuid.UUID
) -> None:
    bucket = services.settings.s3_bucket_image
    first, again, other = (
        services.images.generate(user_id, _order(seed=seed)) for seed in (7, 7, 8)
    )
    data = [services.objects.get(bucket, r.media_key or "").data for r in (first, again, other)]
    assert data[0] == data[1] != data[2]


def test_a_blank_seed_draws_one_and_records_it(services: Services, user_id: uuid.UUID) -> None:
    record = services.images.generate(user_id, _order(seed=None))
    seed = record.params["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**31
    stored = json.loads(
        services.objects.get(services.settings.s3_bucket_image, record.input_key).data
    )
    assert stored["seed"] == seed


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prompt": "   "}, "prompt is empty"),
        ({"prompt": "x" * 2001}, "too long"),
        ({"width": 10}, "width must be"),
        ({"height": 5000}, "height must be"),
        ({"model": "dall-e-9"}, "no model called"),
        # The retired sketch is refused rather than drawn anew under its old name.
        ({"model": "sketch-v1"}, "no model called 'sketch-v1'; it has 'sketch-v2'"),
        ({"provider": "midjourney"}, "no image engine called"),
        ({"style": "cubism"}, "style"),
        ({"seed": -1}, "seed must be"),
        ({"reference": "avatar"}, "no avatar yet"),
        ({"reference": "upload", "upload": b"not an image"}, "reference image cannot be used"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_kept(
    services: Services, user_id: uuid.UUID, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        services.images.generate(user_id, _order(**changes))
    assert _rows(services) == 0


def test_the_avatar_is_kept_once_and_used_as_the_reference(
    services: Services, user_id: uuid.UUID
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 900), (200, 40, 90)).save(buffer, format="JPEG")
    services.avatars.save(user_id, buffer.getvalue())

    record = services.images.generate(user_id, _order(reference="avatar"))

    avatar = Image.open(io.BytesIO(services.avatars.load(user_id) or b""))
    assert avatar.size == (512, 288)
    prefix = record.record_key.rpartition("/")[0]
    kept = _image(services, prefix + "/reference.png")
    assert kept.size == (512, 288)
    assert record.params["reference"] == "avatar"


@pytest.fixture
def pollinations() -> Iterator[FakePollinations]:
    fake = FakePollinations().start()
    yield fake
    fake.stop()


@pytest.fixture
def with_pollinations(
    services: Services, pollinations: FakePollinations, make_settings: object, clock: FakeClock
) -> Iterator[Services]:
    """The same backend, with Pollinations pointed at the local fake."""
    settings = make_settings(  # type: ignore[operator]
        image_pollinations_base_url=pollinations.base_url,
        image_pollinations_fetch_models=False,
        image_pollinations_retry_attempts=2,
        data_dir=services.settings.data_dir,
    )
    built = start_services(settings, now=clock)
    yield built
    built.close()


def test_pollinations_images_are_stored_as_png(
    with_pollinations: Services, pollinations: FakePollinations
) -> None:
    user_id = with_pollinations.auth.register("ada@example.com", "correct horse 42", ip=None).id
    record = with_pollinations.images.generate(
        user_id, _order(provider="pollinations", model="flux", width=512, height=512, style="anime")
    )

    image = _image(with_pollinations, record.media_key or "")
    assert (image.format, image.size) == ("PNG", (512, 512))
    [request] = pollinations.received
    assert request.prompt.startswith("A lighthouse on a cliff at dusk, anime illustration")
    assert request.query["seed"] == "1234" and request.query["nologo"] == "true"


def test_a_pollinations_failure_is_kept_as_a_failed_generation(
    with_pollinations: Services, pollinations: FakePollinations
) -> None:
    user_id = with_pollinations.auth.register("ada@example.com", "correct horse 42", ip=None).id
    pollinations.reply_with(Reply(status=200, body=b"<html>busy</html>", content_type="text/html"))

    with pytest.raises(GenerationFailed, match="answered with text instead of an image"):
        with_pollinations.images.generate(user_id, _order(provider="pollinations", model="flux"))

    assert with_pollinations.gallery.page(user_id).entries == []
    with with_pollinations.db() as db:
        row = db.scalars(select(Generation)).one()
    assert row.status == "failed" and "busy" in (row.error or "")


def test_a_reference_reaches_pollinations_as_a_signed_link(
    with_pollinations: Services, pollinations: FakePollinations
) -> None:
    if not with_pollinations.settings.uses_s3:
        pytest.skip("only S3 can sign a link that Pollinations could fetch")
    user_id = with_pollinations.auth.register("ada@example.com", "correct horse 42", ip=None).id
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), "orange").save(buffer, format="PNG")

    with_pollinations.images.generate(
        user_id,
        _order(
            provider="pollinations", model="kontext", reference="upload", upload=buffer.getvalue()
        ),
    )

    [request] = pollinations.received
    fetched = httpx.get(request.query["image"])
    assert fetched.status_code == 200
    assert Image.open(io.BytesIO(fetched.content)).size == (300, 200)

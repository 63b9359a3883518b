"""One contract for both object stores: S3 (SeaweedFS) and the local folder."""

from __future__ import annotations

import concurrent.futures

import httpx
import pytest

from core.errors import StorageUnavailable
from core.services import Services
from storage.objects import ObjectMissing, VersionConflict


@pytest.fixture
def bucket(services: Services) -> str:
    return services.settings.s3_bucket_image


def test_put_get_roundtrip_keeps_bytes_and_type(services: Services, bucket: str) -> None:
    store = services.objects
    store.put(bucket, "requests/2026/11/22/abc/input.json", b'{"a": 1}', "application/json")

    stored = store.get(bucket, "requests/2026/11/22/abc/input.json")

    assert stored.data == b'{"a": 1}'
    assert stored.content_type == "application/json"


def test_a_key_that_needs_quoting_round_trips(services: Services, bucket: str) -> None:
    # S3's signature covers the quoted path: a key quoted one way and signed another is refused.
    key = "imports/Fotos de María/plan + boceto (1)~v2.json"
    services.objects.put(bucket, key, b"{}", "application/json")

    assert services.objects.get(bucket, key).data == b"{}"
    assert [info.key for info in services.objects.list_objects(bucket, "imports/")] == [key]


def test_a_put_the_store_refuses_is_said_in_plain_words(services: Services) -> None:
    if not services.settings.uses_s3:
        pytest.skip("the folder store makes a bucket's folder on its first write")
    with pytest.raises(StorageUnavailable, match="not answering"):
        services.objects.put("no-such-bucket-here", "a.json", b"{}", "application/json")


def test_missing_object_raises_object_missing(services: Services, bucket: str) -> None:
    with pytest.raises(ObjectMissing):
        services.objects.get(bucket, "nope/missing.json")


def test_list_keys_returns_only_the_prefix(services: Services, bucket: str) -> None:
    store = services.objects
    for key in [
        "users/u1/image/history/2026/11/21.jsonl",
        "users/u1/image/history/2026/11/22.jsonl",
        "users/u2/image/history/2026/11/22.jsonl",
    ]:
        store.put(bucket, key, b"{}\n", "application/x-ndjson")

    keys = sorted(info.key for info in store.list_objects(bucket, "users/u1/"))

    assert keys == [
        "users/u1/image/history/2026/11/21.jsonl",
        "users/u1/image/history/2026/11/22.jsonl",
    ]


def test_delete_removes_the_object(services: Services, bucket: str) -> None:
    store = services.objects
    store.put(bucket, "a/b.json", b"{}", "application/json")
    store.delete(bucket, "a/b.json")
    with pytest.raises(ObjectMissing):
        store.get(bucket, "a/b.json")


def test_must_not_exist_refuses_an_existing_object(services: Services, bucket: str) -> None:
    store = services.objects
    store.put(bucket, "index.jsonl", b"1\n", "application/x-ndjson", must_not_exist=True)
    with pytest.raises(VersionConflict):
        store.put(bucket, "index.jsonl", b"2\n", "application/x-ndjson", must_not_exist=True)
    assert store.get(bucket, "index.jsonl").data == b"1\n"


def test_versions_agree_between_put_get_and_list(services: Services, bucket: str) -> None:
    store = services.objects
    written = store.put(bucket, "day.jsonl", b"1\n", "application/x-ndjson")
    listed = next(iter(store.list_objects(bucket, "day.jsonl")))
    assert store.get(bucket, "day.jsonl").version == written == listed.version
    assert listed.size == 2
    rewritten = store.put(bucket, "day.jsonl", b"1\n2\n", "application/x-ndjson")
    assert rewritten != written


def test_stale_version_is_refused(services: Services, bucket: str) -> None:
    store = services.objects
    store.put(bucket, "index.jsonl", b"1\n", "application/x-ndjson")
    first = store.get(bucket, "index.jsonl")
    store.put(
        bucket, "index.jsonl", b"1\n2\n", "application/x-ndjson", expected_version=first.version
    )

    with pytest.raises(VersionConflict):
        store.put(
            bucket, "index.jsonl", b"1\n3\n", "application/x-ndjson", expected_version=first.version
        )
    assert store.get(bucket, "index.jsonl").data == b"1\n2\n"


def test_concurrent_conditional_appends_lose_nothing(services: Services, bucket: str) -> None:
    store = services.objects

    def append(line: int) -> None:
        while True:
            try:
                current = store.get(bucket, "log.jsonl")
                body, version = current.data, current.version
            except ObjectMissing:
                body, version = b"", None
            try:
                store.put(bucket, "log.jsonl", body + f"{line}\n".encode(), "application/x-ndjson",
                          expected_version=version, must_not_exist=version is None)  # fmt: skip
                return
            except VersionConflict:
                continue

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(append, range(20)))

    lines = store.get(bucket, "log.jsonl").data.decode().split()
    assert sorted(map(int, lines)) == list(range(20))


def test_keys_cannot_escape_the_bucket(services: Services, bucket: str) -> None:
    if services.settings.uses_s3:
        pytest.skip("S3 keys are opaque strings; only the folder store maps them to paths")
    with pytest.raises(ValueError):
        services.objects.put(bucket, "../../etc/passwd", b"x", "text/plain")
    for prefix in ("/etc/", "../", "users/../../", "users/x/../../../"):
        with pytest.raises(ValueError):
            services.objects.list_level(bucket, prefix)
        with pytest.raises(ValueError):
            list(services.objects.list_objects(bucket, prefix + "passwd"))


def test_presigned_url_serves_the_object_only_with_s3(services: Services, bucket: str) -> None:
    store = services.objects
    store.put(bucket, "media/original.png", b"\x89PNG fake", "image/png")

    url = store.presigned_url(bucket, "media/original.png", 60)

    if not services.settings.uses_s3:
        assert url is None
        return
    assert url is not None
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"\x89PNG fake"
    tampered = url.replace("media/original.png", "media/other.png")
    assert httpx.get(tampered).status_code == 403


def test_ping_reports_a_missing_bucket(services: Services) -> None:
    from core.errors import StorageUnavailable

    services.objects.ping(services.settings.buckets)
    with pytest.raises(StorageUnavailable):
        services.objects.ping(["bucket-that-was-never-created"])


def test_list_level_shows_one_level_like_s3_folders(services: Services, bucket: str) -> None:
    store = services.objects
    for key in ["h/2025/12/31.jsonl", "h/2026/01/01.jsonl", "h/2026/01/02.jsonl", "h/top.json"]:
        store.put(bucket, key, b"{}", "application/json")

    top = store.list_level(bucket, "h/")
    month = store.list_level(bucket, "h/2026/01/")

    assert sorted(top.prefixes) == ["h/2025/", "h/2026/"]
    assert [info.key for info in top.objects] == ["h/top.json"]
    assert month.prefixes == []
    assert sorted(info.key for info in month.objects) == [
        "h/2026/01/01.jsonl",
        "h/2026/01/02.jsonl",
    ]
    assert store.list_level(bucket, "nothing/here/").prefixes == []

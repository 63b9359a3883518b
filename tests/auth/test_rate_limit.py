"""Both counters (database, Redis) count every hit, also under concurrency."""

from __future__ import annotations

import concurrent.futures
import uuid

import pytest
import redis

from core.auth.rate_limit import RateLimiter, RedisRateLimiter, SqlRateLimiter, enforce
from core.errors import RateLimited
from core.services import Services
from tests.support.clock import FakeClock

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["sql", "redis"])
def limiter(request: pytest.FixtureRequest, services: Services, clock: FakeClock) -> RateLimiter:
    if request.param == "sql":
        return SqlRateLimiter(services.db, clock)
    redis.Redis.from_url(REDIS_URL).ping()
    return RedisRateLimiter(REDIS_URL)


def test_concurrent_hits_are_all_counted(limiter: RateLimiter) -> None:
    key = f"test:{uuid.uuid4()}"
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        counts = sorted(pool.map(lambda _: limiter.hit(key, 60)[0], range(40)))
    assert counts == list(range(1, 41))


def test_peeking_tells_the_count_without_adding_to_it(limiter: RateLimiter) -> None:
    key = f"test:{uuid.uuid4()}"
    assert limiter.peek(key, 60) == (0, 60)
    limiter.hit(key, 60)
    limiter.hit(key, 60)
    count, closes_in = limiter.peek(key, 60)
    assert count == 2 and 1 <= closes_in <= 60
    assert limiter.peek(key, 60)[0] == 2
    assert limiter.hit(key, 60)[0] == 3


def test_enforce_refuses_past_the_limit_and_says_when_to_retry(limiter: RateLimiter) -> None:
    key = str(uuid.uuid4())
    for _ in range(3):
        enforce(limiter, "login", {key: 3})
    with pytest.raises(RateLimited) as refused:
        enforce(limiter, "login", {key: 3})
    assert 1 <= refused.value.retry_after_seconds <= 60
    assert f"Try again in {refused.value.retry_after_seconds} s" in str(refused.value)


def test_sql_window_reopens_after_a_minute(services: Services, clock: FakeClock) -> None:
    limiter = SqlRateLimiter(services.db, clock)
    assert limiter.hit("k", 60) == (1, 60)
    clock.advance(seconds=59)
    assert limiter.hit("k", 60) == (2, 1)
    clock.advance(seconds=1)
    assert limiter.hit("k", 60) == (1, 60)

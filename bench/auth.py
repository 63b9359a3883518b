"""What accounts cost: bcrypt at the configured cost, a login, and the check every page run does.

On PostgreSQL (a throwaway database): `authenticate` runs on every Streamlit rerun (JWT check +
one indexed query for the session and the account), so it must stay far below a frame.

    python -m bench.auth [--runs 200]
"""

from __future__ import annotations

import argparse
import json
import time

from bench.stack import percentiles
from core.auth.passwords import PasswordHasher
from core.config import Settings
from core.services import start_services
from tests.support.postgres import temporary_database

PASSWORD = "correct horse 42"


def _time(action: object, runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    hasher = PasswordHasher(rounds=12)
    stored = hasher.hash(PASSWORD)
    with temporary_database() as url:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, app_env="test", database_url=url, jwt_algorithm="RS256",
            login_limit_per_minute=10**6, login_ip_limit_per_minute=10**6,
        )  # fmt: skip
        services = start_services(settings)
        try:
            services.auth.register("bench@example.com", PASSWORD, ip="10.0.0.1")
            signed_in = services.auth.login("bench@example.com", PASSWORD, ip="10.0.0.1")
            cookie = services.auth.redeem_handoff(signed_in.handoff_code)

            def rotate() -> None:
                nonlocal cookie
                cookie = services.auth.redeem_handoff(services.auth.resume(cookie).handoff_code)

            results = {
                "bcrypt_cost": 12,
                "bcrypt_hash_ms": _time(lambda: hasher.hash(PASSWORD), 10),
                "bcrypt_verify_ms": _time(lambda: hasher.verify(PASSWORD, stored), 10),
                "login_ms": _time(
                    lambda: services.auth.login("bench@example.com", PASSWORD, ip="10.0.0.1"), 10
                ),
                "authenticate_per_page_run_ms": _time(
                    lambda: services.auth.authenticate(signed_in.access_token), runs
                ),
                "reload_resume_and_rotate_ms": _time(rotate, runs // 4),
            }
        finally:
            services.close()
    print(json.dumps({"benchmark": "auth", "database": "PostgreSQL", **results}, indent=2))


if __name__ == "__main__":
    main()

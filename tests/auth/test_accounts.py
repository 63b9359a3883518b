"""Accounts and sessions end to end through `AuthService`, on both storage backends."""

from __future__ import annotations

import concurrent.futures
import uuid

import pytest
from sqlalchemy import select, update

from core.auth.account import Role
from core.auth.service import SignedIn
from core.auth.tokens import AccessTokenExpired
from core.errors import AuthenticationFailed, InvalidInput, PermissionDenied, RateLimited
from core.permissions import ADMIN_PAGE_ONLY, require_admin
from core.services import Services
from storage.db import transaction
from storage.models import AuthSession, User
from tests.support.clock import FakeClock

PASSWORD = "correct horse 42"


def _register_and_login(services: Services, email: str = "ada@example.com") -> SignedIn:
    services.auth.register(email, PASSWORD, ip="10.0.0.1")
    return services.auth.login(email, PASSWORD, ip="10.0.0.1")


def _cookie_for(services: Services, signed_in: SignedIn) -> str:
    """What the browser ends up holding after trading the handoff code."""
    return services.auth.redeem_handoff(signed_in.handoff_code)


def test_first_account_is_admin_and_later_ones_are_users(services: Services) -> None:
    first = services.auth.register("ada@example.com", PASSWORD, ip="10.0.0.1")
    second = services.auth.register("bob@example.com", PASSWORD, ip="10.0.0.2")
    assert first.role is Role.ADMIN
    assert second.role is Role.USER


def test_simultaneous_first_sign_ups_make_exactly_one_admin(services: Services) -> None:
    emails = [f"user{i}@example.com" for i in range(6)]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        accounts = list(pool.map(lambda e: services.auth.register(e, PASSWORD, ip=e), emails))
    assert [a.role for a in accounts].count(Role.ADMIN) == 1


def test_email_is_unique_whatever_its_case(services: Services) -> None:
    services.auth.register("ada@example.com", PASSWORD, ip="10.0.0.1")
    with pytest.raises(InvalidInput, match="already exists"):
        services.auth.register("  ADA@Example.com", PASSWORD, ip="10.0.0.2")


def test_password_is_stored_only_as_a_bcrypt_hash(services: Services) -> None:
    services.auth.register("ada@example.com", PASSWORD, ip="10.0.0.1")
    with services.db() as db:
        stored = db.scalars(select(User.password_hash)).one()
    assert stored.startswith("$2b$") and PASSWORD not in stored


def test_wrong_password_and_unknown_email_get_the_same_answer(services: Services) -> None:
    services.auth.register("ada@example.com", PASSWORD, ip="10.0.0.1")
    with pytest.raises(AuthenticationFailed, match="Wrong email or password") as wrong:
        services.auth.login("ada@example.com", "wrong horse 42", ip="10.0.0.1")
    with pytest.raises(AuthenticationFailed) as unknown:
        services.auth.login("nobody@example.com", PASSWORD, ip="10.0.0.1")
    assert str(wrong.value) == str(unknown.value)


def test_login_gives_a_token_for_the_account_and_a_one_time_cookie_code(services: Services) -> None:
    signed_in = _register_and_login(services)
    authenticated = services.auth.authenticate(signed_in.access_token)
    assert authenticated.account.email == "ada@example.com"

    cookie = _cookie_for(services, signed_in)
    assert cookie
    with pytest.raises(AuthenticationFailed):
        services.auth.redeem_handoff(signed_in.handoff_code)


def test_refresh_token_is_stored_only_as_a_hash(services: Services) -> None:
    cookie = _cookie_for(services, signed_in := _register_and_login(services))
    with services.db() as db:
        hashes = db.scalars(select(AuthSession.token_hash)).all()
    assert cookie not in hashes and signed_in.handoff_code not in str(hashes)


def test_handoff_code_expires(services: Services, clock: FakeClock) -> None:
    signed_in = _register_and_login(services)
    clock.advance(seconds=services.settings.cookie_handoff_ttl_seconds + 1)
    with pytest.raises(AuthenticationFailed):
        services.auth.redeem_handoff(signed_in.handoff_code)


def test_every_resume_rotates_the_refresh_token(services: Services) -> None:
    cookie = _cookie_for(services, _register_and_login(services))

    resumed = services.auth.resume(cookie)
    rotated = services.auth.redeem_handoff(resumed.handoff_code)

    assert rotated != cookie
    assert services.auth.resume(rotated).account.email == "ada@example.com"


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(
    services: Services, clock: FakeClock
) -> None:
    first_login = _register_and_login(services)
    old_cookie = _cookie_for(services, first_login)
    new_cookie = services.auth.redeem_handoff(services.auth.resume(old_cookie).handoff_code)
    clock.advance(seconds=services.settings.refresh_token_reuse_leeway_seconds + 1)

    with pytest.raises(AuthenticationFailed):
        services.auth.resume(old_cookie)  # a thief replays the stolen, already-rotated token

    with pytest.raises(AuthenticationFailed):
        services.auth.resume(new_cookie)
    with pytest.raises(AuthenticationFailed):
        services.auth.authenticate(first_login.access_token)


def test_a_reload_that_lost_the_new_cookie_keeps_the_session(
    services: Services, clock: FakeClock
) -> None:
    old_cookie = _cookie_for(services, _register_and_login(services))
    # The server rotated the token, but the reload aborted the answer carrying the new cookie.
    services.auth.redeem_handoff(services.auth.resume(old_cookie).handoff_code)
    clock.advance(seconds=services.settings.refresh_token_reuse_leeway_seconds)

    resumed = services.auth.resume(old_cookie)
    newest = services.auth.redeem_handoff(resumed.handoff_code)

    assert services.auth.resume(newest).account.email == "ada@example.com"
    clock.advance(seconds=1)
    with pytest.raises(AuthenticationFailed):
        services.auth.resume(old_cookie)  # past the leeway: a replay, the family ends
    with pytest.raises(AuthenticationFailed):
        services.auth.resume(newest)


def test_reuse_revokes_only_that_family(services: Services, clock: FakeClock) -> None:
    laptop = _register_and_login(services)
    phone = services.auth.login("ada@example.com", PASSWORD, ip="10.0.0.9")
    old_cookie = _cookie_for(services, laptop)
    services.auth.redeem_handoff(services.auth.resume(old_cookie).handoff_code)
    clock.advance(seconds=services.settings.refresh_token_reuse_leeway_seconds + 1)

    with pytest.raises(AuthenticationFailed):
        services.auth.resume(old_cookie)

    assert services.auth.authenticate(phone.access_token).account.email == "ada@example.com"


def test_logout_ends_the_session_everywhere_it_is_used(services: Services) -> None:
    signed_in = _register_and_login(services)
    cookie = _cookie_for(services, signed_in)

    services.auth.logout(signed_in.family_id)

    with pytest.raises(AuthenticationFailed):
        services.auth.authenticate(signed_in.access_token)
    with pytest.raises(AuthenticationFailed):
        services.auth.resume(cookie)


def test_logout_by_cookie_revokes_its_family(services: Services) -> None:
    signed_in = _register_and_login(services)
    services.auth.logout_refresh_token(_cookie_for(services, signed_in))
    with pytest.raises(AuthenticationFailed):
        services.auth.authenticate(signed_in.access_token)


def test_an_expired_access_token_is_refused_but_a_live_session_can_renew_it(
    services: Services, clock: FakeClock
) -> None:
    signed_in = _register_and_login(services)
    clock.advance(minutes=16)
    with pytest.raises(AccessTokenExpired):
        services.auth.authenticate(signed_in.access_token)

    renewed = services.auth.renew_access_token(signed_in.family_id)

    assert services.auth.authenticate(renewed).account.email == "ada@example.com"
    services.auth.logout(signed_in.family_id)
    with pytest.raises(AuthenticationFailed):
        services.auth.renew_access_token(signed_in.family_id)


def test_refresh_session_lasts_thirty_days(services: Services, clock: FakeClock) -> None:
    cookie = _cookie_for(services, _register_and_login(services))
    clock.advance(days=29, hours=23)
    cookie = services.auth.redeem_handoff(services.auth.resume(cookie).handoff_code)
    clock.advance(days=30, seconds=1)
    with pytest.raises(AuthenticationFailed):
        services.auth.resume(cookie)


def test_disabling_a_user_ends_their_sessions_and_blocks_login(services: Services) -> None:
    services.auth.register("root@example.com", PASSWORD, ip="10.0.0.5")
    signed_in = _register_and_login(services)
    with transaction(services.db) as db:
        db.execute(update(User).where(User.email == "ada@example.com").values(is_active=False))

    with pytest.raises(AuthenticationFailed):
        services.auth.authenticate(signed_in.access_token)
    with pytest.raises(AuthenticationFailed, match="disabled"):
        services.auth.login("ada@example.com", PASSWORD, ip="10.0.0.1")


def test_a_forged_session_id_is_refused(services: Services) -> None:
    with pytest.raises(AuthenticationFailed):
        services.auth.renew_access_token(uuid.uuid4())


def test_role_checks_use_the_database_role(services: Services) -> None:
    admin = services.auth.register("root@example.com", PASSWORD, ip="10.0.0.5")
    user = services.auth.register("ada@example.com", PASSWORD, ip="10.0.0.1")
    require_admin(admin, ADMIN_PAGE_ONLY)
    with pytest.raises(PermissionDenied, match="administrators only"):
        require_admin(user, ADMIN_PAGE_ONLY)


def test_login_is_limited_per_account(services: Services, clock: FakeClock) -> None:
    services.auth.register("ada@example.com", PASSWORD, ip="10.0.0.1")
    for attempt in range(5):
        with pytest.raises(AuthenticationFailed):
            services.auth.login("ada@example.com", "wrong horse 42", ip=f"10.1.0.{attempt}")
    clock.advance(seconds=20)

    with pytest.raises(RateLimited, match=r"Try again in 40 s") as refused:
        services.auth.login("ada@example.com", PASSWORD, ip="10.2.0.1")
    assert refused.value.retry_after_seconds == 40

    clock.advance(seconds=41)
    assert services.auth.login("ada@example.com", PASSWORD, ip="10.2.0.1").access_token


def test_login_is_limited_per_ip_across_accounts(services: Services) -> None:
    for n in range(5):
        with pytest.raises(AuthenticationFailed):
            services.auth.login(f"guess{n}@example.com", "wrong horse 42", ip="10.9.9.9")
    with pytest.raises(RateLimited):
        services.auth.login("other@example.com", "wrong horse 42", ip="10.9.9.9")


def test_register_is_limited_per_ip(services: Services) -> None:
    for n in range(3):
        services.auth.register(f"user{n}@example.com", PASSWORD, ip="10.7.7.7")
    with pytest.raises(RateLimited, match="Too many register attempts"):
        services.auth.register("user9@example.com", PASSWORD, ip="10.7.7.7")
    services.auth.register("user9@example.com", PASSWORD, ip="10.7.7.8")


def test_the_longest_emails_register_and_log_in(services: Services) -> None:
    # 245 characters: the login limiter's key once outgrew its column on PostgreSQL.
    email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 40 + ".example.com"
    assert len(email) == 245
    services.auth.register(email, PASSWORD, ip="10.0.0.9")
    assert services.auth.login(email, PASSWORD, ip="10.0.0.9").account.email == email


@pytest.mark.parametrize("email", ["ada\x00@example.com", "not an email", "ada@\udcff.example"])
def test_an_email_that_cannot_exist_is_just_a_wrong_login(services: Services, email: str) -> None:
    services.auth.register("ada@example.com", PASSWORD, ip="10.0.0.1")
    with pytest.raises(AuthenticationFailed, match="Wrong email or password"):
        services.auth.login(email, PASSWORD, ip="10.0.0.1")

"""The admin console on both backends: every user's generations, filtered and paged; users."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from core.admin.generations import GenerationFilter, SortOrder
from core.admin.users import (
    LAST_ADMIN_DEMOTED,
    LAST_ADMIN_DISABLED,
    SELF_DEMOTED,
    SELF_DISABLED,
)
from core.analytics import Scope
from core.auth.account import Account, Role
from core.errors import AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from core.generation.records import GenerationFailed, ProducedMedia
from core.generation.status import Status
from core.imports.library import IMPORT_PROVIDER
from core.modality import Modality
from core.periods import Period
from core.services import Services
from storage.db import transaction
from storage.models import Generation
from tests.generation.conftest import PASSWORD, image_spec, made_image, png
from tests.support.clock import FakeClock


@pytest.fixture
def admin(services: Services) -> Account:
    account = services.auth.register("root@example.com", PASSWORD, ip=None)
    assert account.is_admin
    return account


@pytest.fixture
def ada(services: Services, admin: Account) -> Account:
    return services.auth.register("ada@example.com", PASSWORD, ip=None)


@pytest.fixture
def bob(services: Services, admin: Account) -> Account:
    return services.auth.register("bob@example.com", PASSWORD, ip=None)


def _add(
    services: Services,
    user_id: uuid.UUID,
    created_at: datetime,
    *,
    modality: Modality = Modality.IMAGE,
    provider: str = "sketch",
    model: str = "sketch-v1",
    status: str = "completed",
    prompt: str = "a quiet harbour",
    cost: Decimal = Decimal(0),
) -> uuid.UUID:
    """A row as the pipeline leaves it; the list reads rows only, so no files are needed."""
    row = Generation(
        user_id=user_id, modality=modality.value, provider=provider, model=model, status=status,
        prompt=prompt, s3_bucket="unused", created_at=created_at, cost_usd=cost, meta={},
    )  # fmt: skip
    with transaction(services.db) as db:
        db.add(row)
    return row.id


def _all_pages(
    services: Services, admin: Account, filters: GenerationFilter | None = None, **options: Any
) -> list[uuid.UUID]:
    seen: list[uuid.UUID] = []
    cursor = None
    while True:
        page = services.admin.generations(admin, filters, cursor=cursor, **options)
        seen += [row.id for row in page.rows]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_each_filter_narrows_to_exactly_the_matching_generations(
    services: Services, admin: Account, ada: Account, bob: Account, clock: FakeClock
) -> None:
    t0 = clock()
    made: dict[str, uuid.UUID] = {
        "ada-image": _add(services, ada.id, t0 - timedelta(days=3), prompt="A red Fox"),
        "ada-speech": _add(
            services, ada.id, t0 - timedelta(days=2), modality=Modality.SPEECH,
            provider="offline", model="piper", prompt="hello there",
        ),
        "ada-chat-failed": _add(
            services, ada.id, t0 - timedelta(days=1), modality=Modality.CHAT,
            provider="openai", model="gpt-4o-mini", status="failed", prompt="why is the sky",
        ),
        "bob-image": _add(
            services, bob.id, t0 - timedelta(hours=5), model="sketch-v2", prompt="a fox den"
        ),
        "bob-chat": _add(
            services, bob.id, t0 - timedelta(hours=1), modality=Modality.CHAT,
            provider="offline", model="smollm2", prompt="tell me about foxes",
        ),
    }  # fmt: skip

    def ids(**filters: Any) -> set[str]:
        found = set(_all_pages(services, admin, GenerationFilter(**filters)))
        return {name for name, id_ in made.items() if id_ in found}

    assert ids() == set(made)
    assert ids(user_id=ada.id) == {"ada-image", "ada-speech", "ada-chat-failed"}
    assert ids(modality=Modality.CHAT) == {"ada-chat-failed", "bob-chat"}
    assert ids(provider="offline") == {"ada-speech", "bob-chat"}
    assert ids(provider="sketch", model="sketch-v2") == {"bob-image"}
    assert ids(status=Status.FAILED) == {"ada-chat-failed"}
    assert ids(status=Status.COMPLETED, modality=Modality.CHAT) == {"bob-chat"}
    assert ids(created_from=t0 - timedelta(days=2), created_before=t0 - timedelta(hours=2)) == {
        "ada-speech", "ada-chat-failed", "bob-image",
    }  # fmt: skip
    assert ids(text="FOX") == {"ada-image", "bob-image", "bob-chat"}
    assert ids(text="fox", user_id=bob.id, modality=Modality.IMAGE) == {"bob-image"}
    assert ids(user_id=uuid.uuid4()) == set()

    page = services.admin.generations(admin, GenerationFilter(user_id=ada.id))
    assert [row.email for row in page.rows] == ["ada@example.com"] * 3
    # Newest first by default, oldest first on request.
    assert [row.prompt for row in page.rows] == ["why is the sky", "hello there", "A red Fox"]
    oldest = services.admin.generations(
        admin, GenerationFilter(user_id=ada.id), order=SortOrder.OLDEST
    )
    assert [row.prompt for row in oldest.rows] == ["A red Fox", "hello there", "why is the sky"]

    choices = services.admin.filter_choices(admin)
    assert choices.providers == ["offline", "openai", "sketch"]
    assert choices.models == {
        "offline": ["piper", "smollm2"], "openai": ["gpt-4o-mini"],
        "sketch": ["sketch-v1", "sketch-v2"],
    }  # fmt: skip


@pytest.mark.parametrize("order", list(SortOrder))
def test_keyset_pages_have_no_duplicates_or_gaps_with_equal_timestamps(
    services: Services, admin: Account, ada: Account, clock: FakeClock, order: SortOrder
) -> None:
    # 130 rows on only 4 distinct instants: the id breaks every tie.
    made = [
        (
            clock() - timedelta(minutes=n % 4),
            _add(services, ada.id, clock() - timedelta(minutes=n % 4)),
        )
        for n in range(130)
    ]
    expected = [id_ for _, id_ in sorted(made, reverse=order is SortOrder.NEWEST)]

    pages = []
    cursor = None
    while True:
        page = services.admin.generations(admin, order=order, cursor=cursor)
        pages.append(page)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert [len(page.rows) for page in pages] == [50, 50, 30]
    assert [row.id for page in pages for row in page.rows] == expected
    assert pages[0].previous_cursor is None

    # And back again, page by page, to exactly the same pages.
    back = services.admin.generations(admin, order=order, cursor=pages[2].previous_cursor)
    assert [r.id for r in back.rows] == [r.id for r in pages[1].rows]
    first = services.admin.generations(admin, order=order, cursor=back.previous_cursor)
    assert [r.id for r in first.rows] == [r.id for r in pages[0].rows]
    assert first.previous_cursor is None and first.next_cursor is not None

    # Smaller pages under a filter: still every row once.
    assert _all_pages(services, admin, GenerationFilter(user_id=ada.id), order=order, limit=7) == (
        expected
    )


def test_text_filter_takes_percent_and_underscore_literally(
    services: Services, admin: Account, ada: Account, clock: FakeClock
) -> None:
    prompts = ["100% sure", "100 percent sure", "snake_case name", "snakeXcase name", "back\\slash"]
    made = {prompt: _add(services, ada.id, clock(), prompt=prompt) for prompt in prompts}

    def found(text: str) -> set[str]:
        rows = services.admin.generations(admin, GenerationFilter(text=text)).rows
        return {row.prompt for row in rows}

    assert len(made) == 5
    assert found("100%") == {"100% sure"}
    assert found("0% SURE") == {"100% sure"}
    assert found("e_c") == {"snake_case name"}
    assert found("%") == {"100% sure"}
    assert found("_") == {"snake_case name"}
    assert found("k\\s") == {"back\\slash"}
    assert found("  ") == set(prompts)


def test_a_garbled_cursor_is_explained(services: Services, admin: Account) -> None:
    with pytest.raises(InvalidInput, match="first page"):
        services.admin.generations(admin, cursor="not-a-cursor")


def test_a_period_that_ends_before_it_starts_is_explained(
    services: Services, admin: Account, clock: FakeClock
) -> None:
    later = GenerationFilter(created_from=clock() + timedelta(days=2), created_before=clock())
    with pytest.raises(InvalidInput, match="must not be after the last day"):
        services.admin.generations(admin, later)


def test_every_method_refuses_a_non_admin(
    services: Services, admin: Account, ada: Account, bob: Account, clock: FakeClock
) -> None:
    generation = _add(services, bob.id, clock())
    calls: list[Callable[[Account], object]] = [
        lambda who: services.admin.generations(who),
        lambda who: services.admin.filter_choices(who),
        lambda who: services.admin.open_generation(who, generation),
        lambda who: services.admin.users(who),
        lambda who: services.admin.user_emails(who),
        lambda who: services.admin.set_role(who, ada.id, Role.ADMIN),
        lambda who: services.admin.set_active(who, bob.id, False),
        lambda who: services.admin.usage(who, bob.id),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied, match="Only administrators"):
            call(ada)

    # A stale admin account (demoted since it was read) is refused for changes too.
    services.admin.set_role(admin, ada.id, Role.ADMIN)
    promoted = services.auth.authenticate(_token(services, "ada@example.com")).account
    services.admin.set_role(admin, ada.id, Role.USER)
    with pytest.raises(PermissionDenied):
        services.admin.set_active(promoted, bob.id, False)
    assert services.auth.authenticate(_token(services, "bob@example.com")).account.is_active


def _token(services: Services, email: str) -> str:
    return services.auth.login(email, PASSWORD, ip=None).access_token


def test_disabling_revokes_sessions_at_once_and_enabling_allows_login_again(
    services: Services, admin: Account, ada: Account
) -> None:
    signed_in = services.auth.login("ada@example.com", PASSWORD, ip=None)
    refresh_token = services.auth.redeem_handoff(signed_in.handoff_code)
    other_tab = services.auth.login("ada@example.com", PASSWORD, ip=None)
    assert services.auth.authenticate(signed_in.access_token).account.id == ada.id

    services.admin.set_active(admin, ada.id, False)

    for token in (signed_in.access_token, other_tab.access_token):
        with pytest.raises(AuthenticationFailed):
            services.auth.authenticate(token)
    with pytest.raises(AuthenticationFailed):
        services.auth.resume(refresh_token)
    with pytest.raises(AuthenticationFailed, match="disabled"):
        services.auth.login("ada@example.com", PASSWORD, ip=None)
    listed = {row.email: row for row in services.admin.users(admin)}
    assert listed["ada@example.com"].is_active is False

    services.admin.set_active(admin, ada.id, True)

    again = services.auth.login("ada@example.com", PASSWORD, ip=None)
    assert services.auth.authenticate(again.access_token).account.is_active
    # Sessions ended by the disabling stay ended.
    with pytest.raises(AuthenticationFailed):
        services.auth.authenticate(signed_in.access_token)


def test_the_last_admin_cannot_be_demoted_or_disabled_nor_lock_themselves_out(
    services: Services, admin: Account, ada: Account
) -> None:
    with pytest.raises(PermissionDenied, match="last active administrator"):
        services.admin.set_role(admin, admin.id, Role.USER)
    with pytest.raises(PermissionDenied, match="last active administrator"):
        services.admin.set_active(admin, admin.id, False)

    services.admin.set_role(admin, ada.id, Role.ADMIN)
    with pytest.raises(PermissionDenied, match="your own"):
        services.admin.set_role(admin, admin.id, Role.USER)
    with pytest.raises(PermissionDenied, match="your own"):
        services.admin.set_active(admin, admin.id, False)

    # Another administrator may do it; then ada is the last one.
    ada_admin = services.auth.authenticate(_token(services, "ada@example.com")).account
    services.admin.set_role(ada_admin, admin.id, Role.USER)
    roles = {row.email: row.role for row in services.admin.users(ada_admin)}
    assert roles == {"root@example.com": Role.USER, "ada@example.com": Role.ADMIN}
    with pytest.raises(PermissionDenied, match="last active administrator"):
        services.admin.set_role(ada_admin, ada.id, Role.USER)
    with pytest.raises(NotFound):
        services.admin.set_role(ada_admin, uuid.uuid4(), Role.ADMIN)


def test_open_any_users_generation_with_record_and_media(
    services: Services, admin: Account, ada: Account, clock: FakeClock
) -> None:
    made = services.pipeline.run(ada.id, image_spec("a teal square"), made_image)

    def broken(_context: object) -> ProducedMedia:
        raise InvalidInput("The provider said no.")

    with pytest.raises(GenerationFailed):
        services.pipeline.run(ada.id, image_spec("never drawn"), broken)

    item = services.admin.open_generation(admin, made.id)
    assert item.row.email == "ada@example.com" and item.row.prompt == "a teal square"
    assert item.record is not None and item.record["id"] == str(made.id)
    assert item.media == png()
    assert item.content_type == "image/png"
    assert (item.signed_url is not None) == services.settings.uses_s3

    failed_row = services.admin.generations(admin, GenerationFilter(status=Status.FAILED)).rows[0]
    failed = services.admin.open_generation(admin, failed_row.id)
    assert failed.media is None and failed.record is not None
    assert failed.record["error"] == "The provider said no."
    with pytest.raises(NotFound):
        services.admin.open_generation(admin, uuid.uuid4())


def test_users_list_and_usage_summary(
    services: Services, admin: Account, ada: Account, bob: Account, clock: FakeClock
) -> None:
    now = clock()
    _add(services, ada.id, now - timedelta(days=40), cost=Decimal("5"))
    _add(services, ada.id, now - timedelta(days=2), cost=Decimal("0.25"))
    _add(services, ada.id, now - timedelta(days=1), modality=Modality.SPEECH)
    _add(services, ada.id, now - timedelta(hours=1), modality=Modality.CHAT, status="failed")
    services.auth.login("ada@example.com", PASSWORD, ip=None)

    users = {row.email: row for row in services.admin.users(admin)}
    assert list(users) == ["ada@example.com", "bob@example.com", "root@example.com"]
    assert users["ada@example.com"].item_count == 4
    assert users["ada@example.com"].last_item_at == now - timedelta(hours=1)
    assert users["ada@example.com"].last_login_at == now
    assert users["bob@example.com"].item_count == 0
    assert users["bob@example.com"].last_item_at is None
    assert users["root@example.com"].role is Role.ADMIN
    assert [row.email for row in services.admin.users(admin, email="BOB")] == ["bob@example.com"]
    assert list(services.admin.user_emails(admin).values()) == list(users)

    usage = services.admin.usage(admin, ada.id)
    assert usage.generations == 3
    assert usage.by_modality == {Modality.IMAGE: 1, Modality.SPEECH: 1, Modality.CHAT: 1}
    assert usage.failures == 1
    assert usage.cost_usd == Decimal("0.25")
    assert services.admin.usage(admin, bob.id).generations == 0
    with pytest.raises(NotFound):
        services.admin.usage(admin, uuid.uuid4())


def test_usage_counts_what_analytics_counts(
    services: Services, admin: Account, ada: Account, clock: FakeClock
) -> None:
    now = clock()
    for status in ["completed", "completed", "failed"]:
        _add(services, ada.id, now - timedelta(hours=1), status=status, cost=Decimal("0.1"))
    _add(services, ada.id, now - timedelta(hours=2), modality=Modality.SPEECH, status="failed")
    # An imported image is in the library, but it is not a generation.
    _add(services, ada.id, now - timedelta(hours=3), provider=IMPORT_PROVIDER, model="import")

    usage = services.admin.usage(admin, ada.id)

    analytics = services.analytics.report(admin, Period.MONTH, scope=Scope.of(ada.id))
    assert usage == analytics.kpis
    assert (usage.generations, usage.failures, usage.cost_usd) == (4, 2, Decimal("0.3"))
    # Failed images are image generations too, as on the Analytics page.
    assert usage.by_modality == {Modality.IMAGE: 3, Modality.SPEECH: 1, Modality.CHAT: 0}
    # The list's own figure says that it counts the import too.
    listed = {row.email: row for row in services.admin.users(admin)}
    assert listed["ada@example.com"].item_count == 5


def test_the_list_says_which_changes_would_be_refused_and_why(
    services: Services, admin: Account, ada: Account
) -> None:
    def refusals(actor: Account) -> dict[str, tuple[str | None, str | None]]:
        rows = services.admin.users(actor)
        return {row.email: (row.cannot_demote, row.cannot_disable) for row in rows}

    assert refusals(admin) == {
        "ada@example.com": (None, None),
        "root@example.com": (LAST_ADMIN_DEMOTED, LAST_ADMIN_DISABLED),
    }
    # Each reason is the one the change itself is refused with.
    with pytest.raises(PermissionDenied) as demoting:
        services.admin.set_role(admin, admin.id, Role.USER)
    with pytest.raises(PermissionDenied) as disabling:
        services.admin.set_active(admin, admin.id, False)
    assert (str(demoting.value), str(disabling.value)) == (LAST_ADMIN_DEMOTED, LAST_ADMIN_DISABLED)

    services.admin.set_role(admin, ada.id, Role.ADMIN)
    ada_admin = services.auth.authenticate(_token(services, "ada@example.com")).account

    assert refusals(admin) == {
        "ada@example.com": (None, None),
        "root@example.com": (SELF_DEMOTED, SELF_DISABLED),
    }
    assert refusals(ada_admin) == {
        "ada@example.com": (SELF_DEMOTED, SELF_DISABLED),
        "root@example.com": (None, None),
    }

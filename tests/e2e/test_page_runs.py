"""What a page load costs in script runs, seen through Streamlit's own websocket protocol.

No browser: the client from `bench.ui_sessions` sends the `rerun_script` message a browser sends
and reads until the run is done, counting runs (a `st.switch_page` makes two).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, update

from bench.ui_sessions import Outcome, Target, open_stream, run_page
from core.config import Settings
from core.services import start_services
from storage.models import User
from tests.support.app_server import AppServer
from tests.support.event_loop import run_apart
from tests.support.studio import PASSWORD, new_email

LOGIN_FORM = ("🎨 Atelier", "Create account")
SIGNED_IN = "Log out"


async def _load(url: str, target: Target, cookie: str | None = None) -> Outcome:
    stream = await open_stream(url, cookie)
    try:
        return await run_page(stream, target, by_hash=False)
    finally:
        await stream.close()


@pytest.mark.parametrize("path", ["", "gallery", "admin", "login"])
def test_a_logged_out_visitor_gets_the_login_form_in_onerun_apart(
    app_server: AppServer, path: str
) -> None:
    problem, runs, _deltas = run_apart(_load(app_server.url, Target(path, LOGIN_FORM)))

    assert (problem, runs) == (None, 1)


@pytest.fixture
def signed_in(app_server: AppServer) -> Iterator[tuple[uuid.UUID, str]]:
    """A fresh account and a refresh-token cookie for it, made through `core` like a login."""
    env = app_server.env
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        **{name: env[name.upper()] for name in Settings.model_fields if name.upper() in env},
    )
    services = start_services(settings)
    try:
        account = services.auth.register(new_email("stream"), PASSWORD, ip=None)
        login = services.auth.login(account.email, PASSWORD, ip=None)
        yield account.id, services.auth.redeem_handoff(login.handoff_code)
    finally:
        services.close()


def test_a_signed_in_page_switch_is_one_run_and_disabling_ends_the_session_at_once(
    app_server: AppServer, signed_in: tuple[uuid.UUID, str]
) -> None:
    user_id, cookie = signed_in

    async def session() -> list[Outcome]:
        stream = await open_stream(app_server.url, cookie)
        try:
            outcomes = [
                await run_page(stream, Target("", ("🎨 Atelier", SIGNED_IN)), by_hash=False),
                await run_page(stream, Target("gallery", ("🖼️ Gallery", SIGNED_IN)), by_hash=True),
            ]
            _disable(app_server, user_id)
            outcomes.append(await run_page(stream, Target("image", LOGIN_FORM), by_hash=True))
            return outcomes
        finally:
            await stream.close()

    assert [outcome[:2] for outcome in run_apart(session())] == [(None, 1)] * 3


def _disable(app_server: AppServer, user_id: uuid.UUID) -> None:
    engine = create_engine(app_server.env["DATABASE_URL"])
    try:
        with engine.begin() as connection:
            connection.execute(update(User).where(User.id == user_id).values(is_active=False))
    finally:
        engine.dispose()

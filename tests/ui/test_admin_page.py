"""The Admin page through AppTest: an administrator's tools, and a plain refusal for others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Button, TextInput

from core.account_deletion import NOT_CONFIRMED
from core.admin.users import LAST_ADMIN_DELETED, LAST_ADMIN_DEMOTED, LAST_ADMIN_DISABLED
from core.auth.account import Account
from core.errors import AuthenticationFailed
from core.services import Services
from storage.db import transaction
from storage.models import Generation
from tests.accounts.library import FailingDeletes
from tests.generation.conftest import image_spec, made_image, png
from tests.ui.conftest import log_in
from ui.text import escape_markdown

PASSWORD = "correct horse 42"


@pytest.fixture
def people(app_services: Services) -> None:
    root = app_services.auth.register("root@example.com", PASSWORD, ip=None)
    ada = app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    now = datetime.now(UTC)
    with transaction(app_services.db) as db:
        for n, (owner, modality) in enumerate(
            [(ada, "image"), (ada, "speech"), (root, "chat"), (ada, "image")]
        ):
            db.add(
                Generation(
                    user_id=owner.id, modality=modality, provider="sketch", model="sketch-v2",
                    status="completed", prompt=f"prompt number {n}", s3_bucket="unused",
                    created_at=now - timedelta(minutes=n), meta={},
                )
            )  # fmt: skip


def _admin_page(app: AppTest, email: str) -> AppTest:
    log_in(app, email, PASSWORD)
    return app.switch_page("../pages/admin.py").run()


def _table(at: AppTest, number: int) -> list[dict[str, object]]:
    records: list[dict[str, object]] = at.dataframe[number].value.to_dict("records")
    return records


def _open_tab(at: AppTest, label: str) -> AppTest:
    at.session_state["admin_tab"] = label
    return at.run()


def test_an_admin_sees_both_tabs_with_generations_and_users(app: AppTest, people: None) -> None:
    at = _admin_page(app, "root@example.com")

    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [tab.label for tab in at.tabs] == ["Generations", "Users", "API keys"]
    generations = _table(at, 0)
    assert [row["Prompt"] for row in generations] == [f"prompt number {n}" for n in range(4)]
    assert {row["User"] for row in generations} == {"root@example.com", "ada@example.com"}
    assert len(at.dataframe) == 1  # only the open tab runs

    at = _open_tab(at, "Users")
    assert not at.exception and not at.error, [e.value for e in at.error]
    users = _table(at, 0)
    assert [(u["Email"], u["Role"], u["Generations and imports (all time)"]) for u in users] == [
        ("ada@example.com", "user", 3),
        ("root@example.com", "admin", 1),
    ]


def test_filter_by_user_and_modality_then_open_one(app: AppTest, people: None) -> None:
    at = _admin_page(app, "root@example.com")
    users = at.selectbox(key="admin_f_user")
    users.select_index(users.options.index("ada@example.com"))
    at.selectbox(key="admin_f_modality").set_value("image")
    next(b for b in at.button if b.label == "Apply filters").click()
    at.run()

    rows = _table(at, 0)
    assert [(r["User"], r["Modality"], r["Prompt"]) for r in rows] == [
        ("ada@example.com", "image", "prompt number 0"),
        ("ada@example.com", "image", "prompt number 3"),
    ]
    opener = next(s for s in at.selectbox if s.label == "Open a generation")
    opener.select_index(2).run()

    assert "prompt number 3" in " ".join(m.value for m in at.markdown)
    assert any(e.value == "The media file is no longer in storage." for e in at.warning)


def test_disable_asks_first_then_shows_the_account_as_disabled(
    app: AppTest, people: None, app_services: Services
) -> None:
    at = _open_tab(_admin_page(app, "root@example.com"), "Users")
    picker = at.selectbox(key="admin_user")
    picker.select_index(picker.options.index("ada@example.com")).run()
    next(b for b in at.button if b.label == "Disable ada@example.com").click()
    at.run()
    assert any("Their open sessions end at once" in w.value for w in at.warning)
    next(b for b in at.button if b.label == "Yes, disable").click()
    at.run()

    assert [s.value for s in at.success] == ["ada@example.com is disabled."]
    assert [u["Active"] for u in _table(at, 0)] == [False, True]
    with pytest.raises(Exception, match="disabled"):
        app_services.auth.login("ada@example.com", PASSWORD, ip=None)


def test_a_user_gets_a_refusal(app: AppTest, people: None) -> None:
    at = _admin_page(app, "ada@example.com")

    assert [e.value for e in at.error] == ["This page is for administrators only."]
    assert not at.tabs and not at.dataframe


def test_older_and_newer_page_through_the_list(app: AppTest, app_services: Services) -> None:
    root = app_services.auth.register("root@example.com", PASSWORD, ip=None)
    now = datetime.now(UTC)
    with transaction(app_services.db) as db:
        for n in range(120):
            db.add(
                Generation(
                    user_id=root.id, modality="image", provider="sketch", model="sketch-v2",
                    status="completed", prompt=f"row {n:03d}", s3_bucket="unused",
                    created_at=now - timedelta(seconds=n), meta={},
                )
            )  # fmt: skip
    at = _admin_page(app, "root@example.com")

    def prompts() -> list[object]:
        return [row["Prompt"] for row in _table(at, 0)]

    def click(label: str) -> None:
        next(b for b in at.button if b.label == label).click()
        at.run()

    assert prompts() == [f"row {n:03d}" for n in range(50)]
    click("Older →")
    assert prompts() == [f"row {n:03d}" for n in range(50, 100)]
    assert any("Page 2 · 50 shown" in str(c.value) for c in at.caption)
    click("Older →")
    assert prompts() == [f"row {n:03d}" for n in range(100, 120)]
    assert next(b for b in at.button if b.label == "Older →").disabled
    click("← Newer")
    click("← Newer")
    assert prompts() == [f"row {n:03d}" for n in range(50)]
    assert next(b for b in at.button if b.label == "← Newer").disabled


def test_accounts_can_be_found_by_part_of_their_email(app: AppTest, people: None) -> None:
    at = _open_tab(_admin_page(app, "root@example.com"), "Users")
    assert [row["Email"] for row in _table(at, 0)] == ["ada@example.com", "root@example.com"]

    at.text_input(key="admin_user_search").input("ROO").run()

    assert [row["Email"] for row in _table(at, 0)] == ["root@example.com"]
    at.text_input(key="admin_user_search").input("nobody").run()
    assert [i.value for i in at.info] == ["No account matches."]


def test_a_generation_shows_someone_elses_prompt_as_written(
    app: AppTest, people: None, app_services: Services
) -> None:
    hostile = "![px](http://attacker.example/p.png) [log in here](https://attacker.example)"
    with transaction(app_services.db) as db:
        db.execute(update(Generation).values(prompt=hostile))
    at = _admin_page(app, "root@example.com")

    at.selectbox(key="admin_open_1").select_index(1).run()

    shown = [m.value for m in at.markdown if "attacker" in m.value]
    assert shown == [f"**{escape_markdown(hostile)}**"]


def _pick_user(at: AppTest, email: str) -> AppTest:
    picker = at.selectbox(key="admin_user")
    return picker.select_index(picker.options.index(email)).run()


def test_the_sole_admin_is_not_offered_what_would_be_refused(app: AppTest, people: None) -> None:
    at = _pick_user(_open_tab(_admin_page(app, "root@example.com"), "Users"), "root@example.com")

    disable = next(b for b in at.button if b.label == "Disable root@example.com")
    role = next(s for s in at.selectbox if s.label == "Role")
    assert disable.disabled and disable.help == LAST_ADMIN_DISABLED
    assert role.disabled and role.help == LAST_ADMIN_DEMOTED
    captions = [c.value for c in at.caption]
    assert LAST_ADMIN_DISABLED in captions and LAST_ADMIN_DEMOTED in captions

    at = _pick_user(at, "ada@example.com")
    assert not next(b for b in at.button if b.label == "Disable ada@example.com").disabled
    assert not next(s for s in at.selectbox if s.label == "Role").disabled
    assert not at.caption or LAST_ADMIN_DISABLED not in [c.value for c in at.caption]


def _add_generations(services: Services, owner: Account, *rows: dict[str, object]) -> None:
    now = datetime.now(UTC)
    with transaction(services.db) as db:
        for n, values in enumerate(rows):
            row: dict[str, object] = {
                "modality": "image", "provider": "sketch", "model": "sketch-v2",
                "status": "completed", "prompt": f"prompt {n}", "s3_bucket": "unused",
                "created_at": now - timedelta(hours=n + 1), "meta": {}, "latency_ms": 100,
            } | values  # fmt: skip
            db.add(Generation(user_id=owner.id, **row))


def test_analytics_and_admin_count_a_users_generations_alike(
    app: AppTest, app_services: Services
) -> None:
    app_services.auth.register("root@example.com", PASSWORD, ip=None)
    ada = app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    failed = {"status": "failed", "error": "Pollinations did not answer in time."}
    _add_generations(
        app_services, ada,
        {}, {}, {}, failed, failed,
        {"modality": "speech", "provider": "offline", "model": "offline"},
        {"modality": "chat", "provider": "openai", "model": "gpt-4o-mini", **failed},
        # Imported images are in the library, but they are not generations on either page.
        {"provider": "import", "model": "import"},
    )  # fmt: skip
    figures = ["Generations", "Images (incl. failed)", "Failures", "Cost"]

    at = _admin_page(app, "root@example.com")
    at.switch_page("../pages/analytics.py").run()
    at.selectbox(key="analytics_scope").select("user").run()
    at.selectbox(key="analytics_user").select("ada@example.com").run()
    analytics = {m.label: m.value for m in at.metric}
    at.switch_page("../pages/admin.py").run()
    at = _pick_user(_open_tab(at, "Users"), "ada@example.com")
    admin = {m.label: m.value for m in at.metric}

    assert not at.exception and not at.error, [e.value for e in at.error]
    expected = {
        "Generations": "7",
        "Images (incl. failed)": "5",
        "Failures": "3",
        "Cost": "$0.0000",
    }
    assert {label: analytics.get(label) for label in figures} == expected
    assert {label: admin.get(label) for label in figures} == expected
    # The accounts list counts what each one owns, and says so.
    users = {row["Email"]: row["Generations and imports (all time)"] for row in _table(at, 0)}
    assert users["ada@example.com"] == 8


def test_a_generation_shows_its_parameters_as_a_table(app: AppTest, app_services: Services) -> None:
    root = app_services.auth.register("root@example.com", PASSWORD, ip=None)
    app_services.pipeline.run(root.id, image_spec("a teal lighthouse"), made_image)
    at = _admin_page(app, "root@example.com")

    at.selectbox(key="admin_open_1").select_index(1).run()

    assert not at.exception and not at.warning
    (table,) = at.table
    shown = dict(zip(table.value["Parameter"], table.value["Value"], strict=True))
    assert shown == {"Prompt": "a teal lighthouse", "Size": "64x48", "Seed": "7"}
    # The whole record is still there, folded away.
    assert [e.label for e in at.expander] == ["record.json"]
    assert at.expander[0].json[0].value


def _delete_form(at: AppTest, email: str) -> tuple[TextInput, Button]:
    password = next(t for t in at.text_input if t.label == "Your password, to confirm")
    button = next(b for b in at.button if b.label == f"Delete {email}")
    return password, button


def test_an_admin_deletes_an_account_with_their_own_password(
    app: AppTest, people: None, app_services: Services
) -> None:
    at = _pick_user(_open_tab(_admin_page(app, "root@example.com"), "Users"), "ada@example.com")
    password, button = _delete_form(at, "ada@example.com")
    password.input("wrong horse 42")
    button.click()
    at.run()
    assert [e.value for e in at.error] == [NOT_CONFIRMED]

    password, button = _delete_form(at, "ada@example.com")
    password.input(PASSWORD)
    button.click()
    at.run()

    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == ["ada@example.com is deleted, with everything in it."]
    assert [u["Email"] for u in _table(at, 0)] == ["root@example.com"]
    with pytest.raises(AuthenticationFailed, match="Wrong email or password"):
        app_services.auth.login("ada@example.com", PASSWORD, ip=None)


def test_the_last_admin_is_not_offered_deletion_and_an_interrupted_one_can_be_finished(
    app: AppTest, people: None, app_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = app_services.auth.login("ada@example.com", PASSWORD, ip=None).account
    app_services.avatars.save(ada.id, png())
    at = _pick_user(_open_tab(_admin_page(app, "root@example.com"), "Users"), "root@example.com")
    password, button = _delete_form(at, "root@example.com")
    assert button.disabled and button.help == LAST_ADMIN_DELETED and password.disabled
    assert LAST_ADMIN_DELETED in [c.value for c in at.caption]

    delete = app_services.objects.delete
    monkeypatch.setattr(app_services.objects, "delete", FailingDeletes(delete, allowed=0))
    at = _pick_user(at, "ada@example.com")
    password, button = _delete_form(at, "ada@example.com")
    password.input(PASSWORD)
    button.click()
    at.run()
    assert [e.value for e in at.error] and "Delete it again to finish" in at.error[0].value

    monkeypatch.setattr(app_services.objects, "delete", delete)
    at = _pick_user(at.run(), "ada@example.com (being deleted)")
    assert "**Access**: being deleted" in [m.value for m in at.markdown]
    password = next(t for t in at.text_input if t.label == "Your password, to confirm")
    password.input(PASSWORD)
    next(b for b in at.button if b.label == "Finish deleting ada@example.com").click()
    at.run()

    assert [s.value for s in at.success] == ["ada@example.com is deleted, with everything in it."]
    assert [u["Email"] for u in _table(at, 0)] == ["root@example.com"]

"""Admin: every user's generations and the users themselves (administrators only)."""

import uuid
from dataclasses import dataclass

import streamlit as st

from core.admin.generations import AdminGenerationPage, GenerationFilter, SortOrder
from core.admin.users import AdminUserRow
from core.analytics import COUNTED
from core.auth.account import Role
from core.generation.status import Status
from core.limits import LimitOverrides
from core.modality import Modality
from core.periods import utc_days
from core.permissions import ADMIN_PAGE_ONLY, require_admin
from core.runtime import services
from ui.api_keys import every_key
from ui.feedback import user_errors
from ui.media import human_size, show_media, show_signed_url
from ui.parameters import show_parameters
from ui.session import current_account
from ui.text import escape_markdown

account = current_account()
ANY = "Any"
USERS_SHOWN = 200
LIMIT_LABELS = {
    "generations_per_minute": "Generations per minute",
    "daily_image": "Images a day",
    "daily_speech": "Speech a day",
    "daily_chat": "Chat answers a day",
}

st.title("🛡️ Admin")


@dataclass
class AdminPageState:
    """What the page remembers between reruns besides its widgets' values, under one key."""

    # The filters and order the current pages were read with.
    query: tuple[GenerationFilter, SortOrder] | None = None
    cursor: str | None = None
    page_number: int = 1
    # Part of the table's and the opener's widget keys: a new number gives them a fresh start.
    view: int = 0
    # Which of the two pickers chose the opened generation last.
    picked_in_table: bool = False
    # The account whose Disable button was clicked, waiting for "Yes, disable".
    disabling: uuid.UUID | None = None
    notice: str | None = None

    def turn_page(self, cursor: str | None, step: int) -> None:
        """Go to the page at `cursor` (None: the first one), `step` pages from this one."""
        self.cursor = cursor
        # New rows can arrive above the first page while reading: never count below page 1.
        self.page_number = max(1, self.page_number + step) if cursor else 1
        # A new view: the table's selection and the opened generation start empty.
        self.view += 1

    def remember_picker(self, in_table: bool) -> None:
        self.picked_in_table = in_table

    def ask_to_disable(self, user_id: uuid.UUID) -> None:
        self.disabling = user_id

    def take_notice(self) -> str | None:
        notice, self.notice = self.notice, None
        return notice


def _state() -> AdminPageState:
    state: AdminPageState = st.session_state.setdefault("admin_page", AdminPageState())
    return state


def _generation_filter(users: dict[uuid.UUID, str]) -> tuple[GenerationFilter, SortOrder]:
    emails = {str(user_id): email for user_id, email in users.items()}
    choices = services().admin.filter_choices(account)
    models = sorted({model for listed in choices.models.values() for model in listed})
    with st.form("admin_filters", border=True):
        top = st.columns(4)
        user = top[0].selectbox(
            "User", [ANY, *emails], format_func=lambda v: emails.get(v, v), key="admin_f_user"
        )
        modality = top[1].selectbox("Modality", [ANY, *Modality], key="admin_f_modality")
        status = top[2].selectbox("Status", [ANY, *Status], key="admin_f_status")
        order = top[3].selectbox(
            "Sort",
            list(SortOrder),
            format_func=lambda v: "Newest first" if v is SortOrder.NEWEST else "Oldest first",
            key="admin_f_order",
        )
        bottom = st.columns(4)
        provider = bottom[0].selectbox(
            "Provider", [ANY, *choices.providers], key="admin_f_provider"
        )
        model = bottom[1].selectbox("Model", [ANY, *models], key="admin_f_model")
        start = bottom[2].date_input("From", value=None, key="admin_f_from")
        end = bottom[3].date_input("To (inclusive)", value=None, key="admin_f_to")
        text = st.text_input("Text in prompt", key="admin_f_text")
        st.form_submit_button("Apply filters", icon="🔎")
    days = utc_days(start, end)
    filters = GenerationFilter(
        user_id=uuid.UUID(user) if user != ANY else None,
        modality=Modality(modality) if modality != ANY else None,
        provider=provider if provider != ANY else None,
        model=model if model != ANY else None,
        status=Status(status) if status != ANY else None,
        created_from=days.start,
        created_before=days.end,
        text=text,
    )
    return filters, SortOrder(order)


def _pager(page: AdminGenerationPage, order: SortOrder) -> None:
    state = _state()
    earlier, later = ("Newer", "Older") if order is SortOrder.NEWEST else ("Older", "Newer")
    left, middle, right = st.columns([1, 2, 1])
    left.button(
        f"← {earlier}",
        disabled=page.previous_cursor is None,
        on_click=state.turn_page,
        args=(page.previous_cursor, -1),
        key="admin_previous",
    )
    middle.caption(f"Page {state.page_number} · {len(page.rows)} shown")
    right.button(
        f"{later} →",
        disabled=page.next_cursor is None,
        on_click=state.turn_page,
        args=(page.next_cursor, 1),
        key="admin_next",
    )


def _generations_tab(users: dict[uuid.UUID, str]) -> None:
    state = _state()
    filters, order = _generation_filter(users)
    if state.query != (filters, order):
        state.query = (filters, order)
        state.turn_page(None, 0)
    page = services().admin.generations(account, filters, order=order, cursor=state.cursor)
    if not page.rows:
        st.info("No generation matches these filters.", icon="🔍")
        if state.cursor:
            st.button("Back to the first page", on_click=state.turn_page, args=(None, 0))
        return
    table = st.dataframe(
        [
            {
                "Created (UTC)": row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                "User": row.email,
                "Modality": row.modality.value,
                "Provider": row.provider,
                "Model": row.model,
                "Status": row.status,
                "Prompt": row.prompt[:160],
                "Latency (ms)": row.latency_ms,
                "Cost (USD)": float(row.cost_usd),
            }
            for row in page.rows
        ],
        hide_index=True,
        on_select=lambda: state.remember_picker(True),
        selection_mode="single-row",
        key=f"admin_table_{state.view}",
    )
    _pager(page, order)
    by_id = {str(row.id): row for row in page.rows}
    picked = st.selectbox(
        "Open a generation",
        [None, *by_id],
        format_func=lambda v: (
            "Choose one, or select a row in the table"
            if v is None
            else f"{by_id[v].created_at:%Y-%m-%d %H:%M} · {by_id[v].email} · {by_id[v].prompt[:60]}"
        ),
        key=f"admin_open_{state.view}",
        on_change=state.remember_picker,
        args=(False,),
    )
    # Two ways to pick one; the one used last wins.
    selected_rows = table.selection.rows if table is not None else []
    if selected_rows and (picked is None or state.picked_in_table):
        picked = str(page.rows[selected_rows[0]].id)
    if picked is not None:
        _generation_details(uuid.UUID(picked))


def _generation_details(generation_id: uuid.UUID) -> None:
    item = services().admin.open_generation(account, generation_id)
    row = item.row
    with st.container(border=True):
        st.subheader("Generation")
        # Someone else's words: shown as written, never interpreted as Markdown.
        st.markdown(f"**{escape_markdown(row.prompt[:300])}**")
        st.caption(
            f"{escape_markdown(row.email)} · {row.modality.value} · {row.provider} · "
            f"{row.model} · {row.status} · "
            f"{row.created_at:%Y-%m-%d %H:%M:%S} UTC · {row.latency_ms or '–'} ms · "
            f"{human_size(row.size_bytes)} · ${row.cost_usd}"
        )
        if row.error:
            st.error(escape_markdown(row.error), icon="❌")
        if item.media is not None:
            show_media(
                row.modality,
                item.media,
                item.content_type or "",
                name=f"{row.modality}-{row.id}",
                key=f"admin-{row.id}",
                literal_text=True,
            )
            show_signed_url(item.signed_url)
        elif row.status == Status.COMPLETED:
            st.warning("The media file is no longer in storage.")
        if item.params:
            st.markdown("**Parameters**")
            show_parameters(item.params)
        if item.record is None:
            st.warning("The record is no longer in storage.")
        else:
            with st.expander("record.json"):
                st.json(item.record, expanded=1)


def _users_tab() -> None:
    admin = services().admin
    state = _state()
    if notice := state.take_notice():
        st.success(notice, icon="✅")
    needle = st.text_input("Find accounts", placeholder="Part of an email", key="admin_user_search")
    users = admin.users(account, email=needle, limit=USERS_SHOWN + 1)
    if len(users) > USERS_SHOWN:
        users = users[:USERS_SHOWN]
        st.caption(
            f"Showing the first {USERS_SHOWN} accounts by email; type part of an email to find "
            "the others."
        )
    elif not users:
        st.info("No account matches.", icon="🔍")
        return
    st.dataframe(
        [
            {
                "Email": user.email,
                "Role": user.role.value,
                "Active": user.is_active,
                "Created (UTC)": f"{user.created_at:%Y-%m-%d %H:%M}",
                "Last login (UTC)": f"{user.last_login_at:%Y-%m-%d %H:%M}"
                if user.last_login_at
                else "",
                "Generations and imports (all time)": user.item_count,
                "Last generation or import (UTC)": f"{user.last_item_at:%Y-%m-%d %H:%M}"
                if user.last_item_at
                else "",
            }
            for user in users
        ],
        hide_index=True,
    )
    by_id = {str(user.id): user for user in users}
    picked = st.selectbox(
        "Pick a user",
        list(by_id),
        format_func=lambda v: _picker_label(by_id[v]),
        key="admin_user",
    )
    if picked is None:
        return
    user = by_id[picked]

    role_column, access_column = st.columns(2)
    with role_column:
        role = st.selectbox(
            "Role",
            list(Role),
            index=list(Role).index(user.role),
            key=f"admin_role_{user.id}",
            disabled=user.cannot_demote is not None,
            help=user.cannot_demote,
        )
        if user.cannot_demote:
            st.caption(user.cannot_demote)
        if st.button("Change role", key=f"admin_set_role_{user.id}", disabled=role is user.role):
            admin.set_role(account, user.id, Role(role))
            state.notice = f"{user.email} is now {role}."
            st.rerun()
    with access_column:
        st.markdown(f"**Access**: {_access(user)}")
        if user.deleting:
            st.caption("Only finishing the deletion is left: see Delete account below.")
        elif user.is_active:
            # The email in the label says whose account, and a click on the label of a user
            # picked a moment ago cannot land on the previous one's button.
            st.button(
                f"Disable {user.email}",
                icon="⛔",
                key=f"admin_disable_{user.id}",
                on_click=state.ask_to_disable,
                args=(user.id,),
                disabled=user.cannot_disable is not None,
                help=user.cannot_disable,
            )
            if user.cannot_disable:
                st.caption(user.cannot_disable)
            if state.disabling == user.id:
                st.warning(f"Disable {user.email}? Their open sessions end at once.")
                if st.button("Yes, disable", type="primary", key=f"admin_yes_{user.id}"):
                    state.disabling = None
                    admin.set_active(account, user.id, False)
                    state.notice = f"{user.email} is disabled."
                    st.rerun()
        elif st.button("Enable account", icon="✅", key=f"admin_enable_{user.id}"):
            admin.set_active(account, user.id, True)
            state.notice = f"{user.email} can log in again."
            st.rerun()

    usage = admin.usage(account, user.id)
    st.markdown("**Last 30 days**")
    # The Analytics page's labels and figures: one count, read the same way on both pages.
    totals, by_modality = st.columns(3), st.columns(3)
    totals[0].metric("Generations", f"{usage.generations:,}", help=COUNTED)
    totals[1].metric("Failures", f"{usage.failures:,}")
    totals[2].metric("Cost", f"${usage.cost_usd:,.4f}")
    by_modality[0].metric("Images (incl. failed)", f"{usage.by_modality[Modality.IMAGE]:,}")
    by_modality[1].metric("Speech (incl. failed)", f"{usage.by_modality[Modality.SPEECH]:,}")
    by_modality[2].metric("Chat (incl. failed)", f"{usage.by_modality[Modality.CHAT]:,}")

    _limits_editor(user)
    _deletion(user)


def _access(user: AdminUserRow) -> str:
    if user.deleting:
        return "being deleted"
    return "active" if user.is_active else "disabled"


def _picker_label(user: AdminUserRow) -> str:
    access = _access(user)
    return user.email if access == "active" else f"{user.email} ({access})"


def _deletion(user: AdminUserRow) -> None:
    refusal = user.cannot_delete
    with st.form(f"admin_delete_{user.id}"):
        st.markdown("**Delete account**")
        st.caption(
            "Deletes the account and everything in it, for good: its generations with their "
            "files and history, imports, conversations, jobs, avatar, sessions and API keys. "
            "Its usage counts stay, without the account."
        )
        if refusal:
            st.caption(refusal)
        password = st.text_input(
            "Your password, to confirm",
            type="password",
            autocomplete="current-password",
            key=f"admin_delete_password_{user.id}",
            disabled=refusal is not None,
        )
        verb = "Finish deleting" if user.deleting else "Delete"
        if st.form_submit_button(
            f"{verb} {user.email}",
            icon="🗑️",
            disabled=refusal is not None,
            help=refusal,
        ):
            if not password:
                st.error("Enter your password to confirm.", icon="✍️")
                return
            with st.spinner(f"Deleting {user.email}…"):
                services().account_deletion.delete_by_admin(account, user.id, password)
            _state().notice = f"{user.email} is deleted, with everything in it."
            st.rerun()


def _limits_editor(user: AdminUserRow) -> None:
    limits = services().limits
    current = limits.overrides(account, user.id)
    role_values = limits.role_limits(user.role)
    with st.form(f"admin_limits_{user.id}"):
        st.markdown("**Limits** (empty = the role's limit; 0 = unlimited)")
        columns = st.columns(len(LIMIT_LABELS))
        values: dict[str, int | None] = {}
        for column, (name, label) in zip(columns, LIMIT_LABELS.items(), strict=True):
            role_value = getattr(role_values, name)
            chosen = column.number_input(
                label,
                min_value=0,
                step=1,
                value=getattr(current, name),
                placeholder=f"{user.role}: {role_value or 'unlimited'}",
                key=f"admin_limit_{name}_{user.id}",
            )
            values[name] = int(chosen) if chosen is not None else None
        if st.form_submit_button("Save limits"):
            limits.set_overrides(account, user.id, LimitOverrides(**values))
            _state().notice = f"Limits saved for {user.email}."
            st.rerun()


with user_errors():
    require_admin(account, ADMIN_PAGE_ONLY)
    # Only the open tab runs: the users list with its counts is not paid for on every page.
    generations_tab, users_tab, keys_tab = st.tabs(
        ["Generations", "Users", "API keys"], key="admin_tab", on_change="rerun"
    )
    if generations_tab.open:
        with generations_tab, user_errors():
            _generations_tab(services().admin.user_emails(account))
    if users_tab.open:
        with users_tab, user_errors():
            _users_tab()
    if keys_tab.open:
        with keys_tab, user_errors():
            every_key(account)

"""Gallery: your own generations, newest first; open one, replay it, reuse it, delete it;
export them as a ZIP."""

import uuid
from datetime import UTC, datetime, timedelta

import streamlit as st

from core.export import TICKET_TTL_SECONDS, ExportSelection
from core.generation.records import Source
from core.history import IndexEntry
from core.modality import Modality
from core.runtime import services
from ui.feedback import user_errors
from ui.media import show_media, show_signed_url
from ui.parameters import shorten, show_parameters
from ui.router import go
from ui.routes import EXPORT_PATH
from ui.session import current_account
from ui.text import escape_markdown

account = current_account()
gallery = services().gallery
PAGE_SIZE = 24
LABELS = {Modality.IMAGE: "🎨 Images", Modality.SPEECH: "🔊 Speech", Modality.CHAT: "💬 Chat"}
ORIGINS = {Source.API: " · via API", Source.IMPORT: " · Imported"}
EVERYTHING, DATE_RANGE = "Everything", "A date range"

st.title("🖼️ Gallery")


@st.cache_data(max_entries=4096, show_spinner=False)
def _file(user_id: str, generation_id: str, key: str) -> bytes:
    # Keyed by the owner too: a cached file is only ever served back to the same user.
    return gallery.media(uuid.UUID(user_id), uuid.UUID(generation_id), key)


def _open(entry_id: uuid.UUID) -> None:
    st.session_state["gallery_open"] = entry_id


def _ask_export() -> None:
    st.session_state["gallery_export"] = True


@st.dialog("Generation", width="large")
def _details(generation_id: uuid.UUID) -> None:
    with user_errors():
        item = gallery.open(account.id, generation_id)
        entry = item.entry
        st.markdown(f"**{entry.prompt[:300]}**")
        show_media(
            entry.modality,
            _file(str(account.id), str(entry.id), entry.media_key),
            entry.content_type,
            name=f"{entry.modality}-{entry.id}",
            key=f"dialog-{entry.id}",
        )
        show_parameters(entry.params)
        show_signed_url(item.signed_url)
        with st.expander("Everything in its record"):
            st.json(item.record)
        left, right = st.columns(2)
        imported = entry.meta.get("source") == Source.IMPORT
        if entry.modality is Modality.IMAGE and imported:
            st.caption(f"Imported from {entry.params.get('sourceUrl', entry.model)}")
        is_image = entry.modality is Modality.IMAGE
        if is_image and not imported and left.button("Use these settings", icon="♻️"):
            st.session_state["image_prefill"] = entry.params
            go("image")
        if entry.modality is Modality.IMAGE and left.button("Use as reference", icon="🖼️"):
            st.session_state["image_reference"] = {"id": entry.id, "key": entry.media_key}
            st.session_state["image_reference_choice"] = "gallery"
            go("image")
        if entry.modality is Modality.CHAT and left.button("Continue this conversation", icon="💬"):
            st.session_state["chat_open"] = uuid.UUID(entry.params["conversationId"])
            go("chat")
        if right.button("Delete", icon="🗑️", type="secondary"):
            st.session_state["gallery_confirm_delete"] = entry.id
        if st.session_state.get("gallery_confirm_delete") == entry.id:
            st.warning("Delete this generation and its files for good?")
            if st.button("Yes, delete it", type="primary"):
                gallery.delete(account.id, entry.id)
                for key in ("gallery_open", "gallery_confirm_delete", "gallery_pages"):
                    st.session_state.pop(key, None)
                st.rerun()


@st.dialog("Export")
def _export(selected: list[uuid.UUID], kinds: list[Modality]) -> None:
    choices = [EVERYTHING, DATE_RANGE, *([f"The {len(selected)} selected"] if selected else [])]
    # Ticked cards say what the user means; otherwise everything.
    what = st.radio("What to export", choices, index=len(choices) - 1 if selected else 0)
    by_ids = bool(selected) and what == choices[-1]
    # What Show leaves out stays out of "everything" and a date range too.
    shown = tuple(kinds) if set(kinds) != set(Modality) else ()
    with user_errors():
        if by_ids:
            selection = ExportSelection(ids=tuple(selected))
        elif what == DATE_RANGE:
            today = datetime.now(UTC).date()
            days = st.date_input(
                "Days (UTC)", value=(today - timedelta(days=30), today), max_value=today
            )
            if not isinstance(days, tuple) or len(days) < 2:
                st.info("Pick the last day too.")
                return
            selection = ExportSelection(first_day=days[0], last_day=days[1], modalities=shown)
        else:
            selection = ExportSelection(modalities=shown)
        if shown and not by_ids:
            st.caption(f"Only {', '.join(LABELS[kind] for kind in shown)}, as Show says.")
        if not selected:
            st.caption("Tick “Select” on cards to export only those.")
        exports = services().exports
        count = exports.count(account.id, selection)
        st.markdown(
            f"**{count}** generation{'' if count == 1 else 's'} (failed attempts too, with their "
            "reason): each one's files, and an `index.csv` of them all with their parameters."
        )
        st.link_button(
            "Download ZIP",
            f"{EXPORT_PATH}?ticket={exports.ticket(account.id, selection)}",
            icon="⬇️",
            type="primary",
            disabled=count == 0,
        )
        st.caption(f"The link works for {TICKET_TTL_SECONDS // 60} minutes.")


filters = st.columns([2, 3])
# Toggles named by their kind: a multiselect's menu button is only ever called "Open".
chosen = filters[0].pills(
    "Show",
    list(LABELS),
    selection_mode="multi",
    default=list(LABELS),
    format_func=LABELS.__getitem__,
)
text = filters[1].text_input("Search prompts", placeholder="fox, sunset, hola…")
query = (tuple(chosen), text)
if st.session_state.get("gallery_query") != query:
    st.session_state["gallery_query"] = query
    st.session_state["gallery_pages"] = None
st.button("Export", icon="📦", on_click=_ask_export)

selected: list[uuid.UUID] = []
with user_errors():
    if st.session_state.get("gallery_pages") is None:
        st.session_state["gallery_pages"] = [
            gallery.page(account.id, modalities=chosen, text=text, limit=PAGE_SIZE)
        ]
    pages = st.session_state["gallery_pages"]
    entries: list[IndexEntry] = [e for page in pages for e in page.entries]
    if not entries and text.strip():
        st.info(f"No match for “{escape_markdown(text.strip())}” in your gallery.", icon="🔎")
    elif not entries and len(chosen) < len(LABELS):
        st.info("Nothing of this kind yet. Show every kind to see the rest.", icon="🔎")
    elif not entries:
        st.info("Nothing here yet. What you make in the studios appears here.", icon="🌱")
    columns = st.columns(4)
    for number, entry in enumerate(entries):
        with columns[number % 4].container(border=True):
            if entry.modality is Modality.IMAGE:
                st.image(
                    _file(str(account.id), str(entry.id), entry.thumbnail_key or entry.media_key)
                )
            elif entry.modality is Modality.SPEECH:
                st.audio(
                    _file(str(account.id), str(entry.id), entry.media_key), format="audio/mpeg"
                )
            if entry.modality is Modality.CHAT:
                st.caption(f"↳ {entry.meta.get('answerPreview', '')[:120]}")
            st.markdown(f"{LABELS[entry.modality][:1]} {entry.prompt[:80]}")
            origin = ORIGINS.get(entry.meta.get("source"), "")
            st.caption(f"{entry.model} · {entry.created_at:%Y-%m-%d %H:%M} UTC{origin}")
            # Named by its item, so a screen reader's list of buttons tells the cards apart.
            st.button(
                f"Open “{escape_markdown(shorten(entry.prompt, 40))}”",
                key=f"open-{entry.id}",
                on_click=_open,
                args=(entry.id,),
            )
            if st.checkbox(
                f"Select “{escape_markdown(shorten(entry.prompt, 40))}”", key=f"select-{entry.id}"
            ):
                selected.append(entry.id)
    if pages[-1].next_cursor and st.button("Load more"):
        pages.append(
            gallery.page(
                account.id,
                modalities=chosen,
                text=text,
                limit=PAGE_SIZE,
                cursor=pages[-1].next_cursor,
            )
        )
        st.rerun()

if opened := st.session_state.get("gallery_open"):
    st.session_state.pop("gallery_open")
    _details(opened)
elif st.session_state.pop("gallery_export", False):
    _export(selected, chosen)

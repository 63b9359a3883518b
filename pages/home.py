"""Home: where to start, and what you made last."""

import streamlit as st

from core.modality import Modality
from core.runtime import services
from ui.api_keys import own_keys
from ui.feedback import user_errors
from ui.parameters import shorten
from ui.router import go, page
from ui.session import current_account
from ui.text import escape_markdown

account = current_account()
app = services()

st.title("🎨 Atelier")
st.write("Make something, and find it again later: every generation is kept in your gallery.")

columns = st.columns(3)
columns[0].page_link(page("image"), label="Image Studio", icon="🎨")
columns[0].caption("Pictures from a prompt, a seed and a style.")
columns[1].page_link(page("speech"), label="Speech Studio", icon="🔊")
columns[1].caption("Text read aloud in many languages, normal or slow.")
columns[2].page_link(page("chat"), label="Chat", icon="💬")
columns[2].caption("Streaming answers; conversations are kept.")

with user_errors():
    limits = app.limits.effective(account.id)
    used = app.limits.used_today(account.id)
    quotas = [
        f"{used[modality]} of {quota} {modality.value}"
        for modality in Modality
        if (quota := limits.daily(modality))
    ]
    if quotas:
        st.caption("Today (UTC): " + " · ".join(quotas) + ".")

with user_errors():
    recent = app.gallery.page(account.id, limit=4).entries
    if recent:
        st.subheader("Recently made")
        cards = st.columns(4)
        for card, entry in zip(cards, recent, strict=False):
            with card.container(border=True):
                if entry.modality is Modality.IMAGE:
                    key = entry.thumbnail_key or entry.media_key
                    st.image(app.gallery.media(account.id, entry.id, key))
                # The card's prompt is its button, named by its item for a screen reader too.
                label = f"Open “{escape_markdown(shorten(entry.prompt, 60))}”"
                if st.button(
                    label, key=f"recent-{entry.id}", type="tertiary", help="Opens in the gallery"
                ):
                    # What the gallery opens when one of its own cards is clicked.
                    st.session_state["gallery_open"] = entry.id
                    go("gallery")
                st.caption(f"{entry.created_at:%b %d, %H:%M}")
        st.page_link(page("gallery"), label="Open the gallery", icon="🖼️")

own_keys(account)

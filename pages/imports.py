"""Import: bring images from the web into your library, from a list of URLs or from a
collection of documents (JSON, JSON Lines, CSV) that carry image URLs (seed 003)."""

from pathlib import Path

import streamlit as st

from core.imports.jobs import PASTED_COLLECTION
from core.jobs.model import JobKind
from core.runtime import services
from ui.feedback import user_errors
from ui.jobs import job_cards
from ui.session import current_account

account = current_account()
imports = services().imports

st.title("📥 Import")
st.caption(
    "Images are downloaded in the background, a few at a time from each site, checked, and "
    "kept in your Gallery as “Imported”. Cancel keeps what already arrived."
)


def _filter(text: str) -> dict[str, str] | None:
    """`field=value` lines: only documents whose fields equal those values."""
    pairs = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            st.error(f"Filter line {number} needs the form field=value.", icon="⚠️")
            st.stop()
        pairs[name.strip()] = value.strip()
    return pairs or None


pasted, uploaded = st.tabs(["Paste URLs", "Upload a collection"])

with pasted, st.form("import_urls"):
    urls = st.text_area(
        "Image URLs", placeholder="https://example.com/photo.jpg\n…", help="One per line."
    )
    collection = st.text_input("Collection", value=PASTED_COLLECTION, max_chars=100)
    if st.form_submit_button("Import", type="primary", icon="📥"):
        with user_errors():
            imports.submit_urls(account.id, urls, collection=collection)
            st.toast("Import queued.", icon="📥")

with uploaded, st.form("import_collection"):
    upload = st.file_uploader(
        "Documents",
        type=["json", "jsonl", "ndjson", "csv"],
        help="A JSON array, JSON Lines or CSV.",
    )
    left, right = st.columns(2)
    name = left.text_input("Collection", placeholder="hotels (blank: the file's name)")
    id_field = right.text_input("Id field", value="_id")
    url_field = left.text_input(
        "URL field", value="photo", help="A field path: photo, images[].url, gallery.*.src"
    )
    limit = right.number_input("At most this many documents (0 = all)", 0, 100_000, 0)
    filter_text = left.text_area("Only documents where", placeholder="city=Madrid")
    only = right.text_input("Only this document id", placeholder="blank = every document")
    if st.form_submit_button("Import", type="primary", icon="📥"):
        with user_errors():
            if upload is None:
                st.error("Choose a file of documents first.", icon="⚠️")
                st.stop()
            imports.submit_upload(
                account.id,
                upload.getvalue(),
                filename=upload.name,
                collection=name.strip() or Path(upload.name).stem,
                id_field=id_field.strip(),
                url_field=url_field.strip(),
                filter=_filter(filter_text),
                limit=int(limit) or None,
                only_document=only.strip() or None,
            )
            st.toast("Import queued.", icon="📥")

with user_errors():
    job_cards(account, JobKind.IMPORT, limit=5)

"""Speech Studio: type text, pick a language and speed, hear it, keep it."""

import streamlit as st

from core.generation.speech import SpeechOrder
from core.modality import Modality
from core.runtime import services
from ui.feedback import progress, user_errors
from ui.media import human_size, show_media, show_signed_url
from ui.session import current_account

account = current_account()
app = services()
studio = app.speech

st.title("🔊 Speech Studio")

provider_names = list(studio.providers)
provider_name = st.selectbox(
    "Voice provider",
    provider_names,
    index=provider_names.index(studio.default_provider),
    format_func=lambda name: studio.providers[name].label,
)
provider = studio.provider(provider_name)
languages = provider.languages()
codes = list(languages)
language = st.selectbox(
    "Language",
    codes,
    index=codes.index("en") if "en" in codes else 0,
    format_func=lambda code: f"{languages[code]} ({code})",
)
with st.form("speech"):
    text = st.text_area(
        "Text",
        max_chars=app.settings.speech_max_characters,
        height=160,
        placeholder="Type what you want to hear…",
    )
    slow = (
        st.radio("Speed", ["Normal", "Slow"], horizontal=True) == "Slow"
        if provider.supports_slow
        else False
    )
    speak = st.form_submit_button("Speak", type="primary", icon="🔊")

if speak:
    with user_errors():
        if not text.strip():
            st.warning("Type some text first.", icon="✍️")
        else:
            with progress("Synthesising…") as step:
                record = studio.synthesize(
                    account.id,
                    SpeechOrder(text=text, language=language, slow=slow, provider=provider_name),
                    progress=step,
                )
            st.session_state["speech_last"] = record

record = st.session_state.get("speech_last")
if record is not None:
    meta = record.meta
    st.subheader("Result")
    audio = app.gallery.media(account.id, record.id, record.media_key or "")
    show_media(Modality.SPEECH, audio, "audio/mpeg", name=f"speech-{record.id}", key=str(record.id))
    st.caption(
        f"Spoken by **{meta.get('spokenBy', record.provider)}** · "
        f"{meta.get('durationSeconds', 0):.1f} s · {human_size(record.size_bytes)} · "
        f"{'slow' if meta.get('slow') else 'normal'} speed · made in {record.latency_ms} ms"
    )
    show_signed_url(app.gallery.signed_url(account.id, record.id))

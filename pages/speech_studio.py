"""Speech Studio: type text, pick a language and speed, hear it, keep it."""

import streamlit as st

from core.generation.speech import SpeechOrder
from core.jobs.model import JobKind
from core.runtime import services
from ui.feedback import user_errors
from ui.jobs import job_cards
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
            app.jobs.submit_speech(
                account.id,
                SpeechOrder(text=text, language=language, slow=slow, provider=provider_name),
            )
            st.toast("Queued.", icon="⏳")

job_cards(account, JobKind.SPEECH)

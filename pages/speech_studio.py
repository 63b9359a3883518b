"""Speech Studio: type text, pick a language, speed and engine, hear it, keep it."""

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
# Set by the buttons under a language warning, read once by the next run.
CONFIRMED = "speech_confirmed"
# The text, language and provider a language warning is about: it stays up through reruns
# (a job card ending reruns the page) until it is answered or the form changes.
ASKED = "speech_asked"

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
if st.session_state.get("speech_language") not in languages:
    st.session_state["speech_language"] = "en" if "en" in codes else codes[0]
language = st.selectbox(
    "Language",
    codes,
    key="speech_language",
    format_func=lambda code: f"{languages[code]} ({code})",
)
# Outside the form, so that the line below follows the choice before anything is spoken.
instant = (
    st.checkbox("Instant robotic voice (espeak-ng)", key="speech_instant")
    if provider.supports_instant
    else False
)
st.caption(f"Read by {provider.describe_reader(language, instant=instant)}")
with st.form("speech"):
    # No max_chars: the browser would drop a paste that crosses it without a word. A text
    # too long stays in the field, is counted here and refused on Speak by core's check.
    text = st.text_area(
        "Text", key="speech_text", height=160, placeholder="Type what you want to hear…"
    )
    st.caption(f"{len(text):,} of {app.settings.speech_max_characters:,} characters")
    slow = (
        st.radio("Speed", ["Normal", "Slow"], horizontal=True) == "Slow"
        if provider.supports_slow
        else False
    )
    speak = st.form_submit_button("Speak", type="primary", icon="🔊")


def _speak_in(code: str) -> None:
    """A warning's button: the language to speak in (set before its picker is drawn again)."""
    st.session_state["speech_language"] = code
    st.session_state[CONFIRMED] = True


question = (text, language, provider_name)
confirmed = st.session_state.pop(CONFIRMED, False)
still_asked = st.session_state.pop(ASKED, None) == question
if speak or confirmed or still_asked:
    with user_errors():
        order = SpeechOrder(
            text=text, language=language, slow=slow, provider=provider_name, instant=instant
        )
        if not text.strip():
            st.warning("Type some text first.", icon="✍️")
        elif not confirmed and (mismatch := studio.language_mismatch(order)):
            # Nothing is queued until the user says which language they meant.
            st.session_state[ASKED] = question
            fitting = mismatch.languages
            several = " Choose its language above, or speak it anyway." if len(fitting) > 1 else ""
            st.warning(mismatch.message + several, icon="🌐")
            choices = [fitting[0], language] if len(fitting) == 1 else [language]
            for column, code in zip(st.columns(4), choices, strict=False):
                anyway = " anyway" if code == language else ""
                column.button(
                    f"Speak in {languages[code]}{anyway}", on_click=_speak_in, args=(code,)
                )
        else:
            app.jobs.submit_speech(account.id, order)
            st.toast("Queued.", icon="⏳")

job_cards(account, JobKind.SPEECH)

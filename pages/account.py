"""Account: who you are here, and deleting the account with everything in it."""

import streamlit as st

from core.account_deletion import DeletionUnfinished
from core.runtime import services
from ui import session
from ui.feedback import user_errors
from ui.session import current_account, sign_out
from ui.text import escape_markdown

CONFIRMATION = "delete my account"
DELETED = "Your account and everything in it are deleted."

account = current_account()
app = services()

st.title("👤 Account")
st.markdown(
    f"**{escape_markdown(account.email)}** · {account.role.value} · "
    f"since {account.created_at:%Y-%m-%d}"
)

st.subheader("Delete your account")
st.markdown(
    "Deleting is for good, and nobody can undo it. It removes:\n"
    "- every image, speech and chat answer you made: the files, their records and your "
    "history;\n"
    "- your imported images, your conversations, your queued jobs and your avatar;\n"
    "- your API keys and your sessions: you are signed out everywhere.\n\n"
    "What stays is the usage count (what was made, when, with which model and at what cost), "
    "no longer linked to you."
)


def _signed_out_with(notice: str) -> None:
    sign_out()
    # What the login page shows next (ui/session.py's notice; sign_out itself takes none).
    st.session_state[session._NOTICE] = notice
    st.rerun()


with user_errors():
    refusal = app.account_deletion.own_refusal(account)
    if refusal:
        st.info(refusal, icon="🛡️")
    with st.form("delete_account"):
        password = st.text_input(
            "Your password",
            type="password",
            autocomplete="current-password",
            disabled=refusal is not None,
        )
        typed = st.text_input(
            f"Type “{CONFIRMATION}” to confirm",
            key="delete_account_confirmation",
            disabled=refusal is not None,
        )
        if st.form_submit_button(
            "Delete my account", type="primary", icon="🗑️", disabled=refusal is not None
        ):
            if " ".join(typed.split()).casefold() != CONFIRMATION:
                st.error(f"Type “{CONFIRMATION}” in the box above to confirm.", icon="✍️")
            elif not password:
                st.error("Enter your password to confirm.", icon="✍️")
            else:
                with st.spinner("Deleting your account and everything in it…"):
                    try:
                        app.account_deletion.delete_own(account, password)
                    except DeletionUnfinished as error:
                        # The account is closed all the same: the rest finishes later.
                        _signed_out_with(str(error))
                _signed_out_with(DELETED)

"""Admin: every user's generations and the users themselves."""

import streamlit as st

from ui.feedback import user_errors
from ui.runtime import services
from ui.session import current_account

account = current_account()
st.title("🛡️ Admin")
with user_errors():
    services().auth.require_admin(account)
    st.write("Administration tools arrive here.")

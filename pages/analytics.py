import streamlit as st

from ui.session import current_account

account = current_account()
st.title("📊 Analytics")

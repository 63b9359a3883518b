"""The script of the benchmarks' yardstick (served by `bench/bare_app.py`): bare Streamlit, a
title and a two-field login form.

Two pages through `st.navigation`, so a page switch here costs what Streamlit itself charges
for one. Not part of Atelier; run only by the benchmarks.
"""

import streamlit as st


def _form(title: str) -> None:
    st.title(title)
    with st.form("login"):
        st.text_input("Email")
        st.text_input("Password", type="password")
        st.form_submit_button("Log in")


def log_in() -> None:
    _form("Bare login")


def other() -> None:
    _form("Bare other")


st.navigation(
    [
        st.Page(log_in, title="Log in", url_path="login", default=True),
        st.Page(other, title="Other", url_path="other"),
    ],
    position="hidden",
).run()

"""The script Streamlit runs on every rerun (see app.py): resolve the user, route to a page."""

from ui.router import route

route()

"""The yardstick for `bench.ui_sessions` and `bench.ui_browser`: bare Streamlit served the way
Atelier is served (an `st.App`, with Nagle's algorithm off on its port, see ui/server_socket.py),
so a ratio against it is what Atelier's own code adds, not how the two servers are set up. The
script every run executes is `bench/bare_page.py`.
"""

import sys
from pathlib import Path

import streamlit as st

# Run as `streamlit run bench/bare_app.py` from anywhere: the repository is not on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ui.server_socket import disable_nagle_on_listeners

disable_nagle_on_listeners()

app = st.App(Path(__file__).resolve().parent / "bare_page.py")

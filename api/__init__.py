"""Atelier's HTTP face: the seeds' REST contract and an OpenAI-compatible /v1, over `core`.

Served by the same `st.App` as the pages (see `api/mount.py`); routers parse, call `core`, and
serialise, nothing more.
"""

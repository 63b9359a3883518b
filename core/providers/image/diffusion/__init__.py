"""A local diffusers pipeline (optional install: requirements-diffusers.txt)."""

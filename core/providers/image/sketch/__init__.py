"""The offline sketch engine: deterministic, clearly labelled non-AI pictures (see `engine`)."""

"""One router per area, each thin: parse, call `core`, serialise."""

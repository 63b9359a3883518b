"""Request and response bodies, with the seeds' JSON field names."""

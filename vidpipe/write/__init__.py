"""`vidpipe write`: from a logline to a draft episode (an LLM with a key, a fixed beat sheet offline)."""

"""upload → normalise: containers (reader), record formats (formats), policy and sanitising (normalise)."""

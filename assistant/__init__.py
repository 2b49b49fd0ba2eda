"""The question pipeline: stages (normalize, route, cache, semantic, compile, answer) and the HTTP API."""

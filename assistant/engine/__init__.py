"""The engine: requests in, typed events out; no UI imports."""

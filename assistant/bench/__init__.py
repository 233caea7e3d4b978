"""`assistant bench`: re-runnable figures for start-up, cache, engine overhead, the embedded model, storage and memory."""

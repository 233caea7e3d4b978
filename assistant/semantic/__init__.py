"""Similar questions (issue 14): reuse an answer for a reworded question, never for a different one.

The decision lives here (text, guard, context, decide, index, evaluate) with no storage and no engine; the tier
that uses it is assistant/engine/semantic_tier.py. Importing this package loads no model:
`embedder.WordLlamaEmbedder()` does.
"""

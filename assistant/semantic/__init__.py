"""The semantic cache tier: reuse an answer for a reworded question, never for a different one (issue 14).

Importing this package loads no model; `embedder.WordLlamaEmbedder()` or `OllamaEmbedder.discover()` does.
"""

"""The Textual app: chat, history, model picker, keys, savings and latency panels (textual imported lazily)."""

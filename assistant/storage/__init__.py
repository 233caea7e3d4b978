"""Persistence: the SQLite database, its migrations, history and the response cache."""

"""A conversation as listed (history sidebar, `history list`): alone in its module, so the chat app's first frame
can show the list without creating every record class."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created_at: float
    updated_at: float
    model: str | None = None
    system: str | None = None
    temperature: float | None = None
    message_count: int = 0
    private: bool = False  # kept out of the team cache

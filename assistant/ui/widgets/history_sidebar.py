"""Past conversations with a search box; posts ConversationSelected and SearchRequested up to the app."""

from __future__ import annotations

import time
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from assistant.core.textsafe import for_terminal
from assistant.ui.messages import ConversationSelected, SearchRequested


def _when(ts: float) -> str:
    return time.strftime("%H:%M" if time.time() - ts < 86400 else "%b %d", time.localtime(ts))


class HistorySidebar(Vertical):
    """Typing in the search box searches every message (FTS5); an empty box lists recent conversations."""

    _shown: tuple[str, tuple[tuple[str | None, str], ...]] | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Search history…", id="history-search")
        yield OptionList(id="history-list")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(SearchRequested(event.value.strip()))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            cid, _, message = event.option.id.partition("/")
            self.post_message(ConversationSelected(cid, int(message) if message.isdigit() else None))

    def show(self, conversations: list[Any], hits: list[Any], query: str) -> None:
        options = self.query_one(OptionList)
        keep = self.highlighted_id
        items: list[Option] = []
        if query:
            for hit in hits:
                snippet = " ".join(for_terminal(hit.snippet).split())
                items.append(Option(Content(f"{for_terminal(hit.title)}\n  {snippet}"),
                                    id=f"{hit.conversation_id}/{hit.message_id}"))
            if not items:
                items.append(Option(Content(f"No messages match '{for_terminal(query)}'."), disabled=True))
        else:
            for conv in conversations:
                items.append(Option(Content(f"{for_terminal(conv.title)}\n  {_when(conv.updated_at)} · {conv.message_count} messages"),
                                    id=conv.id))
            if not items:
                items.append(Option("No conversations yet.", disabled=True))
        shown = (query, tuple((item.id, str(item.prompt)) for item in items))
        if shown == self._shown:
            return  # a reload that changes nothing (e.g. the engine confirming the first frame's list) draws nothing
        self._shown = shown
        options.set_options(items)
        if keep:
            for index, item in enumerate(items):
                if item.id and item.id.split("/", 1)[0] == keep:
                    options.highlighted = index
                    break

    def reset_search(self) -> None:
        """Clear the search box (after a rename or delete the hits it showed are stale); the list reloads."""
        search = self.query_one(Input)
        if search.value:
            search.value = ""

    @property
    def highlighted_id(self) -> str | None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return None
        option = options.get_option_at_index(options.highlighted)
        return option.id.split("/", 1)[0] if option.id else None

"""Who may let a tool call run: trusted in config, allowed by name on the command line, or the user when asked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping

from assistant.core.config import McpSettings
from assistant.core.events import Choice
from assistant.core.tools import ToolCall, is_trusted
from assistant.tools.values import Decision

# The TUI's dialog: shown with the call (server, tool, arguments), answers approve once, always for this tool, refuse.
Approver = Callable[[ToolCall], Awaitable[Choice]]

REFUSED_FOR_MODEL = "The user did not allow this tool call, so it did not run. Do not call it again in this answer."


class ConsentPolicy:
    """Decides each call in order: trusted, then `--allow-tool`, then what the user chose before, then the approver."""

    def __init__(self, trusted: Mapping[str, Collection[str]] | None = None, allowed: Collection[str] = (),
                 approver: Approver | None = None, always: set[str] | None = None) -> None:
        self._trusted = {server: frozenset(tools) for server, tools in (trusted or {}).items()}
        self._allowed = frozenset(allowed)
        self._approver = approver
        # "server.tool" the user approved for the rest of the session; shared by the requests of one session.
        self._always = set() if always is None else always

    @classmethod
    def from_settings(cls, settings: McpSettings, allowed: Collection[str] = (), approver: Approver | None = None,
                      always: set[str] | None = None) -> ConsentPolicy:
        """`allowed` are the `--allow-tool` names; `approver` is None where nobody can be asked (`assistant ask`)."""
        trusted = {name: server.trusted_tools for name, server in settings.servers.items()}
        return cls(trusted, allowed, approver, always)

    @property
    def always_allowed(self) -> frozenset[str]:
        return frozenset(self._always)

    def _trusted_tool(self, call: ToolCall) -> bool:
        return is_trusted(self._trusted.get(call.server, frozenset()), call.tool)

    async def decide(self, call: ToolCall) -> Decision:
        if not call.server:
            return Decision(False, "", call.problem or f"no server offers the tool '{call.wire_name}'")
        if self._trusted_tool(call):
            return Decision(True, "trusted")
        if call.tool in self._allowed or call.qualified in self._allowed:
            return Decision(True, "--allow-tool")
        if call.qualified in self._always:
            return Decision(True, "user always")
        if self._approver is None:
            return Decision(False, "refused", f"refused {call.qualified}: tools run only when allowed; run again with "
                                              f"--allow-tool {call.qualified}, or add \"{call.tool}\" to trusted_tools "
                                              f"in [mcp.servers.{call.server}]")
        try:
            choice = await self._approver(call)
        except Exception as exc:  # a broken dialog must refuse, never let the call through
            return Decision(False, "refused", f"refused {call.qualified}: asking for approval failed ({type(exc).__name__})")
        if choice == "always":
            self._always.add(call.qualified)
            return Decision(True, "user always")
        if choice == "once":
            return Decision(True, "user once")
        return Decision(False, "refused", f"refused {call.qualified}: you refused it")

"""One MCP server seen through the official SDK: started in a task of its own, called with a timeout, failures as lines."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import IO, Any
from urllib.parse import urlsplit

from assistant.core.config import McpServerSettings
from assistant.core.textsafe import for_terminal
from assistant.core.tools import Status

CLOSE_WAIT = 10.0  # the SDK bounds its own shutdown (stdin closed, then TERM, then KILL); this only guards against a bug
_LIST_PAGES = 50
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class StartFailed(Exception):
    """A server that did not get as far as listing its tools; the message is the one line the user sees."""


def quiet_sdk_logs() -> None:
    """The SDK logs a traceback for every line a broken server prints; the user gets our one line instead."""
    for name in ("mcp", "httpx2"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
        logger.propagate = False


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(for_terminal(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def shown_url(url: str) -> str:
    """Scheme, host, port and path only: a URL may carry a user, a password or a token in its query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "the configured url"
    return _one_line(f"{parts.scheme}://{host}{port}{parts.path}", 120)


def server_env(name: str, env: Mapping[str, str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The server's environment with each "${NAME}" taken from ours; a missing one stops the start with a line
    that names the variable (never a value)."""
    environ = os.environ if environ is None else environ
    out: dict[str, str] = {}
    for key, value in env.items():
        def lookup(match: re.Match[str], key: str = key) -> str:
            found = environ.get(match.group(1))
            if found is None:
                raise StartFailed(f"its env {key} needs ${{{match.group(1)}}}, which is not set in your environment; "
                                  f"set it, or change [mcp.servers.{name}].env")
            return found
        out[key] = _REFERENCE.sub(lookup, value)
    return out


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside the SDK's task-group exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _result_text(result: Any) -> tuple[bool, str]:
    """(is_error, text) from a CallToolResult: text blocks as they are, other content named, not dumped."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            parts.append(f"[{kind}: {block.mime_type}, about {len(block.data) * 3 // 4} bytes]")
        elif kind == "resource":
            text = getattr(block.resource, "text", None)
            parts.append(text if isinstance(text, str) else f"[resource {block.resource.uri}]")
        elif kind == "resource_link":
            parts.append(f"[resource {block.uri}]")
        else:
            parts.append(f"[{kind or 'unknown'} content]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False))
    return bool(getattr(result, "is_error", False)), "\n".join(parts)


class Connection:
    """A started (or failed) server. `start` and `close` may be awaited from any task: the SDK's contexts live in one."""

    def __init__(self, name: str, settings: McpServerSettings) -> None:
        self.name = name
        self.settings = settings
        self.tools: list[Any] = []  # mcp.types.Tool
        self.failure = ""  # set once the server failed to start or stopped; calls then fail at once with it
        self._session: Any = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._ready: asyncio.Future[list[Any]] | None = None
        self._scope: Any = None  # anyio.CancelScope around the SDK's contexts
        self._aborted = False
        self._noise = ""
        # The server's stderr: never onto the user's terminal; closed in `close`.
        self._errlog: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115

    # -- starting -------------------------------------------------------------------------------------------------
    def _transport(self) -> AbstractAsyncContextManager[Any]:
        if self.settings.url:
            from mcp.client.streamable_http import streamable_http_client

            return streamable_http_client(self.settings.url)
        from mcp import StdioServerParameters, stdio_client

        params = StdioServerParameters(command=self.settings.command, args=list(self.settings.args),
                                       env=server_env(self.name, self.settings.env) or None)
        return stdio_client(params, errlog=self._errlog)  # type: ignore[arg-type]  # any file with a fileno will do

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, Exception):  # a stdout line that is not JSON-RPC
            errors = getattr(message, "errors", None)
            raw = errors()[0].get("input", "") if callable(errors) and errors() else str(message)
            self._noise = _one_line(str(raw), 80)
            if self._ready is not None and not self._ready.done():
                self._ready.set_exception(StartFailed(f"printed text that is not MCP on stdout: '{self._noise}'"))

    async def _serve(self) -> None:
        from contextlib import AsyncExitStack

        import anyio
        from mcp import ClientSession

        assert self._ready is not None
        try:
            # Aborting goes through an anyio scope: a native task.cancel() can break into the SDK's shielded shutdown
            # and leave the server process running.
            with anyio.CancelScope() as scope:
                self._scope = scope
                async with AsyncExitStack() as stack:
                    read, write = await stack.enter_async_context(self._transport())
                    session = await stack.enter_async_context(ClientSession(read, write, message_handler=self._on_message))
                    await session.initialize()
                    tools: list[Any] = []
                    cursor = None
                    for _ in range(_LIST_PAGES):
                        from mcp.types import PaginatedRequestParams

                        page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
                        tools.extend(page.tools)
                        cursor = page.next_cursor
                        if not cursor:
                            break
                    self._session = session
                    if not self._ready.done():
                        self._ready.set_result(tools)
                    await self._stop.wait()
        except Exception as exc:  # whatever broke, this server gets one line, the others go on
            reason = self._reason(_leaf(exc))
            if not self._ready.done():
                self._ready.set_exception(StartFailed(reason))
            self.failure = self.failure or reason
        finally:
            self._session = None

    async def start(self, timeout: float) -> None:
        """Start, initialise and list tools within `timeout`; raises StartFailed with the one line to show."""
        self._ready = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._serve(), name=f"mcp-server-{self.name}")
        try:
            self.tools = await asyncio.wait_for(asyncio.shield(self._ready), timeout)
        except StartFailed as exc:
            self.failure = str(exc)
        except TimeoutError:
            noise = f"; it printed text that is not MCP: '{self._noise}'" if self._noise else ""
            self.failure = f"did not answer within {timeout:g}s{noise}{self._last_words()}"
        if self.failure:
            self._abort()  # its shutdown (the SDK's bounded stop of the process) finishes in `close`
            raise StartFailed(self.failure)

    def _abort(self) -> None:
        if self._aborted or self._task is None or self._task.done():
            return
        self._aborted = True
        if self._scope is not None:
            self._scope.cancel()
        else:  # not running yet, so nothing of the SDK's to interrupt
            self._task.cancel()

    def _last_words(self) -> str:
        """The last line the server wrote on stderr (usually its error), sanitised: '; it said: ...'."""
        try:
            self._errlog.flush()
            size = os.fstat(self._errlog.fileno()).st_size
            tail = os.pread(self._errlog.fileno(), 4096, max(0, size - 4096)).decode("utf-8", "replace")
        except (OSError, ValueError):  # ValueError: the log is already closed
            return ""
        lines = [line for line in tail.splitlines() if line.strip()]
        return f"; it said: {_one_line(lines[-1])}" if lines else ""

    def _reason(self, exc: BaseException) -> str:
        from mcp.shared.exceptions import MCPError

        if isinstance(exc, StartFailed):
            return str(exc)
        if isinstance(exc, FileNotFoundError):
            return f"cannot start '{_one_line(self.settings.command, 80)}': no such program (check `command` and PATH)"
        if isinstance(exc, OSError) and not self.settings.url:
            return f"cannot start '{_one_line(self.settings.command, 80)}': {_one_line(exc.strerror or type(exc).__name__)}"
        if isinstance(exc, MCPError) and "closed" in str(exc).lower():
            return ("stopped" if self._session else "exited before it was ready") + self._last_words()
        if self.settings.url and type(exc).__module__.split(".")[0] in ("httpx", "httpx2", "httpcore"):
            return f"cannot reach {shown_url(self.settings.url)} ({type(exc).__name__})"
        return f"failed: {type(exc).__name__}: {_one_line(str(exc), 120)}" + self._last_words()

    # -- calling --------------------------------------------------------------------------------------------------
    async def call(self, tool: str, arguments: dict[str, Any], timeout: float) -> tuple[Status, str]:
        """(status, text) of one call; never raises for anything the server does."""
        from mcp.shared.exceptions import MCPError

        session = self._session
        if session is None or self.failure:
            return "error", f"The MCP server '{self.name}' is not running ({self.failure or 'closed'})."
        try:
            async with asyncio.timeout(timeout):  # in this task: no task of its own per call, as wait_for makes
                result = await session.call_tool(tool, arguments)
        except TimeoutError:
            noise = f" It printed text that is not MCP: '{self._noise}'." if self._noise else ""
            return "timeout", f"The tool {self.name}.{tool} did not finish within {timeout:g}s and was stopped.{noise}"
        except MCPError as exc:
            if "closed" in str(exc).lower():
                self.failure = "stopped" + self._last_words()
                return "error", f"The MCP server '{self.name}' stopped during the call{self._last_words()}."
            return "error", f"The MCP server '{self.name}' answered with an error: {_one_line(str(exc), 500)}"
        except Exception as exc:  # garbage in the answer, input the app cannot give: one line, never a traceback
            return "error", f"The answer of {self.name}.{tool} could not be read ({type(_leaf(exc)).__name__})."
        is_error, text = _result_text(result)
        return ("error" if is_error else "ok"), text

    async def close(self) -> None:
        """Stop the server (the SDK closes stdin, then terminates it); safe to call twice."""
        self._stop.set()
        task, self._task = self._task, None
        if task is not None and not task.done():
            if self._session is None:
                self._abort()  # still starting (or stuck): there is no session to wind down politely
            done, _ = await asyncio.wait({task}, timeout=CLOSE_WAIT)
            if not done:  # only if the SDK's own bounded shutdown failed
                task.cancel()
        if self._ready is not None and self._ready.done() and not self._ready.cancelled():
            self._ready.exception()  # a failure nobody awaited any more (start gave up first) is not worth a warning
        self._errlog.close()

"""A real MCP server (official SDK, stdio) for the tool tests: add, sleep, a side effect, and ways to misbehave.

Run as `python tests/tools/mcp_server.py [--mode MODE]`. MODE is `serve` (default); `http --port N` (the same
tools over streamable HTTP on 127.0.0.1:N/mcp); `crash-on-start` (exits at once with a message on stderr);
`garbage` (prints text that is not JSON-RPC and never answers); `hang` (reads nothing, answers nothing).
With `MCP_TEST_PIDS=FILE` each server appends its pid; with `MCP_TEST_LOG=FILE` each `sleep` appends a JSON line
with its start and end times, so a test can see whether two calls overlapped without timing anything itself.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def _log(entry: dict[str, object]) -> None:
    path = os.environ.get("MCP_TEST_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")


def serve(port: int = 0) -> None:
    import anyio
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("test-tools")

    @server.tool(description="Add two numbers and return the sum.")
    def add(a: float, b: float) -> float:
        return a + b

    @server.tool(description="Wait for the given number of seconds, then say so.")
    async def sleep(seconds: float) -> str:
        start = time.time()
        await anyio.sleep(seconds)
        end = time.time()
        _log({"tool": "sleep", "pid": os.getpid(), "start": start, "end": end})
        return f"slept {seconds:g}s"

    @server.tool(description="Write text to a file (a side effect the user must approve).")
    def write_note(path: str, text: str) -> str:
        Path(path).write_text(text, encoding="utf-8")
        return f"wrote {len(text)} characters to {path}"

    @server.tool(description="Return the text unchanged (used to send terminal escape sequences back).")
    def echo(text: str) -> str:
        return text

    @server.tool(description="Return a text of n characters.")
    def big(n: int) -> str:
        return "x" * n

    @server.tool(description="Fail with an error message.")
    def fail(message: str) -> str:
        raise ValueError(message)

    @server.tool(description="Print a line that is not JSON-RPC on stdout, then answer normally.")
    def garble() -> str:
        os.write(1, b"DEBUG: this line is not JSON-RPC \x1b[31mat all\x1b[0m\n")
        return "answered after the garbage"

    @server.tool(description="Kill this server process in the middle of the call.")
    def crash() -> str:
        sys.stderr.write("test server: crashing on purpose\n")
        sys.stderr.flush()
        os._exit(3)

    if port:
        server.run("streamable-http", host="127.0.0.1", port=port)
    else:
        server.run("stdio")


def main(argv: list[str]) -> None:
    mode = argv[argv.index("--mode") + 1] if "--mode" in argv else "serve"
    if os.environ.get("MCP_TEST_PIDS"):  # lets a test check that no server outlives the hub
        with open(os.environ["MCP_TEST_PIDS"], "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n")
    if mode == "serve":
        serve()
    elif mode == "http":
        serve(int(argv[argv.index("--port") + 1]))
    elif mode == "crash-on-start":
        sys.stderr.write("Traceback (most recent call last):\n  ...\nRuntimeError: \x1b[31mmissing API_TOKEN\x1b[0m\n")
        sys.exit(2)
    elif mode == "garbage":
        sys.stdout.write("Welcome to my server! \x1b]0;pwned\x07 This is not JSON-RPC.\n")
        sys.stdout.flush()
        time.sleep(3600)
    elif mode == "hang":
        time.sleep(3600)
    else:
        sys.exit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])

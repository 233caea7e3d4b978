"""`assistant ask` with MCP tools and `assistant tools list`, run as a user runs them: a subprocess, a real MCP
server, the real OpenAI provider against its loopback fake."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import PYTHON, cli_env
from tests.fakes import openai as foa
from tests.fakes.cloud import KEY
from tests.fakes.server import FakeServer
from tests.tools.conftest import stdio_server
from tests.tools.engine_helpers import sse


def configure(home: Path, servers: dict[str, dict[str, Any]]) -> None:
    lines = []
    for name, table in servers.items():
        lines.append(f"[mcp.servers.{name}]")
        lines += [f"{key} = {json.dumps(value)}" if not isinstance(value, dict) else
                  f"{key} = {{ {', '.join(f'{k} = {json.dumps(v)}' for k, v in value.items())} }}"
                  for key, value in table.items()]
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def assistant(home: Path, *args: str, fake: FakeServer | None = None) -> subprocess.CompletedProcess[str]:
    env = cli_env(home, OPENAI_API_KEY=KEY)
    if fake is not None:
        env["OPENAI_BASE_URL"] = fake.base_url  # type: ignore[attr-defined]
    return subprocess.run([PYTHON, "-m", "assistant", *args], env=env, capture_output=True, text=True, timeout=120)


def asks_for(*calls: tuple[str, dict[str, Any]]) -> foa.FakeOpenAI:
    return foa.FakeOpenAI(replies=[sse(foa.tool_calls_stream([(f"c{n}", name, args) for n, (name, args) in
                                                             enumerate(calls)])),
                                   sse(foa.chat_stream(["All", " done."]))])


def test_a_call_nobody_allowed_is_refused_with_a_line_saying_how(isolated_env: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    configure(isolated_env, {"t": stdio_server()})
    with asks_for(("write_note", {"path": str(note), "text": "hi"})) as fake:
        done = assistant(isolated_env, "ask", "-m", "openai:gpt-4o-mini", "Write a note", fake=fake)
    assert done.returncode == 0, done.stderr
    assert not note.exists()
    assert done.stdout == "All done.\n"
    assert ('assistant: refused t.write_note: tools run only when allowed; run again with --allow-tool t.write_note, '
            'or add "write_note" to trusted_tools in [mcp.servers.t]') in done.stderr
    assert "· 1 tool call refused" in done.stderr


def test_allow_tool_lets_it_run_and_the_answer_says_how_many_ran(isolated_env: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    configure(isolated_env, {"t": stdio_server(trusted_tools=["add"])})
    calls = (("write_note", {"path": str(note), "text": "hi"}), ("add", {"a": 2, "b": 3}))
    with asks_for(*calls) as fake:
        done = assistant(isolated_env, "ask", "-m", "openai:gpt-4o-mini", "--allow-tool", "write_note", "--json",
                         "Write a note and add", fake=fake)
    assert done.returncode == 0, done.stderr
    assert note.read_text() == "hi"
    data = json.loads(done.stdout)
    assert [(c["tool"], c["status"], c["approved_by"]) for c in data["tool_calls"]] == \
        [("write_note", "ok", "--allow-tool"), ("add", "ok", "trusted")]
    assert data["tool_calls"][1]["arguments"] == {"a": 2, "b": 3} and data["tools_ms"] > 0
    lines = done.stderr.splitlines()
    assert any(line.startswith("assistant: t.add ran in ") and line.endswith('(trusted) · {"a": 2, "b": 3} → 5.0')
               for line in lines), lines


def test_tool_output_with_escapes_never_reaches_the_terminal_raw(isolated_env: Path) -> None:
    evil = "pwned\x1b]0;title\x07\x1b[2J\x1b]52;c;Zm9v\x07\x9b31m"
    configure(isolated_env, {"t": stdio_server(trusted_tools=["echo"])})
    with asks_for(("echo", {"text": evil})) as fake:
        done = assistant(isolated_env, "ask", "-m", "openai:gpt-4o-mini", "Echo", fake=fake)
    assert done.returncode == 0, done.stderr
    assert "pwned" in done.stderr and not any(c in done.stderr for c in "\x1b\x07\x9b")
    sent = next(m for m in json.loads(fake.seen[1].body)["messages"] if m["role"] == "tool")
    assert sent["content"] == evil  # the model reads the output as it came; only terminals get it sanitised


def test_tools_list_shows_servers_their_tools_and_why_one_did_not_start(isolated_env: Path) -> None:
    configure(isolated_env, {"t": stdio_server(trusted_tools=["add"]), "broken": stdio_server("crash-on-start")})
    done = assistant(isolated_env, "tools", "list")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == "t (stdio): started, 8 tools"
    assert "  add [trusted] - Add two numbers and return the sum." in lines
    assert "  write_note - Write text to a file (a side effect the user must approve)." in lines
    broken = next(line for line in lines if line.startswith("broken"))
    assert broken.startswith("broken (stdio): not started: exited before it was ready; it said: ")
    assert "\x1b" not in done.stdout and "Traceback" not in done.stdout + done.stderr
    as_json = json.loads(assistant(isolated_env, "tools", "list", "--json").stdout)
    assert [s["server"] for s in as_json] == ["t", "broken"] and as_json[0]["tools"][0]["trusted"] is True


def test_no_servers_configured_says_how_to_add_one(isolated_env: Path) -> None:
    done = assistant(isolated_env, "tools", "list")
    assert (done.returncode, done.stdout) == (0, "No MCP servers are configured; add one as [mcp.servers.NAME] in "
                                                 "config.toml.\n")

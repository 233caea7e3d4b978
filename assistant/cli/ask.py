"""`assistant ask`: one question from arguments or stdin, streamed to stdout or printed as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assistant.core.errors import UsageError
from assistant.core.money import usd
from assistant.core.textsafe import for_terminal, to_json

if TYPE_CHECKING:
    from assistant.compose import FastPath
    from assistant.core.types import Answer, ChatMessage, ChatRequest, ToolUse
    from assistant.engine.engine import Engine

ROLES = ("system", "user", "assistant")


def register(sub: Any) -> None:
    p = sub.add_parser("ask", help="ask one question and print the answer")
    p.add_argument("prompt", nargs="*", help="the question (or pipe it on stdin)")
    p.add_argument("-m", "--model", action="append", default=[], help="provider:model, e.g. ollama:llama3.2 or embedded:smollm2")
    p.add_argument("-s", "--system", help="system prompt")
    p.add_argument("-t", "--temperature", type=float, help="sampling temperature")
    p.add_argument("--max-tokens", type=int, help="most tokens in the answer")
    p.add_argument("-c", "--continue", dest="cont", action="store_true", help="continue the most recent conversation")
    p.add_argument("--conversation", "--cid", dest="conversation", help="continue this conversation id")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end instead of streaming")
    p.add_argument("--no-cache", action="store_true", help="skip every cache lookup (the fresh answer is still stored)")
    p.add_argument("--semantic", action="store_true",
                   help="reuse the answer to a similar earlier question (as [cache] semantic = \"serve\" does)")
    p.add_argument("--messages", metavar="FILE",
                   help="a whole conversation as a JSON list of {role, content} ending with a user turn ('-': stdin)")
    p.add_argument("--local-only", action="store_true", help="never send anything to a cloud provider")
    p.add_argument("--private", action="store_true",
                   help="keep this question (and its conversation from now on) out of the team cache")
    p.add_argument("--compare", action="store_true", help="ask every -m model at once and show the answers side by side")
    p.add_argument("--allow-tool", action="append", default=[], metavar="NAME",
                   help="let the model run this MCP tool (its name, or server.tool); repeatable. Other calls are "
                        "refused unless listed in trusted_tools")
    p.add_argument("--no-tools", action="store_true", help="do not offer the configured MCP tools to the model")
    p.add_argument("-f", "--file", dest="files", action="append", default=[], metavar="FILE",
                   help="send a text file (labelled with its name) or an image (PNG, JPEG, GIF, WebP); repeat for more")
    p.add_argument("--dry-run", action="store_true",
                   help="show the route, the whole request's tokens, the context window and the cost range; send nothing")
    p.set_defaults(handler=run)


def read_prompt(args: argparse.Namespace, stdin: Any = None) -> str:
    """Arguments, stdin, or both (stdin first, then the argument, as `llm` does); empty is fine with files."""
    stdin = sys.stdin if stdin is None else stdin
    text = " ".join(args.prompt)
    if stdin is not None and not stdin.isatty():
        raw = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
        try:
            piped = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"The input on stdin is not valid UTF-8 (byte {exc.start}); convert it first, e.g. `iconv -f latin1 -t utf-8`."
            ) from None
        text = f"{piped.rstrip()}\n\n{text}" if text and piped.strip() else (piped or text)
    if not text.strip() and not getattr(args, "files", None):
        raise UsageError('The prompt is empty; try: assistant ask "What is the capital of France?"')
    return text


def read_messages(source: str, stdin: Any = None) -> tuple[str | None, tuple[ChatMessage, ...], str]:
    """A conversation from a JSON file (or '-' for stdin): its system prompt, the earlier turns, the last question."""
    from assistant.core.types import ChatMessage

    try:
        raw = (stdin or sys.stdin).read() if source == "-" else Path(source).read_text(encoding="utf-8")
        data = json.loads(raw)
    except OSError as exc:
        raise UsageError(f"Cannot read {for_terminal(source)} ({exc.strerror or type(exc).__name__}); "
                         "give a JSON file, or '-' for stdin.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"--messages needs JSON ({exc}); e.g. "
                         '[{"role": "user", "content": "What is the capital of France?"}].') from None
    if not isinstance(data, list) or not data or not all(
            isinstance(m, dict) and m.get("role") in ROLES and isinstance(m.get("content"), str) for m in data):
        raise UsageError('--messages needs a JSON list of {"role": "system"|"user"|"assistant", "content": "..."}.')
    if data[-1]["role"] != "user" or not data[-1]["content"].strip():
        raise UsageError("The conversation in --messages must end with a non-empty user turn (the question to answer).")
    system = "\n\n".join(m["content"] for m in data if m["role"] == "system") or None
    prior = tuple(ChatMessage(m["role"], m["content"]) for m in data[:-1] if m["role"] != "system")
    return system, prior, data[-1]["content"]


def build_request(engine: Engine, args: argparse.Namespace, prompt: str,
                  prior: tuple[ChatMessage, ...] = ()) -> ChatRequest:
    conversation = args.conversation
    if args.cont and not conversation:
        conversation = engine.queries.latest_conversation_id()
        if conversation is None:
            raise UsageError("There is no earlier answered conversation to continue; ask without --continue first "
                             "(or name one with --conversation ID).")
    tools = tool_use(args)
    files = tuple(engine.attach(path) for path in args.files)
    return engine.new_request(prompt, model=args.model[0] if args.model else None, system=args.system,
                              temperature=args.temperature, max_tokens=args.max_tokens, conversation_id=conversation,
                              use_cache=not args.no_cache, local_only=args.local_only, private=args.private,
                              tools=tools, semantic="serve" if getattr(args, "semantic", False) else None,
                              prior=prior, attachments=files)


def tool_use(args: argparse.Namespace) -> ToolUse:
    """Nobody can be asked from the command line: only --allow-tool names (and trusted_tools) run."""
    from assistant.core.types import ToolUse

    return ToolUse(enabled=not args.no_tools, allowed=tuple(args.allow_tool))


def route_line(answer: Answer) -> str:
    """Where the answer came from and why, what it cost, and how fast: one line for stderr."""
    reason = answer.route_reason or f"{answer.provider}:{answer.model}"
    cost = usd(answer.cost_usd) + (" (estimated)" if answer.cost_estimated and answer.cost_usd else "")
    parts = [f"{reason}, {cost}"]
    if answer.saved_usd > 0:
        parts.append(f"saved {usd(answer.saved_usd)}")
    if answer.ttft_ms is not None:
        parts.append(f"first token {answer.ttft_ms:.0f} ms")
    if answer.tokens_per_second:
        parts.append(f"{answer.tokens_per_second:.0f} tok/s")
    if answer.tool_results:
        from assistant.tools.display import summary_line

        parts.append(summary_line(answer.tool_results, answer.tools_ms))
    if answer.cache == "semantic" and answer.message_id is not None:
        parts.append(f"wrong? assistant cache forget {answer.message_id}")
    return " · ".join(parts)


def finish_answer(answer: Answer, out: TextIO, err: TextIO, as_json: bool, wrote_text: bool) -> None:
    """The end of an answer: the JSON object, or the last newline and the route line on stderr."""
    if as_json:
        out.write(to_json(answer.as_json()) + "\n")
    else:
        if wrote_text and not answer.text.endswith("\n"):
            out.write("\n")
        line = route_line(answer)
        err.write(f"\x1b[2m{for_terminal(line)}\x1b[0m\n" if err.isatty() else f"{line}\n")
    out.flush()


def print_cached(answer: Answer, out: TextIO, err: TextIO, as_json: bool) -> None:
    """An answer that came whole from the cache, printed as a streamed one would have been."""
    if not as_json:
        out.write(for_terminal(answer.text) if out.isatty() else answer.text)
    finish_answer(answer, out, err, as_json, wrote_text=True)


async def stream_answer(engine: Engine, request: ChatRequest, out: TextIO, err: TextIO, as_json: bool) -> int:
    from contextlib import aclosing

    from assistant.core.events import Failed, Finished, Notice, Started, TextDelta, ToolCallFinished
    from assistant.tools.display import result_line

    tty = out.isatty() and not as_json
    clean = for_terminal if tty else (lambda s: s)
    wrote_text = False
    mid_line = False  # the answer's last text did not end a line (a line on a shared terminal must start one)
    broke_line = False  # a line was ended here for the tool lines on stderr, so the answer's own break is not repeated
    # "Ollama is down - answering with X" is said again by the route line after the answer; hold such
    # info notices and print them only where no route line follows (--json, or a failure).
    held: list[str] = []
    models_started = 0

    def say(lines: list[str]) -> None:
        for text in lines:
            err.write(f"assistant: {for_terminal(text)}\n")
        err.flush()

    async with aclosing(engine.chat(request)) as events:
        async for event in events:
            if isinstance(event, Started):
                models_started += 1
                if models_started > 1:
                    held.clear()  # "answering with X" no longer holds: X failed, and the fallback says so
            elif isinstance(event, TextDelta):
                if not as_json:
                    text = event.text
                    if broke_line and text.startswith("\n"):  # the line was already ended for the tool lines
                        text = text[1:]
                    broke_line = False
                    out.write(clean(text))
                    out.flush()
                    wrote_text = True
                    mid_line = not text.endswith("\n") if text else mid_line
            elif isinstance(event, Notice):
                if event.level == "info":
                    held.append(event.text)
                else:
                    say([event.text])
            elif isinstance(event, ToolCallFinished):
                # One line per call on stderr (the answer on stdout stays clean); a refusal says how to allow it.
                if mid_line and tty and err.isatty():
                    out.write("\n")
                    out.flush()
                    mid_line, broke_line = False, True
                say([event.result.note if event.result.status == "refused" and event.result.note
                     else result_line(event.result)])
            elif isinstance(event, Finished):
                if as_json:
                    say(held)
                finish_answer(event.answer, out, err, as_json, wrote_text)
                return 0
            elif isinstance(event, Failed):
                say(held)
                if wrote_text:
                    out.write("\n")
                    out.flush()
                if as_json:
                    out.write(json.dumps({"error": {"kind": event.error.kind, "message": event.error.message},
                                          "conversation_id": event.conversation_id}) + "\n")
                    out.flush()
                raise event.error
    return 1


def run(args: argparse.Namespace) -> int:
    from assistant.compose import build_engine, load

    if args.max_tokens is not None and args.max_tokens <= 0:
        raise UsageError("--max-tokens must be a positive number.")
    if len(args.model) > 1 and not args.compare:
        raise UsageError("Several -m options need --compare; otherwise name one model.")
    if args.compare and (len(args.model) < 2 or args.cont or args.conversation):
        raise UsageError("--compare needs two or more -m models and starts fresh (no --continue), "
                         "e.g. --compare -m ollama:llama3.2 -m openai:gpt-4o-mini.")
    if args.messages and (args.prompt or args.cont or args.conversation or args.compare):
        raise UsageError("--messages gives the whole conversation: leave out the prompt, --continue, "
                         "--conversation and --compare.")
    if args.compare and args.dry_run:
        raise UsageError("--dry-run estimates one request; drop --compare (or run it once per -m model).")
    setup = load()
    prior: tuple[ChatMessage, ...] = ()
    if args.messages:
        given, prior, prompt = read_messages(args.messages)
        if given and args.system:
            raise UsageError("The conversation in --messages has a system turn; leave out --system.")
        args.system = args.system or given
    else:
        prompt = read_prompt(args)
    fast: FastPath | None = None
    if not (args.compare or args.cont or args.conversation or args.no_cache or prior or args.files or args.dry_run):
        # A repeated question is answered before anything heavy is imported: no engine, event loop or provider.
        # (Files are read and hashed by the engine, whose own lookup answers a repeat; a dry run sends nothing.)
        from assistant.compose import cached_answer
        from assistant.engine.session import build_request as request_for

        model = setup.registry.parse_model(args.model[0]) if args.model else None
        request = request_for(setup.settings, prompt, model=model, system=args.system,
                                temperature=args.temperature, max_tokens=args.max_tokens, local_only=args.local_only,
                                tools=tool_use(args), private=args.private)
        fast = cached_answer(setup, request)
        for note in fast.notices:
            print(f"assistant: {for_terminal(note)}", file=sys.stderr)
        if fast.answer is not None:
            print_cached(fast.answer, sys.stdout, sys.stderr, args.json)
            return 0
    import asyncio

    # After a miss the engine takes the database as the fast path left it: open, checked and announced.
    engine = build_engine(setup, opened=fast.opened if fast is not None else None)
    for note in engine.notices:
        print(f"assistant: {for_terminal(note)}", file=sys.stderr)
    if args.semantic and engine.semantic is None:
        print("assistant: similar questions are off ([cache] semantic = \"off\" in config.toml); --semantic does "
              "nothing.", file=sys.stderr)

    async def go() -> int:
        try:
            request = build_request(engine, args, prompt, prior)
            if args.dry_run:
                from assistant.cli.dry_run import dry_run

                return await dry_run(engine, request, sys.stdout, args.json)
            if args.compare:
                from assistant.cli.compare import compare

                return await compare(engine, request, [engine.parse_model(m) for m in args.model],
                                     sys.stdout, sys.stderr, args.json)
            return await stream_answer(engine, request, sys.stdout, sys.stderr, args.json)
        finally:
            await engine.aclose()

    try:
        return asyncio.run(go())
    except KeyboardInterrupt:
        print("\nassistant: stopped; the partial answer is saved in history.", file=sys.stderr)
        return 130

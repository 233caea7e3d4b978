"""`assistant models`: every model and whether it can answer; pull, show, ps, unload and rm for local models."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar

from assistant.core.errors import UsageError
from assistant.core.money import price_text
from assistant.core.textsafe import for_terminal
from assistant.core.units import ago, duration, size_text

if TYPE_CHECKING:
    from assistant.core.local_models import ModelDetails
    from assistant.engine.engine import Engine

T = TypeVar("T")


def register(sub: Any) -> None:
    p = sub.add_parser("models", help="list every model; pull, show, ps, unload or rm local models")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_list)
    actions = p.add_subparsers(dest="action", parser_class=type(p), metavar="ACTION")
    pull = actions.add_parser("pull", help="download a model into Ollama, with progress (ctrl+c stops)")
    pull.add_argument("name", help="e.g. llama3.2 or llava:7b")
    pull.set_defaults(handler=run_pull)
    rm = actions.add_parser("rm", help="remove a pulled model (asks first)")
    rm.add_argument("name")
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask (for scripts)")
    rm.set_defaults(handler=run_rm)
    show = actions.add_parser("show", help="family, parameters, quantization, context length, license, template")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=run_show)
    ps = actions.add_parser("ps", help="models loaded in memory now, how much they take, and until when")
    ps.add_argument("--json", action="store_true")
    ps.set_defaults(handler=run_ps)
    unload = actions.add_parser("unload", help="free the memory a loaded model takes, now")
    unload.add_argument("name")
    unload.set_defaults(handler=run_unload)


def _with_engine(work: Callable[[Engine], Awaitable[T]]) -> T:
    from assistant.compose import build_engine, load

    engine = build_engine(load())
    for note in engine.notices:
        print(f"assistant: {for_terminal(note)}", file=sys.stderr)

    async def go() -> T:
        try:
            return await work(engine)
        finally:
            await engine.aclose()

    return asyncio.run(go())


# listing -------------------------------------------------------------------------------------------
def run_list(args: argparse.Namespace) -> int:
    async def work(engine: Engine) -> str:
        groups = await engine.list_models()
        if args.json:
            return json.dumps({name: [{**asdict(m), "ref": str(m.ref)} for m in models]
                               for name, models in groups.items()}, indent=1)
        lines = []
        for name, models in groups.items():
            lines.append(name)
            several = len({m.where for m in models}) > 1  # several servers (Ollama hosts): a heading for each
            where = None
            for m in models:
                if several and m.where != where:
                    where = m.where
                    lines.append(f"  @ {for_terminal(where)}")
                mark = "✓" if m.available else "✗"
                indent = "    " if several else "  "
                lines.append(f"{indent}{mark} {for_terminal(str(m.ref)):<40} {price_text(engine.price(m.ref)):<22} "
                             f"{m.size:>8}  {for_terminal(m.detail)}")
        return "\n".join(lines)

    print(_with_engine(work))
    return 0


def run_show(args: argparse.Namespace) -> int:
    details = _with_engine(lambda engine: engine.local_models.show(args.name))
    if args.json:
        sys.stdout.write(json.dumps(asdict(details), indent=1) + "\n")
        return 0
    print(show_text(details))
    return 0


def show_text(details: ModelDetails) -> str:
    facts = details.facts
    rows = [("family", facts.family), ("parameters", facts.parameters), ("quantization", facts.quantization),
            ("context", f"{facts.context:,} tokens" if facts.context else "unknown"),
            ("capabilities", ", ".join(details.capabilities)),
            ("modified", ago(time.time() - details.modified_at) if details.modified_at else "")]
    lines = [for_terminal(details.name)] + [f"  {k:<13} {for_terminal(v)}" for k, v in rows if v]
    if details.parameters:
        lines += ["  defaults", *(f"    {for_terminal(line)}" for line in details.parameters.splitlines())]
    license_lines = details.license.strip().splitlines()
    if license_lines:
        more = f"  (+{len(license_lines) - 1} lines; --json has all)" if len(license_lines) > 1 else ""
        lines.append(f"  {'license':<13} {for_terminal(license_lines[0][:80])}{more}")
    if details.template:
        lines += ["  template", *(f"    {for_terminal(line)}" for line in details.template.splitlines())]
    return "\n".join(lines)


def run_ps(args: argparse.Namespace) -> int:
    loaded = _with_engine(lambda engine: engine.local_models.loaded())
    if args.json:
        sys.stdout.write(json.dumps([asdict(m) for m in loaded], indent=1) + "\n")
        return 0
    if not loaded:
        print("No model is loaded; Ollama loads one when it is asked a question.")
        return 0
    now = time.time()
    print(f"{'NAME':<32} {'MEMORY':>8} {'ON GPU':>7} {'CONTEXT':>8}  UNLOADS")
    for m in loaded:
        gpu = f"{100 * m.vram / m.size:.0f}%" if m.size else "-"
        until = "when asked" if m.until is None else "now" if m.until <= now else f"in {duration(m.until - now)}"
        context = f"{m.context:,}" if m.context else "-"
        print(f"{for_terminal(m.name):<32} {size_text(m.size):>8} {gpu:>7} {context:>8}  {until}")
    return 0


# changing ------------------------------------------------------------------------------------------
def run_unload(args: argparse.Namespace) -> int:
    _with_engine(lambda engine: engine.local_models.unload(args.name))
    print(f"Unloaded {for_terminal(args.name)}; its memory is free.")
    return 0


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise UsageError("Removing a model needs a yes: run it in a terminal, or add --yes.")
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def run_rm(args: argparse.Namespace) -> int:
    async def work(engine: Engine) -> bool:
        name = engine.local_models.name(args.name)
        installed = {m.name: m for m in await engine.local_models.installed()}
        if name not in installed:
            raise UsageError(f"There is no pulled model '{for_terminal(args.name)}'; `assistant models` lists them.")
        if not args.yes:
            size = size_text(installed[name].size)
            question = f"Remove {for_terminal(name)} ({size})? Pulling it again downloads it all."
            if not await asyncio.to_thread(_confirm, question):
                return False
        await engine.local_models.remove(name)
        return True

    if _with_engine(work):
        print(f"Removed {for_terminal(args.name)}.")
    else:
        print("Kept it.")
    return 0


def run_pull(args: argparse.Namespace) -> int:
    from assistant.cli.pull_view import pull

    return pull(args.name)

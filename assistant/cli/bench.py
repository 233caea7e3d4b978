"""`assistant bench`: measure this machine and print each figure next to its target."""

from __future__ import annotations

import argparse
from typing import Any

METHOD = """\
Every hot path is measured next to its physical floor in the same run, and each comparison is a figure ending
in _ratio (--json keeps every figure, its floor and the target verdicts). Ratios, not absolute times, are what
to compare across machines and runs.

  start-up   our TUI and a minimal Textual app (Header, Input, Footer) launched alternately under the same pty:
             first frame (first screen drawn), stable screen (no redraw for the quiet period) and idle RSS;
             medians of 5 runs each after one unmeasured warm-up.
  cache      exact-cache lookups over 100,000 entries of about 2 KB, the key computed from the request each time:
             a 1 KB request and the next question of a 50-turn conversation; the floors are blake3 of exactly
             the bytes our key hashes followed by a plain sqlite3 primary-key SELECT (persistent tier) or an
             OrderedDict LRU lookup (memory tier); p50/p99 of interleaved blocks, garbage collection off.
             A cached `assistant ask` process against `python -c pass` (bytecode compiled), medians of 7.
  engine     Engine.chat reading a 2,000-token loopback Ollama stream against bare httpx reading the same
             stream: time to first token and per token after it; medians of 7 interleaved streams.
  embedded   llama-cpp-python driven the way the provider drives it, alone and through Engine.chat (same seed,
             threads and max tokens), tokens per second after the first.
  storage    recording one request; history search for two words over 100,000 conversations against the same
             FTS5 query without the join and snippets (p50/p99 of 200 searches).
  memory     the CLI's RSS after one answer; the TUI's idle RSS (with start-up).
  tools      one MCP tool call (add) through ToolHub against the same call on a bare SDK session to a second
             copy of the server, alternated (p50 of 300); then N slow calls of one turn one after another and
             side by side (the speed-up).
  team       a redis-server of its own on loopback: a hit of a 2 KB answer through the engine's team tier (the
             reader thread and the bounded wait included) against a bare redis-py GET of the same key, p50/p99
             of 20,000 interleaved lookups; 8 installs at once (8 processes, each its own connection) against
             8 bare clients; a lookup once the server is killed and the breaker open, against a GET's p50.
  semantic   its own section, next to its own floor (see its module docstring).
"""


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="measure start-up, cache, engine overhead, embedded speed, storage, tools and memory",
                       description=METHOD, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--quick", action="store_true", help="small sizes and one round each: a smoke run, not real figures")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from assistant.bench.runner import main

    return main(quick=args.quick, as_json=args.json)

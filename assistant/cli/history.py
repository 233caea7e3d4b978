"""`assistant history`: list, show, search, export, rename and delete conversations."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from assistant.cli.common import engine, tty_safe
from assistant.core.errors import UsageError
from assistant.core.textsafe import json_safe

if TYPE_CHECKING:
    from assistant.engine.queries import Queries


def register(sub: Any) -> None:
    p = sub.add_parser("history", help="browse, search and export past conversations")
    hs = p.add_subparsers(dest="action", metavar="ACTION")
    lp = hs.add_parser("list", help="recent conversations")
    lp.add_argument("-n", "--limit", type=int, default=30)
    lp.add_argument("--json", action="store_true")
    sp = hs.add_parser("show", help="print one conversation")
    sp.add_argument("id")
    sp.add_argument("--json", action="store_true")
    qp = hs.add_parser("search", help="full-text search over every message")
    qp.add_argument("words", nargs="+")
    qp.add_argument("-n", "--limit", type=int, default=30)
    qp.add_argument("--json", action="store_true")
    ep = hs.add_parser("export", help="export a conversation as Markdown or JSON")
    ep.add_argument("id")
    ep.add_argument("--format", "-f", default="md", choices=["md", "json"])
    ep.add_argument("-o", "--output", help="write to this file instead of stdout")
    rp = hs.add_parser("rename", help="give a conversation a new title")
    rp.add_argument("id")
    rp.add_argument("title", nargs="+")
    dp = hs.add_parser("delete", help="delete a conversation")
    dp.add_argument("id")
    p.set_defaults(handler=run)


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def run(args: argparse.Namespace) -> int:
    if args.action is None:
        raise UsageError("history needs an action: list, show, search, export, rename or delete.")
    with engine() as opened:
        return _run(opened.queries, args)


def _run(queries: Queries, args: argparse.Namespace) -> int:
    out = sys.stdout
    safe = tty_safe
    if args.action == "list":
        convs = queries.conversations(limit=args.limit)
        if args.json:
            out.write(json.dumps([asdict(c) for c in convs], indent=1) + "\n")
        elif not convs:
            print("No conversations yet; start one with `assistant ask \"...\"` or `assistant`.")
        for c in convs if not args.json else ():
            # One message is a question whose asking failed: kept, so nothing typed is lost, and marked.
            flag = "  (no answer)" if c.message_count == 1 else ""
            print(f"{c.id}  {_when(c.updated_at)}  {c.message_count:>3} msgs  {safe(c.title)}{flag}")
    elif args.action == "show":
        if args.json:
            out.write(json_safe(queries.export(args.id, "json")) + "\n")
        else:
            conv = queries.conversation(args.id)
            print(f"{safe(conv.title)}  ({conv.id}, {_when(conv.created_at)})")
            if conv.system:
                print(f"system: {safe(conv.system)}")
            from assistant.engine.tiers import REPLAYED

            answers = queries.answers(conv.id)
            for m in queries.messages(conv.id):
                who = "you" if m.role == "user" else f"{m.provider}:{m.model}" if m.provider else m.role
                tier = answers[m.id].cache if m.id in answers else None
                if tier:
                    who += f" · {REPLAYED.get(tier, 'cached answer')}"
                flag = "" if m.status == "complete" else f" [{m.status}]"
                files = "".join(f"\n[attached: {safe(a.name)}, {a.mime}, {a.size:,} bytes]" for a in m.attachments)
                print(f"\n── {safe(who)}{flag}{files}\n{safe(m.content)}")
    elif args.action == "search":
        hits = queries.search(" ".join(args.words), limit=args.limit)
        if args.json:
            out.write(json.dumps([asdict(h) for h in hits], indent=1) + "\n")
        elif not hits:
            print("No messages match.")
        for h in hits if not args.json else ():
            print(f"{h.conversation_id}  {_when(h.created_at)}  {h.role:<9} {safe(h.title)}\n    {safe(' '.join(h.snippet.split()))}")
    elif args.action == "export":
        text = queries.export(args.id, args.format)
        if args.output:
            try:
                with open(args.output, "w", encoding="utf-8") as fh:
                    fh.write(text + "\n")
            except OSError as exc:
                raise UsageError(f"Cannot write {safe(args.output)} ({exc.strerror or exc.__class__.__name__}); "
                                 "choose another file.") from exc
            print(f"Wrote {safe(args.output)}", file=sys.stderr)
        else:
            out.write(safe(text) + "\n")  # a terminal gets escapes shown, not obeyed; a pipe or file keeps the bytes
    elif args.action == "rename":
        queries.rename(args.id, " ".join(args.title))
    elif args.action == "delete":
        cid = queries.delete(args.id)
        print(f"Deleted {cid}.", file=sys.stderr)
    return 0

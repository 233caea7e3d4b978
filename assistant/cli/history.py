"""`assistant history`: list, show, search, export, rename and delete conversations."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from typing import Any

from assistant.errors import UsageError


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
    from assistant.cli.context import load
    from assistant.storage.db import open_database
    from assistant.storage.history import History
    from assistant.textsafe import for_terminal

    if args.action is None:
        raise UsageError("history needs an action: list, show, search, export, rename or delete.")
    paths, _ = load()
    history = History(open_database(paths.database).conn)
    out = sys.stdout
    safe = for_terminal if out.isatty() else (lambda s: s)
    if args.action == "list":
        convs = history.list_conversations(limit=args.limit)
        if args.json:
            out.write(json.dumps([asdict(c) for c in convs], indent=1) + "\n")
        elif not convs:
            print("No conversations yet; start one with `assistant ask \"...\"` or `assistant`.")
        for c in convs if not args.json else ():
            print(f"{c.id}  {_when(c.updated_at)}  {c.message_count:>3} msgs  {safe(c.title)}")
    elif args.action == "show":
        if args.json:
            out.write(history.export(args.id, "json") + "\n")
        else:
            conv = history.get_conversation(args.id)
            print(f"{safe(conv.title)}  ({conv.id}, {_when(conv.created_at)})")
            if conv.system:
                print(f"system: {safe(conv.system)}")
            for m in history.messages(conv.id):
                who = "you" if m.role == "user" else f"{m.provider}:{m.model}" if m.provider else m.role
                flag = "" if m.status == "complete" else f" [{m.status}]"
                print(f"\n── {who}{flag}\n{safe(m.content)}")
    elif args.action == "search":
        hits = history.search(" ".join(args.words), limit=args.limit)
        if args.json:
            out.write(json.dumps([asdict(h) for h in hits], indent=1) + "\n")
        elif not hits:
            print("No messages match.")
        for h in hits if not args.json else ():
            print(f"{h.conversation_id}  {_when(h.created_at)}  {h.role:<9} {safe(h.title)}\n    {safe(' '.join(h.snippet.split()))}")
    elif args.action == "export":
        text = history.export(args.id, args.format)
        if args.output:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            print(f"Wrote {args.output}", file=sys.stderr)
        else:
            out.write(text + "\n")
    elif args.action == "rename":
        history.rename(args.id, " ".join(args.title))
    elif args.action == "delete":
        cid = history.resolve_id(args.id)
        history.delete_conversation(cid)
        print(f"Deleted {cid}.", file=sys.stderr)
    return 0

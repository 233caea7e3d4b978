"""Precision and recall of a Matcher on labelled pairs, per category (what `assistant bench` reports)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.semantic.decide import Matcher

Conversation = str | Sequence[Mapping[str, str]]


@dataclass(frozen=True)
class Pair:
    """A stored prompt (or conversation), a new one, and whether the stored answer is right for the new one."""

    id: str
    category: str
    should_hit: bool
    stored: Conversation
    asked: Conversation

    @property
    def conversation(self) -> bool:
        return not isinstance(self.stored, str)


@dataclass(frozen=True)
class Score:
    """One category's figures: for should-hit pairs recall matters, for must-miss pairs the wrong hits."""

    category: str
    should_hit: bool
    pairs: int
    served: int  # pairs where the matcher served the stored answer
    correct: int  # served and right to (should-hit pairs only)

    @property
    def recall(self) -> float | None:
        return self.correct / self.pairs if self.should_hit and self.pairs else None

    @property
    def wrong(self) -> int:
        return self.served - self.correct

    @property
    def precision(self) -> float:
        """Share of served answers that were right; 1.0 when nothing was served (no wrong answer given)."""
        return self.correct / self.served if self.served else 1.0


def load_pairs(path: Path) -> list[Pair]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(Pair(d["id"], d["category"], bool(d["should_hit"]), d["stored"], d["asked"]))
    return out


def _messages(conv: Conversation) -> Conversation:
    return conv if isinstance(conv, str) else [dict(m) for m in conv]


def evaluate(pairs: Iterable[Pair], matcher: Matcher, pooled: bool = False) -> dict[str, Score]:
    """Per category, plus "all single" / "all conversations" totals.

    Pairwise (default): each stored side sits alone in its own group, and the asked side is looked up there.
    Pooled: every stored side shares one index, so a hit on another pair's entry counts as a wrong answer
    (unless that entry is literally the same stored or asked prompt), the way a cache full of neighbours behaves.
    This is conservative: a hit on another pair's equivalent conversation is counted wrong.
    """
    pairs = list(pairs)
    ids: dict[str, int] = {}
    stored_of: dict[int, str] = {}
    for n, pair in enumerate(pairs):
        text = json.dumps(pair.stored, sort_keys=True)
        if pooled and text in ids:
            continue
        ids[text if pooled else pair.id] = n
        stored_of[n] = text
        matcher.add(n, _messages(pair.stored), group="pool" if pooled else pair.id)
    tallies: dict[str, list[int]] = {}
    kinds: dict[str, bool] = {}
    for pair in pairs:
        found = matcher.lookup(_messages(pair.asked), group="pool" if pooled else pair.id).match
        served = found is not None
        # Another entry counts as right only if it is literally the pair's stored side or the asked one itself.
        right = found is not None and pair.should_hit and stored_of[found.entry_id] in (
            json.dumps(pair.stored, sort_keys=True), json.dumps(pair.asked, sort_keys=True))
        for name in (pair.category, "all conversations" if pair.conversation else "all single"):
            t = tallies.setdefault(name, [0, 0, 0, 0])  # pairs, served, correct, should-hit pairs
            t[0] += 1
            t[1] += int(served)
            t[2] += int(right)
            t[3] += int(pair.should_hit)
        kinds[pair.category] = pair.should_hit
    out = {}
    for name, (n, n_served, correct, hits) in tallies.items():
        if name.startswith("all "):
            # A total's recall is over its should-hit pairs; its precision over everything it served.
            out[name] = Score(name, True, hits, n_served, correct)
        else:
            out[name] = Score(name, kinds[name], n, n_served, correct)
    return out


def table(scores: Mapping[str, Score]) -> str:
    rows = ["category            pairs  served  wrong  precision  recall"]
    for s in scores.values():
        recall = f"{s.recall:.2f}" if s.recall is not None else "  - "
        rows.append(f"{s.category:18s} {s.pairs:6d} {s.served:7d} {s.wrong:6d} {s.precision:10.3f}  {recall:>6s}")
    return "\n".join(rows)

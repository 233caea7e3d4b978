"""The labelled set is what the issue asks for: several hundred pairs, several dozen per category, well formed."""

from __future__ import annotations

from collections import Counter

from assistant.semantic.evaluate import Pair

SINGLE = {"paraphrase": True, "near_repeat": True, "negation": False, "entity": False, "number": False,
          "scope": False, "comparison": False}
CONVERSATION = {"context_reworded": True, "irrelevant_turns": True, "small_talk": True, "different_detail": False,
                "different_offer": False}


def test_every_category_has_dozens_of_pairs(single_pairs: list[Pair], conversation_pairs: list[Pair]) -> None:
    counts = Counter(p.category for p in single_pairs + conversation_pairs)
    assert set(counts) == set(SINGLE) | set(CONVERSATION)
    assert min(counts.values()) >= 30
    assert len(single_pairs) + len(conversation_pairs) >= 450


def test_labels_follow_the_category(single_pairs: list[Pair], conversation_pairs: list[Pair]) -> None:
    for p in single_pairs:
        assert SINGLE[p.category] is p.should_hit and isinstance(p.stored, str) and isinstance(p.asked, str), p.id
        assert p.stored != p.asked, p.id
    for p in conversation_pairs:
        assert CONVERSATION[p.category] is p.should_hit, p.id
        for conv in (p.stored, p.asked):
            assert not isinstance(conv, str) and conv[-1]["role"] == "user", p.id
            assert all(m["role"] in ("user", "assistant") and m["content"].strip() for m in conv), p.id
    ids = [p.id for p in single_pairs + conversation_pairs]
    assert len(ids) == len(set(ids))

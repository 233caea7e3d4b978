"""Precision and recall of the real matcher (WordLlama + guard + context) on the hand-labelled set.

The issue's targets are precision >= 0.99 and recall >= 0.6. Precision is held here exactly (no must-miss pair
may be served). Recall is held at what the design reaches, which is below 0.6 for reworded questions and
reworded conversations (see the report in assistant/bench/semantic_bench.py's figures): these floors stop it
from getting worse, they do not claim the target.
"""

from __future__ import annotations

import pytest

from assistant.semantic.decide import Matcher
from assistant.semantic.embedder import WordLlamaEmbedder
from assistant.semantic.evaluate import Pair, evaluate

RECALL_FLOORS = {"paraphrase": 0.45, "near_repeat": 0.9, "context_reworded": 0.05, "irrelevant_turns": 0.9,
                 "small_talk": 0.85}


@pytest.mark.parametrize("pooled", [False, True], ids=["pairwise", "pooled"])
def test_single_questions(embedder: WordLlamaEmbedder, single_pairs: list[Pair], pooled: bool) -> None:
    scores = evaluate(single_pairs, Matcher(embedder), pooled=pooled)
    for name in ("negation", "entity", "number", "scope", "comparison"):
        assert scores[name].served == 0, f"{name}: served {scores[name].served} wrong answers"
    assert scores["all single"].precision >= 0.99
    for name in ("paraphrase", "near_repeat"):
        assert (scores[name].recall or 0) >= RECALL_FLOORS[name], (name, scores[name].recall)
    assert (scores["all single"].recall or 0) >= 0.6  # paraphrases and near repeats together


@pytest.mark.parametrize("pooled", [False, True], ids=["pairwise", "pooled"])
def test_conversations(embedder: WordLlamaEmbedder, conversation_pairs: list[Pair], pooled: bool) -> None:
    scores = evaluate(conversation_pairs, Matcher(embedder), pooled=pooled)
    for name in ("different_detail", "different_offer"):
        assert scores[name].served == 0, f"{name}: served {scores[name].served} wrong answers"
    # Pooled counts a hit on another, equivalent stored conversation as wrong (see evaluate); pairwise cannot.
    assert scores["all conversations"].precision >= (0.97 if pooled else 0.99)
    for name in ("context_reworded", "irrelevant_turns", "small_talk"):
        assert (scores[name].recall or 0) >= RECALL_FLOORS[name], (name, scores[name].recall)

"""Would the bundled SmolLM2-135M, asked "same question? yes/no", lift similar-question recall safely?

The pairs the guard refused for a soft reason (a swapped or added word, or a reworded question under the
threshold; never a number, unit, date, negation, name or opposite) are put to the model; its probability of
"yes" is compared between pairs that should hit and pairs that must miss. Run from the repository root:
    python scripts/semantic_verify.py
Measured on this set (issue 14, phase 2): 79 such pairs (29 should hit, 50 must miss); mean P(yes) 0.41 against
0.32; at P(yes) >= 0.5 it accepts 8 of 29 and 3 of 50 (3 wrong answers among 11), at >= 0.6 5 of 29 and 0 of 50:
too little separation to ship (a threshold picked on these pairs would be fitted to them).
"""

from __future__ import annotations

import math
from pathlib import Path

HARD = ("a different number", "a different operator", "a different unit", "a different date", "a negation",
        "the name", "opposite")


def main() -> None:
    from llama_cpp import Llama

    from assistant.providers.embedded import bundled_model_path
    from assistant.semantic.decide import Matcher
    from assistant.semantic.embedder import WordLlamaEmbedder
    from assistant.semantic.evaluate import load_pairs

    llm = Llama(model_path=str(bundled_model_path()), n_ctx=512, verbose=False, logits_all=True)
    matcher = Matcher(WordLlamaEmbedder())

    def p_yes(a: str, b: str) -> float:
        messages = [{"role": "system", "content": "You decide whether two questions ask for exactly the same thing, "
                                                  "so one answer fits both. Reply yes or no."},
                    {"role": "user", "content": f"Question 1: {a}\nQuestion 2: {b}\nDo they ask the same thing?"}]
        out = llm.create_chat_completion(messages, max_tokens=1, temperature=0, logprobs=True, top_logprobs=10)
        top = {t["token"].strip().lower(): t["logprob"] for t in out["choices"][0]["logprobs"]["content"][0]["top_logprobs"]}
        yes, no = math.exp(top.get("yes", -50)), math.exp(top.get("no", -50))
        return yes / (yes + no)

    rows = []
    for pair in load_pairs(Path("tests/semantic/data/single.jsonl")):
        stored, asked = matcher.embed(pair.stored), matcher.embed(pair.asked)
        similarity = float(stored.question @ asked.question)
        reason = matcher.refuse(stored, asked, similarity)
        if reason is None or similarity < 0.5 or reason.startswith(HARD):
            continue
        rows.append((pair.should_hit, p_yes(str(pair.stored), str(pair.asked))))
    hits, misses = [p for h, p in rows if h], [p for h, p in rows if not h]
    print(f"{len(rows)} grey pairs: {len(hits)} should hit, {len(misses)} must miss")
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
        print(f"P(yes) >= {threshold}: accepts {sum(p >= threshold for p in hits)} that should hit, "
              f"{sum(p >= threshold for p in misses)} that must miss")


if __name__ == "__main__":
    main()

"""The lexical guard: two prompts that embed close together still differ if the words that differ carry meaning.

An embedding says two prompts are about the same thing; it cannot tell "open" from "closed", 5 from 50, or Lisbon
from Porto (GPTCache's "open on Sundays" / "closed on Sundays" failure). So after the similarity test, the words
that differ are looked at one by one: numbers, units, dates, negations, opposites and comparisons, named
entities, an added qualifier (scope), or one content word swapped for another veto the match. What may differ is
phrasing: question words, politeness, articles, casing, punctuation, word order and single-letter typos.
"""

from __future__ import annotations

import re
from collections import Counter

from assistant.semantic.text import DATES, UNITS, Word, damerau1, stem, words

# Function words and question phrasing: these may differ freely between two prompts that mean the same.
PHRASING = frozenset(["a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done", "doing", "have", "has", "had", "i", "me", "my", "mine", "myself", "we", "our", "us", "you", "your", "yours", "it", "its", "this", "that", "these", "those", "there", "here", "them", "they", "their", "he", "she", "his", "her", "him", "to", "of", "for", "at", "by", "from", "about", "as", "into", "onto", "in", "on", "up", "so", "and", "or", "if", "then", "than", "also", "too", "very", "really", "actually", "just", "please", "pls", "plz", "thanks", "thank", "thx", "ty", "hi", "hello", "hey", "yo", "hiya", "greetings", "morning", "kindly", "cheers", "help", "can", "could", "would", "will", "shall", "should", "may", "might", "must", "need", "want", "wanted", "know", "tell", "explain", "explanation", "describe", "give", "show", "let", "what", "whats", "which", "who", "whom", "whose", "when", "where", "why", "how", "way", "ways", "method", "methods", "step", "steps", "process", "procedure", "approach", "correct", "correctly", "proper", "properly", "right", "best", "ideal", "good", "great", "nice", "easy", "easiest", "easily", "simple", "simply", "quick", "quickly", "fast", "some", "any", "anything", "something", "someone", "thing", "things", "idea", "ideas", "question", "curious", "wondering", "wonder", "advance", "lot", "much", "many", "well", "ok", "okay", "sure", "get", "got", "go", "going", "use", "using", "used", "make", "between", "per", "with", "like", "find", "out", "able", "possible", "usually", "typically", "generally", "mainly", "main", "exactly", "recommend", "suggest", "tip", "tips", "advice", "one"])
# Words whose presence on one side only changes the answer: opposites, comparisons, scope, polarity.
MARKED = frozenset(["on", "off", "open", "opened", "close", "closed", "shut", "enable", "enabled", "disable", "disabled", "add", "added", "remove", "removed", "delete", "deleted", "install", "uninstall", "start", "stop", "allow", "block", "accept", "reject", "decline", "include", "exclude", "import", "export", "before", "after", "left", "right", "gain", "lose", "increase", "decrease", "raise", "pros", "cons", "pro", "con", "benefit", "benefits", "risk", "risks", "advantage", "advantages", "disadvantage", "disadvantages", "drawback", "drawbacks", "first", "last", "earliest", "latest", "early", "late", "hide", "hidden", "encrypt", "decrypt", "compress", "extract", "zip", "unzip", "mount", "unmount", "freeze", "unfreeze", "lock", "unlock", "mute", "unmute", "follow", "unfollow", "subscribe", "unsubscribe", "connect", "disconnect", "pause", "resume", "buy", "sell", "rent", "push", "pull", "upload", "download", "send", "receive", "out", "down", "yes", "true", "false", "legal", "illegal", "safe", "unsafe", "dangerous", "healthy", "unhealthy", "dislike", "love", "hate", "hot", "cold", "warm", "cool", "wet", "dry", "full", "empty", "more", "less", "fewer", "most", "least", "max", "maximum", "min", "minimum", "big", "bigger", "biggest", "small", "smaller", "smallest", "large", "larger", "largest", "faster", "fastest", "slow", "slower", "slowest", "quicker", "quickest", "cheap", "cheaper", "cheapest", "expensive", "high", "higher", "highest", "low", "lower", "lowest", "long", "longer", "longest", "short", "shorter", "shortest", "heavy", "heavier", "heaviest", "lighter", "lightest", "old", "older", "oldest", "new", "newer", "newest", "young", "younger", "youngest", "strong", "stronger", "strongest", "weak", "weaker", "weakest", "better", "bad", "worse", "worst", "closer", "closest", "far", "further", "farthest", "healthier", "healthiest", "safer", "safest", "thick", "thicker", "thin", "thinner", "warmer", "warmest", "colder", "coldest", "hotter", "hottest", "deep", "deeper", "deepest", "rare", "rarer", "rarest", "common", "commonest", "efficient", "only", "all", "every", "each", "both", "either", "except", "excluding", "including", "temporarily", "temporary", "permanently", "permanent", "partially", "fully", "entire", "whole", "part", "partial", "stopped", "unread", "visible", "private", "public", "online", "offline", "local", "global", "delayed", "wrong", "before", "beginner", "beginners", "advanced", "expert", "experts", "adult", "adults", "child", "children", "kid", "kids", "toddler", "toddlers", "baby", "babies", "senior", "seniors", "male", "female", "men", "women", "man", "woman", "vegan", "vegetarian", "free", "paid"])
MARKED_STEMS = frozenset(stem(w) for w in MARKED)
# Inflected phrasing is phrasing too ("making", "helped", "tells"), unless the stem is also a marked word's.
PHRASING_STEMS = frozenset(stem(w) for w in PHRASING) - MARKED_STEMS
NEGATORS = frozenset(["not", "no", "never", "without", "none", "nothing", "nobody", "nor", "neither", "cannot", "avoid", "lack", "lacking"])
# Word order carries meaning around these: "faster than", "from X to Y", "X but not Y", "instead of".
ORDER_MARKERS = frozenset(["than", "to", "into", "from", "vs", "versus", "not", "but", "before", "after", "instead", "rather", "over"])
POLAR_PREFIXES = ("un", "dis", "de", "in", "im", "il", "ir", "non", "anti", "under", "over", "mis")
# Ways of asking "how do X and Y differ" that mean the same; kept tiny on purpose.
CANONICAL = {
    **{w: "differ" for w in ("difference", "differences", "different", "differ", "differs", "distinguish",
                             "distinguishes", "versus", "vs", "compare", "compared", "comparison")},
    **{w: "instead" for w in ("instead", "rather", "substitute", "substitutes", "substitution", "alternative", "alternatives",
                              "replacement", "replacements")},
    **{w: "more" for w in ("more", "extra", "additional")},
}
# "How long", "how old": a way of asking for a quantity, not a comparison.
HOW_WORDS = frozenset(["long", "far", "old", "big", "large", "often", "soon", "fast", "early", "late", "high", "deep", "heavy"])
# A unit only states a quantity next to a number or as a conversion target ("in cups", "to km/h").
UNIT_CONTEXT = frozenset(["to", "into", "in"])
ARTICLES = frozenset(["a", "an", "the", "one"])
ALWAYS_UNITS = frozenset(("usd", "gbp", "eur", "jpy", "%", "°", "celsius", "fahrenheit", "kelvin"))


# More content words than this without a counterpart: two different texts (and pairing them up is quadratic).
MAX_UNMATCHED = 48

_OPERATOR = re.compile(r"!=|==|<=|>=|[+*=<>]|(?<=\b\w) [-/] (?=\w\b)|(?<=\b\w)[-/](?=\w\b)")


def _operators(text: str) -> Counter[str]:
    """Operators in code or maths ("a - b", "x+1", "n * 2"); a dash between words ("Linux - how") is not one."""
    return Counter(m.group(0).strip() for m in _OPERATOR.finditer(text))


def _numbers(ws: tuple[Word, ...]) -> Counter[tuple[float, bool]]:
    # A lone "one"/"1" is left out: "a cup" and "one cup", "week-long" and "one-week" ask the same.
    return Counter((w.number, w.ordinal) for w in ws if w.number is not None and (w.number != 1 or w.ordinal))


def _unit_positions(ws: tuple[Word, ...]) -> dict[int, str]:
    """Where a unit states a quantity: next to a number, or as a conversion target ("in cups", "to km/h")."""
    out = {}
    for i, w in enumerate(ws):
        unit = UNITS.get(w.low)
        if unit is None:
            continue
        prev = ws[i - 1] if i else None
        if prev is not None and prev.low in ARTICLES and i > 1:
            prev = ws[i - 2]
        after_number = i > 0 and ws[i - 1].number is not None
        before_number = i + 1 < len(ws) and ws[i + 1].number is not None and not w.low.isalpha()
        symbol = not w.low.isalpha() or (len(w.low) > 1 and unit in ALWAYS_UNITS)
        target = len(w.low) > 2 and prev is not None and prev.low in UNIT_CONTEXT
        if after_number or before_number or symbol or target:
            out[i] = unit
    return out


def _units(ws: tuple[Word, ...]) -> set[str]:
    return set(_unit_positions(ws).values())


def _dates(ws: tuple[Word, ...]) -> set[str]:
    # "may" and "march" are months only when capitalised mid-sentence (or the sentence has a number right after).
    return {DATES[w.low] for w in ws if w.low in DATES and (w.low not in ("may", "march") or w.entity)}


def _content(ws: tuple[Word, ...]) -> list[Word]:
    units = _unit_positions(ws)
    dates = _dates(ws)
    return [w for i, w in enumerate(ws) if w.number is None and w.low.isalpha() and i not in units
            and not (i and ws[i - 1].low == "how" and w.low in HOW_WORDS)
            and (w.entity or (w.low not in PHRASING and w.stem not in PHRASING_STEMS and w.low not in NEGATORS
                              and DATES.get(w.low) not in dates))]


def _key(w: Word) -> str:
    return CANONICAL.get(w.low) or UNITS.get(w.low) or w.stem


def _typo(a: Word, b: Word) -> bool:
    # One slip inside a longer word; never on a marked word, and never on the first letter (ethanol/methanol).
    return (min(len(a.low), len(b.low)) >= 5 and a.low[0] == b.low[0] and damerau1(a.low, b.low)
            and not (a.stem in MARKED_STEMS and b.stem in MARKED_STEMS))


def _polar(a: str, b: str) -> bool:
    for p in POLAR_PREFIXES:
        if (a.startswith(p) and a[len(p):] == b) or (b.startswith(p) and b[len(p):] == a):
            return True
    for p, q in (("under", "over"), ("en", "de"), ("en", "dis"), ("im", "ex"), ("in", "ex")):
        if a.startswith(p) and b.startswith(q) and a[len(p):] == b[len(q):]:
            return True
        if b.startswith(p) and a.startswith(q) and b[len(p):] == a[len(q):]:
            return True
    return False


def unmatched(stored: str, asked: str) -> tuple[list[Word], list[Word]]:
    """Content words of each side that have no counterpart on the other (same stem, or a one-letter typo)."""
    a, b = _content(words(stored)), _content(words(asked))
    left = Counter(_key(w) for w in a)
    right = Counter(_key(w) for w in b)
    common = left & right
    ua = [w for w in a if not _take(common, _key(w), "a")]
    common = left & right
    ub = [w for w in b if not _take(common, _key(w), "b")]
    if len(ua) + len(ub) > MAX_UNMATCHED:
        return ua, ub  # not the same text reworded; compare() refuses without pairing them up one by one
    for wa in list(ua):
        match = next((wb for wb in ub if _typo(wa, wb)), None)
        if match is not None:
            ua.remove(wa)
            ub.remove(match)
    return ua, ub


def _take(pool: Counter[str], key: str, _side: str) -> bool:
    if pool[key] > 0:
        pool[key] -= 1
        return True
    return False


def veto(stored: str, asked: str, additions: bool = True) -> str | None:
    return compare(stored, asked, additions)[0]


def compare(stored: str, asked: str, additions: bool = True) -> tuple[str | None, int]:
    """Why `asked` must not be answered with `stored`'s answer, or None when only the phrasing differs.

    `additions=False` lets one side say more (an assistant's answer reworded at another length) while still
    refusing other numbers, names, opposites and a single swapped word. `compare` also returns how many content
    words the guard could not pair up: 0 means the two differ only in phrasing, typos or order, which the guard
    has checked itself; more means the embedding has to vouch for the rewording.
    """
    wa, wb = words(stored), words(asked)
    if _numbers(wa) != _numbers(wb):
        return "a different number", -1
    if _operators(stored) != _operators(asked):
        return "a different operator", -1
    if _units(wa) != _units(wb):
        return "a different unit or currency", -1
    if _dates(wa) != _dates(wb):
        return "a different date or time", -1
    if sum(w.low in NEGATORS for w in wa) != sum(w.low in NEGATORS for w in wb):
        return "a negation on one side", -1
    ua, ub = unmatched(stored, asked)
    if len(ua) + len(ub) > MAX_UNMATCHED:
        return "too many words differ", -1
    for w in ua + ub:
        if w.stem in MARKED_STEMS or w.low in MARKED:
            return f"'{w.low}' on one side only", -1
    if any(_polar(x.low, y.low) for x in ua for y in ub):
        return "opposite words", -1
    for w in ua + ub:
        if w.entity:
            return f"the name '{w.low}' on one side only", -1
    if additions and bool(ua) != bool(ub):
        return "a detail added on one side", -1
    if len(ua) == 1 and len(ub) == 1:
        return f"'{ua[0].low}' swapped for '{ub[0].low}'", -1
    if not ua and not ub and _order_matters(wa, wb):
        return "the same words in an order that changes the meaning", -1
    return None, len(ua) + len(ub)


def _order_matters(wa: tuple[Word, ...], wb: tuple[Word, ...]) -> bool:
    """Same words, but moved across "than", "to", "but not"...: what comes before each marker must agree."""
    for marker in {w.low for w in wa if w.low in ORDER_MARKERS} & {w.low for w in wb if w.low in ORDER_MARKERS}:
        if _before(wa, marker) != _before(wb, marker):
            return True
    return False


def _before(ws: tuple[Word, ...], marker: str) -> Counter[str]:
    out: Counter[str] = Counter()
    for w in ws:
        if w.low == marker:
            break
        if w.number is not None or not w.low.isalpha() or w.entity or (w.low not in PHRASING
                                                                         and w.stem not in PHRASING_STEMS):
            out[_key(w) if w.number is None else str(w.number)] += 1
    return out

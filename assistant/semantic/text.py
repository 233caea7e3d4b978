"""Words of a prompt, normalised the same way on both sides: contractions, numbers, units, light stemming."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u201c": '"', "\u201d": '"'})
_CONTRACTIONS = (
    (re.compile(r"\b(can)'?t\b", re.IGNORECASE), r"\1 not"), (re.compile(r"\bwon'?t\b", re.IGNORECASE), "will not"),
    (re.compile(r"\b(\w+)n't\b", re.IGNORECASE), r"\1 not"),
    (re.compile(r"\b(what|where|who|how|when|why|that|there|it|here)'s\b", re.IGNORECASE), r"\1 is"),
    (re.compile(r"\b(what|where|who|how|when|why|that)s\b", re.IGNORECASE), r"\1 is"),  # "whats", typed without the apostrophe
    (re.compile(r"\b(do|does|did|is|are|was|were|has|have|should|could|would|must)nt\b", re.IGNORECASE), r"\1 not"),
    (re.compile(r"\bi'?m\b", re.IGNORECASE), "i am"), (re.compile(r"'re\b", re.IGNORECASE), " are"), (re.compile(r"'ve\b", re.IGNORECASE), " have"),
    (re.compile(r"'ll\b", re.IGNORECASE), " will"), (re.compile(r"'d\b", re.IGNORECASE), " would"), (re.compile(r"'s\b", re.IGNORECASE), ""),
)
# Numbers keep their separators ("1,000", "38.5", "1/4"); a hyphen between letters joins ("wi-fi", "two-factor").
_TOKEN = re.compile(r"\d+(?:[.,/]\d+)*|[A-Za-z]+(?:[-'][A-Za-z]+)*|[$£€¥%°^]")

CARDINALS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000, "million": 10**6,
    "billion": 10**9, "dozen": 12, "half": 0.5, "quarter": 0.25, "twice": 2, "double": 2, "triple": 3,
}
ORDINALS = {
    "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
    "eleventh": 11, "twelfth": 12, "hundredth": 100,
}
ROMAN = {"ii": 2, "iii": 3, "iv": 4, "vi": 6, "vii": 7, "viii": 8, "ix": 9}
# Unit and currency spellings mapped to one name each, so "kilometres" and "km" agree but "km" and "miles" do not.
UNITS = {
    **{w: "kg" for w in ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes")},
    **{w: "g" for w in ("g", "gram", "grams", "gramme", "grammes")}, **{w: "mg" for w in ("mg", "milligram", "milligrams")},
    **{w: "lb" for w in ("lb", "lbs", "pound-weight")}, **{w: "oz" for w in ("oz", "ounce", "ounces")},
    **{w: "stone" for w in ("stone", "stones")},
    **{w: "ml" for w in ("ml", "millilitre", "millilitres", "milliliter", "milliliters")},
    **{w: "l" for w in ("l", "litre", "litres", "liter", "liters")},
    **{w: "cup" for w in ("cup", "cups")}, **{w: "tbsp" for w in ("tbsp", "tablespoon", "tablespoons")},
    **{w: "tsp" for w in ("tsp", "teaspoon", "teaspoons")}, **{w: "gallon" for w in ("gallon", "gallons")},
    **{w: "km" for w in ("km", "kms", "kilometre", "kilometres", "kilometer", "kilometers")},
    **{w: "m" for w in ("m", "metre", "metres", "meter", "meters")},
    **{w: "cm" for w in ("cm", "centimetre", "centimetres", "centimeter", "centimeters")},
    **{w: "mm" for w in ("mm", "millimetre", "millimetres", "millimeter", "millimeters")},
    **{w: "mile" for w in ("mile", "miles", "mi")}, **{w: "foot" for w in ("foot", "feet", "ft")},
    **{w: "inch" for w in ("inch", "inches", "in.")}, **{w: "yard" for w in ("yard", "yards")},
    **{w: "mph" for w in ("mph",)}, **{w: "kph" for w in ("kph", "kmh", "km/h")}, **{w: "knot" for w in ("knot", "knots")},
    **{w: "ms" for w in ("ms", "millisecond", "milliseconds")},
    **{w: "us" for w in ("microsecond", "microseconds")}, **{w: "ns" for w in ("nanosecond", "nanoseconds")},
    **{w: "sec" for w in ("sec", "secs", "seconds")}, **{w: "min" for w in ("min", "mins", "minute", "minutes")},
    **{w: "hour" for w in ("hour", "hours", "hr", "hrs")}, **{w: "day" for w in ("day", "days", "daily")},
    **{w: "week" for w in ("week", "weeks", "weekly")}, **{w: "month" for w in ("month", "months", "monthly")},
    **{w: "year" for w in ("year", "years", "yearly", "annual", "annually")},
    **{w: "gb" for w in ("gb", "gigabyte", "gigabytes")}, **{w: "mb" for w in ("mb", "megabyte", "megabytes")},
    **{w: "kb" for w in ("kb", "kilobyte", "kilobytes")}, **{w: "kib" for w in ("kib", "kibibyte", "kibibytes")},
    **{w: "tb" for w in ("tb", "terabyte", "terabytes")}, "kwh": "kwh", "watt": "w", "watts": "w", "w": "w",
    **{w: "usd" for w in ("$", "dollar", "dollars", "usd")}, **{w: "gbp" for w in ("£", "gbp", "quid")},
    **{w: "eur" for w in ("€", "euro", "euros", "eur")}, **{w: "jpy" for w in ("¥", "yen")},
    "pound": "pound", "pounds": "pound", "pence": "gbp-p", "p": "gbp-p", "cent": "cent", "cents": "cent",
    **{w: "%" for w in ("%", "percent", "per-cent", "percentage")},
    **{w: "°" for w in ("°", "degree", "degrees")}, "celsius": "celsius", "c": "celsius", "centigrade": "celsius",
    "fahrenheit": "fahrenheit", "f": "fahrenheit", "kelvin": "kelvin", "am": "am", "pm": "pm", "a.m": "am", "p.m": "pm",
}
DATES = {
    **{m: m[:3] for m in ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                          "october", "november", "december")},
    **{m: m for m in ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")},
    **{d: d[:3] for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")},
    **{d + "s": d[:3] for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")},
    **{w: w for w in ("morning", "afternoon", "evening", "night", "tonight", "today", "tomorrow", "yesterday",
                      "weekend", "weekday", "midnight", "noon", "spring", "summer", "autumn", "winter")},
    "mornings": "morning", "evenings": "evening", "nights": "night", "fall": "autumn", "weekends": "weekend",
}
SENT_START = re.compile(r"(^|[.!?:;]\s+|\n)\s*[\"'(]?$")


@dataclass(frozen=True)
class Word:
    """One token: its lowercase form, its stem, and what the original looked like (for named entities)."""

    low: str
    stem: str
    entity: bool  # capitalised mid-sentence, an acronym, or mixed letters and digits (iPhone, S23, GPT-4)
    number: float | None = None
    ordinal: bool = False


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    return text


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper: both sides go through the same one, so consistency matters more than linguistics."""
    w = word
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("sses", "shes", "ches", "xes", "zes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ous")):
        w = w[:-1]
    if len(w) > 5 and w.endswith("ly"):
        w = w[:-2]
    for suffix in ("ing", "ed"):
        if len(w) >= len(suffix) + 3 and w.endswith(suffix):
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":  # stopped -> stop, but "installed" -> "install"
                w = w[:-1]
            break
    for suffix in ("ation", "ition", "ion", "ness", "ment", "ity", "ive", "ate"):
        # Derived forms meet their root: "dehydration"/"dehydrated", "procrastination"/"procrastinating".
        if len(w) - len(suffix) >= 5 and w.endswith(suffix):
            w = w[: -len(suffix)]
            break
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]  # "bake"/"baking", "freeze"/"freezing" meet at one stem
    return w


def _number(raw: str) -> float | None:
    cleaned = raw.replace(",", "")
    if "/" in cleaned:
        num, _, den = cleaned.partition("/")
        try:
            return float(num) / float(den) if float(den) else None
        except ValueError:
            return None
    try:
        return float(cleaned)
    except ValueError:
        return None


@lru_cache(maxsize=16384)
def words(text: str) -> tuple[Word, ...]:
    """Tokens of `text` in order; numbers split from glued units ("9am" -> 9, am; "180°C" -> 180, °, c)."""
    text = _fold(text)
    out: list[Word] = []
    for match in _TOKEN.finditer(text):
        raw = match.group(0)
        start = match.start()
        if raw[0].isdigit():
            # "9am", "5km", "21st": the letters glued to the number are the next token.
            out.append(Word(raw, raw, False, _number(raw)))
            continue
        low = raw.lower().replace("'", "")
        joined = low.replace("-", "")
        # Only the text just before the word matters; `^` still means the real start (re's pos/endpos).
        mid_sentence = not SENT_START.search(text, max(0, start - 64), start)
        entity = (
            (raw[0].isupper() and mid_sentence and low not in ("i",))
            or (len(raw) > 1 and raw.isupper() and low not in ("i", "ok"))
            or (any(c.isupper() for c in raw[1:]) and not raw.isupper())
        )
        if joined in ("squared", "cubed"):  # "x squared" asks what "x^2" asks
            out.append(Word("^", "^", False))
            out.append(Word(joined, joined, False, 2.0 if joined == "squared" else 3.0))
        elif joined in CARDINALS:
            out.append(Word(joined, joined, False, float(CARDINALS[joined])))
        elif joined in ORDINALS:
            out.append(Word(joined, joined, False, float(ORDINALS[joined]), ordinal=True))
        elif joined in ROMAN and raw.isupper():
            out.append(Word(joined, joined, True, float(ROMAN[joined]), ordinal=True))
        else:
            out.append(Word(joined, stem(joined), entity))
    return tuple(out)


def damerau1(a: str, b: str) -> bool:
    """True when `a` and `b` differ by one insertion, deletion, substitution or swap of neighbours."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]

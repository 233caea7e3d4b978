"""What a conversation must agree on before its last question may reuse another conversation's answer.

The last user turn is the question. If it leans on what came before ("yes please", "cancel it", "and with the TV
add-on?", "how do I do that?"), every earlier turn counts, the assistant's included (the offer that "yes" accepts is
in the assistant's words). If it stands alone, earlier questions and their answers do not matter, but what the user
said about themselves or asked for from then on ("I'm vegan", "I use Windows 11", "answer in Spanish") still does.
Greetings, thanks and other small talk count in neither case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from assistant.semantic.guard import PHRASING
from assistant.semantic.text import words

SMALL_TALK = frozenset(["hi", "hello", "hey", "heya", "hiya", "yo", "greetings", "good", "morning", "afternoon", "evening", "day", "night", "happy", "friday", "monday", "weekend", "hope", "you", "your", "are", "is", "it", "its", "how", "doing", "going", "well", "fine", "great", "thanks", "thank", "thx", "ty", "cheers", "so", "much", "very", "lot", "a", "in", "advance", "for", "the", "help", "helping", "yesterday", "earlier", "again", "long", "time", "no", "see", "there", "quick", "question", "ok", "okay", "cool", "nice", "perfect", "awesome", "brilliant", "lovely", "excellent", "wonderful", "ah", "oh", "makes", "sense", "got", "understood", "sure", "welcome", "glad", "that", "this", "helped", "helps", "my", "pleasure", "anytime", "any", "enjoy", "meal", "what", "can", "i", "do", "to", "assist", "with", "today", "else", "anything", "need", "let", "me", "know", "ask", "away", "go", "ahead", "of", "course", "happy", "help", "all", "here", "back", "answer", "ready", "to", "be", "me", "hear", "from", "whats", "up", "all", "good", "all", "right", "alright", "fab"])
# A user turn that starts like this asks for something; its answer does not bind later, unrelated questions.
_REQUEST_START = frozenset(["what", "which", "who", "whom", "whose", "when", "where", "why", "how", "is", "are", "can", "could", "would", "should", "do", "does", "did", "will", "was", "were", "may", "write", "give", "tell", "suggest", "recommend", "name", "pick", "summarise", "summarize", "explain", "translate", "list", "show", "make", "create", "find", "describe", "define", "compare", "convert", "calculate", "solve", "draft", "compose", "plan", "help", "generate", "spell"])
_PERSISTENT = re.compile(r"\b(from now on|always|in future|going forward|for the rest|let'?s|answer in|reply in|"
                         r"respond in|speak|talk to me|keep (it|answers)|be (brief|concise|formal)|no more than)\b", re.IGNORECASE)
_FIRST_PERSON = frozenset(["i", "i'm", "im", "my", "mine", "me", "we", "we're", "our", "us", "myself"])
# Words that point back at something said before.
_ANAPHORA = frozenset(["it", "its", "it's", "this", "these", "those", "them", "they", "their", "one", "ones", "same", "there", "then", "above", "previous", "former", "latter", "instead", "also", "too", "again"])
_FOLLOW_UP_START = ("and ", "but ", "so ", "or ", "also ", "what about", "how about", "then ", "now ")
# A bare reply to something the assistant offered or asked: "yes please, two", "sure", "no thanks".
_REPLY_WORDS = frozenset(["yes", "yeah", "yep", "yup", "no", "nope", "nah", "sure", "ok", "okay", "fine", "alright", "please", "go", "ahead", "do", "it", "both", "neither", "either", "thanks", "thank", "you"])


@dataclass(frozen=True)
class Context:
    """A conversation reduced to its question and the turns that question depends on."""

    focus: str  # the last user turn, as typed
    standalone: bool
    user: str  # the user turns that matter, joined (empty when none do)
    assistant: str  # the assistant turns, when the question leans on them (the offer "yes please" accepts)
    system: str  # the system prompt(s), whitespace-normalised

    @property
    def empty(self) -> bool:
        return not (self.user or self.assistant or self.system)


def _messages(messages: Iterable[Mapping[str, str] | Sequence[str]]) -> list[tuple[str, str]]:
    out = []
    for m in messages:
        if isinstance(m, Mapping):
            out.append((str(m.get("role", "")), str(m.get("content", ""))))
        else:
            out.append((str(m[0]), str(m[1])))
    return out


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text.strip()) if s.strip()]


def is_small_talk(text: str) -> bool:
    ws = words(text)
    return (bool(ws) and len(ws) <= 12 and all(w.low in SMALL_TALK for w in ws)) or (not ws and bool(text.strip()))


def strip_small_talk(text: str) -> str:
    """`text` without its greeting, thanks or "how can I help?" sentences."""
    return " ".join(s for s in _sentences(text) if not is_small_talk(s))


def is_standalone(text: str) -> bool:
    """Whether a question can be understood alone: no pointing back, no bare "yes", enough words of its own."""
    low = " " + text.lower().strip() + " "
    if low.strip().startswith(_FOLLOW_UP_START):
        return False
    ws = words(text)
    if not ws or ws[0].low in _REPLY_WORDS or any(w.low in _ANAPHORA for w in ws):
        return False
    if re.search(r"\bthat\s*[?.!]*\s*$|\b(do|does|is|was|about|with|like|try)\s+that\b", low):
        return False
    content = [w for w in ws if w.number is None and w.low not in _REPLY_WORDS and (w.low not in PHRASING or w.entity)]
    return len(content) >= 2


def _binding(text: str) -> bool:
    """A user turn whose words hold for the rest of the chat: a fact about the user, or a standing instruction."""
    if _PERSISTENT.search(text):
        return True
    stripped = text.strip()
    ws = words(stripped)
    if not ws or stripped.endswith("?") or ws[0].low in _REQUEST_START:
        return False
    return any(w.low in _FIRST_PERSON for w in ws)


def context_of(messages: Iterable[Mapping[str, str] | Sequence[str]]) -> Context:
    """The question (last user turn) and what it depends on; ValueError if there is no final user turn."""
    turns = _messages(messages)
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise ValueError("a conversation must end with a non-empty user turn")
    focus = turns[-1][1]
    system = " ".join(" ".join(c.split()) for r, c in turns if r == "system")
    earlier = [(r, c) for r, c in turns[:-1] if r in ("user", "assistant")]
    standalone = is_standalone(focus)
    if standalone:
        user = [c for r, c in earlier if r == "user" and not is_small_talk(c) and _binding(c)]
        assistant: list[str] = []
    else:
        user = [s for r, c in earlier if r == "user" if (s := strip_small_talk(c))]
        assistant = [s for r, c in earlier if r == "assistant" if (s := strip_small_talk(c))]
    return Context(focus, standalone, " ".join(user), " ".join(assistant), system)

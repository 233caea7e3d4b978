"""What a conversation must agree on: bare follow-ups lean on everything before, standalone questions only on facts."""

from __future__ import annotations

import pytest

from assistant.semantic.context import (
    context_of,
    is_small_talk,
    is_standalone,
    strip_small_talk,
)


@pytest.mark.parametrize("text", ["yes please", "yes please, two", "cancel it", "and with the TV add-on?",
                                  "how do I do that?", "make it funnier", "Which one is the lightest?", "sure"])
def test_follow_ups_lean_on_the_context(text: str) -> None:
    assert not is_standalone(text)


@pytest.mark.parametrize("text", ["How do I convert a list to a set in Python?", "What's the capital of Peru?",
                                  "How do I update the firmware?"])
def test_questions_that_stand_alone(text: str) -> None:
    assert is_standalone(text)


def test_small_talk_is_dropped_from_turns() -> None:
    assert is_small_talk("Hi! Hope your day is going well.") and is_small_talk("thanks so much")
    assert not is_small_talk("I'm vegan.")
    assert strip_small_talk("You're welcome! Shall I add the TV package?") == "Shall I add the TV package?"


def test_a_follow_up_keeps_the_offer_it_answers() -> None:
    c = context_of([{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello! How can I help?"},
                    {"role": "user", "content": "What plans do you have?"},
                    {"role": "assistant", "content": "Fibre 100 is £25. Would you like Fibre 100?"},
                    {"role": "user", "content": "yes please"}])
    assert not c.standalone
    assert c.user == "What plans do you have?"
    assert c.assistant == "Fibre 100 is £25. Would you like Fibre 100?"


def test_a_standalone_question_keeps_only_facts_and_standing_instructions() -> None:
    c = context_of([("user", "Tell me a joke."), ("assistant", "Why did the scarecrow win an award?"),
                    ("user", "I'm allergic to peanuts."), ("assistant", "Noted."),
                    ("user", "Answer in Spanish from now on."), ("assistant", "¡De acuerdo!"),
                    ("system", "Be brief."), ("user", "What's a good snack for a long hike?")])
    assert c.standalone and c.assistant == ""
    assert c.user == "I'm allergic to peanuts. Answer in Spanish from now on."
    assert c.system == "Be brief."


def test_a_conversation_must_end_with_a_user_turn() -> None:
    with pytest.raises(ValueError):
        context_of([("user", "hi"), ("assistant", "hello")])

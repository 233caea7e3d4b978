"""The lexical guard refuses what an embedding cannot tell apart, and lets phrasing, typos and order through."""

from __future__ import annotations

import pytest

from assistant.semantic.guard import compare, veto


@pytest.mark.parametrize(("stored", "asked", "why"), [
    ("Is the clinic open on Sundays?", "Is the clinic closed on Sundays?", "'open' on one side only"),
    ("How do I turn on dark mode?", "How do I turn off dark mode?", "on one side only"),
    ("Can dogs eat grapes?", "Can't dogs eat grapes?", "a negation on one side"),
    ("How do I lock a cell in Excel?", "How do I unlock a cell in Excel?", "lock"),
    ("What happens if I overwater my plants?", "What happens if I underwater my plants?", "opposite words"),
    ("What is 15% of 80?", "What is 15% of 60?", "a different number"),
    ("What's a good itinerary for three days in Rome?", "What's a good itinerary for 5 days in Rome?", "a different number"),
    ("How many miles is 10 km?", "How many miles is 10 m?", "a different unit or currency"),
    ("I earn $50,000 a year", "I earn £50,000 a year", "a different unit or currency"),
    ("Is it warm in Madrid in March?", "Is it warm in Madrid in October?", "a different date or time"),
    ("What time is it in Tokyo at 9am?", "What time is it in Tokyo at 9pm?", "a different unit or currency"),
    ("How do I reverse a list in Python?", "How do I reverse a list in Ruby?", "the name"),
    ("How many calories are in an apple?", "How many calories are in a banana?", "swapped for"),
    ("How do I remove all Docker containers?", "How do I remove all stopped Docker containers?", "'stopped'"),
    ("What are the tax rules for freelancers?", "What are the tax rules for freelancers in Ireland?", "the name"),
    ("Is a list faster than a tuple?", "Is a tuple faster than a list?", "order"),
    ("Convert 100 Fahrenheit to Celsius.", "Convert 100 Celsius to Fahrenheit.", "order"),
    ("def add(a, b): return a - b", "def add(a, b): return a + b", "a different operator"),
    ("What is the second most spoken language?", "What is the most spoken language?", "a different number"),
])
def test_refuses_a_different_question(stored: str, asked: str, why: str) -> None:
    reason = veto(stored, asked)
    assert reason is not None and why in reason, reason


@pytest.mark.parametrize(("stored", "asked"), [
    ("How do I reverse a list in Python?", "how do i reverse a list in python"),
    ("What is the capital of Australia?", "what is the captial of australia?"),
    ("What's the difference between RAM and storage?", "Whats the diffrence between RAM and storage"),
    ("What time zone is Tokyo in?", "Tokyo is in what time zone?"),
    ("Please tell me how to reset my password.", "How to reset my password?"),
    ("How do I get a refund for a cancelled flight?", "How do I get a refund for a canceled flight?"),
    ("What's a healthy breakfast I can make in five minutes?", "Give me a healthy breakfast I can make in 5 minutes."),
    ("How do I find the derivative of x squared?", "What is the derivative of x^2?"),
    ("How many ounces are in a cup?", "How many oz in one cup?"),
    ("What can I use instead of buttermilk?", "What is a substitute for buttermilk?"),
])
def test_lets_phrasing_typos_and_order_through(stored: str, asked: str) -> None:
    assert veto(stored, asked) is None


def test_reports_how_much_it_could_not_check() -> None:
    assert compare("How do I check my Python version?", "how do I check my python verison?") == (None, 0)
    reason, reworded = compare("How do I fix a leaky tap?", "How can I repair a dripping tap?")
    assert reason is None and reworded > 0
    assert compare("Is 97 prime?", "Is 91 prime?")[1] == -1


def test_a_one_letter_change_at_the_start_is_not_a_typo() -> None:
    assert veto("What is the boiling point of ethanol?", "What is the boiling point of methanol?") is not None


def test_assistant_text_may_say_more_but_not_something_else() -> None:
    a = "Premium is $15 a month with 4K streaming. Should I confirm?"
    assert veto(a, "Premium costs $15 per month and comes with 4K streaming in the sharpest picture. Confirm it?", additions=False) is None
    assert veto(a, "Premium is $15 a month with 4K streaming. Should I cancel?", additions=False) is not None

"""Advice written for both interfaces names the app's keys in the app."""

from __future__ import annotations

from assistant.ui.advice import for_app
from tests.helpers import real_provider


async def test_key_and_model_advice_names_f4_and_f2():
    openai = real_provider("openai")
    status = await openai.availability()
    assert for_app(status.detail) == "no OpenAI key: press F4 to add one (or set OPENAI_API_KEY)"
    gemini = for_app((await real_provider("gemini").availability()).detail)
    assert gemini.endswith("press F4 to add one (or set GEMINI_API_KEY or GOOGLE_API_KEY)")
    assert for_app("OpenAI has no model 'x' (or this key cannot use it); choose another with -m, see "
                   "`assistant models`.") == "OpenAI has no model 'x' (or this key cannot use it); choose another with F2."
    assert for_app("Ollama is not running at http://127.0.0.1:9.") == "Ollama is not running at http://127.0.0.1:9."

"""Before sending: the model that would answer (and why), the estimate, and edits and regenerations as branches."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.errors import UsageError
from assistant.core.types import ChatRequest, ModelRef, Usage
from tests.helpers import ScriptedProvider, collect, finished, make_engine, settings

GPT = ModelRef("openai", "gpt-4o-mini")


def offline() -> list[ScriptedProvider]:
    return [ScriptedProvider("ollama", [["x"]], available=False, model="llama3.2"),
            ScriptedProvider("embedded", [["one", Usage(3, 1)], ["two", Usage(3, 1)], ["three", Usage(3, 1)]],
                             model="smollm2", window=2048)]


def cloud() -> ScriptedProvider:
    return ScriptedProvider("openai", [["Hi", Usage(10, 2)]], local=False, model="gpt-4o-mini")


def lookups(engine) -> list[str]:  # type: ignore[no-untyped-def]
    asked: list[str] = []
    real = engine.keys.get
    engine.keys.get = lambda provider: asked.append(provider) or real(provider)
    return asked


async def test_offline_preview_names_the_embedded_model_without_asking_the_keyring(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, [*offline(), cloud()], environ={"OPENAI_API_KEY": "sk-test-1"})
    asked = lookups(engine)
    preview = await engine.preview()
    assert preview.ref == ModelRef("embedded", "smollm2") and preview.local
    assert preview.reason.startswith("embedded:smollm2 - local")
    assert any("ollama is down" in note and "embedded:smollm2" in note for note in preview.notes)
    assert asked == []  # a model on this machine answers: keys do not matter yet


async def test_with_nothing_local_the_preview_looks_keys_up_and_names_the_cloud_model(tmp_path: Path) -> None:
    down = [ScriptedProvider("ollama", [["x"]], available=False), ScriptedProvider("embedded", [["x"]], available=False)]
    engine = make_engine(tmp_path, [*down, cloud()], environ={"OPENAI_API_KEY": "sk-test-1"})
    preview = await engine.preview()
    assert preview.ref == GPT and not preview.local and "cloud" in preview.reason
    none = make_engine(tmp_path / "b", down)
    refused = await none.preview()
    assert refused.ref is None and "No model can answer" in refused.reason


async def test_a_named_model_that_cannot_answer_is_previewed_with_the_reason_it_will_fail(tmp_path: Path) -> None:
    down = ScriptedProvider("openai", [["Hi"]], local=False, available=False, model="gpt-4o-mini")
    engine = make_engine(tmp_path, [*offline(), down])
    preview = await engine.preview(GPT)
    assert preview.ref == GPT and "you asked for it" in preview.reason
    assert preview.notes == ("openai is down",)


async def test_estimate_counts_question_and_context_against_the_window(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, [*offline(), cloud()], settings(generation={"max_tokens": 100}))
    first = finished(await collect(engine, ChatRequest("word " * 100, system="be brief"))).answer
    est = await engine.estimate(engine.new_request("what now?", conversation_id=first.conversation_id),
                                ModelRef("embedded", "smollm2"))
    # Without the model's tokenizer (a scripted provider): a token a word or mark, plus each message's framing
    # (4) and the request's (3). The question: 3 + 4 + 3. Before it: be brief (4 + 2), the 100 words (4 + 100),
    # the answer "one" (4 + 1).
    assert (est.prompt_tokens, est.context_tokens, est.max_output_tokens) == (10, 115, 100) and est.estimated
    assert est.context_window == 2048 and not est.over_window and est.cost_low == est.cost_high == 0.0
    paid = await engine.estimate(engine.new_request("word " * 1000, model=GPT))
    price = engine.price(GPT)
    assert price is not None and paid.context_window == 128000 and paid.input_tokens == 1007
    assert paid.cost_low == pytest.approx(1007 * price.input_per_token)
    assert paid.cost_high == pytest.approx(1007 * price.input_per_token + 100 * price.output_per_token)
    huge = await engine.estimate(engine.new_request("z " * 3000), ModelRef("embedded", "smollm2"))
    assert huge.over_window


async def test_regenerate_keeps_the_earlier_answer_as_an_alternative(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, offline())
    one = finished(await collect(engine, ChatRequest("q"))).answer
    two = finished(await collect(engine, ChatRequest("", conversation_id=one.conversation_id, regenerate=True,
                                                     use_cache=False))).answer
    shown = engine.queries.messages(one.conversation_id)
    assert [m.content for m in shown] == ["q", "two"] and shown[1].siblings == (one.message_id, two.message_id)
    back = engine.queries.switch_branch(one.conversation_id, one.message_id or 0)
    assert [m.content for m in back] == ["q", "one"]


async def test_an_edited_question_is_asked_with_only_what_came_before_it(tmp_path: Path) -> None:
    embedded = ScriptedProvider("embedded", [["A1", Usage(1, 1)], ["A2", Usage(1, 1)], ["A2b", Usage(1, 1)]],
                                model="smollm2")
    engine = make_engine(tmp_path, [ScriptedProvider("ollama", [["x"]], available=False), embedded])
    cid = finished(await collect(engine, ChatRequest("Q1"))).answer.conversation_id
    await collect(engine, ChatRequest("Q2", conversation_id=cid))
    q2 = engine.queries.messages(cid)[2]
    await collect(engine, ChatRequest("Q2 edited", conversation_id=cid, edit_of=q2.id))
    sent = [(m.role, m.content) for m in embedded.requests[-1].messages]
    assert sent == [("user", "Q1"), ("assistant", "A1"), ("user", "Q2 edited")]
    shown = engine.queries.messages(cid)
    assert [m.content for m in shown] == ["Q1", "A1", "Q2 edited", "A2b"] and shown[2].alternative == 2
    old = engine.queries.switch_branch(cid, q2.id)
    assert [m.content for m in old] == ["Q1", "A1", "Q2", "A2"]
    with pytest.raises(UsageError, match="Only a question"):
        await engine.estimate(ChatRequest("x", conversation_id=cid, edit_of=shown[1].id))


async def test_stored_answers_carry_the_figures_the_chat_showed(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, offline())
    live = finished(await collect(engine, ChatRequest("q"))).answer
    stored = engine.queries.answers(live.conversation_id)[live.message_id or 0]
    assert (stored.provider, stored.model, stored.usage, stored.cost_usd, stored.saved_usd, stored.ttft_ms) == (
        live.provider, live.model, live.usage, live.cost_usd, live.saved_usd, live.ttft_ms)
    assert stored.tokens_per_second == live.tokens_per_second and stored.route_reason == live.route_reason


async def test_recent_prompts_are_newest_first_and_each_once(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, offline())
    for prompt in ["a", "b", "a", "c"]:
        await collect(engine, ChatRequest(prompt))
    assert engine.queries.recent_prompts(10) == ["c", "a", "b"]


def test_windows_come_from_the_provider_or_the_price_table(tmp_path: Path) -> None:
    from tests.helpers import real_engine, real_provider

    assert real_provider("embedded", context_size=4096).context_window("smollm2") == 4096
    engine = real_engine(tmp_path)
    assert engine.context_window(ModelRef("anthropic", "claude-haiku-4-5")) == 200000
    assert engine.context_window(ModelRef("openai", "no-such-model")) is None
    assert engine.context_window(ModelRef("ollama", "llama3.2:latest")) is None  # Ollama says only when asked

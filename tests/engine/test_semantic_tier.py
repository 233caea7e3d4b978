"""The similar-question tier in the engine: served, suggested, declined, refused, forgotten, cleared; real SQLite and
the real bundled embedding model, scripted chat models."""

from __future__ import annotations

import asyncio
from pathlib import Path

from assistant.core.events import Event, SimilarFound
from assistant.core.types import ChatMessage, ChatRequest, Usage
from assistant.engine.engine import Engine
from tests.helpers import ScriptedProvider, collect, finished, make_engine, settings

ASKED = "How do I reverse a list in Python?"
REWORDED = "how do i reverse a list in python"
ANSWER = "Use my_list.reverse() or my_list[::-1]."


def local(*answers: str) -> ScriptedProvider:
    return ScriptedProvider("ollama", [[a, Usage(12, 8)] for a in answers] or [["unused"]], model="llama3.2:latest")


def request(engine: Engine, prompt: str, mode: str = "serve", **kw: object) -> ChatRequest:
    return engine.new_request(prompt, semantic=mode, suggest=True, **kw)  # type: ignore[arg-type]


async def test_a_reworded_question_is_served_from_the_earlier_answer(tmp_path: Path) -> None:
    provider = local(ANSWER, "unused")
    engine = make_engine(tmp_path, [provider])
    fresh = finished(await collect(engine, request(engine, ASKED))).answer
    assert fresh.cache is None and fresh.text == ANSWER

    hit = finished(await collect(engine, request(engine, REWORDED))).answer
    assert (hit.cached, hit.cache, hit.text, hit.similar_prompt) == (True, "semantic", ANSWER, ASKED)
    assert hit.similarity is not None and hit.similarity > 0.9
    assert "similar question from" in hit.route_reason
    assert len(provider.requests) == 1  # the model was asked once
    row = engine.conn.execute("SELECT similar_entry, similarity, saved_source, cached FROM calls "
                              "WHERE message_id = ?", (hit.message_id,)).fetchone()
    assert row[0] is not None and abs(row[1] - hit.similarity) < 1e-9 and row[2:] == ("semantic", 1)
    shown = [m for m in engine.queries.messages(hit.conversation_id) if m.role == "assistant"]
    assert shown[-1].similarity == row[1] and shown[-1].similar_entry == row[0]  # history says where it came from
    assert engine.conn.execute("SELECT count(*) FROM response_cache").fetchone()[0] == 1  # not re-cached as exact
    await engine.aclose()


async def test_suggest_waits_for_the_choice_and_declining_asks_the_model(tmp_path: Path) -> None:
    provider = local(ANSWER, "A fresh answer.")
    engine = make_engine(tmp_path, [provider])
    await collect(engine, request(engine, ASKED))

    async def run(use: bool) -> list[Event]:
        seen: list[Event] = []
        async for event in engine.chat(request(engine, REWORDED, "suggest")):
            seen.append(event)
            if isinstance(event, SimilarFound):
                assert (event.prompt, event.text, str(event.ref)) == (ASKED, ANSWER, "ollama:llama3.2:latest")
                assert event.similarity > 0.9 and event.created_at > 0
                asyncio.get_running_loop().call_later(0.01, event.decide, use)  # the user takes a moment
        return seen

    used = await run(True)
    assert finished(used).answer.cache == "semantic" and len(provider.requests) == 1
    declined = await run(False)
    answer = finished(declined).answer
    assert any(isinstance(e, SimilarFound) for e in declined)
    assert answer.cache is None and answer.text == "A fresh answer." and len(provider.requests) == 2
    stats = engine.queries.similar_stats()
    assert (stats.hits, stats.declined, stats.mode) == (1, 1, "suggest")
    await engine.aclose()


async def test_a_different_question_or_model_or_setting_is_never_served(tmp_path: Path) -> None:
    provider = local("Yes, 9 to 5.", "No, closed on Sundays.", "unused")
    engine = make_engine(tmp_path, [provider])
    await collect(engine, request(engine, "Is the clinic open on Sundays?"))
    closed = finished(await collect(engine, request(engine, "Is the clinic closed on Sundays?"))).answer
    assert closed.cache is None and closed.text == "No, closed on Sundays."
    assert engine.queries.similar_stats().near_misses == 1
    other = finished(await collect(engine, request(engine, "is the clinic open on sundays", temperature=1.5))).answer
    assert other.cache is None  # other settings: never shared
    assert len(provider.requests) == 3
    await engine.aclose()


async def test_no_cache_and_off_bypass_the_tier(tmp_path: Path) -> None:
    provider = local(ANSWER, "again", "and again", "once more")
    engine = make_engine(tmp_path, [provider])
    await collect(engine, request(engine, ASKED))
    # Each a new wording (an identical one would be an exact hit of the answer before it).
    assert finished(await collect(engine, request(engine, REWORDED, use_cache=False))).answer.cache is None
    assert finished(await collect(engine, request(engine, "How do I reverse a list in Python", "off"))).answer.cache is None
    default = ChatRequest("how do I reverse a list in Python?")
    assert finished(await collect(engine, default)).answer.cache is None  # a request built by hand: off
    await engine.aclose()

    off = make_engine(tmp_path / "off", [local(ANSWER)], settings(cache={"semantic": "off"}))
    assert off.semantic is None and [t.name for t in off.tiers.tiers] == ["exact"]
    assert off.new_request(ASKED, semantic="serve").semantic == "off"
    await off.aclose()


async def test_a_follow_up_after_a_different_offer_misses(tmp_path: Path) -> None:
    provider = local("Done: Fibre 100 is yours.", "Done: Fibre 500 is yours.", "unused")
    engine = make_engine(tmp_path, [provider])

    def offer(plan: str) -> tuple[ChatMessage, ...]:
        return (ChatMessage("user", "What broadband plans do you have?"),
                ChatMessage("assistant", f"Fibre 100 is £25 and Fibre 500 is £35. Would you like {plan}?"))
    await collect(engine, request(engine, "yes please", prior=offer("Fibre 100")))
    other = finished(await collect(engine, request(engine, "Yes please!", prior=offer("Fibre 500")))).answer
    assert other.cache is None and other.text == "Done: Fibre 500 is yours."
    same = finished(await collect(engine, request(engine, "yes, please", prior=offer("Fibre 500")))).answer
    assert same.cache == "semantic" and same.text == "Done: Fibre 500 is yours."
    stored = engine.queries.messages(same.conversation_id)
    assert [m.role for m in stored] == ["user", "assistant", "user", "assistant"]  # the given turns are kept
    await engine.aclose()


async def test_an_answer_marked_wrong_never_answers_that_question_again(tmp_path: Path) -> None:
    provider = local(ANSWER, "A better answer.", "unused")
    engine = make_engine(tmp_path, [provider])
    await collect(engine, request(engine, ASKED))
    hit = finished(await collect(engine, request(engine, REWORDED))).answer
    assert hit.cache == "semantic" and hit.message_id is not None
    mid, similarity, prompt = engine.queries.forget_similar(hit.message_id)
    assert (mid, prompt) == (hit.message_id, ASKED) and similarity == hit.similarity
    again = finished(await collect(engine, request(engine, REWORDED))).answer
    assert again.cache is None and again.text == "A better answer."
    await engine.aclose()

    reopened = make_engine(tmp_path, [local("Third.")])  # another process: the mark is in the file
    third = finished(await collect(reopened, request(reopened, REWORDED))).answer
    assert third.cache == "exact"  # the model's own answer to exactly this question, not the earlier one
    assert reopened.queries.similar_stats().forgotten == 1
    await reopened.aclose()


async def test_clear_empties_both_tiers_and_a_gone_answer_is_never_served(tmp_path: Path) -> None:
    provider = local(ANSWER, "fresh", "fresh again")
    engine = make_engine(tmp_path, [provider])
    await collect(engine, request(engine, ASKED))
    assert engine.queries.similar_stats().entries == 1
    engine.queries.cache_clear()
    assert engine.queries.similar_stats().entries == 0 and engine.queries.cache_stats().entries == 0
    assert finished(await collect(engine, request(engine, REWORDED))).answer.cache is None
    # An exact answer pruned behind the tier's back: its similar-question entry is dropped when met.
    engine.conn.execute("DELETE FROM response_cache")
    engine.cache.forget_hot()
    assert finished(await collect(engine, request(engine, ASKED))).answer.cache is None
    await engine.aclose()


async def test_another_process_sees_new_questions_and_embeds_them(tmp_path: Path) -> None:
    writer = make_engine(tmp_path, [local(ANSWER)])
    reader = make_engine(tmp_path, [local("unused")])
    await reader.warm_similar()  # loaded before the other process answers
    await collect(writer, writer.new_request(ASKED))  # `assistant ask` in suggest mode: kept as text, no model loaded
    assert writer.semantic is not None and writer.semantic.index is None
    await writer.aclose()
    hit = finished(await collect(reader, request(reader, REWORDED))).answer
    assert hit.cache == "semantic" and hit.text == ANSWER
    stats = reader.queries.similar_stats()
    assert stats.embedder == "wordllama:l2_supercat-256" and stats.embedded == {stats.embedder: 1}
    assert stats.lookups == {stats.embedder: 1}
    await reader.aclose()


async def test_a_local_embedding_model_is_preferred_when_one_is_up(tmp_path: Path) -> None:
    from tests.fakes.ollama import FakeOllama
    from tests.helpers import real_engine

    with FakeOllama(models=["llama3.2:latest", "nomic-embed-text:latest"], pieces=[ANSWER]) as server:
        engine = real_engine(tmp_path, settings(ollama={"host": server.url}))
        await collect(engine, request(engine, ASKED, model="ollama:llama3.2"))
        hit = finished(await collect(engine, request(engine, REWORDED, model="ollama:llama3.2"))).answer
        embeds = [s.json() for s in server.seen if s.path == "/api/embed"]
        await engine.aclose()
    assert hit.cache == "semantic" and hit.text == ANSWER
    assert embeds and all(isinstance(e, dict) and e["model"] == "nomic-embed-text:latest" for e in embeds)
    reopened = make_engine(tmp_path, [local("unused")], settings(cache={"semantic_embedder": "wordllama"}))
    found = reopened.queries.similar_stats()
    assert found.lookups == {"ollama:nomic-embed-text:latest": 2}
    assert found.embedded == {"ollama:nomic-embed-text:latest": 1}  # the bundled model embeds it when it is needed
    await reopened.aclose()


async def test_a_pasted_file_is_neither_looked_up_nor_kept(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, [local(ANSWER, "again")])
    pasted = "Summarise this:\n" + "0123456789abcdef " * 5_000
    await collect(engine, request(engine, pasted))
    assert engine.queries.similar_stats().entries == 0
    assert finished(await collect(engine, request(engine, pasted + " "))).answer.cache is None
    assert engine.queries.similar_stats().lookups == {}
    await engine.aclose()


def test_a_request_offering_tools_is_out_of_scope() -> None:
    """With tools offered the answer may act or fetch something now: it must come from the model, never a
    similar question's old answer (and it is not kept as one either)."""
    from assistant.core.tools import ToolSpec
    from assistant.core.types import GenerationSettings, ModelRef, ProviderRequest
    from assistant.engine.semantic_tier import in_scope

    messages = (ChatMessage("user", ASKED),)
    plain = ProviderRequest(ModelRef("ollama", "llama3.2:latest"), messages, GenerationSettings())
    tool = ToolSpec("files", "read", "Read a file.", {"type": "object"})
    assert in_scope(plain) and not in_scope(ProviderRequest(plain.model, messages, plain.settings, (tool,)))

"""Files and images through the engine: in the request, in history, in the cache key, and routed only to models
that read images (refused before anything is sent otherwise)."""

from __future__ import annotations

from pathlib import Path

from assistant.core.config import AttachmentSettings
from assistant.core.errors import UsageError
from assistant.core.events import Failed, Finished
from assistant.engine.attachments import from_bytes
from tests.context.images import PNG_166x282
from tests.helpers import ScriptedProvider, Usage, collect, finished, make_engine

LIMITS = AttachmentSettings()
NOTES = from_bytes("notes.txt", b"the meeting moved to 3pm\n", LIMITS)
PHOTO = from_bytes("photo.png", PNG_166x282, LIMITS)


def providers(ollama_up: bool = True) -> list[ScriptedProvider]:
    return [ScriptedProvider("ollama", [["A pelican.", Usage(90, 3)]], available=ollama_up, model="llava:latest"),
            ScriptedProvider("embedded", [["Noted.", Usage(30, 2)]], model="smollm2")]


async def test_files_reach_the_model_labelled_and_stay_with_the_conversation(tmp_path: Path) -> None:
    ollama, embedded = providers(ollama_up=False)
    engine = make_engine(tmp_path, [ollama, embedded])
    first = finished(await collect(engine, engine.new_request("when is the meeting?", attachments=(NOTES,))))
    sent = embedded.requests[-1].messages[-1]
    assert sent.attachments == (NOTES,) and sent.text.startswith('<file name="notes.txt">\nthe meeting moved to 3pm')
    await collect(engine, engine.new_request("and where?", conversation_id=first.answer.conversation_id))
    earlier = embedded.requests[-1].messages[0]
    assert earlier.content == "when is the meeting?" and earlier.attachments == (NOTES,)  # history keeps the file
    stored = engine.history.messages(first.answer.conversation_id)
    assert [[a.name for a in m.attachments] for m in stored] == [["notes.txt"], [], [], []]


async def test_the_same_file_hits_the_cache_and_a_changed_one_does_not(tmp_path: Path) -> None:
    ollama, embedded = providers(ollama_up=False)
    engine = make_engine(tmp_path, [ollama, embedded])
    again = from_bytes("notes.txt", b"the meeting moved to 3pm\n", LIMITS)
    changed = from_bytes("notes.txt", b"the meeting moved to 4pm\n", LIMITS)
    answers = [finished(await collect(engine, engine.new_request("when?", attachments=(f,)))).answer
               for f in (NOTES, again, changed)]
    assert [a.cached for a in answers] == [False, True, False]
    assert len(embedded.requests) == 2


async def test_images_go_only_to_a_model_that_reads_them(tmp_path: Path) -> None:
    ollama, embedded = providers()
    engine = make_engine(tmp_path, [ollama, embedded])
    answer = finished(await collect(engine, engine.new_request("what is this?", attachments=(PHOTO,)))).answer
    assert answer.provider == "ollama" and ollama.requests[-1].messages[-1].images == (PHOTO,)
    assert embedded.requests == []


async def test_a_model_that_cannot_read_images_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    ollama, embedded = providers()
    engine = make_engine(tmp_path, [ollama, embedded])
    events = await collect(engine, engine.new_request("what is this?", model="embedded:smollm2",
                                                      attachments=(PHOTO,)))
    [failed] = [e for e in events if isinstance(e, Failed)]
    assert isinstance(failed.error, UsageError)
    assert failed.error.message == ("The request has images and embedded:smollm2 cannot read them; name one that "
                                    "can with -m (or F2): ollama:llava:latest.")
    assert embedded.requests == [] and ollama.requests == []
    # the question itself is kept, as every refused request's is
    assert engine.history.messages(failed.conversation_id)[0].attachments == (PHOTO,)


async def test_with_no_model_that_reads_images_the_refusal_says_how_to_get_one(tmp_path: Path) -> None:
    ollama, embedded = providers(ollama_up=False)
    engine = make_engine(tmp_path, [ollama, embedded])
    events = await collect(engine, engine.new_request("what is this?", attachments=(PHOTO,)))
    assert not any(isinstance(e, Finished) for e in events)
    [failed] = [e for e in events if isinstance(e, Failed)]
    assert "embedded:smollm2 cannot read them; no model set up here can: pull a vision model" in failed.error.message
    assert embedded.requests == []


async def test_a_file_alone_is_a_question_but_nothing_at_all_is_not(tmp_path: Path) -> None:
    ollama, embedded = providers(ollama_up=False)
    engine = make_engine(tmp_path, [ollama, embedded])
    answer = finished(await collect(engine, engine.new_request("", attachments=(NOTES,)))).answer
    assert engine.queries.conversation(answer.conversation_id).title == "notes.txt"
    events = await collect(engine, engine.new_request(""))
    assert isinstance(events[-1], Failed) and "prompt is empty" in events[-1].error.message


async def test_regenerating_sends_the_files_again(tmp_path: Path) -> None:
    ollama, embedded = providers(ollama_up=False)
    engine = make_engine(tmp_path, [ollama, embedded])
    first = finished(await collect(engine, engine.new_request("summarise", attachments=(NOTES,)))).answer
    await collect(engine, engine.new_request("", conversation_id=first.conversation_id, regenerate=True,
                                             use_cache=False))
    assert [r.messages[-1].attachments for r in embedded.requests] == [(NOTES,), (NOTES,)]
    assert len(engine.history.messages(first.conversation_id)) == 2


def test_similar_questions_never_stand_in_for_a_question_about_files() -> None:
    """The similar-question tier compares words only: a request with files is out of its scope, either way."""
    from assistant.core.types import ChatMessage, ModelRef, ProviderRequest
    from assistant.engine.semantic_tier import in_scope

    ref = ModelRef("ollama", "llava:latest")
    assert in_scope(ProviderRequest(ref, (ChatMessage("user", "what is in it?"),)))
    assert not in_scope(ProviderRequest(ref, (ChatMessage("user", "what is in it?", attachments=(PHOTO,)),)))
    assert not in_scope(ProviderRequest(ref, (ChatMessage("user", "and this?", attachments=(NOTES,)),
                                              ChatMessage("assistant", "A note."), ChatMessage("user", "and now?"))))

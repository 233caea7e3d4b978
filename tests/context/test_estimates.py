"""--dry-run's numbers: the count against what providers billed for the recorded requests, exact for the embedded
model, and the estimate's route, window, cost range and warnings; nothing is sent or written."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from assistant.core.config import AttachmentSettings
from assistant.core.tokens import estimate_text
from assistant.core.types import ChatRequest
from assistant.engine.attachments import from_bytes
from assistant.main import main
from tests.context.images import PNG_166x282
from tests.context.token_accuracy import measure
from tests.helpers import ScriptedProvider, collect, finished, make_engine, real_engine, settings


async def test_counts_stay_near_what_providers_billed_for_the_recorded_requests() -> None:
    rows = await measure()
    assert {r.provider for r in rows} == {"anthropic", "gemini", "openai", "ollama"} and any(r.images for r in rows)
    for row in rows:
        bound = 0.10 if row.billed > 1000 else 0.15
        assert abs(row.error) <= bound, row


def test_the_text_estimate_counts_punctuation_numbers_and_long_words() -> None:
    assert estimate_text("") == 0
    assert estimate_text("Say hello") == 2
    assert estimate_text("x = f(1234567);") == 9  # x = f ( 123 456 7 ) ;
    assert estimate_text("internationalisation") == 3  # 20 letters: one token and one for each further 8
    assert estimate_text("東京は日本") == 5  # other scripts: a token a character


async def test_an_estimate_sends_and_writes_nothing(tmp_path: Path) -> None:
    embedded = ScriptedProvider("embedded", [["unused"]], model="smollm2")
    engine = make_engine(tmp_path, [ScriptedProvider("ollama", [["unused"]], available=False), embedded])
    photo = from_bytes("photo.png", PNG_166x282, AttachmentSettings())
    estimate = await engine.estimate(engine.new_request("what is this?", attachments=(photo,)), route=True)
    assert str(estimate.ref) == "embedded:smollm2" and estimate.images == 1 and estimate.route == ()
    assert estimate.refusal.startswith("The request has images and embedded:smollm2 cannot read them")
    text = await engine.estimate(engine.new_request("hello there", max_tokens=100), route=True)
    assert str(text.ref) == "embedded:smollm2" and text.route == ("embedded:smollm2 - local",)
    assert text.local and text.cost_low == 0 and text.estimated
    assert embedded.requests == []
    assert engine.conn.execute("SELECT count(*) FROM conversations").fetchone()[0] == 0
    assert engine.conn.execute("SELECT count(*) FROM calls").fetchone()[0] == 0


async def test_cloud_estimates_give_a_cost_range_and_warn_before_the_window_is_passed(tmp_path: Path) -> None:
    openai = ScriptedProvider("openai", [["unused"]], local=False, model="gpt-4o-mini")
    engine = make_engine(tmp_path, [openai], settings(general={"monthly_budget_usd": 0.001}))
    def ask(prompt: str) -> ChatRequest:
        return engine.new_request(prompt, model="openai:gpt-4o-mini", max_tokens=100)

    small = await engine.estimate(ask("hi"), route=True)
    assert small.context_window == 128_000 and small.cost_low is not None and small.cost_high is not None
    assert 0 < small.cost_low < small.cost_high and small.warnings == ()
    typing = await engine.estimate(ask("word " * 130_000))  # as the chat app asks while you type: no route
    assert typing.input_tokens > 128_000 and typing.over_window and typing.route == ()
    assert any("more than openai:gpt-4o-mini's context window of 128,000" in w for w in typing.warnings)
    huge = await engine.estimate(ask("word " * 130_000), route=True)
    assert "monthly budget of $0.0010 would be passed" in huge.refusal
    near = await engine.estimate(ask("word " * 5000))
    assert any("left in the monthly budget" in w for w in near.warnings)


@pytest.mark.slow
async def test_the_embedded_count_is_exact_history_and_files_included(tmp_path: Path) -> None:
    engine = real_engine(tmp_path, settings(generation={"max_tokens": 8}))
    notes = from_bytes("notes.txt", b"The meeting moved to 3pm.\n", AttachmentSettings())
    try:
        cid = None
        for prompt in ("When is the meeting?", "And who comes?"):
            request = engine.new_request(prompt, model="embedded:smollm2", conversation_id=cid,
                                         attachments=(notes,) if cid is None else ())
            estimate = await engine.estimate(request)
            answer = finished(await collect(engine, request)).answer
            cid = answer.conversation_id
            assert not estimate.estimated and estimate.input_tokens == answer.usage.input_tokens
            assert estimate.context_window == 2048
    finally:
        await engine.aclose()


@pytest.fixture
def no_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing piped in, as when a command is typed at a terminal with its input elsewhere."""
    monkeypatch.setattr("sys.stdin", io.StringIO(""))


@pytest.mark.usefixtures("no_stdin")
def test_dry_run_prints_the_estimate_and_sends_nothing(isolated_env: Path, capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("buy milk\n", encoding="utf-8")
    assert main(["ask", "--dry-run", "-m", "openai:gpt-4o-mini", "-f", str(notes), "summarise"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Route:    openai:gpt-4o-mini - you asked for it"
    assert out[1].startswith("Request:  ~") and "tokens (estimated) with 1 file; the answer may add up to 1,024" in out[1]
    assert out[2].startswith("Context:  128,000 tokens (")
    assert out[3].startswith("Cost:     $0.0000") and out[3].endswith("(estimated)")
    assert "openai:gpt-4o-mini cannot answer now: no OpenAI key" in out[4] and out[-1] == "Nothing was sent."
    assert main(["history", "list"]) == 0 and "summarise" not in capsys.readouterr().out  # nothing was recorded


@pytest.mark.usefixtures("no_stdin")
def test_files_that_cannot_be_sent_are_refused_before_anything_starts(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "tool.bin"
    binary.write_bytes(b"\x7fELF\x00\x00binary")
    assert main(["ask", "-f", str(binary), "what is this?"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a text file or an image (PNG, JPEG, GIF or WebP)" in err[0]


"""The model picker with several Ollama hosts: a heading per host, and the same model on two hosts picks that model."""

from __future__ import annotations

from textual.widgets import OptionList

from assistant.core.types import ModelInfo, ModelRef
from tests.helpers import ScriptedProvider
from tests.ui.conftest import SIZE, ready, settle


class TwoHosts(ScriptedProvider):
    async def list_models(self) -> list[ModelInfo]:
        ref = ModelRef("ollama", "llama3.2:latest")
        return [ModelInfo(ref, True, "pulled, loaded", local=True, where="gpu-box:11434 · up · 1 loaded · 4 ms"),
                ModelInfo(ModelRef("ollama", "qwen3:latest"), True, "pulled", local=True,
                          where="gpu-box:11434 · up · 1 loaded · 4 ms"),
                ModelInfo(ref, True, "pulled", local=True, where="127.0.0.1:11434 · up · 1 ms")]


async def test_the_picker_groups_models_by_host(build_app) -> None:
    providers = [TwoHosts("ollama", [["unused"]], model="llama3.2:latest"),
                 ScriptedProvider("embedded", [["unused"]], model="smollm2")]
    app, _ = build_app(providers)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f2")
        await settle(pilot)
        options = app.screen.query_one("#models", OptionList)
        lines = [(str(options.get_option_at_index(i).prompt), options.get_option_at_index(i).id)
                 for i in range(options.option_count)]
        start = next(i for i, (text, _) in enumerate(lines) if text == "ollama")
        texts = [text.strip() for text, _ in lines[start + 1:start + 6]]
        assert texts[0] == "@ gpu-box:11434 · up · 1 loaded · 4 ms" and texts[3] == "@ 127.0.0.1:11434 · up · 1 ms"
        assert texts[1].startswith("llama3.2:latest  [ready]") and texts[4].startswith("llama3.2:latest  [ready]")
        second = start + 5
        assert lines[second][1] != lines[start + 2][1]  # distinct ids, one model
        options.highlighted = second
        await pilot.press("enter")
        await settle(pilot)
        assert app.chat.model == ModelRef("ollama", "llama3.2:latest")

"""Exact token counts for a GGUF model without loading its weights: its vocabulary and chat template only."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from assistant.core.types import ProviderRequest


class GgufCounter:
    """Formats messages the way llama-cpp-python's chat completion does for this file, then tokenizes them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._model: Any = None
        self._format: Any = None

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                import llama_cpp
                from llama_cpp import llama_chat_format
                from llama_cpp._internals import LlamaModel

                params = llama_cpp.llama_model_default_params()
                params.vocab_only = True  # a tenth of a second, and no context (whose creation logs to stderr)
                model = LlamaModel(path_model=str(self.path), params=params, verbose=False)
                meta = model.metadata()
                # The same choice Llama.__init__ makes: a known format named by the metadata, else the file's
                # own Jinja template, else llama-2.
                name = llama_chat_format.guess_chat_format_from_gguf_metadata(meta)
                if name is None and "tokenizer.chat_template" in meta:
                    eos, bos = model.token_eos(), model.token_bos()
                    self._format = llama_chat_format.Jinja2ChatFormatter(
                        template=meta["tokenizer.chat_template"],
                        eos_token=model.token_get_text(eos) if eos != -1 else "",
                        bos_token=model.token_get_text(bos) if bos != -1 else "",
                        stop_token_ids=[eos])
                else:
                    self._format = getattr(llama_chat_format, f"format_{name or 'llama2'}")
                self._model = model
            return self._model, self._format

    def count(self, request: ProviderRequest) -> int:
        model, formatter = self._load()
        result = formatter(messages=[{"role": m.role, "content": m.text} for m in request.messages])
        return len(model.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True))

    def close(self) -> None:
        with self._lock:
            model, self._model = self._model, None
        if model is not None:
            model.close()

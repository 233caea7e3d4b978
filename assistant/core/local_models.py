"""Values for managing the models on this machine: installed, loaded, their details, and a pull's progress."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.core.tokens import ModelFacts
from assistant.core.units import duration, size_text


@dataclass(frozen=True)
class InstalledModel:
    name: str  # as the model server names it, e.g. llama3.2:latest
    size: int  # bytes on disk
    modified_at: float | None  # when it was pulled or changed (epoch seconds)
    facts: ModelFacts = field(default_factory=ModelFacts)


@dataclass(frozen=True)
class LoadedModel:
    name: str
    size: int  # bytes of memory it takes
    vram: int  # of which on the GPU
    until: float | None  # when it will be unloaded if unused (epoch seconds); None: kept loaded
    context: int | None = None  # the context it was loaded with


@dataclass(frozen=True)
class ModelDetails:
    """What `models show` prints."""

    name: str
    facts: ModelFacts
    license: str = ""
    template: str = ""
    parameters: str = ""  # the model's default options, one "name value" a line
    capabilities: tuple[str, ...] = ()
    modified_at: float | None = None


@dataclass(frozen=True)
class PullEvent:
    """One progress line from the model server, as it sends it (per layer while downloading)."""

    status: str
    digest: str = ""
    total: int | None = None
    completed: int | None = None


@dataclass(frozen=True)
class PullStatus:
    """A pull so far, summed over every layer seen: what the progress bars show."""

    model: str
    phase: str  # pulling manifest, downloading, verifying sha256 digest, writing manifest, success
    completed: int = 0  # bytes
    total: int = 0  # bytes of the layers announced so far
    speed: float | None = None  # bytes per second, over the last few seconds
    eta: float | None = None  # seconds left at that speed
    layers: int = 0
    done: bool = False
    changed: bool = True  # False when only the byte counts moved (callers that print lines skip it)
    notes: tuple[str, ...] = field(default=())

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.completed / self.total) if self.total else None

    def progress_text(self) -> str:
        """What a progress bar says beside it: " 51%  2.1 GB of 4.1 GB · 38.2 MB/s · 53 s left"."""
        if self.fraction is None:
            return f"{self.phase}…"
        parts = [f"{self.fraction * 100:3.0f}%  {size_text(self.completed)} of {size_text(self.total)}"]
        if self.speed:
            parts.append(f"{size_text(self.speed)}/s")
        if self.eta is not None and self.phase == "downloading":
            parts.append(f"{duration(self.eta)} left")
        if self.phase != "downloading":
            parts.append(f"{self.phase}…")
        return " · ".join(parts)


def pull_stopped(model: str) -> str:
    """What stopping a pull leaves behind, on the server's side too (Ollama cancels a download once no client waits
    for it, keeps the parts it has, and writes a model's manifest only when every layer is complete)."""
    return (f"Stopped pulling {model}: Ollama keeps the parts downloaded so far and may finish the layer in progress, "
            f"but {model} is not usable until a pull completes (`assistant models pull {model}` resumes it).")

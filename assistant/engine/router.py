"""The router: a pure function from candidates, policy and budget to an ordered, explained plan."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.engine.types import ModelRef


@dataclass(frozen=True)
class Candidate:
    """A model that could answer, with everything the router weighs."""

    ref: ModelRef
    available: bool
    detail: str = ""
    input_price: float = 0.0  # USD per token
    output_price: float = 0.0
    quality: int = 1
    latency_ms: float | None = None  # measured median time to first token, if known
    healthy: bool = True  # False while the provider's circuit breaker is open

    @property
    def local(self) -> bool:
        return self.ref.local


@dataclass(frozen=True)
class Step:
    ref: ModelRef
    reason: str


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    skipped: tuple[Step, ...] = ()


def _describe(c: Candidate) -> str:
    return "local, $0" if c.local else f"cloud, ${c.input_price * 1e6:.2f}/${c.output_price * 1e6:.2f} per M tokens"


def plan(
    candidates: list[Candidate],
    *,
    named: ModelRef | None = None,
    policy: str = "local-first",
    local_only: bool = False,
    budget_left: float | None = None,
) -> Plan:
    """Order candidates; unavailable, unhealthy and over-budget ones are skipped with a reason."""
    if named is not None:
        return Plan((Step(named, f"{named} - you asked for it"),))
    usable: list[Candidate] = []
    skipped: list[Step] = []
    for c in candidates:
        if not c.available:
            skipped.append(Step(c.ref, c.detail or "not available"))
        elif not c.healthy:
            skipped.append(Step(c.ref, c.detail or "failing recently; resting it for a while"))
        elif local_only and not c.local:
            skipped.append(Step(c.ref, "local-only mode"))
        elif budget_left is not None and budget_left <= 0 and not c.local:
            skipped.append(Step(c.ref, "monthly budget reached"))
        else:
            usable.append(c)
    order = {c.ref: i for i, c in enumerate(usable)}
    cost = lambda c: c.input_price + c.output_price  # noqa: E731
    if policy == "cheapest":
        usable.sort(key=lambda c: (cost(c), not c.local, order[c.ref]))
    elif policy == "fastest":
        usable.sort(key=lambda c: (c.latency_ms is None, c.latency_ms or 0.0, order[c.ref]))
    elif policy == "best":
        usable.sort(key=lambda c: (-c.quality, cost(c), order[c.ref]))
    else:  # local-first: locals in the order given, then cloud from cheapest
        usable.sort(key=lambda c: (not c.local, cost(c) if not c.local else 0.0, order[c.ref]))
    steps = []
    for i, c in enumerate(usable):
        why = {"cheapest": "cheapest", "fastest": "fastest measured", "best": "highest quality"}.get(policy, "local-first")
        steps.append(Step(c.ref, f"{c.ref} - {_describe(c)} ({why}{'' if i == 0 else ', fallback'})"))
    return Plan(tuple(steps), tuple(skipped))

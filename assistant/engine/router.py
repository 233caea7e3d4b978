"""The router: pure functions from candidates, policy and budget to an ordered plan, its one-line reasons and refusals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.core.errors import AssistantError, BudgetExceeded, ProviderUnavailable, UsageError
from assistant.core.money import per_mtok, usd
from assistant.core.textsafe import first_clause
from assistant.core.types import Attempt, ModelRef

POLICY_WORDS = {"cheapest": "cheapest", "fastest": "fastest", "best": "best quality", "local-first": "local-first"}


@dataclass(frozen=True)
class Candidate:
    """A model that could answer, with everything the router weighs."""

    ref: ModelRef
    available: bool
    detail: str = ""
    local: bool = False  # runs on this machine (from the provider's spec)
    input_price: float = 0.0  # USD per token
    output_price: float = 0.0
    quality: int = 1
    latency_ms: float | None = None  # measured median time to first token, if known
    healthy: bool = True  # False while the provider's circuit breaker is open
    priced: bool = True  # False for a cloud model missing from the price table
    probe_ms: float = 0.0  # how long the availability check took
    tools: bool = True  # can be offered tools (asked only when the request offers some)
    reads_images: bool = True  # False when the provider or this model is known not to take images

    def cost(self, tokens: tuple[int, int]) -> float:
        """Worst-case cost for (prompt tokens, most output tokens); per-token prices when no tokens are known."""
        if tokens == (0, 0):
            return self.input_price + self.output_price
        return tokens[0] * self.input_price + tokens[1] * self.output_price


@dataclass(frozen=True)
class Step:
    ref: ModelRef
    reason: str
    # Why a model was left out: unavailable, unhealthy, local_only, images, budget or no_tools ("" for planned steps).
    code: str = ""
    local: bool = False
    tools: bool = False  # offer the request's tools to this model


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    skipped: tuple[Step, ...] = ()

    def refused_for(self, code: str) -> bool:
        """True when nothing can answer and this was why at least one model was left out."""
        return not self.steps and any(s.code == code for s in self.skipped)


def _describe(c: Candidate, policy: str, tokens: tuple[int, int]) -> str:
    if c.local:
        where = "local"
    elif not c.priced:
        where = "cloud, price unknown"
    elif tokens == (0, 0):
        where = f"cloud, {per_mtok(c.input_price, c.output_price)}"
    else:
        where = f"cloud, up to {usd(c.cost(tokens))}"
    if policy == "fastest":
        note = f"first token p50 {c.latency_ms:.0f} ms" if c.latency_ms is not None else "not measured yet"
        return f"{where} ({note})"
    if policy == "best":
        return f"{where} (quality tier {c.quality})"
    return where


def _budget_skip(c: Candidate, budget_left: float | None, tokens: tuple[int, int]) -> str:
    if budget_left is None or c.local:
        return ""
    if budget_left <= 0:
        return f"{c.ref}: monthly budget used up; raise general.monthly_budget_usd in config.toml to use cloud models"
    if c.priced and c.cost(tokens) > budget_left:
        return (f"{c.ref}: could cost up to {usd(c.cost(tokens))}, more than the {usd(budget_left)} "
                "left in the monthly budget")
    return ""


def plan(
    candidates: list[Candidate],
    *,
    named: ModelRef | None = None,
    policy: str = "local-first",
    local_only: bool = False,
    budget_left: float | None = None,
    tokens: tuple[int, int] = (0, 0),
    tools: bool = False,
    images: bool = False,
) -> Plan:
    """Order candidates; unavailable, unhealthy, image-blind (when the request has images) and over-budget ones are
    skipped with a reason.

    `tokens` is (prompt tokens, most output tokens): it prices each cloud model for this request. With `tools`,
    models that cannot call tools are skipped too, unless no other model can answer: then they answer without.
    """
    if named is not None:
        return _named(named, candidates, local_only, budget_left, tokens, tools, images)
    usable: list[Candidate] = []
    skipped: list[Step] = []
    toolless: list[Candidate] = []
    for c in candidates:
        over = _budget_skip(c, budget_left, tokens)
        if local_only and not c.local:
            skipped.append(Step(c.ref, f"{c.ref}: local-only mode", "local_only", c.local))
        elif images and not c.reads_images:
            skipped.append(Step(c.ref, f"{c.ref} cannot read images", "images", c.local))
        elif not c.available:
            skipped.append(Step(c.ref, c.detail or f"{c.ref} is not available", "unavailable", c.local))
        elif not c.healthy:
            skipped.append(Step(c.ref, c.detail or f"{c.ref} failed recently; resting it", "unhealthy", c.local))
        elif over:
            skipped.append(Step(c.ref, over, "budget", c.local))
        elif tools and not c.tools:
            skipped.append(Step(c.ref, f"{c.ref} cannot call tools", "no_tools", c.local))
            toolless.append(c)
        else:
            usable.append(c)
    if tools and not usable:  # better an answer without tools than none at all
        usable, tools = toolless, False
    order = {c.ref: i for i, c in enumerate(usable)}

    def price(c: Candidate) -> tuple[bool, float]:
        return (not c.local and not c.priced, c.cost(tokens))

    if policy == "cheapest":
        usable.sort(key=lambda c: (*price(c), not c.local, order[c.ref]))
    elif policy == "fastest":
        usable.sort(key=lambda c: (c.latency_ms is None, c.latency_ms or 0.0, not c.local, order[c.ref]))
    elif policy == "best":
        usable.sort(key=lambda c: (-c.quality, *price(c), order[c.ref]))
    else:  # local-first: locals in the order given, then cloud from cheapest
        usable.sort(key=lambda c: (not c.local, *(price(c) if not c.local else (False, 0.0)), order[c.ref]))
    word = POLICY_WORDS.get(policy, policy)
    steps = tuple(
        Step(c.ref, f"{c.ref} - {_describe(c, policy, tokens)}" + (f", {word}" if policy != "local-first" and i == 0 else ""),
             local=c.local, tools=tools)
        for i, c in enumerate(usable)
    )
    return Plan(steps, tuple(skipped))


def _named(named: ModelRef, candidates: list[Candidate], local_only: bool, budget_left: float | None,
           tokens: tuple[int, int], tools: bool, images: bool = False) -> Plan:
    """The user naming a model wins over every policy (it answers without tools if it cannot call them), but never
    over local-only mode, the budget, or images it cannot read (refused before anything is sent)."""
    known = next((c for c in candidates if c.ref == named), None)
    probe = known or Candidate(named, True, priced=False)
    if local_only and not probe.local:
        return Plan((), (Step(named, f"{named} is a cloud model and local-only mode is on", "local_only"),))
    if images and not probe.reads_images:
        return Plan((), (Step(named, f"{named} cannot read images", "images", probe.local),))
    over = _budget_skip(probe, budget_left, tokens)
    if over:
        return Plan((), (Step(named, over, "budget"),))
    step = Step(named, f"{named} - you asked for it", local=probe.local, tools=tools and probe.tools)
    no_tools = (Step(named, f"{named} cannot call tools", "no_tools", probe.local),) if tools and not probe.tools else ()
    return Plan((step,), no_tools)


def _down_locals(plan: Plan) -> list[Step]:
    return [s for s in plan.skipped if s.local and s.code in ("unavailable", "unhealthy")]


def skip_notes(plan: Plan) -> list[tuple[str, str]]:
    """(text, level) notices: a local model down or resting, or the budget keeping cloud models out."""
    first = plan.steps[0].ref
    notes = [(f"{s.reason.rstrip('.')} - answering with {first}.", "info") for s in _down_locals(plan)]
    budget = [s for s in plan.skipped if s.code == "budget"]
    if budget:
        notes.append((f"{budget[0].reason} - answering with {first}.", "warning"))
    no_tools = [str(s.ref) for s in plan.skipped if s.code == "no_tools"]
    if no_tools:
        names = ", ".join(no_tools)
        if plan.steps[0].tools:
            notes.append((f"{names} cannot call tools - answering with {first}.", "info"))
        else:
            notes.append((f"{names} cannot call tools - answering without tools.", "warning"))
    return notes


def explain(plan: Plan, step: Step, failed: list[Attempt], policy: str) -> str:
    """One line for the answer and its request row: why this model, in the words a person would use."""
    others = [a for a in failed if a.ref != step.ref]
    if others:
        return f"{others[0].ref} failed ({first_clause(others[0].message)}) - answered by {step.ref}"
    if failed:  # the same model answered after retries: not a fallback, but worth saying
        return f"{step.reason} (after {len(failed)} {'retry' if len(failed) == 1 else 'retries'})"
    down = _down_locals(plan)
    if down and policy == "local-first" and step.ref == plan.steps[0].ref:
        return f"{first_clause(down[0].reason)} - answered by {step.ref}"
    return step.reason


def refusal(plan: Plan, budget_usd: float, spent_usd: float, image_models: Sequence[str] = ()) -> AssistantError:
    """The error for an empty plan, saying what to change; `image_models` are models that would read the images."""
    if plan.refused_for("images"):
        blind = ", ".join(str(s.ref) for s in plan.skipped if s.code == "images")
        if image_models:
            more = ", …" if len(image_models) > 6 else ""
            can = f"name one that can with -m (or F2): {', '.join(image_models[:6])}{more}"
        else:
            can = ("no model set up here can: pull a vision model (`assistant models pull llava`) or add an API key "
                   "for a cloud provider (`assistant keys set`)")
        return UsageError(f"The request has images and {blind} cannot read them; {can}.")
    if plan.refused_for("local_only") and len(plan.skipped) == 1:
        return UsageError(f"{plan.skipped[0].reason}; name a model that runs on this machine "
                          "or drop --local-only / general.local_only.")
    if plan.refused_for("budget"):
        return BudgetExceeded(
            f"The monthly budget of {usd(budget_usd)} would be passed ({usd(spent_usd)} spent this month), so cloud "
            "models are refused and no local model can answer; start Ollama or raise general.monthly_budget_usd in config.toml."
        )
    reasons = "; ".join(s.reason if s.reason.startswith(str(s.ref)) else f"{s.ref}: {s.reason}" for s in plan.skipped)
    # Each reason already says how to fix its model (start it, add a key, reinstall).
    return ProviderUnavailable(f"No model can answer right now: {reasons}.")

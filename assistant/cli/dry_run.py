"""`assistant ask --dry-run`: the route, the whole request's size, the context window and the cost range; nothing
is sent and nothing is written."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, TextIO

from assistant.core.money import usd
from assistant.core.textsafe import for_terminal, to_json

if TYPE_CHECKING:
    from assistant.core.types import ChatRequest, Estimate
    from assistant.engine.engine import Engine


def tokens_text(estimate: Estimate) -> str:
    """1,234 tokens (exact) or ~1,234 tokens (estimated): the one way both interfaces say it."""
    tokens = estimate.input_tokens
    return f"~{tokens:,} tokens (estimated)" if estimate.estimated else f"{tokens:,} tokens (exact)"


def cost_text(estimate: Estimate) -> str:
    if estimate.local:
        return "$0 (runs on this machine)"
    if estimate.cost_low is None or estimate.cost_high is None:
        return "unknown (no price for this model; set one under [prices] in config.toml)"
    marked = " (estimated)" if estimate.estimated else ""
    return f"{usd(estimate.cost_low)} to {usd(estimate.cost_high)}{marked}"


def context_text(estimate: Estimate) -> str:
    if estimate.context_window is None:
        return "unknown"
    share = 100 * (estimate.input_tokens + estimate.max_output_tokens) / estimate.context_window
    return f"{estimate.context_window:,} tokens ({share:.0f}% used with the longest answer)"


def lines(estimate: Estimate, files: int) -> list[str]:
    route = [f"{'Route:' if i == 0 else 'then':<9} {for_terminal(r)}" for i, r in enumerate(estimate.route)]
    out = route or ["Route:    none"]
    out += [f"{'Skipped:' if i == 0 else '':<9} {for_terminal(r)}" for i, r in enumerate(estimate.skipped)]
    extras = [f"{files} file{'s' if files != 1 else ''}"] if files else []
    extras += [f"{estimate.images} image{'s' if estimate.images != 1 else ''}"] if estimate.images else []
    size = tokens_text(estimate) + (f" with {', '.join(extras)}" if extras else "")
    out += [f"{'Request:':<9} {size}; the answer may add up to {estimate.max_output_tokens:,} tokens",
            f"{'Context:':<9} {context_text(estimate)}",
            f"{'Cost:':<9} {cost_text(estimate)}"]
    out += [f"{'Warning:':<9} {for_terminal(w)}" for w in estimate.warnings]
    if estimate.refusal:
        out.append(f"{'Refused:':<9} {for_terminal(estimate.refusal)}")
    return out + ["Nothing was sent."]


async def dry_run(engine: Engine, request: ChatRequest, out: TextIO, as_json: bool) -> int:
    estimate = await engine.estimate(request, route=True)
    files = sum(1 for a in request.attachments if not a.is_image)
    if as_json:
        data = asdict(estimate)
        data["ref"] = str(estimate.ref) if estimate.ref else None
        out.write(to_json(data) + "\n")
    else:
        out.write("\n".join(lines(estimate, files)) + "\n")
    out.flush()
    return 1 if estimate.refusal else 0

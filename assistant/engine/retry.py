"""Retry schedule: exponential backoff with jitter, honouring Retry-After up to a cap."""

from __future__ import annotations

import random
from dataclasses import dataclass

from assistant.core.errors import AssistantError


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 20.0

    def should_retry(self, error: AssistantError, retries_done: int, text_shown: bool) -> bool:
        # Once text has reached the user a retry would show it twice, so only fresh starts are retried.
        return error.retryable and not text_shown and retries_done < self.max_retries

    def delay(self, error: AssistantError, retries_done: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number `retries_done + 1`."""
        retry_after: float | None = getattr(error, "retry_after", None)
        if retry_after is not None and retry_after >= 0:
            return min(float(retry_after), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2.0**retries_done)
        # "Equal jitter": at least half the backoff, so retries spread out but never hammer.
        uniform = rng.uniform if rng is not None else random.uniform
        return ceiling / 2 + uniform(0, ceiling / 2)

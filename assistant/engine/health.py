"""A circuit breaker per provider: rest a provider after repeated failures, then let one trial request through."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from assistant.core.textsafe import first_clause

# Failures that say something about the provider as a whole; a bad request or an unknown model does not.
COUNTED = frozenset({"unavailable", "rate_limited", "overloaded", "timeout", "connection", "malformed", "auth",
                     "probe_timeout", "hang"})
# A server that accepts connections but does not answer (its availability check, or the first token within the
# deadline): rest it at once, so the next request does not wait for it again.
TRIPS = frozenset({"probe_timeout", "hang"})


@dataclass(frozen=True)
class BreakerState:
    failures: int = 0  # consecutive
    opened_at: float | None = None  # clock time the breaker opened; None while closed
    trial: bool = False  # a trial request is in flight
    last_error: str = ""


class Health:
    """State lives in this process; `seed` rebuilds it from the calls table so short CLI runs share it."""

    def __init__(self, threshold: int = 3, cooldown: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
        self.clock = clock
        self._states: dict[str, BreakerState] = {}
        self._lock = threading.Lock()

    def state(self, provider: str) -> BreakerState:
        return self._states.get(provider, BreakerState())

    def resting(self, provider: str) -> bool:
        """True while the breaker is open and the cool-down has not passed (or a trial is already out)."""
        s = self.state(provider)
        if s.opened_at is None:
            return False
        return s.trial or self.clock() - s.opened_at < self.cooldown

    def detail(self, provider: str) -> str:
        s = self.state(provider)
        if s.opened_at is None:
            return ""
        failed = "failed recently" if s.failures == 1 else f"failed {s.failures} times in a row"
        if s.trial:
            return f"{provider} {failed}; a trial request is under way"
        wait = max(0.0, self.cooldown - (self.clock() - s.opened_at))
        why = f" ({s.last_error})" if s.last_error else ""
        return f"{provider} {failed}{why}; resting it for {wait:.0f}s more"

    def begin(self, provider: str) -> None:
        """Called before a request goes out: past the cool-down, this request is the one trial."""
        with self._lock:
            s = self.state(provider)
            if s.opened_at is not None and not s.trial and self.clock() - s.opened_at >= self.cooldown:
                self._states[provider] = BreakerState(s.failures, s.opened_at, True, s.last_error)

    def abandon(self, provider: str) -> None:
        """A request stopped by the user proves nothing: a trial it carried may be tried again."""
        with self._lock:
            s = self.state(provider)
            if s.trial:
                self._states[provider] = BreakerState(s.failures, s.opened_at, False, s.last_error)

    def success(self, provider: str) -> None:
        with self._lock:
            self._states.pop(provider, None)

    def failure(self, provider: str, kind: str, message: str = "") -> None:
        if kind not in COUNTED:
            return
        with self._lock:
            s = self.state(provider)
            failures = s.failures + 1
            # A failed trial re-opens at once; otherwise the breaker opens on reaching the threshold.
            opened = self.clock() if s.trial or failures >= self.threshold or kind in TRIPS else s.opened_at
            self._states[provider] = BreakerState(failures, opened, False, first_clause(message))

    def replay(self, outcomes: Iterable[tuple[str, str, str | None, float]]) -> None:
        """Rebuild each provider's state from its recent calls (provider, outcome, error kind, time; oldest first),
        so short CLI runs share what earlier ones learned."""
        with self._lock:
            for provider, outcome, kind, created in outcomes:
                s = self.state(provider)
                if outcome == "ok":
                    self._states.pop(provider, None)
                elif kind in COUNTED:
                    failures = s.failures + 1
                    opened = created if failures >= self.threshold or kind in TRIPS else s.opened_at
                    self._states[provider] = BreakerState(failures, opened, False, kind.replace("_", " "))

    def window(self) -> float:
        """How far back `replay` needs to look."""
        return max(self.cooldown * 4, 600.0)

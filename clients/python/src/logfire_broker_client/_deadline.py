"""One total time budget across the network steps of a run (lock, mint, heartbeat, refresh, revoke), on a
monotonic clock (not the wall clock the cache logic may have injected)."""

import random
import time

from ._errors import BudgetSpentError


class Deadline:
    def __init__(self, budget_seconds: float) -> None:
        self.budget_seconds = budget_seconds
        self._end = time.monotonic() + budget_seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._end - time.monotonic())

    def limit(self, step: str, cap_seconds: float = float("inf")) -> float:
        """How long ``step`` may take: what is left, or ``cap_seconds`` if less; raises once spent."""
        left = self.remaining()
        if left < 0.001:
            raise BudgetSpentError(step, self.budget_seconds)
        return max(0.001, min(left, cap_seconds))

    def sleep(self, seconds: float, jitter: float = 0.0) -> None:
        """Waits ``seconds`` (plus up to ``jitter``), or what is left of the budget if that is less."""
        wait = min(seconds + random.random() * jitter, self.remaining())
        if wait > 0:
            time.sleep(wait)
